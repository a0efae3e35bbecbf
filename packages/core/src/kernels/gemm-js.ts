// Matrix multiply in plain JS: a register-blocked kernel for float data (4×4 output blocks held
// in locals, B packed into contiguous 4-column panels) and the simple i-k-j loop for integer
// data. Each output is accumulated as ((0 + a₀b₀) + a₁b₁) + ... in p order, so float64 results
// are bit-identical to the i-k-j loop; float32 inputs accumulate in float64 and round once.

import type { TypedArray } from "../tensor/dtype.js";

export type FloatArray = Float32Array | Float64Array;

/** A 2-D view into flat data: element (i, j) is data[offset + i*rowStride + j*colStride]. */
export interface StridedMatrix {
  data: TypedArray;
  offset: number;
  rowStride: number;
  colStride: number;
}

/**
 * Panels of at most this many bytes are kept for the next call; a larger B is packed into an
 * array of its own that is freed with the call, so one large product does not hold its memory
 * for the life of the process.
 */
const KEPT_PANEL_BYTES = 64 << 20;

let kept = new Float64Array(0);

/** B packed as ceil(n/4) panels of [k][4], zero padded; small ones reuse one array across calls. */
function packB(b: StridedMatrix, n: number, k: number): Float64Array {
  const needed = Math.ceil(n / 4) * 4 * k;
  let panels = kept;
  if (needed * 8 > KEPT_PANEL_BYTES) panels = new Float64Array(needed);
  else if (kept.length < needed) panels = kept = new Float64Array(needed);
  const { data, offset, rowStride, colStride } = b;
  let q = 0;
  for (let j0 = 0; j0 < n; j0 += 4) {
    const valid = Math.min(4, n - j0);
    for (let p = 0; p < k; p++) {
      const base = offset + p * rowStride + j0 * colStride;
      for (let c = 0; c < 4; c++) panels[q + c] = c < valid ? data[base + c * colStride] : 0;
      q += 4;
    }
  }
  return panels;
}

/**
 * out[outOffset + i*n + j] = Σ_p a[i, p]·b[p, j] for float data. With fewer than 4 rows or
 * columns (matrix-vector shapes) each element of B is used at most 3 times, so packing it (into
 * float64 panels padded to 4 columns: up to 8 times B's size) costs more than it saves: those
 * take the unpacked dot products, which need no scratch memory.
 */
export function gemmJs(
  a: StridedMatrix,
  b: StridedMatrix,
  out: FloatArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  if (m < 4 || n < 4) {
    gemmUnpacked(a, b, out, outOffset, m, n, k);
    return;
  }
  const bp = packB(b, n, k);
  const { data: ad, offset: ao, rowStride: ar, colStride: ac } = a;
  for (let i0 = 0; i0 < m; i0 += 4) {
    const rows = Math.min(4, m - i0);
    // Rows past m re-read row i0 (always valid) and are never stored.
    const a0 = ao + i0 * ar;
    const a1 = rows > 1 ? a0 + ar : a0;
    const a2 = rows > 2 ? a0 + 2 * ar : a0;
    const a3 = rows > 3 ? a0 + 3 * ar : a0;
    for (let j0 = 0; j0 < n; j0 += 4) {
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      let q = j0 * k;
      for (let p = 0; p < k; p++, q += 4) {
        const b0 = bp[q];
        const b1 = bp[q + 1];
        const b2 = bp[q + 2];
        const b3 = bp[q + 3];
        const pa = p * ac;
        const x0 = ad[a0 + pa];
        const x1 = ad[a1 + pa];
        const x2 = ad[a2 + pa];
        const x3 = ad[a3 + pa];
        c00 += x0 * b0;
        c01 += x0 * b1;
        c02 += x0 * b2;
        c03 += x0 * b3;
        c10 += x1 * b0;
        c11 += x1 * b1;
        c12 += x1 * b2;
        c13 += x1 * b3;
        c20 += x2 * b0;
        c21 += x2 * b1;
        c22 += x2 * b2;
        c23 += x2 * b3;
        c30 += x3 * b0;
        c31 += x3 * b1;
        c32 += x3 * b2;
        c33 += x3 * b3;
      }
      const cols = Math.min(4, n - j0);
      const o = outOffset + i0 * n + j0;
      storeRow(out, o, cols, c00, c01, c02, c03);
      if (rows > 1) storeRow(out, o + n, cols, c10, c11, c12, c13);
      if (rows > 2) storeRow(out, o + 2 * n, cols, c20, c21, c22, c23);
      if (rows > 3) storeRow(out, o + 3 * n, cols, c30, c31, c32, c33);
    }
  }
}

