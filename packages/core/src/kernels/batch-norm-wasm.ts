// The WebAssembly SIMD BatchNorm loops (batch-norm.wat) for float32 [n, c, s] data: each pass
// (statistics, normalise, gradient sums, input gradient) streams the operands through the module's
// memory in chunks small enough to stay in cache, copying each result chunk straight out.
// Per-channel arithmetic is float64, as in the JS kernels of @koubai/layers (batch-norm-kernel.ts),
// which stay the fallback and the float64 path. The module (about 3 KB) compiles synchronously on first use, under the browsers' 4 KB main-thread limit.

import { BATCH_NORM_WASM_BASE64 } from "./batch-norm-wasm-module.js";
import { growMemory, lazyInstance } from "./wasm-module.js";

interface BatchNormExports {
  memory: WebAssembly.Memory;
  channelSumsF32(
    x: number,
    n: number,
    c: number,
    s: number,
    ch: number,
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
    ch: number,
    mean: number,
    sumDy: number,
    sumDyXc: number,
  ): void;
  normalizeF32(
    x: number,
    out: number,
    n: number,
    c: number,
    s: number,
    ch: number,
    f: number,
  ): void;
  inputGradF32(
    dy: number,
    x: number,
    out: number,
    n: number,
    c: number,
    s: number,
    ch: number,
    f: number,
  ): void;
}

const load = lazyInstance(BATCH_NORM_WASM_BASE64, (e) => e as unknown as BatchNormExports);

/** True when the WebAssembly SIMD BatchNorm kernels can run here. */
export function wasmBatchNormAvailable(): boolean {
  return load() !== null;
}

function kernels(scratchBytes: number): BatchNormExports {
  const k = load.forScratch(scratchBytes);
  if (k === null) throw new Error("batchNorm: the WebAssembly SIMD kernels are not available here");
  return k;
}

/**
 * Float32 values per operand in one chunk: 16K values = 64 KB, so a pass's chunks (x, dy, out)
 * stay in L2 between the copy in, the loop and the copy out, and memory traffic stays near one
 * read of each operand per pass plus one write of the result.
 */
const CHUNK = 16384;

/**
 * How a pass walks [n, c, s] data in chunks of whole units: rows of c values when s = 1, runs of s
 * values of one channel when s > 1 (run u belongs to channel u mod c). A chunk holds `per` units of
 * `width` values, contiguous, so it goes in and out of the module with one copy.
 */
interface Chunks {
  width: number;
  units: number;
  per: number;
}

function chunksOf(n: number, c: number, s: number): Chunks {
  const width = s > 1 ? s : c;
  return { width, units: s > 1 ? n * c : n, per: Math.max(1, Math.floor(CHUNK / width)) };
}

/**
 * The first unit of the last chunk. The per-element passes walk the chunks backwards: the sums
 * before them must run forwards (summation order), and the data they read last is the likeliest
 * to still be in the L3 cache.
 */
function lastChunk(units: number, per: number): number {
  return units === 0 ? -1 : Math.floor((units - 1) / per) * per;
}

/** Copies units [u, u + count) of `src` (from `offset`) into the scratch `dst`. */
function copyIn(
  dst: Float32Array,
  src: Float32Array,
  offset: number,
  u: number,
  count: number,
  { width }: Chunks,
): void {
  const start = offset + u * width;
  dst.set(src.subarray(start, start + count * width));
}

/** Copies `count` units of the scratch `src` to units [u, u + count) of `dst` (contiguous from 0). */
function copyOut(
  dst: Float32Array,
  src: Float32Array,
  u: number,
  count: number,
  { width }: Chunks,
): void {
  dst.set(src.subarray(0, count * width), u * width);
}

/**
 * Grows the module's memory to `factorBytes` of float64 factors at 0 and `operands` chunk buffers
 * of `size` float32 values after them, and returns the buffer and the chunk buffers' byte
 * offsets. The buffers start 1 KB apart modulo 4 KB, so the same row of x, dy and out does not
 * fall into one L1 set.
 */
