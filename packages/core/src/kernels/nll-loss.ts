// Negative log-likelihood of class targets over [N, C] log-probabilities, forward and backward, as
// loops over typed arrays. Sums run in JS doubles; each output is rounded once to its array's dtype.

/** What nllLoss's forward computes besides the loss: the backward's per-row coefficients. */
export interface NllRows {
  /** d loss / d logProbs[i, t_i] per unit of the incoming gradient: -w[t_i] (÷ Σw for "mean"), 0 if ignored. */
  readonly coefficients: Float32Array | Float64Array;
  /** The targets with ignored ones replaced by 0 (a valid column whose coefficient is 0). */
  readonly columns: Int32Array;
}

/**
 * Writes the loss into `out` ([N] for "none", one element otherwise) and fills `rows`. `weight`
 * is per class or null; `target` has been checked to hold classes in 0..C-1 or `ignoreIndex`.
 */
export function nllLossRows(
  logProbs: Float32Array | Float64Array,
  target: Int32Array,
  weight: Float32Array | Float64Array | null,
  ignoreIndex: number,
  classes: number,
  reduction: "mean" | "sum" | "none",
  out: Float32Array | Float64Array,
  rows: NllRows,
): void {
  const { coefficients, columns } = rows;
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    if (t === ignoreIndex) {
      columns[i] = 0;
      coefficients[i] = 0;
      if (reduction === "none") out[i] = 0;
      continue;
    }
    const w = weight === null ? 1 : weight[t];
    const loss = -w * logProbs[i * classes + t];
    columns[i] = t;
    coefficients[i] = -w;
    weightSum += w;
    if (reduction === "none") out[i] = loss;
    else total += loss;
  }
  if (reduction === "sum") out[0] = total;
  if (reduction === "mean") {
    // 0/0 = NaN when every target is ignored, as in PyTorch; their coefficients stay 0.
    out[0] = total / weightSum;
    for (let i = 0; i < target.length; i++) {
      if (target[i] !== ignoreIndex) coefficients[i] = coefficients[i] / weightSum;
    }
  }
}

/**
 * gradLogProbs[i, columns[i]] = coefficients[i]·g (g[i] for a per-row gradient, g[0] for a
 * reduced one); every other element 0. `gradLogProbs` arrives zero-filled.
 */
export function nllLossBackwardRows(
  g: Float32Array | Float64Array,
  perRow: boolean,
  rows: NllRows,
  classes: number,
  gradLogProbs: Float32Array | Float64Array,
): void {
  const { coefficients, columns } = rows;
  for (let i = 0; i < columns.length; i++) {
    gradLogProbs[i * classes + columns[i]] = coefficients[i] * (perRow ? g[i] : g[0]);
  }
}
