// pool.wat's 2×2 max pooling, fed whole planes at a time: a group of planes is copied into the
// module's memory, pooled there, and its maxima and positions copied out. The results are those
// of pool.ts's JS loop bit for bit (the same comparisons in the same order; test/kernels/pool.test.ts).

import { getKernelBackend } from "./backend.js";
import type { MaxPoolPlan } from "./pool.js";
import { POOL_WASM_BASE64 } from "./pool-wasm-module.js";
import { lazyInstance, tryGrowMemory } from "./wasm-module.js";

interface PoolExports {
  memory: WebAssembly.Memory;
  maxPool2x2F32(
    x: number,
    out: number,
    idx: number,
    planes: number,
    inH: number,
    inW: number,
    outH: number,
    outW: number,
  ): void;
}

const load = lazyInstance(POOL_WASM_BASE64, (e) => e as unknown as PoolExports);

/** Bytes of input, maxima and positions a group of planes may take: they stay in the L2 cache. */
const GROUP_BYTES = 256 << 10;

/** Below this many outputs "auto" pools in JS: the copies and the call would cost more. */
const WASM_MIN_OUTPUTS = 1024;

const align16 = (bytes: number) => (bytes + 15) & ~15;

/**
 * The 2×2, stride-2, unpadded max pooling of float32 planes (2·outH <= inH, 2·outW <= inW) in
 * WebAssembly; false, having written nothing, where the JS kernels are selected, the pooling is
 * too small to gain, or the module cannot load or get the memory here.
 */
export function maxPool2x2Wasm(
  x: Float32Array,
  out: Float32Array,
  indices: Int32Array,
  p: MaxPoolPlan,
): boolean {
  const choice = getKernelBackend();
  if (choice === "js" || (choice === "auto" && out.length < WASM_MIN_OUTPUTS)) return false;
  const { inH, inW, outH, outW } = p;
  const planeIn = inH * inW;
  const planeOut = outH * outW;
  const perPlane = 4 * planeIn + 8 * planeOut;
  const group = Math.max(1, Math.min(p.planes, Math.floor(GROUP_BYTES / perPlane)));
  const inBytes = align16(4 * group * planeIn);
  const outBytes = align16(4 * group * planeOut);
  const k = load.forScratch(inBytes + 2 * outBytes);
  if (k === null) return false;
  const buffer = tryGrowMemory(k.memory, inBytes + 2 * outBytes);
  if (buffer === null) return false;
  const xView = new Float32Array(buffer, 0, group * planeIn);
  const outView = new Float32Array(buffer, inBytes, group * planeOut);
  const idxView = new Int32Array(buffer, inBytes + outBytes, group * planeOut);
  for (let first = 0; first < p.planes; first += group) {
    const planes = Math.min(group, p.planes - first);
    xView.set(x.subarray(first * planeIn, (first + planes) * planeIn));
    k.maxPool2x2F32(0, inBytes, inBytes + outBytes, planes, inH, inW, outH, outW);
    const n = planes * planeOut;
    out.set(n === outView.length ? outView : outView.subarray(0, n), first * planeOut);
    indices.set(n === idxView.length ? idxView : idxView.subarray(0, n), first * planeOut);
  }
  return true;
}
