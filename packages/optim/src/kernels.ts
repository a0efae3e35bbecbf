// Fused per-element update loops over contiguous typed arrays: one pass per parameter, no
// temporaries. Each loop performs PyTorch 1.13's sequence of tensor ops element by element, in
// the same order and with the same rounding, so float64 trajectories agree with torch to the
// last few ulps. Intermediates are float64 and float32 arrays round on store, except SGD on
// float32, which rounds where torch's float32 ops do and matches torch bit for bit.

import { getKernelBackend, type Tensor, type TypedArray } from "@koubai/core";
import { sgdMomentumF32, wasmSgdAvailable } from "@koubai/core/internal";

/** A contiguous, writable view of a tensor's elements: `data[offset .. offset + n)`. */
export interface Flat {
  data: TypedArray;
  offset: number;
}

/**
 * Runs `kernel(p, g, n, a, b, c, d)` on the parameter's elements in place. A non-contiguous
 * parameter is updated through a contiguous copy that is written back; gradients are read through
 * a contiguous copy only when they are not contiguous. Bumps the storage version like any in-place
 * op. The kernel's own arguments come after `kernel` rather than in a closure, and `p` and `g` are
 * two objects reused by every call (a kernel must not keep them), so that an optimizer step makes
 * no objects per parameter.
 */
export function updateInPlace<A, B, C, D>(
  param: Tensor,
  grad: Tensor,
  kernel: (p: Flat, g: Flat, n: number, a: A, b: B, c: C, d: D) => void,
  a: A,
  b: B,
  c: C,
  d: D,
): void {
  const g = grad.isContiguous() ? grad : grad.contiguous();
  const work = param.isContiguous() ? param : param.contiguous();
  paramFlat.data = work.data;
  paramFlat.offset = work.offset;
  gradFlat.data = g.data;
  gradFlat.offset = g.offset;
  try {
    kernel(paramFlat, gradFlat, param.numel(), a, b, c, d);
  } finally {
    // Hold on to no tensor's elements between steps.
    paramFlat.data = gradFlat.data = NO_ELEMENTS;
  }
  if (work === param) param.storage.version++;
  else param.copy_(work);
}

const NO_ELEMENTS = new Float32Array(0);
const paramFlat: Flat = { data: NO_ELEMENTS, offset: 0 };
const gradFlat: Flat = { data: NO_ELEMENTS, offset: 0 };

export interface SgdCoefficients {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * One SGD step; `buf` is the momentum buffer (null without momentum), `first` its first use.
 * Float32 parameters follow torch's float32 arithmetic: the scalars are rounded to float32, a
 * product `buf·momentum` is rounded on its own, and each `x + scalar·y` (torch's `add_` with
 * `alpha`, a fused multiply-add) is one float64 add of an exact product, rounded once.
 */
export function sgdKernel(
  p: Flat,
  g: Flat,
  n: number,
  buf: TypedArray | null,
  first: boolean,
  c: SgdCoefficients,
): void {
  const pd = p.data;
  const gd = g.data;
  const po = p.offset;
  const go = g.offset;
  const f32 = pd instanceof Float32Array;
  const round = f32 ? Math.fround : keepDouble;
  const lr = round(c.lr);
  const momentum = round(c.momentum);
  const keep = round(1 - c.dampening);
  const weightDecay = round(c.weightDecay);
  const { nesterov, maximize } = c;
  if (buf !== null && !first && !nesterov && !maximize && weightDecay === 0) {
    momentumRun(pd, po, gd, go, buf, n, momentum, keep, -lr);
    return;
  }
  for (let i = 0; i < n; i++) {
    let d = maximize ? -gd[go + i] : gd[go + i];
    if (weightDecay !== 0) d = round(d + weightDecay * pd[po + i]);
    if (buf !== null) {
      buf[i] = first ? d : round(round(buf[i] * momentum) + keep * d);
      d = nesterov ? round(d + momentum * buf[i]) : buf[i];
    }
    pd[po + i] = pd[po + i] + -lr * d;
  }
}

function keepDouble(v: number): number {
  return v;
}

/**
 * Float32 runs of at least this many elements go to core's WebAssembly SIMD kernel (same
 * arithmetic, 3x faster on 200k values including the copies), unless `setKernelBackend("js")`.
 */
const WASM_MIN_ELEMENTS = 1024;

function useWasm(n: number): boolean {
  const choice = getKernelBackend();
  if (choice === "js" || n < WASM_MIN_ELEMENTS) return false;
  return choice === "wasm" || wasmSgdAvailable();
}

/**
 * The common SGD case (momentum after the first step, no weight decay, Nesterov or maximize) as
 * its own small loop, the same arithmetic as sgdKernel's: the general loop's per-element branches
 * made it 2x slower (1.1 ms vs 0.55 ms on 200k float32 values). The scalars arrive rounded to
 * the parameter's precision; stores into a Float32Array round the float64 sums once.
 */
function momentumRun(
  pd: TypedArray,
  po: number,
  gd: TypedArray,
  go: number,
  buf: TypedArray,
  n: number,
  momentum: number,
  keep: number,
  step: number,
): void {
  if (
    useWasm(n) &&
    pd instanceof Float32Array &&
    gd instanceof Float32Array &&
    buf instanceof Float32Array
  ) {
    sgdMomentumF32(pd, po, gd, go, buf, n, momentum, keep, step);
    return;
  }
  if (pd instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      buf[i] = Math.fround(buf[i] * momentum) + keep * gd[go + i];
      pd[po + i] = pd[po + i] + step * buf[i];
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    buf[i] = buf[i] * momentum + keep * gd[go + i];
    pd[po + i] = pd[po + i] + step * buf[i];
  }
}

export interface AdamCoefficients {
  beta1: number;
  beta2: number;
  eps: number;
  /** Coupled L2 decay added to the gradient (Adam), or 0. */
  weightDecay: number;
  /** Decoupled decay factor `1 - lr·weightDecay` applied to the parameter first (AdamW), or 1. */
  decayFactor: number;
  /** `lr / (1 - beta1^t)`. */
  stepSize: number;
  /** `sqrt(1 - beta2^t)`. */
  biasCorrection2Sqrt: number;
  maximize: boolean;
}

/** One Adam/AdamW step on the moments `m`, `v` (and running max `vMax` for AMSGrad, else null). */
export function adamKernel(
  p: Flat,
  g: Flat,
  n: number,
  m: TypedArray,
  v: TypedArray,
  vMax: TypedArray | null,
  c: AdamCoefficients,
): void {
  const { beta1, beta2, eps, weightDecay, decayFactor, stepSize, biasCorrection2Sqrt, maximize } =
    c;
  const pd = p.data;
  const gd = g.data;
  const po = p.offset;
  const go = g.offset;
  const keep1 = 1 - beta1;
  const keep2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    let d = maximize ? -gd[go + i] : gd[go + i];
    if (decayFactor !== 1) pd[po + i] = pd[po + i] * decayFactor;
    if (weightDecay !== 0) d = d + weightDecay * pd[po + i];
    m[i] = m[i] * beta1 + keep1 * d;
    v[i] = v[i] * beta2 + keep2 * d * d;
    let second = v[i];
    if (vMax !== null) {
      // torch.maximum propagates NaN, as Math.max does.
      vMax[i] = Math.max(vMax[i], v[i]);
      second = vMax[i];
    }
    const denom = Math.sqrt(second) / biasCorrection2Sqrt + eps;
    pd[po + i] = pd[po + i] + (-stepSize * m[i]) / denom;
  }
}