function scratch(
  factorBytes: number,
  size: number,
  operands: number,
): { k: BatchNormExports; buffer: ArrayBuffer; at: number[] } {
  const bytes = Math.ceil((4 * size) / 4096) * 4096 + 1024;
  const first = Math.ceil(factorBytes / 4096) * 4096;
  const at = Array.from({ length: operands }, (_, i) => first + i * bytes);
  const total = first + operands * bytes;
  // Chunks are 64 KB unless one sample's channel alone is larger (a huge spatial size): such a
  // call gets an instance of its own, so its memory is not kept after it.
  const k = kernels(total);
  return { k, buffer: growMemory(k.memory, total, "batchNorm"), at };
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
 * `beta` null mean 1 and 0. Same formulas and roundings as the JS kernels. Each pass streams `x`
 * through the module's memory in 64 KB chunks.
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
): BatchNormForwardStats {
  const m = n * s;
  const plan = chunksOf(n, c, s);
  const { units, per, width } = plan;
  // Factors from 0: mean, scale, shift, then the squared deviations' sums.
  const f = 0;
  const accAt = f + 24 * c;
  const { k, buffer, at } = scratch(32 * c, per * width, 2);
  const [xAt, outAt] = at;
  const xs = new Float32Array(buffer, xAt, per * width);
  const outs = new Float32Array(buffer, outAt, per * width);
  const factors = new Float64Array(buffer, f, 4 * c);
  factors.fill(0);
  const empty = n * c * s === 0;
  const sums = (acc: number, mode: number) => {
    for (let u = 0; u < units && !empty; u += per) {
      const count = Math.min(per, units - u);
      copyIn(xs, x, xOffset, u, count, plan);
      k.channelSumsF32(xAt, count, c, s, u % c, f, acc, mode);
    }
  };
  sums(f, 0);
  for (let ch = 0; ch < c; ch++) factors[ch] /= m;
  sums(accAt, 1);
  const mean = new Float64Array(c);
  const varBiased = new Float64Array(c);
  const invStd = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    mean[ch] = factors[ch];
    varBiased[ch] = factors[3 * c + ch] / m;
    invStd[ch] = 1 / Math.sqrt(varBiased[ch] + eps);
    factors[c + ch] = invStd[ch] * (gamma === null ? 1 : gamma[ch]);
    factors[2 * c + ch] = beta === null ? 0 : beta[ch];
  }
  for (let u = lastChunk(units, per); u >= 0 && !empty; u -= per) {
    const count = Math.min(per, units - u);
    copyIn(xs, x, xOffset, u, count, plan);
    k.normalizeF32(xAt, outAt, count, c, s, u % c, f);
    copyOut(out, outs, u, count, plan);
  }
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
 * `gamma` null means γ = 1. Same formulas and roundings as the JS kernels. Each pass streams dy
 * and x through the module's memory in 64 KB chunks.
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
): BatchNormGradSums {
  const m = n * s;
  const plan = chunksOf(n, c, s);
  const { units, per, width } = plan;
  // Factors from 0: mean, scale, shift, slope, then the sums Σdy and Σdy·(x - μ).
  const f = 0;
  const sumsAt = f + 32 * c;
  const { k, buffer, at } = scratch(48 * c, per * width, 3);
  const [dyAt, xAt, outAt] = at;
  const dys = new Float32Array(buffer, dyAt, per * width);
  const xs = new Float32Array(buffer, xAt, per * width);
  const outs = new Float32Array(buffer, outAt, per * width);
  const factors = new Float64Array(buffer, f, 6 * c);
  factors.set(mean);
  factors.fill(0, 4 * c);
  const empty = n * c * s === 0;
  for (let u = 0; u < units && !empty; u += per) {
    const count = Math.min(per, units - u);
    copyIn(dys, dy, dyOffset, u, count, plan);
    copyIn(xs, x, xOffset, u, count, plan);
    k.gradSumsF32(dyAt, xAt, count, c, s, u % c, f, sumsAt, sumsAt + 8 * c);
  }
  const sumDy = factors.slice(4 * c, 5 * c);
  const sumDyXHat = factors.slice(5 * c, 6 * c);
  for (let ch = 0; ch < c; ch++) sumDyXHat[ch] *= invStd[ch];
  if (out === null) return { sumDy, sumDyXHat };
  for (let ch = 0; ch < c; ch++) {
    const a = (gamma === null ? 1 : gamma[ch]) * invStd[ch];
    factors[c + ch] = a;
    factors[2 * c + ch] = (a * sumDy[ch]) / m;
    factors[3 * c + ch] = (a * invStd[ch] * sumDyXHat[ch]) / m;
  }
  for (let u = lastChunk(units, per); u >= 0 && !empty; u -= per) {
    const count = Math.min(per, units - u);
    copyIn(dys, dy, dyOffset, u, count, plan);
    copyIn(xs, x, xOffset, u, count, plan);
    k.inputGradF32(dyAt, xAt, outAt, count, c, s, u % c, f);
    copyOut(out, outs, u, count, plan);
  }
  return { sumDy, sumDyXHat };
}
