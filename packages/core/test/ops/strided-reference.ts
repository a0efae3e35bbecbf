// Naive references for property tests: plain index arithmetic over row-major arrays, written
// independently of Koubai's strided kernels.

/** Row-major strides of `shape`. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, s) => n * s, 1);
}

/** Every multi-index of `shape` in row-major order. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    yield index.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      if (index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

/** The flat position in an array of `shape` that broadcasting maps output index `index` to. */
export function broadcastSource(index: readonly number[], shape: readonly number[]): number {
  const lead = index.length - shape.length;
  const strides = rowMajorStrides(shape);
  let flat = 0;
  for (let d = 0; d < shape.length; d++) {
    const i = shape[d] === 1 ? 0 : index[d + lead];
    flat += i * strides[d];
  }
  return flat;
}

/** The broadcast shape of a and b (they must be compatible). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const ndim = Math.max(a.length, b.length);
  return Array.from({ length: ndim }, (_, i) => {
    const da = a[i - (ndim - a.length)] ?? 1;
    const db = b[i - (ndim - b.length)] ?? 1;
    return da === 1 ? db : da;
  });
}
