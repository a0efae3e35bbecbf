// The WebAssembly SIMD SGD-momentum update (sgd.wat) for float32 parameters: streams parameter,
// gradient and momentum buffer through the module's memory in cache-sized chunks, updating them
// there and copying parameter and buffer back chunk by chunk. Kept in core with the other kernels; @koubai/optim's SGD calls it.

import { SGD_WASM_BASE64 } from "./sgd-wasm-module.js";
import { growMemory, lazyInstance, memoryView } from "./wasm-module.js";

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

/**
 * Elements per chunk: three 128 KB float32 slices, which stay in the L2 cache. Chunks of 4,096
 * were no faster on the MLP's parameters and made eight times the subarray views per step.
 */
const CHUNK = 32768;

const load = lazyInstance(SGD_WASM_BASE64, (e) => e as unknown as SgdExports);

/** True when the WebAssembly SIMD SGD update can run here. */
export function wasmSgdAvailable(): boolean {
  return load() !== null;
}

/**
 * In place, for i in [0, n), torch 1.13's float32 SGD-momentum arithmetic with the scalars
 * rounded to float32 (m, k, s = fround(momentum), fround(keep), fround(step)):
 * buf[i] = fround(fround(buf[i]·m) + k·g[gOffset + i]), then
 * p[pOffset + i] = fround(p[pOffset + i] + s·buf[i]), each `+` one float64 add (the products of
 * float32 values are exact), i.e. torch's fused multiply-add up to float64 ties. A JS loop
 * computing exactly these expressions gives the same bits.
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
  // Chunks of CHUNK elements pass through a small, cache-resident scratch: copying whole arrays
  // in and out would read and write every array twice from main memory.
  const m = Math.fround(momentum);
  const kp = Math.fround(keep);
  const st = Math.fround(step);
  const chunk = Math.min(n, CHUNK);
  const bytes = Math.ceil(chunk / 4) * 16;
  const memory = growMemory(k.memory, 3 * bytes, "SGD");
  const pView = memoryView(memory, true, 0, chunk);
  const gView = memoryView(memory, true, bytes, chunk);
  const bufView = memoryView(memory, true, 2 * bytes, chunk);
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const pAt = pOffset + start;
    const gAt = gOffset + start;
    pView.set(span(p, pAt, len));
    gView.set(span(g, gAt, len));
    bufView.set(span(buf, start, len));
    k.momentumF32(0, bytes, 2 * bytes, len, m, kp, st);
    p.set(len === chunk ? pView : memoryView(memory, true, 0, len), pAt);
    buf.set(len === chunk ? bufView : memoryView(memory, true, 2 * bytes, len), start);
  }
}

/**
 * The views of parameters, gradients and buffers the chunks read, by array and first element:
 * the same arrays every step (weakly held, so a dropped parameter takes its views with it).
 */
const spans = new WeakMap<Float32Array, Map<number, Float32Array>>();

/** Elements [at, at + len) of `x`: `x` itself when that is all of it (no view to make). */
function span(x: Float32Array, at: number, len: number): Float32Array {
  if (at === 0 && len === x.length) return x;
  let byStart = spans.get(x);
  if (byStart === undefined) {
    byStart = new Map();
    spans.set(x, byStart);
  }
  let view = byStart.get(at);
  if (view === undefined || view.length !== len) {
    view = x.subarray(at, at + len);
    byStart.set(at, view);
  }
  return view;
}
