// Negative log-likelihood of class targets over log-probabilities [N, C, d1, ...] (targets
// [N, d1, ...]; [N, C] and [N] with no spatial dims), forward and backward, as loops over typed
// arrays. A position p of the targets is (n, s) with s over the S = d1·... spatial elements; its
// class c sits at n·C·S + c·S + s. Sums run in JS doubles; each output is rounded once to its
// array's dtype.

/** What nllLoss's forward computes besides the loss: the backward's per-position coefficients. */
export interface NllRows {
  /** d loss / d logProbs at each position's target, per unit of the incoming gradient: -w[t] (÷ Σw for "mean"), 0 if ignored. */
  readonly coefficients: Float32Array | Float64Array;
  /** The targets with ignored ones replaced by 0 (a valid class whose coefficient is 0). */
  readonly columns: Int32Array;
}

/** The sizes of the loss's layout: C classes and S spatial elements per sample. */
export interface NllLayout {
  readonly classes: number;
  readonly spatial: number;
}

/**
 * Writes the loss into `out` (one value per target for "none", one element otherwise) and fills
 * `rows`. `weight` is per class or null; `target` has been checked to hold classes in 0..C-1 or
 * `ignoreIndex`.
 */
export function nllLossRows(
  logProbs: Float32Array | Float64Array,
  target: Int32Array,
  weight: Float32Array | Float64Array | null,
  ignoreIndex: number,
  { classes, spatial }: NllLayout,
  reduction: "mean" | "sum" | "none",
  out: Float32Array | Float64Array,
  rows: NllRows,
): void {
  const { coefficients, columns } = rows;
  let total = 0;
  let weightSum = 0;
  for (let p = 0; p < target.length; p++) {
    const t = target[p];
    if (t === ignoreIndex) {
      columns[p] = 0;
      coefficients[p] = 0;
      if (reduction === "none") out[p] = 0;
      continue;
    }
    const s = p % spatial;
    const w = weight === null ? 1 : weight[t];
    const loss = -w * logProbs[(p - s) * classes + t * spatial + s];
    columns[p] = t;
    coefficients[p] = -w;
    weightSum += w;
    if (reduction === "none") out[p] = loss;
    else total += loss;
  }
  if (reduction === "sum") out[0] = total;
  if (reduction === "mean") {
    // 0/0 = NaN when every target is ignored, as in PyTorch; their coefficients stay 0.
    out[0] = total / weightSum;
    for (let p = 0; p < target.length; p++) {
      if (target[p] !== ignoreIndex) coefficients[p] = coefficients[p] / weightSum;
    }
  }
}

/**
 * gradLogProbs at each position's class columns[p] = coefficients[p]·g (g[p] for a per-position
 * gradient, g[0] for a reduced one); every other element 0. `gradLogProbs` arrives zero-filled.
 */
export function nllLossBackwardRows(
  g: Float32Array | Float64Array,
  perRow: boolean,
  rows: NllRows,
  { classes, spatial }: NllLayout,
  gradLogProbs: Float32Array | Float64Array,
): void {
  const { coefficients, columns } = rows;
  for (let p = 0; p < columns.length; p++) {
    const s = p % spatial;
    gradLogProbs[(p - s) * classes + columns[p] * spatial + s] =
      coefficients[p] * (perRow ? g[p] : g[0]);
  }
}
