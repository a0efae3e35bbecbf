// Loss modules: thin wrappers over core's functional losses with the same options. Class and
// positive weights are buffers (`weight`, `pos_weight` in the state dict), as in PyTorch.

import {
  binaryCrossEntropyWithLogits,
  crossEntropy,
  l1Loss,
  mseLoss,
  nllLoss,
  type Reduction,
  type Tensor,
} from "@koubai/core";
import { Module } from "./module.js";

/** mean/sum/none of (input - target)², as `nn.MSELoss`. */
export class MSELoss extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "MSELoss";

  constructor(
    /** How the per-element losses are reduced. */
    readonly options: {
      /** Default `"mean"`. */
      reduction?: Reduction;
    } = {},
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.options);
  }
}

/** mean/sum/none of |input - target|, as `nn.L1Loss`. */
export class L1Loss extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "L1Loss";

  constructor(
    /** How the per-element losses are reduced. */
    readonly options: {
      /** Default `"mean"`. */
      reduction?: Reduction;
    } = {},
  ) {
    super();
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, this.options);
  }
}

/** Options of {@link NLLLoss}, as the keyword arguments of `nn.NLLLoss`. */
export interface NLLLossOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
  /** Default "mean" (divides by the summed weights of non-ignored targets). */
  reduction?: Reduction;
}

/**
 * -w[t]·logProbs[i, t] for log-probabilities [N, C] and int32 targets [N] (or per position:
 * [N, C, d1, ...] and [N, d1, ...]), as `nn.NLLLoss`.
 */
export class NLLLoss extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "NLLLoss";

  /** Per-class weights `[C]` (a buffer, `weight` in the state dict), or null for equal weights. */
  weight: Tensor | null = null;
  /** Targets equal to this contribute nothing and do not count in the mean. */
  readonly ignoreIndex: number;
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  constructor(options: NLLLossOptions = {}) {
    super();
    this.registerBuffer("weight", options.weight ?? null);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.reduction = options.reduction ?? "mean";
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      weight: this.weight ?? undefined,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

/** Options of {@link CrossEntropyLoss}, as the keyword arguments of `nn.CrossEntropyLoss`. */
export interface CrossEntropyLossOptions extends NLLLossOptions {
  /** (1-ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * nllLoss(logSoftmax(logits, 1)) for logits [N, C] and int32 class targets [N] or class
 * probabilities [N, C] (or per position: logits [N, C, d1, ...] and targets [N, d1, ...] or
 * probabilities shaped like the logits), with weight, ignoreIndex and labelSmoothing as
 * `nn.CrossEntropyLoss`.
 */
export class CrossEntropyLoss extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "CrossEntropyLoss";

  /** Per-class weights `[C]` (a buffer, `weight` in the state dict), or null for equal weights. */
  weight: Tensor | null = null;
  /** Class-index targets equal to this contribute nothing and do not count in the mean. */
  readonly ignoreIndex: number;
  /** How the per-sample losses are reduced. */
  readonly reduction: Reduction;
  /** ε in the smoothed target (1-ε)·target + ε/C. */
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyLossOptions = {}) {
    super();
    this.registerBuffer("weight", options.weight ?? null);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.reduction = options.reduction ?? "mean";
    this.labelSmoothing = options.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight ?? undefined,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

/** Options of {@link BCEWithLogitsLoss}, as the keyword arguments of `nn.BCEWithLogitsLoss`. */
export interface BCEWithLogitsLossOptions {
  /** Per-element weight, broadcast to the input. */
  weight?: Tensor | null;
  /** Weight of positive examples, broadcast over the last dim. */
  posWeight?: Tensor | null;
  /** Default `"mean"`. */
  reduction?: Reduction;
}

/** Binary cross-entropy on logits, stable for large |x|, as `nn.BCEWithLogitsLoss`. */
export class BCEWithLogitsLoss extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "BCEWithLogitsLoss";

  /** Per-element weight broadcast to the input (a buffer, `weight` in the state dict), or null. */
  weight: Tensor | null = null;
  /** Weight of positive examples, broadcast over the last dim (a buffer, `pos_weight`), or null. */
  posWeight: Tensor | null = null;
  /** How the per-element losses are reduced. */
  readonly reduction: Reduction;
  constructor(options: BCEWithLogitsLossOptions = {}) {
    super();
    this.registerBuffer("weight", options.weight ?? null);
    this.registerBuffer("posWeight", options.posWeight ?? null);
    this.reduction = options.reduction ?? "mean";
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight ?? undefined,
      posWeight: this.posWeight ?? undefined,
      reduction: this.reduction,
    });
  }
}
