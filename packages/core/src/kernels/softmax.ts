// softmax and log-softmax along one dim of contiguous values, forward and backward, as loops over
// typed arrays. The values are laid out as [outer, n, inner] with the dim in the middle (inner = 1
// for the last dim, the usual case). Sums run in JS doubles and each output is rounded once to the
// array's dtype. One loop serves both ops: they differ only in the value each element gets.

/** Where a dim of a contiguous shape sits: outer × n × inner elements. */
export interface DimLayout {
  readonly outer: number;
  readonly n: number;
  readonly inner: number;
}

/** The [outer, n, inner] layout of dim `d` of `shape` (a 0-d shape is one row of one). */
export function dimLayout(shape: readonly number[], d: number): DimLayout {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape.length === 0 ? 1 : shape[d], inner };
}

type Floats = Float32Array | Float64Array;

/**
 * PyTorch's formulas along the dim, with m the maximum: log-softmax (x - m) - log Σ exp(x - m),
 * softmax exp(x - m) / Σ exp(x - m). So rows holding +∞ or NaN, or only -∞, give NaN as there,
 * and a -∞ among finite values gives -∞ (softmax: 0).
 */
export function softmaxRows(x: Floats, out: Floats, layout: DimLayout, log: boolean): void {
  const { outer, n, inner } = layout;
  if (inner > 1) {
    softmaxColumns(x, out, layout, log);
    return;
  }
  // Softmax keeps each row's exponentials in float64 (one Math.exp per element, one rounding).
  const exps = log ? null : new Float64Array(n);
  for (let o = 0; o < outer; o++) {
    const base = o * n;
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const v = x[base + k];
      if (v > m) m = v;
    }
    let sum = 0;
    if (exps === null) {
      for (let k = 0; k < n; k++) sum += Math.exp(x[base + k] - m);
      const logSum = Math.log(sum);
      for (let k = 0; k < n; k++) out[base + k] = x[base + k] - m - logSum;
    } else {
      for (let k = 0; k < n; k++) {
        const e = Math.exp(x[base + k] - m);
        exps[k] = e;
        sum += e;
      }
      for (let k = 0; k < n; k++) out[base + k] = exps[k] / sum;
    }
  }
}

/**
 * softmaxRows for a dim with inner > 1: the same arithmetic, walking each [n, inner] block row by
 * row so that reads are contiguous (a walk down each column jumps inner elements per read, 2x
 * slower on [4096, 1000] along dim 0). Softmax computes each exponential twice here rather than
 * keep a float64 copy of the whole block.
 */
function softmaxColumns(
  x: Floats,
  out: Floats,
  { outer, n, inner }: DimLayout,
  log: boolean,
): void {
  const m = new Float64Array(inner);
  // Σ exp(x - m), or its log for log-softmax.
  const logSum = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const block = o * n * inner;
    m.fill(Number.NEGATIVE_INFINITY);
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) {
        const v = x[row + i];
        if (v > m[i]) m[i] = v;
      }
    }
    logSum.fill(0);
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) logSum[i] += Math.exp(x[row + i] - m[i]);
    }
    if (log) for (let i = 0; i < inner; i++) logSum[i] = Math.log(logSum[i]);
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) {
        const shifted = x[row + i] - m[i];
        out[row + i] = log ? shifted - logSum[i] : Math.exp(shifted) / logSum[i];
      }
    }
  }
}

/**
 * The input gradient from g and the forward's output along the dim: for log-softmax,
 * g - exp(out)·Σ g; for softmax, out·(g - Σ g·out).
 */
export function softmaxBackwardRows(
  g: Floats,
  out: Floats,
  gradX: Floats,
  { outer, n, inner }: DimLayout,
  log: boolean,
): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += log ? g[base + k] : g[base + k] * out[base + k];
      for (let k = 0; k < n; k++) {
        const at = base + k;
        gradX[at] = log ? g[at] - Math.exp(out[at]) * sum : out[at] * (g[at] - sum);
      }
    }
    return;
  }
  // Sums along the dim, kept per inner position so that every walk below is contiguous.
  const sums = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const block = o * n * inner;
    sums.fill(0);
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) sums[i] += log ? g[row + i] : g[row + i] * out[row + i];
    }
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) {
        const at = row + i;
        gradX[at] = log ? g[at] - Math.exp(out[at]) * sums[i] : out[at] * (g[at] - sums[i]);
      }
    }
  }
}
