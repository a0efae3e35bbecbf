// Normalisation functions of torch.nn.functional, composed from primitives (autograd derives
// every gradient): batchNorm with its running statistics, and groupNorm. Statistics accumulate in
// float64 even for float32 input, as PyTorch's CPU kernels do: a float32 mean of values near 1e4
// is only good to ±5e-4, which is 0.5% of a spread of 0.1.

import { noGrad } from "../autograd/grad-mode.js";
import { addcmul } from "../ops/binary.js";
import { defineComposite } from "../ops/define.js";
import { checkTensor, requireFloat } from "../ops/helpers.js";
import { center, variance } from "../ops/reduce.js";
import { isFloat } from "../tensor/dtype.js";
import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * x normalised over `dims` with biased statistics, in x's own dtype with no float64 copy of x:
 * `center` subtracts a float64 mean and rounds each difference once, and `var` accumulates in
 * float64, so float32 input keeps float32 accuracy even at mean 1e4 with a spread of 0.1.
 */
function normalize(
  x: Tensor,
  dims: number[],
  eps: number,
): { xHat: Tensor; mean: Tensor; varBiased: Tensor } {
  const centered = center(x, dims);
  const varBiased = variance(x, dims, { correction: 0, keepdim: true });
  const mean = x.detach().mean(dims, true);
  return { xHat: centered.mul(varBiased.add(eps).rsqrt()), mean, varBiased };
}

function checkChannelTensor(
  op: string,
  what: string,
  t: Tensor | null,
  x: Tensor,
  channels: number,
): void {
  if (t === null) return;
  checkTensor(t, op, what);
  if (t.ndim !== 1 || t.shape[0] !== channels || t.dtype !== x.dtype) {
    throw new RangeError(
      `${op}: ${what} must be a ${x.dtype} tensor of shape [${channels}] (one per channel of input ${formatShape(x.shape)}), got ${t.dtype} of shape ${formatShape(t.shape)}`,
    );
  }
}

/**
 * BatchNorm over dim 1 of x ([N, C, ...]), like `torch.nn.functional.batch_norm`. In training,
 * x is normalised with the batch's mean and biased variance, and the running statistics, when
 * given, are updated in place: `running = (1 - momentum)·running + momentum·batch`, with the
 * UNBIASED batch variance for runningVar (as PyTorch); `momentum` may also be a 0-d float
 * tensor (BatchNorm layers with momentum null pass 1/numBatchesTracked so, computed without
 * reading the count, which a compiled function could not replay). Otherwise x is normalised with the
 * running statistics, which must then be given. `weight` (γ) and `bias` (β), when given, scale
 * and shift each channel.
 *
 * @throws RangeError for an input without a channel dim, statistics or affine tensors of the
 * wrong shape or dtype, a single value per channel in training, eval without running statistics,
 * or momentum outside [0, 1].
 * @example
 * ```ts
 * const mean = zeros([3]);
 * const variance = ones([3]);
 * const y = batchNorm(randn([8, 3]), mean, variance, null, null, true); // mean, variance updated
 * ```
 * @function
 */
