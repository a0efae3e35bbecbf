// log-softmax along one dim of contiguous values, forward and backward, as loops over typed arrays.
// The values are laid out as [outer, n, inner] with the softmax dim in the middle (inner = 1 for
// the last dim, the usual case). Sums run in JS doubles and each output is rounded once to the
// array's dtype.

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

/**
 * out = (x - m) - log Σ exp(x - m) along the dim, m the row's maximum (PyTorch's formula, so rows
 * with +∞, rows of only -∞ and rows with NaN give NaN as there; a -∞ among finite values gives -∞).
 */
export function logSoftmaxRows(
  x: Float32Array | Float64Array,
  out: Float32Array | Float64Array,
  { outer, n, inner }: DimLayout,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const v = x[base + k * inner];
        if (v > m) m = v;
      }
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(x[base + k * inner] - m);
      const logSum = Math.log(sum);
      for (let k = 0; k < n; k++) {
        const at = base + k * inner;
        out[at] = x[at] - m - logSum;
      }
    }
  }
}

/** gradX = g - exp(out)·Σ g along the dim, with out log-softmax's output. */
export function logSoftmaxBackwardRows(
  g: Float32Array | Float64Array,
  out: Float32Array | Float64Array,
  gradX: Float32Array | Float64Array,
  { outer, n, inner }: DimLayout,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += g[base + k * inner];
      for (let k = 0; k < n; k++) {
        const at = base + k * inner;
        gradX[at] = g[at] - Math.exp(out[at]) * sum;
      }
    }
  }
}
