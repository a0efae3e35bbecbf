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
  const innerStride = shape.length === 0 ? 1 : strides[shape.length - 1];
  forEachRow(shape, strides, offset, (src, dst, n) => {
    if (toBool)
      for (let i = 0; i < n; i++) out[dst + i] = data[src + i * innerStride] !== 0 ? 1 : 0;
    else for (let i = 0; i < n; i++) out[dst + i] = data[src + i * innerStride];
  });
}

/** Writes `values` (row-major, one per element of `dst`) into the strided view `dst`. */
export function writeToView(dst: View, values: ArrayLike<number>): void {
  const { data, shape, strides } = dst;
  const innerStride = shape.length === 0 ? 1 : strides[shape.length - 1];
  forEachRow(shape, strides, dst.offset, (dstOffset, valueOffset, n) => {
    for (let i = 0; i < n; i++) data[dstOffset + i * innerStride] = values[valueOffset + i];
  });
}
