// Dense matrix multiply dispatch: out[M, N] = a[M, K] @ b[K, N] on strided 2-D views (so
// transposed operands need no copy). Float data goes to the WebAssembly SIMD GEMM or the blocked
// JS kernel; integer data to the simple loop.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import { type FloatArray, gemmJs, gemmSimple, type StridedMatrix } from "./gemm-js.js";
import { threadedGemm } from "./gemm-threads.js";
import { gemmWasm, wasmGemmAvailable } from "./gemm-wasm.js";

export type { StridedMatrix } from "./gemm-js.js";

/**
 * Below this many multiply-adds (m·n·k) "auto" stays in JS, where packing and the call into wasm
 * do not pay off. Measured on the 2-core dev machine (square float32): 8³ JS 1.3 µs vs wasm
 * 1.9 µs, 12³ 2.3 vs 2.7, 16³ 4.1 vs 3.6, 32³ 18.8 vs 10.5; float64 crosses at the same size.
 */
export const WASM_MIN_MULTIPLY_ADDS = 4096;

function useWasm(m: number, n: number, k: number): boolean {
  const choice = getKernelBackend();
  if (choice === "js") return false;
  if (choice === "wasm") return true;
  return m * n * k >= WASM_MIN_MULTIPLY_ADDS && wasmGemmAvailable();
}

/** out[outOffset + i*n + j] = Σ_p a[i, p]·b[p, j]; a and b share out's typed-array kind. */
export function gemm(
  a: StridedMatrix,
  b: StridedMatrix,
  out: TypedArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
): void {
  if (!(out instanceof Float32Array || out instanceof Float64Array)) {
    gemmSimple(a, b, out, outOffset, m, n, k);
  } else if (k === 0) {
    out.fill(0, outOffset, outOffset + m * n);
  } else if (useWasm(m, n, k)) {
    gemmWasm(a, b, out, outOffset, m, n, k, threadedGemm(m, n, k));
  } else {
    gemmJs(a, b, out as FloatArray, outOffset, m, n, k);
  }
}
