// The WebAssembly SIMD BatchNorm loops (batch-norm.wat) for float32 [n, c, s] data: copies the
// operands into the module's memory, runs the statistics, normalise and gradient passes there, and
// copies the result out. Per-channel arithmetic is float64, as in the JS kernels of
// @koubai/layers (batch-norm-kernel.ts), which stay the fallback and the float64 path. The module
// (about 2 KB) compiles synchronously on first use, under the browsers' 4 KB main-thread limit.

import { BATCH_NORM_WASM_BASE64 } from "./batch-norm-wasm-module.js";
import { decodeBase64, growMemory } from "./gemm-wasm.js";

interface BatchNormExports {
  memory: WebAssembly.Memory;
  channelSumsF32(
    x: number,
    n: number,
    c: number,
    s: number,
    mean: number,
    acc: number,
    mode: number,
  ): void;
  gradSumsF32(
    dy: number,
    x: number,
    n: number,
    c: number,
    s: number,
    mean: number,
    sumDy: number,
    sumDyXc: number,
  ): void;
  mapF32(
    dy: number,
    x: number,
    out: number,
    n: number,
    c: number,
    s: number,
    f: number,
    mode: number,
  ): void;
}

let exports: BatchNormExports | null | undefined;

function load(): BatchNormExports | null {
  if (exports !== undefined) return exports;
  try {
    const module = new WebAssembly.Module(decodeBase64(BATCH_NORM_WASM_BASE64));
    exports = new WebAssembly.Instance(module, {}).exports as unknown as BatchNormExports;
  } catch {
    exports = null;
  }
  return exports;
}

/** True when the WebAssembly SIMD BatchNorm kernels can run here. */
export function wasmBatchNormAvailable(): boolean {
  return load() !== null;
}

function kernels(): BatchNormExports {
  const k = load();
  if (k === null) throw new Error("batchNorm: the WebAssembly SIMD kernels are not available here");
  return k;
}

/**
 * The float32 input the last forward left at address 0 of the module's memory, so that the
 * backward of the same call can skip copying it again. `version` is the caller's storage version
 * of `x` at the time (in-place writes bump it). NOTE: held strongly (one array at most): a
 * WeakRef would keep every target alive until the current job ends, which in a synchronous
 * training loop is every batch. Writes straight into a tensor's `.data` bypass the version, as
 * they bypass autograd's saved-tensor check.
 */
let resident: { x: Float32Array; offset: number; total: number; version: number } | null = null;

/** Byte offset `bytes` rounded up to a multiple of 16 (v128 alignment). */
function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** Per-channel statistics of a batch-statistics forward, float64, [C] each. */
export interface BatchNormForwardStats {
  /** μ = Σx/m per channel. */
  mean: Float64Array;
  /** Σ(x - μ)²/m. */
  varBiased: Float64Array;
  /** 1/√(varBiased + eps). */
  invStd: Float64Array;
}

/**
 * Training-mode BatchNorm forward over the contiguous float32 [n, c, s] array `x` (from
 * `xOffset`): μ and the biased variance per channel in two passes (float64 sums), then
 * out = (x - μ)·(invStd·γ) + β per element, rounded once, written to `out` from 0. `gamma` and
 * `beta` null mean 1 and 0. Same formulas and roundings as the JS kernels. `xVersion`, the
 * storage version of `x`, lets the next backward of the same `x` reuse the copy made here.
 */