export const batchNorm = defineComposite(
  "batchNorm",
  (
    x: Tensor,
    runningMean: Tensor | null,
    runningVar: Tensor | null,
    weight: Tensor | null = null,
    bias: Tensor | null = null,
    training = false,
    momentum: number | Tensor = 0.1,
    eps = 1e-5,
  ): Tensor => {
    checkTensor(x, "batchNorm");
    requireFloat(x, "batchNorm");
    if (x.ndim < 2) {
      throw new RangeError(
        `batchNorm: expected an input with a channel dim, [N, C, ...], got shape ${formatShape(x.shape)}`,
      );
    }
    const channels = x.shape[1];
    checkChannelTensor("batchNorm", "runningMean", runningMean, x, channels);
    checkChannelTensor("batchNorm", "runningVar", runningVar, x, channels);
    checkChannelTensor("batchNorm", "weight", weight, x, channels);
    checkChannelTensor("batchNorm", "bias", bias, x, channels);
    if (typeof momentum === "number" && !(momentum >= 0 && momentum <= 1))
      throw new RangeError(`batchNorm: momentum must be in [0, 1], got ${momentum}`);
    if (typeof momentum !== "number") {
      checkTensor(momentum, "batchNorm", "momentum");
      if (momentum.ndim !== 0 || !isFloat(momentum.dtype))
        throw new RangeError(
          `batchNorm: a momentum tensor must be a 0-d float tensor, got ${momentum.dtype} of shape ${formatShape(momentum.shape)}`,
        );
    }
    // 1 - momentum, as a number or (a cumulative average's 1/count) a 0-d tensor.
    const keep = typeof momentum === "number" ? 1 - momentum : momentum.neg().add(1);
    if (!(eps >= 0)) throw new RangeError(`batchNorm: eps must be >= 0, got ${eps}`);
    const channelShape = x.shape.map((s, d) => (d === 1 ? s : 1));
    // y = (x - mean)·s + β with s = γ/√(var + ε) per channel: the scale is folded on [C] values
    // first, so the full-size work is the centring and one multiply-add, forward and back.
    let centered: Tensor;
    let invStd: Tensor;
    if (training) {
      const count = x.numel() / channels;
      if (count <= 1) {
        throw new RangeError(
          `batchNorm: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`,
        );
      }
      const dims = x.shape.map((_, d) => d).filter((d) => d !== 1);
      // center() takes the mean in float64 and rounds each difference once, so the variance of
      // the centred values is accurate even for float32 values near 1e4 with a spread of 0.1.
      centered = center(x, dims);
      const varBiased = centered.square().mean(dims, true);
      invStd = varBiased.add(eps).rsqrt();
      noGrad(() => {
        if (runningMean !== null) {
          const batchMean = x.mean(dims, true).reshape([channels]).to(x.dtype);
          runningMean.copy_(runningMean.mul(keep).add(batchMean.mul(momentum)));
        }
        if (runningVar !== null) {
          const unbiased = varBiased
            .reshape([channels])
            .mul(count / (count - 1))
            .to(x.dtype);
          runningVar.copy_(runningVar.mul(keep).add(unbiased.mul(momentum)));
        }
      });
    } else {
      if (runningMean === null || runningVar === null) {
        throw new RangeError(
          "batchNorm: running mean and variance are needed when not training (training: false)",
        );
      }
      invStd = runningVar.add(eps).rsqrt().reshape(channelShape);
      centered = x.sub(runningMean.reshape(channelShape));
    }
    const scale = weight === null ? invStd : invStd.mul(weight.reshape(channelShape));
    // β + x̂·s in one pass (the roundings of centered.mul(scale).add(bias)).
    return bias === null
      ? centered.mul(scale)
      : addcmul(bias.reshape(channelShape), centered, scale);
  },
);

/**
 * GroupNorm like `torch.nn.functional.group_norm`: the C channels of x ([N, C, ...]) split into
 * `numGroups` groups, each normalised over its channels and all positions of one sample (biased
 * variance), then `weight` and `bias` ([C]) applied per channel when given.
 *
 * @throws RangeError when C is not divisible by numGroups, or weight or bias is not [C].
 * @function
 */
export const groupNorm = defineComposite(
  "groupNorm",
  (
    x: Tensor,
    numGroups: number,
    weight: Tensor | null = null,
    bias: Tensor | null = null,
    eps = 1e-5,
  ): Tensor => {
    checkTensor(x, "groupNorm");
    requireFloat(x, "groupNorm");
    if (x.ndim < 2) {
      throw new RangeError(
        `groupNorm: expected an input with a channel dim, [N, C, ...], got shape ${formatShape(x.shape)}`,
      );
    }
    const channels = x.shape[1];
    if (!Number.isInteger(numGroups) || numGroups < 1 || channels % numGroups !== 0) {
      throw new RangeError(
        `groupNorm: the ${channels} channels of input ${formatShape(x.shape)} must split into numGroups groups, got numGroups ${numGroups}`,
      );
    }
    checkChannelTensor("groupNorm", "weight", weight, x, channels);
    checkChannelTensor("groupNorm", "bias", bias, x, channels);
    const n = x.shape[0];
    const grouped = x.reshape([n, numGroups, -1]);
    let out = normalize(grouped, [2], eps).xHat.reshape(x.shape);
    const channelShape = x.shape.map((s, d) => (d === 1 ? s : 1));
    if (weight !== null && bias !== null) {
      return addcmul(bias.reshape(channelShape), out, weight.reshape(channelShape));
    }
    if (weight !== null) out = out.mul(weight.reshape(channelShape));
    if (bias !== null) out = out.add(bias.reshape(channelShape));
    return out;
  },
);
