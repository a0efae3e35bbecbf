// Dense matrix multiply on flat arrays: out[M, N] = a[M, K] @ b[K, N], with a given by
// (offset, row stride, column stride) so transposed views need no copy. b must have unit column
// stride (callers copy otherwise: O(K*N) against the O(M*N*K) multiply). i-k-j loop order keeps
// the inner loop streaming over contiguous rows of b and out.

import type { TypedArray } from "../tensor/dtype.js";

export function gemm(
  a: TypedArray,
  aOffset: number,
  aRowStride: number,
  aColStride: number,
  b: TypedArray,
  bOffset: number,
  bRowStride: number,
  out: TypedArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++) {
    const outRow = outOffset + i * n;
    for (let j = 0; j < n; j++) out[outRow + j] = 0;
    const aRow = aOffset + i * aRowStride;
    for (let p = 0; p < k; p++) {
      const av = a[aRow + p * aColStride];
      const bRow = bOffset + p * bRowStride;
      for (let j = 0; j < n; j++) out[outRow + j] += av * b[bRow + j];
    }
  }
}
