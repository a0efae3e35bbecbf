// Matmul through the WebAssembly SIMD kernel, forced with setKernelBackend("wasm") (which throws
// where WebAssembly SIMD128 is missing), next to the same products on the JS kernel. The operands
// follow a closed formula (see matmulOperand) so the test can recompute the product itself.

import { getKernelBackend, matmul, setKernelBackend, tensor } from "@koubai/core";

/** [M, K] @ [K, N]: 33·29·47 = 44,979 multiply-adds, odd sizes that leave partial SIMD tiles. */
export const MATMUL_SIZES = { m: 33, k: 47, n: 29 } as const;

/**
 * Element (i, j) of operand `which` ("a" is [M, K], "b" is [K, N]): the fractional part of
 * (1 + i·cols + j)·0.6180339887, minus 0.5, in [-0.5, 0.5). Only correctly rounded arithmetic,
 * so every engine gets the same bits (Math.sin does not: Node 20 and Chromium 156 differ by ulps).
 */
export function matmulOperand(which: "a" | "b", i: number, j: number): number {
  const cols = which === "a" ? MATMUL_SIZES.k : MATMUL_SIZES.n;
  return (((1 + i * cols + j) * 0.6180339887) % 1) - 0.5;
}

export interface MatmulResult {
  /** getKernelBackend() while the wasm products ran. */
  backendDuringWasm: string;
  /** getKernelBackend() before this check and after it restored the choice. */
  backendBefore: string;
  backendAfter: string;
  /** Row-major [M, N] products per dtype and backend. */
  float32Wasm: number[];
  float32Js: number[];
  float64Wasm: number[];
  float64Js: number[];
}

function products(dtype: "float32" | "float64"): number[] {
  const { m, k, n } = MATMUL_SIZES;
  const a = Array.from({ length: m }, (_, i) =>
    Array.from({ length: k }, (_, j) => matmulOperand("a", i, j)),
  );
  const b = Array.from({ length: k }, (_, i) =>
    Array.from({ length: n }, (_, j) => matmulOperand("b", i, j)),
  );
  return [...matmul(tensor(a, { dtype }), tensor(b, { dtype })).toArray()];
}

export function matmulCheck(): MatmulResult {
  const backendBefore = getKernelBackend();
  let result: Omit<MatmulResult, "backendBefore" | "backendAfter">;
  try {
    setKernelBackend("wasm");
    const backendDuringWasm = getKernelBackend();
    const float32Wasm = products("float32");
    const float64Wasm = products("float64");
    setKernelBackend("js");
    result = {
      backendDuringWasm,
      float32Wasm,
      float64Wasm,
      float32Js: products("float32"),
      float64Js: products("float64"),
    };
  } finally {
    setKernelBackend(backendBefore);
  }
  return { ...result, backendBefore, backendAfter: getKernelBackend() };
}
