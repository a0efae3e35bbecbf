// Which implementation the float kernels use. "auto" (the default) runs the WebAssembly SIMD GEMM
// where it is available and the product is large enough to repay packing, and plain JS otherwise;
// "js" and "wasm" force one side (tests run both). Integer matmul always uses JS. The float
// elementwise ops of elementwise.ts follow the same choice ("auto": wasm from 128 elements).

import { wasmGemmAvailable } from "./gemm-wasm.js";

/** `"auto"` picks per call; `"js"` and `"wasm"` force one implementation for every float size. */
export type KernelBackend = "auto" | "js" | "wasm";

let backend: KernelBackend = "auto";

/**
 * Chooses the kernel implementation for float matmul. `"wasm"` throws where WebAssembly SIMD128
 * is unavailable. Results agree across backends: float64 bit for bit, float32 to rounding (the
 * wasm kernel rounds each step to float32, summing runs of 64 products; the JS kernel accumulates
 * in float64). The same choice routes float add, sub, mul, div, maximum, minimum, neg, abs,
 * square, sqrt, rsqrt, relu and relu's backward, the sum, variance and max reductions over
 * contiguous rows or columns, the fused BatchNorm and the SGD-momentum update; their wasm loops
 * give results bit-identical to the JS ones. One exception to `"wasm"`: a matmul whose padded
 * scratch space would pass 2 GiB (a skinny [1, 2^27] @ [2^27, 1] needs 6 GiB, more than
 * WebAssembly's 4 GiB), or for which the WebAssembly memory cannot grow, runs on the JS kernel.
 * Under `"auto"`, products that padding would more than triple in size (matrix-vector shapes
 * such as [1, K] @ [K, 1]) run in JS as well. A call needing more than 64 MiB of WebAssembly
 * scratch gets memory of its own, returned when the garbage collector frees it.
 *
 * @example
 * setKernelBackend("js"); // e.g. to compare against the WebAssembly path
 */
export function setKernelBackend(choice: KernelBackend): void {
  if (choice !== "auto" && choice !== "js" && choice !== "wasm") {
    throw new TypeError(
      `setKernelBackend: unknown backend ${JSON.stringify(choice)}; expected "auto", "js" or "wasm"`,
    );
  }
  if (choice === "wasm" && !wasmGemmAvailable()) {
    throw new Error("setKernelBackend: WebAssembly SIMD128 is not available in this environment");
  }
  backend = choice;
}

/** The current choice made with {@link setKernelBackend}. */
export function getKernelBackend(): KernelBackend {
  return backend;
}
