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
  if (inner > 1) {
    logSoftmaxColumns(x, out, { outer, n, inner });
    return;
  }
  for (let o = 0; o < outer; o++) {
    const base = o * n;
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const v = x[base + k];
      if (v > m) m = v;
    }
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.exp(x[base + k] - m);
    const logSum = Math.log(sum);
    for (let k = 0; k < n; k++) out[base + k] = x[base + k] - m - logSum;
  }
}

/**
 * logSoftmaxRows for a dim with inner > 1: the same arithmetic, walking each [n, inner] block row
 * by row so that reads are contiguous (a walk down each column jumps inner elements per read,
 * 2x slower on [4096, 1000] along dim 0).
 */
function logSoftmaxColumns(
  x: Float32Array | Float64Array,
  out: Float32Array | Float64Array,
  { outer, n, inner }: DimLayout,
): void {
  const m = new Float64Array(inner);
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
    for (let i = 0; i < inner; i++) logSum[i] = Math.log(logSum[i]);
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++) out[row + i] = x[row + i] - m[i] - logSum[i];
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
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * n;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += g[base + k];
      for (let k = 0; k < n; k++) gradX[base + k] = g[base + k] - Math.exp(out[base + k]) * sum;
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
      for (let i = 0; i < inner; i++) sums[i] += g[row + i];
    }
    for (let k = 0; k < n; k++) {
      const row = block + k * inner;
      for (let i = 0; i < inner; i++)
        gradX[row + i] = g[row + i] - Math.exp(out[row + i]) * sums[i];
    }
  }
}
