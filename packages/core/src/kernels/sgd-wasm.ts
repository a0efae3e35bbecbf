// The WebAssembly SIMD SGD-momentum update (sgd.wat) for float32 parameters: copies parameter,
// gradient and momentum buffer into the module's memory, updates them there and copies parameter
// and buffer back. Kept in core with the other kernels; @koubai/optim's SGD calls it.

import { decodeBase64, growMemory } from "./gemm-wasm.js";
import { SGD_WASM_BASE64 } from "./sgd-wasm-module.js";

interface SgdExports {
  memory: WebAssembly.Memory;
  momentumF32(
    p: number,
    g: number,
    buf: number,
    n: number,
    momentum: number,
    keep: number,
    step: number,
  ): void;
}

let exports: SgdExports | null | undefined;

function load(): SgdExports | null {
  if (exports !== undefined) return exports;
  try {
    const module = new WebAssembly.Module(decodeBase64(SGD_WASM_BASE64));
    exports = new WebAssembly.Instance(module, {}).exports as unknown as SgdExports;
  } catch {
    exports = null;
  }
  return exports;
}

/** True when the WebAssembly SIMD SGD update can run here. */
export function wasmSgdAvailable(): boolean {
  return load() !== null;
}

/**
 * In place, for i in [0, n): buf[i] = buf[i]·momentum + keep·g[gOffset + i], then
 * p[pOffset + i] = p[pOffset + i] + step·buf[i], each computed in float64 and rounded to float32
 * on store (the same arithmetic as a plain JS loop over the float32 arrays).
 */
export function sgdMomentumF32(
  p: Float32Array,
  pOffset: number,
  g: Float32Array,
  gOffset: number,
  buf: Float32Array,
  n: number,
  momentum: number,
  keep: number,
  step: number,
): void {
  const k = load();
  if (k === null) throw new Error("SGD: the WebAssembly SIMD kernel is not available here");
  const bytes = Math.ceil(n / 4) * 16;
  const memory = growMemory(k.memory, 3 * bytes);
  const pView = new Float32Array(memory, 0, n);
  const bufView = new Float32Array(memory, 2 * bytes, n);
  pView.set(p.subarray(pOffset, pOffset + n));
  new Float32Array(memory, bytes, n).set(g.subarray(gOffset, gOffset + n));
  bufView.set(buf.subarray(0, n));
  k.momentumF32(0, bytes, 2 * bytes, n, momentum, keep, step);
  p.set(pView, pOffset);
  buf.set(bufView);
}
