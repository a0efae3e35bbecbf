// BatchNorm's hand-derived backward (batchNormBackward) and the fused training-mode op built on
// it with core's customOp. The module (batch-norm.ts) chooses between this and the composite.

import {
  customOp,
  empty,
  getKernelBackend,
  isGradEnabled,
  type OpContext,
  type Tensor,
  Tensor as TensorClass,
} from "@koubai/core";
import {
  batchNormBackwardF32,
  batchNormForwardF32,
  wasmBatchNormAvailable,
} from "@koubai/core/internal";
import {
  type ChannelGradSums,
  type ChannelStats,
  channelGradSums,
  channelStats,
  type FloatData,
  inputGrad,
  normalize,
} from "./batch-norm-kernel.js";

/** What the backward needs from a batch-statistics forward. */
export interface BatchNormSaved {
  /** Normalised input x̂ = (x - μ)·invStd, shape of the input [N, C, ...]. */
  xHat: Tensor;
  /** 1/√(σ²_biased + eps) per channel, shape [C]. */
  invStd: Tensor;
  /** γ, shape [C]; null when the layer has no affine transform (γ = 1). */
  weight: Tensor | null;
  /** The dims statistics were taken over; default every dim but 1 (channels). */
  reduceDims?: readonly number[];
}

/** The three gradients returned by {@link batchNormBackward}. */
export interface BatchNormGrads {
  /** ∂L/∂x, shape of the input. */
  gradInput: Tensor;
  /** ∂L/∂γ = Σ dy·x̂ per channel [C]; null without a weight. */
  gradWeight: Tensor | null;
  /** ∂L/∂β = Σ dy per channel [C]; null without a weight. */
  gradBias: Tensor | null;
}

function defaultReduceDims(ndim: number): number[] {
  return Array.from({ length: ndim }, (_, d) => d).filter((d) => d !== 1);
}

/**
 * Gradients of training-mode batch norm y = γ·x̂ + β, x̂ = (x - μ)·invStd, where μ and σ² (biased)
 * are taken over the m = N·L (or N·H·W) values of each channel:
 *
 *   dx = (γ·invStd / m) · (m·dy - Σdy - x̂·Σ(dy·x̂)),   dγ = Σ(dy·x̂),   dβ = Σdy.
 *
 * Derivation: dL/dx̂ = γ·dy. With x̂_i = (x_i - μ)·invStd, ∂μ/∂x_i = 1/m and
 * ∂invStd/∂x_i = -invStd³·(x_i - μ)/m = -invStd²·x̂_i/m, so
 * dx_j = invStd·(g_j - Σg/m) - invStd·x̂_j·Σ(g·x̂)/m with g = γ·dy; factor out γ·invStd/m.
 *
 * Written with core tensor ops, so the result is itself differentiable (double backward): pass
 * an `xHat` and `invStd` that are functions of x in the graph to differentiate through them.
 */
export function batchNormBackward(gradOut: Tensor, saved: BatchNormSaved): BatchNormGrads {
  const { xHat, invStd, weight } = saved;
  if (!(gradOut instanceof TensorClass) || !(xHat instanceof TensorClass)) {
    throw new TypeError("batchNormBackward: gradOut and saved.xHat must be Tensors");
  }
  if (gradOut.ndim !== xHat.ndim || gradOut.shape.some((s, d) => s !== xHat.shape[d])) {
    throw new RangeError(
      `batchNormBackward: gradOut [${gradOut.shape.join(", ")}] and xHat [${xHat.shape.join(", ")}] must have the same shape`,
    );
  }
  const reduceDims = saved.reduceDims ?? defaultReduceDims(xHat.ndim);
  const channelShape = xHat.shape.map((s, d) => (reduceDims.includes(d) ? 1 : s));
  const channels = channelShape.reduce((a, b) => a * b, 1);
  for (const [what, t] of [
    ["invStd", invStd],
    ["weight", weight],
  ] as const) {
    if (t !== null && t.numel() !== channels) {
      throw new RangeError(
        `batchNormBackward: saved.${what} has shape [${t.shape.join(", ")}], expected ${channels} values (one per channel)`,
      );
    }
  }
  const m = reduceDims.reduce((n, d) => n * xHat.shape[d], 1);
  const sumDy = gradOut.sum(reduceDims, true);
  const sumDyXHat = gradOut.mul(xHat).sum(reduceDims, true);
  let scale = invStd.reshape(channelShape).div(m);
  if (weight !== null) scale = scale.mul(weight.reshape(channelShape));
  const gradInput = scale.mul(gradOut.mul(m).sub(sumDy).sub(xHat.mul(sumDyXHat)));
  if (weight === null) return { gradInput, gradWeight: null, gradBias: null };
  return {
    gradInput,
    gradWeight: sumDyXHat.reshape(weight.shape),
    gradBias: sumDy.reshape(weight.shape),
  };
}

/** Output and per-channel batch statistics (detached, shape [C]) of a batch-statistics forward. */
export interface BatchNormStats {
  /** The normalised, scaled and shifted output y, shape of the input. */
  out: Tensor;
  /** μ per channel. */
  mean: Tensor;
  /** Biased variance σ² = Σ(x - μ)²/m per channel. */
  varBiased: Tensor;
}

/** Float32 data goes to core's WebAssembly SIMD kernels unless `setKernelBackend("js")`. */
function useWasm(data: FloatData): data is Float32Array {
  const choice = getKernelBackend();
  return (
    data instanceof Float32Array &&
    choice !== "js" &&
    (choice === "wasm" || wasmBatchNormAvailable())
  );
}

