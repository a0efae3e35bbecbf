// Dense matrix multiply dispatch: out[M, N] = a[M, K] @ b[K, N] on strided 2-D views (so
// transposed operands need no copy). Float data goes to the WebAssembly SIMD GEMM or the blocked
// JS kernel; integer data to the simple loop.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import { type FloatArray, gemmJs, gemmSimple, type StridedMatrix } from "./gemm-js.js";
import { threadedGemm } from "./gemm-threads.js";
import {
  gemmWasm,
  gemmWasmInMemory,
  gemmWasmScratchBytes,
  type ProductInMemory,
  WASM_MAX_SCRATCH_BYTES,
  wasmGemmAvailable,
} from "./gemm-wasm.js";

export type { StridedMatrix } from "./gemm-js.js";

/**
 * Below this many multiply-adds (m·n·k) "auto" stays in JS, where packing and the call into wasm
 * do not pay off. Measured on the 2-core dev machine (square float32): 8³ JS 1.3 µs vs wasm
 * 1.9 µs, 12³ 2.3 vs 2.7, 16³ 4.1 vs 3.6, 32³ 18.8 vs 10.5; float64 crosses at the same size.
 */
export const WASM_MIN_MULTIPLY_ADDS = 4096;

let maxScratchBytes = WASM_MAX_SCRATCH_BYTES;

/** @internal For tests: lowers WASM_MAX_SCRATCH_BYTES (null restores it). */
export function setWasmMaxScratchBytes(bytes: number | null): void {
  maxScratchBytes = bytes ?? WASM_MAX_SCRATCH_BYTES;
}

/**
 * Whether the WebAssembly GEMM runs this product. Under any choice, not when its padded scratch
 * would pass WASM_MAX_SCRATCH_BYTES ([1, 2^27] @ [2^27, 1] would need 6 GiB of the 4 GiB
 * WebAssembly can address). Under "auto", also not when padding more than triples the memory
 * the operands and result take: the kernel pads A to 4 rows and B to 8 columns, so for
 * [1, 2^24] @ [2^24, 1] it writes 12 values per 2 read (1.2 s), where the unpacked JS dot
 * product takes 56 ms; [256, 784] @ [784, 1] (scratch ~1.03x) stays in wasm, 0.32 vs 0.64 ms.
 */
function useWasm(m: number, n: number, k: number, isF32: boolean): boolean {
  const choice = getKernelBackend();
  if (choice === "js") return false;
  const scratch = gemmWasmScratchBytes(m, n, k, isF32);
  if (scratch > maxScratchBytes) return false;
  if (choice === "wasm") return true;
  const own = (m * k + k * n + m * n) * (isF32 ? 4 : 8);
  return m * n * k >= WASM_MIN_MULTIPLY_ADDS && scratch <= 3 * own && wasmGemmAvailable();
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
  } else if (
    !useWasm(m, n, k, out instanceof Float32Array) ||
    // The memory could not grow (a browser's lower limit, or no memory left): compute in JS.
    !gemmWasm(a, b, out, outOffset, m, n, k, threadedGemm(m, n, k))
  ) {
    gemmJs(a, b, out as FloatArray, outOffset, m, n, k);
  }
}

/**
 * a @ b for float operands of one kind on the WebAssembly GEMM, left in its memory (see
 * gemmWasmInMemory: read it before the next product, mind its strides; Cᵀ's view only when
 * `transposedOk`; `afterC` bytes reserved past it), when {@link gemm} would run it there; null
 * otherwise, having computed nothing: then call `gemm` with an array of your own. The values are
 * the bits `gemm` writes.
 */
export function gemmInMemory(
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  transposedOk = false,
  afterC = 0,
): ProductInMemory | null {
  if (k === 0 || !useWasm(m, n, k, isF32)) return null;
  return gemmWasmInMemory(a, b, m, n, k, isF32, threadedGemm(m, n, k), transposedOk, afterC);
}