/** Writes the first `cols` of v0..v3 to out[o..]. */
function storeRow(
  out: FloatArray,
  o: number,
  cols: number,
  v0: number,
  v1: number,
  v2: number,
  v3: number,
): void {
  out[o] = v0;
  if (cols > 1) out[o + 1] = v1;
  if (cols > 2) out[o + 2] = v2;
  if (cols > 3) out[o + 3] = v3;
}

/**
 * C without packing: float64 sums in p order, the same sums in the same order as the packed
 * kernel (so bit-identical results). Few columns, or B's columns contiguous (x @ wᵀ): one dot
 * product per element, no scratch. Otherwise (few rows of A, B row-major) each row of C is
 * accumulated across B's rows, read along them, in n sums of scratch: reading B by columns there
 * took 16x longer for [1, 4096] @ [4096, 4096].
 */
function gemmUnpacked(
  a: StridedMatrix,
  b: StridedMatrix,
  out: FloatArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  const { data: ad, offset: ao, rowStride: ar, colStride: ac } = a;
  const { data: bd, offset: bo, rowStride: br, colStride: bc } = b;
  if (n < 4 || br === 1) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        out[outOffset + i * n + j] = dot(ad, ao + i * ar, ac, bd, bo + j * bc, br, k);
      }
    }
    return;
  }
  const sums = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    sums.fill(0);
    for (let p = 0; p < k; p++) axpy(sums, ad[ao + i * ar + p * ac], bd, bo + p * br, bc, n);
    out.set(sums, outOffset + i * n);
  }
}

/** sums[j] += x·y[yo + j·ys] for j = 0..n-1. */
function axpy(
  sums: Float64Array,
  x: number,
  y: TypedArray,
  yo: number,
  ys: number,
  n: number,
): void {
  if (ys === 1) for (let j = 0; j < n; j++) sums[j] += x * y[yo + j];
  else for (let j = 0; j < n; j++) sums[j] += x * y[yo + j * ys];
}

/** Σ_p x[xo + p·xs]·y[yo + p·ys] for p = 0..k-1, summed in float64 in that order. */
function dot(
  x: TypedArray,
  xo: number,
  xs: number,
  y: TypedArray,
  yo: number,
  ys: number,
  k: number,
): number {
  let sum = 0;
  if (xs === 1 && ys === 1) for (let p = 0; p < k; p++) sum += x[xo + p] * y[yo + p];
  else for (let p = 0; p < k; p++) sum += x[xo + p * xs] * y[yo + p * ys];
  return sum;
}

/** The i-k-j loop, for integer and bool data (and as the reference order for floats). */
export function gemmSimple(
  a: StridedMatrix,
  b: StridedMatrix,
  out: TypedArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++) {
    const outRow = outOffset + i * n;
    for (let j = 0; j < n; j++) out[outRow + j] = 0;
    const aRow = a.offset + i * a.rowStride;
    for (let p = 0; p < k; p++) {
      const av = a.data[aRow + p * a.colStride];
      const bRow = b.offset + p * b.rowStride;
      for (let j = 0; j < n; j++) out[outRow + j] += av * b.data[bRow + j * b.colStride];
    }
  }
}
