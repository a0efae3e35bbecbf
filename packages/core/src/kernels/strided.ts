// Walking strided views: contiguous copies (with dtype conversion) and the row driver that
// elementwise kernels run on. A "row" is the innermost dim; kernels see only flat arrays,
// start offsets and steps, so one loop body serves contiguous, strided and broadcast inputs.

import type { TypedArray } from "../tensor/dtype.js";

/** A strided window onto a flat array: element `idx` lives at `offset + sum(idx[d] * strides[d])`. */
export interface View {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Calls `row(srcOffset, outOffset, n)` for every innermost row of `shape`, walking `strides`. */
export function forEachRow(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  row: (srcOffset: number, outOffset: number, n: number) => void,
): void {
  const ndim = shape.length;
  if (ndim === 0) {
    row(offset, 0, 1);
    return;
  }
  const n = shape[ndim - 1];
  let rows = 1;
  for (let d = 0; d < ndim - 1; d++) rows *= shape[d];
  if (n === 0 || rows === 0) return;
  const index = new Array<number>(ndim - 1).fill(0);
  let srcOffset = offset;
  for (let r = 0; r < rows; r++) {
    row(srcOffset, r * n, n);
    for (let d = ndim - 2; d >= 0; d--) {
      index[d]++;
      srcOffset += strides[d];
      if (index[d] < shape[d]) break;
      srcOffset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/** Copies a view into `out` (contiguous, row-major), converting to `out`'s element type. */
export function copyToContiguous(view: View, out: TypedArray): void {
  const { data, shape, strides, offset } = view;
  const toBool = out instanceof Uint8Array && !(data instanceof Uint8Array);
  if (!toBool && isContiguous(shape, strides)) {
    const n = out.length;
    if (out.constructor === data.constructor) {
      (out as Float64Array).set((data as Float64Array).subarray(offset, offset + n));
    } else {
      for (let i = 0; i < n; i++) out[i] = data[offset + i];
    }
    return;
  }
  if (!toBool && isTransposedMatrix(shape, strides)) {
    copyTransposed(view, out);
    return;
  }
  const innerStride = shape.length === 0 ? 1 : strides[shape.length - 1];
  forEachRow(shape, strides, offset, (src, dst, n) => {
    if (toBool)
      for (let i = 0; i < n; i++) out[dst + i] = data[src + i * innerStride] !== 0 ? 1 : 0;
    else for (let i = 0; i < n; i++) out[dst + i] = data[src + i * innerStride];
  });
}

/** Rows and columns of the tiles a transposed copy moves at a time (32 × 32 floats: 4 KB). */
const TILE = 32;

/**
 * True when the last two dims are a transposed matrix: unit stride down the rows, a larger one
 * along them (a weight's `.t()`, the gradient of a transposed product).
 */
function isTransposedMatrix(shape: readonly number[], strides: readonly number[]): boolean {
  const d = shape.length;
  return (
    d >= 2 &&
    strides[d - 2] === 1 &&
    shape[d - 2] > 1 &&
    shape[d - 1] > 1 &&
    strides[d - 1] >= shape[d - 2]
  );
}

/**
 * copyToContiguous of a transposed matrix (or a batch of them): in square tiles, so that both
 * the reads down the source's rows and the writes along the output's stay in cache. Row by row,
 * every read would land on another cache line (25 ns apiece for a 784-wide weight).
 */
function copyTransposed(view: View, out: TypedArray): void {
  const { data, shape, strides } = view;
  const d = shape.length;
  const rows = shape[d - 2];
  const cols = shape[d - 1];
  const colStride = strides[d - 1];
  const batchShape = shape.slice(0, d - 2);
  const batchStrides = strides.slice(0, d - 2);
  const batches = batchShape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(batchShape.length).fill(0);
  let base = view.offset;
  for (let b = 0; b < batches; b++) {
    const o = b * rows * cols;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const iEnd = Math.min(i0 + TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const jEnd = Math.min(j0 + TILE, cols);
        for (let j = j0; j < jEnd; j++) {
          const src = base + j * colStride;
          for (let i = i0; i < iEnd; i++) out[o + i * cols + j] = data[src + i];
        }
      }
    }
    for (let k = batchShape.length - 1; k >= 0; k--) {
      index[k]++;
      base += batchStrides[k];
      if (index[k] < batchShape[k]) break;
      base -= batchStrides[k] * batchShape[k];
      index[k] = 0;
    }
  }
}

/** Writes `values` (row-major, one per element of `dst`) into the strided view `dst`. */
export function writeToView(dst: View, values: ArrayLike<number>): void {
  const { data, shape, strides } = dst;
  const innerStride = shape.length === 0 ? 1 : strides[shape.length - 1];
  forEachRow(shape, strides, dst.offset, (dstOffset, valueOffset, n) => {
    for (let i = 0; i < n; i++) data[dstOffset + i * innerStride] = values[valueOffset + i];
  });
}