export function batchNormForwardF32(
  x: Float32Array,
  xOffset: number,
  out: Float32Array,
  n: number,
  c: number,
  s: number,
  eps: number,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
  xVersion?: number,
): BatchNormForwardStats {
  const k = kernels();
  const total = n * c * s;
  const m = n * s;
  const xAt = 0;
  const outAt = align16(4 * total);
  const f = align16(outAt + 4 * total);
  const accAt = f + 32 * c;
  const buffer = growMemory(k.memory, accAt + 8 * c);
  new Float32Array(buffer, xAt, total).set(x.subarray(xOffset, xOffset + total));
  resident = xVersion === undefined ? null : { x, offset: xOffset, total, version: xVersion };
  const factors = new Float64Array(buffer, f, 5 * c);
  factors.fill(0);
  const mean = new Float64Array(c);
  const varBiased = new Float64Array(c);
  const invStd = new Float64Array(c);
  k.channelSumsF32(xAt, n, c, s, f, f, 0);
  for (let ch = 0; ch < c; ch++) factors[ch] /= m;
  k.channelSumsF32(xAt, n, c, s, f, accAt, 1);
  for (let ch = 0; ch < c; ch++) {
    mean[ch] = factors[ch];
    varBiased[ch] = factors[4 * c + ch] / m;
    invStd[ch] = 1 / Math.sqrt(varBiased[ch] + eps);
    factors[c + ch] = invStd[ch] * (gamma === null ? 1 : gamma[ch]);
    factors[2 * c + ch] = beta === null ? 0 : beta[ch];
  }
  k.mapF32(0, xAt, outAt, n, c, s, f, 0);
  out.set(new Float32Array(buffer, outAt, total));
  return { mean, varBiased, invStd };
}

/** Σdy and Σdy·x̂ per channel (the gradients of β and γ), float64, [C] each. */
export interface BatchNormGradSums {
  /** Σdy per channel (the gradient of β). */
  sumDy: Float64Array;
  /** Σdy·x̂ per channel (the gradient of γ). */
  sumDyXHat: Float64Array;
}

/**
 * Training-mode BatchNorm backward over contiguous float32 [n, c, s] arrays: Σdy and Σdy·x̂ per
 * channel (x̂ = (x - μ)·invStd, float64) and, when `out` is given, the input gradient
 * dx = A·dy - A·Σdy/m - (A·invStd·Σdy·x̂/m)·(x - μ) with A = γ·invStd, rounded once per element.
 * `gamma` null means γ = 1. Same formulas and roundings as the JS kernels. When the last forward
 * copied this `x` (same array, offset and size) with the same `xVersion`, that copy is reused.
 */
export function batchNormBackwardF32(
  dy: Float32Array,
  dyOffset: number,
  x: Float32Array,
  xOffset: number,
  out: Float32Array | null,
  n: number,
  c: number,
  s: number,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: ArrayLike<number> | null,
  xVersion?: number,
): BatchNormGradSums {
  const k = kernels();
  const total = n * c * s;
  const m = n * s;
  // x sits at 0 as in the forward: when the forward of this very x left it there, unchanged
  // since (same array, offset, size and storage version), it is not copied again.
  const xAt = 0;
  const dyAt = align16(4 * total);
  const outAt = align16(dyAt + 4 * total);
  const f = align16(outAt + 4 * total);
  const sumsAt = f + 32 * c;
  const buffer = growMemory(k.memory, sumsAt + 16 * c);
  new Float32Array(buffer, dyAt, total).set(dy.subarray(dyOffset, dyOffset + total));
  const r = resident;
  const isResident =
    r !== null && xVersion === r.version && x === r.x && xOffset === r.offset && total === r.total;
  if (!isResident) {
    new Float32Array(buffer, xAt, total).set(x.subarray(xOffset, xOffset + total));
    resident = null;
  }
  const factors = new Float64Array(buffer, f, 6 * c);
  factors.set(mean);
  factors.fill(0, 4 * c);
  k.gradSumsF32(dyAt, xAt, n, c, s, f, sumsAt, sumsAt + 8 * c);
  const sumDy = factors.slice(4 * c, 5 * c);
  const sumDyXHat = factors.slice(5 * c, 6 * c);
  for (let ch = 0; ch < c; ch++) sumDyXHat[ch] *= invStd[ch];
  if (out !== null) {
    for (let ch = 0; ch < c; ch++) {
      const a = (gamma === null ? 1 : gamma[ch]) * invStd[ch];
      factors[c + ch] = a;
      factors[2 * c + ch] = (a * sumDy[ch]) / m;
      factors[3 * c + ch] = (a * invStd[ch] * sumDyXHat[ch]) / m;
    }
    k.mapF32(dyAt, xAt, outAt, n, c, s, f, 1);
    out.set(new Float32Array(buffer, outAt, total));
  }
  return { sumDy, sumDyXHat };
}
