// Loss functions composed from primitives (autograd derives their gradients), with PyTorch's
// argument names and reductions; nllLoss, which crossEntropy builds on, is a primitive of its own
// (ops/nll-loss.ts). Targets are checked up front: a mismatched shape or an out-of-range class is
// an error, never a silently broadcast or NaN loss.

import { where } from "../ops/binary.js";
import { defineComposite } from "../ops/define.js";
import { checkTensor, requireFloat } from "../ops/helpers.js";
import {
  checkClassTargets,
  checkClassWeights,
  type NllLossOptions,
  nllLoss,
  type Reduction,
  reductionOf,
} from "../ops/nll-loss.js";
import { logSoftmax } from "../ops/softmax.js";
import { formatShape, sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

function applyReduction(loss: Tensor, reduction: Reduction | undefined, op: string): Tensor {
  const r = reductionOf(reduction, op);
  if (r === "mean") return loss.mean();
  if (r === "sum") return loss.sum();
  return loss;
}

function checkSameShape(input: Tensor, target: Tensor, op: string): void {
  checkTensor(input, op);
  checkTensor(target, op, "target");
  requireFloat(input, op);
  if (!sameShape(input.shape, target.shape)) {
    throw new RangeError(
      `${op}: input shape ${formatShape(input.shape)} and target shape ${formatShape(target.shape)} differ; ` +
        "reshape one of them (Koubai does not broadcast loss targets, a common source of silent bugs)",
    );
  }
}

/**
 * Mean squared error: reduce((input - target)²).
 * @function
 */
export const mseLoss = defineComposite(
  "mseLoss",
  (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor => {
    checkSameShape(input, target, "mseLoss");
    return applyReduction(input.sub(target).square(), options.reduction, "mseLoss");
  },
);

/**
 * Mean absolute error: reduce(|input - target|).
 * @function
 */
export const l1Loss = defineComposite(
  "l1Loss",
  (input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor => {
    checkSameShape(input, target, "l1Loss");
    return applyReduction(input.sub(target).abs(), options.reduction, "l1Loss");
  },
);

/** Options of {@link crossEntropy}, as `torch.nn.functional.cross_entropy`. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1-ε)·target + ε/C. Default 0. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits [N, C] against int32 class targets [N] or class probabilities [N, C]
 * (or per position: logits [N, C, d1, ...] against targets [N, d1, ...] or probabilities shaped
 * like the logits, as PyTorch): nllLoss(logSoftmax(logits, 1)), computed stably (logits of ±1000
 * are fine).
 * @function
 */
export const crossEntropy = defineComposite(
  "crossEntropy",
  (logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor => {
    checkTensor(logits, "crossEntropy");
    checkTensor(target, "crossEntropy", "target");
    const smoothing = options.labelSmoothing ?? 0;
    if (!(smoothing >= 0 && smoothing <= 1))
      throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
    if (target.dtype !== "int32" && target.ndim === logits.ndim - 1) {
      throw new TypeError(
        `crossEntropy: target of shape ${formatShape(target.shape)} looks like class indices but has dtype ${target.dtype}; ` +
          "class indices must be an int32 tensor (float targets must be class probabilities shaped like the logits)",
      );
    }
    if (target.dtype !== "int32") {
      // Class probabilities.
      checkSameShape(logits, target, "crossEntropy");
      if (logits.ndim < 2)
        throw new RangeError(
          `crossEntropy: expected logits [N, C] or [N, C, d1, ...], got ${formatShape(logits.shape)}`,
        );
      const classes = logits.shape[1];
      const soft = smoothing > 0 ? target.mul(1 - smoothing).add(smoothing / classes) : target;
      let perClass = logSoftmax(logits, 1).mul(soft);
      if (options.weight !== undefined) {
        checkClassWeights(options.weight, logits, "crossEntropy", true);
        perClass = perClass.mul(alongClasses(options.weight.to(logits.dtype), logits.ndim));
      }
      const loss = perClass.sum(1).neg();
      return applyReduction(loss, options.reduction, "crossEntropy");
    }
    const ignoreIndex = options.ignoreIndex ?? -100;
    checkClassTargets(logits, target, "crossEntropy", ignoreIndex);
    if (options.weight !== undefined) checkClassWeights(options.weight, logits, "crossEntropy");
    const logProbs = logSoftmax(logits, 1);
    const nll = nllLoss(logProbs, target, options);
    if (smoothing === 0) return nll;
    // Label smoothing adds ε·(mean over classes of -w_c·logp_c), ignoring ignored rows.
    const classes = logits.shape[1];
    const validMask = target.ne(ignoreIndex);
    const valid = validMask.to(logits.dtype);
    let perClass = logProbs;
    if (options.weight !== undefined)
      perClass = perClass.mul(alongClasses(options.weight.to(logits.dtype), logits.ndim));
    const smooth = where(validMask, perClass.sum(1).neg(), 0).div(classes);
    const reduction = options.reduction ?? "mean";
    let smoothReduced: Tensor;
    if (reduction === "none") smoothReduced = smooth;
    else if (reduction === "sum") smoothReduced = smooth.sum();
    else {
      const denominator =
        options.weight !== undefined
          ? options.weight
              .to(logits.dtype)
              .indexSelect(0, where(validMask, target, 0).flatten())
              .reshape(target.shape)
              .mul(valid)
              .sum()
          : valid.sum();
      smoothReduced = smooth.sum().div(denominator);
    }
    return nll.mul(1 - smoothing).add(smoothReduced.mul(smoothing));
  },
);

/** Per-class weights [C] shaped [C, 1, ...] to multiply values [N, C, d1, ...] of rank `ndim`. */
function alongClasses(weight: Tensor, ndim: number): Tensor {
  return ndim <= 2 ? weight : weight.reshape([weight.shape[0], ...new Array(ndim - 2).fill(1)]);
}

/** Options of {@link binaryCrossEntropyWithLogits}, as `torch.nn.functional.binary_cross_entropy_with_logits`. */
export interface BceWithLogitsOptions {
  /** Default `"mean"`. */
  reduction?: Reduction;
  /** Weight of positive examples, broadcast over the last dim (shape [C] or scalar-shaped). */
  posWeight?: Tensor;
  /** Per-element rescaling weight, broadcast to the input. */
  weight?: Tensor;
}

/**
 * Binary cross-entropy on logits x with targets t in [0, 1]:
 * (1-t)·x + (1+(pw-1)·t)·log(1+e^(-x)), evaluated as log(e^(-m) + e^(-x-m)) + m with m = max(-x, 0)
 * so that logits of ±1000 neither overflow nor lose precision.
 * @function
 */
export const binaryCrossEntropyWithLogits = defineComposite(
  "binaryCrossEntropyWithLogits",
  (logits: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor => {
    checkSameShape(logits, target, "binaryCrossEntropyWithLogits");
    const t = target.to(logits.dtype);
    const m = logits.neg().clamp(0, null);
    const softplusNeg = m.neg().exp().add(logits.neg().sub(m).exp()).log().add(m); // log(1 + e^-x)
    const logWeight =
      options.posWeight !== undefined
        ? t.mul(options.posWeight.to(logits.dtype).sub(1)).add(1)
        : null;
    let loss = t
      .neg()
      .add(1)
      .mul(logits)
      .add(logWeight === null ? softplusNeg : logWeight.mul(softplusNeg));
    if (options.weight !== undefined) loss = loss.mul(options.weight.to(logits.dtype));
    return applyReduction(loss, options.reduction, "binaryCrossEntropyWithLogits");
  },
);

/**
 * y = x·Wᵀ + b for x [..., in], weight [out, in], bias [out].
 * @function
 */
export const linear = defineComposite(
  "linear",
  (x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor => {
    checkTensor(x, "linear");
    checkTensor(weight, "linear", "weight");
    if (weight.ndim !== 2 || x.ndim < 1 || x.shape[x.ndim - 1] !== weight.shape[1]) {
      throw new RangeError(
        `linear: input ${formatShape(x.shape)} and weight ${formatShape(weight.shape)} do not fit (expected weight [out, in] with in = the input's last size)`,
      );
    }
    const out = x.matmul(weight.t());
    if (bias === undefined || bias === null) return out;
    checkTensor(bias, "linear", "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) {
      throw new RangeError(
        `linear: bias must have shape [${weight.shape[0]}], got ${formatShape(bias.shape)}`,
      );
    }
    return out.add(bias);
  },
);