/** First-order backward of fusedBatchNorm with the typed-array kernels (grad mode off). */
function fusedBackward(
  ctx: OpContext,
  input: Tensor,
  gradOut: Tensor,
  w: Tensor | undefined,
  n: number,
  c: number,
  s: number,
): (Tensor | null)[] {
  const mean = ctx.state.mean as Float64Array;
  const invStd = ctx.state.invStd as Float64Array;
  const xc = input.contiguous();
  const dy = gradOut.contiguous();
  const x = xc.data as FloatData;
  const g = dy.data as FloatData;
  let gradInput: Tensor | null = null;
  let sums: ChannelGradSums;
  if (useWasm(x) && g instanceof Float32Array) {
    const gamma = w === undefined ? null : w.toArray();
    if (ctx.needsInputGrad[0]) gradInput = empty(xc.shape, { dtype: xc.dtype });
    const out = gradInput === null ? null : (gradInput.data as Float32Array);
    sums = batchNormBackwardF32(g, dy.offset, x, xc.offset, out, n, c, s, mean, invStd, gamma);
  } else {
    sums = channelGradSums(g, dy.offset, x, xc.offset, n, c, s, mean, invStd);
  }
  if (ctx.needsInputGrad[0] && gradInput === null) {
    gradInput = empty(xc.shape, { dtype: xc.dtype });
    const gamma = w === undefined ? null : w.toArray();
    inputGrad(
      g,
      dy.offset,
      x,
      xc.offset,
      gradInput.data as FloatData,
      n,
      c,
      s,
      mean,
      invStd,
      gamma,
      sums,
    );
  }
  if (w === undefined) return [gradInput];
  const dtype = input.dtype;
  return [
    gradInput,
    TensorClass.fromTypedArray(sums.sumDyXHat, w.shape).to(dtype),
    TensorClass.fromTypedArray(sums.sumDy, w.shape).to(dtype),
  ];
}

/**
 * Training-mode batch norm as one op (core's customOp): statistics in two passes, the output in a
 * third (batch-norm-kernel.ts); its gradient is two passes of the same kernels, or
 * `batchNormBackward` in tensor ops when the backward is recorded (`createGraph`), where x̂ and
 * invStd are recomputed from x so second derivatives flow through the statistics.
 */
export function fusedBatchNorm(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): BatchNormStats {
  const reduceDims = defaultReduceDims(x.ndim);
  const n = x.shape[0];
  const c = x.shape[1];
  const s = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if ((weight === null) !== (bias === null))
    throw new TypeError("fusedBatchNorm: weight and bias must both be tensors or both be null");
  const inputs = weight === null || bias === null ? [x] : [x, weight, bias];
  let mean: Tensor | null = null;
  let varBiased: Tensor | null = null;
  const op = customOp({
    name: "fusedBatchNorm",
    freshGradients: true,
    forward: (ctx: OpContext, input: Tensor, w?: Tensor, b?: Tensor) => {
      const xc = input.contiguous();
      const out = empty(xc.shape, { dtype: xc.dtype }); // the kernels write every element
      const gamma = w === undefined ? null : w.toArray();
      const beta = b === undefined ? null : b.toArray();
      const src = xc.data as FloatData;
      let stats: ChannelStats;
      let invStd: Float64Array;
      if (useWasm(src)) {
        const dst = out.data as Float32Array;
        const result = batchNormForwardF32(src, xc.offset, dst, n, c, s, eps, gamma, beta);
        stats = result;
        invStd = result.invStd;
      } else {
        stats = channelStats(src, xc.offset, n, c, s);
        invStd = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) invStd[ch] = 1 / Math.sqrt(stats.varBiased[ch] + eps);
        normalize(src, xc.offset, out.data as FloatData, n, c, s, stats.mean, invStd, gamma, beta);
      }
      const dtype = input.dtype;
      const batchMean = TensorClass.fromTypedArray(stats.mean, [c]).to(dtype);
      const batchVar = TensorClass.fromTypedArray(stats.varBiased, [c]).to(dtype);
      mean = batchMean;
      varBiased = batchVar;
      // x̂ is recomputed from x in the backward (in float64), so only μ and invStd are kept.
      ctx.state.mean = stats.mean;
      ctx.state.invStd = invStd;
      // The batch statistics are saved too (backward does not read them) so that compile(),
      // which replays this op whole, makes them again for the running-statistics update.
      ctx.saveForBackward(input, w ?? batchMean, batchMean, batchVar);
      return out;
    },
    backward: (ctx: OpContext, gradOut: Tensor) => {
      const input = ctx.saved[0];
      const w = inputs.length === 3 ? ctx.saved[1] : undefined;
      if (isGradEnabled()) {
        // Recorded backward (createGraph): x̂ and invStd rebuilt from x with tensor ops, so they
        // carry its graph and second derivatives flow through the statistics.
        const centered = input.sub(input.mean(reduceDims, true));
        const inv = centered.square().mean(reduceDims, true).add(eps).rsqrt();
        const grads = batchNormBackward(gradOut, {
          xHat: centered.mul(inv),
          invStd: inv.reshape([c]),
          weight: w ?? null,
          reduceDims,
        });
        if (w === undefined) return [grads.gradInput];
        return [grads.gradInput, grads.gradWeight, grads.gradBias];
      }
      return fusedBackward(ctx, input, gradOut, w, n, c, s);
    },
  });
  const out = op(...inputs);
  if (mean === null || varBiased === null) throw new Error("fusedBatchNorm: forward did not run");
  return { out, mean, varBiased };
}
