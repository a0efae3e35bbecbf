// Dense matrix multiply dispatch: out[M, N] = a[M, K] @ b[K, N] on strided 2-D views (so
// transposed operands need no copy). Float data goes to the WebAssembly SIMD GEMM or the blocked
// JS kernel; integer data to the simple loop.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import { type FloatArray, gemmJs, gemmSimple, type StridedMatrix } from "./gemm-js.js";
import { gemmWasm, wasmGemmAvailable } from "./gemm-wasm.js";

export type { StridedMatrix } from "./gemm-js.js";

/**
 * Below this many multiply-adds (m·n·k) "auto" stays in JS: packing and the call into wasm cost
 * a few microseconds, which a 16×16×16 product (4096) does not repay. Measured in bench/.
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
    gemmWasm(a, b, out, outOffset, m, n, k);
  } else {
    gemmJs(a, b, out as FloatArray, outOffset, m, n, k);
  }
}
