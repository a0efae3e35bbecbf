// GroupNorm: core's groupNorm with learned per-channel weight and bias, as nn.GroupNorm.

import { groupNorm, ones, type Tensor, zeros } from "@koubai/core";
import { creating, dtypeMismatch, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link GroupNorm}, as the keyword arguments of `nn.GroupNorm`. */
export interface GroupNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn weight (init 1) and bias (init 0), one per channel. Default true. */
  affine?: boolean;
  /** Dtype of weight and bias. Default float32. */
  dtype?: "float32" | "float64";
}

/**
 * Normalises groups of channels: the C channels of [N, C, ...] split into `numGroups` groups,
 * each normalised over its channels and positions per sample (biased variance), then scaled and
 * shifted per channel, as `nn.GroupNorm` (state-dict keys `weight`, `bias`). Unlike BatchNorm it
 * keeps no running statistics: training and eval compute the same.
 */
export class GroupNorm extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "GroupNorm";

  /** γ, [numChannels] (init 1), or null without `affine`. */
  weight: Parameter | null;
  /** β, [numChannels] (init 0), or null without `affine`. */
  bias: Parameter | null;
  /** Added to the variance before the square root. */
  readonly eps: number;

  /** @throws RangeError when numChannels is not a positive multiple of numGroups. */
  constructor(
    /** How many groups the channels split into. */
    readonly numGroups: number,
    /** C, the channels of the input (dim 1). */
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    const owner = `GroupNorm(${numGroups}, ${numChannels})`;
    if (
      !Number.isInteger(numGroups) ||
      numGroups < 1 ||
      !Number.isInteger(numChannels) ||
      numChannels % numGroups !== 0 ||
      numChannels < 1
    ) {
      throw new RangeError(`${owner}: numChannels must be a positive multiple of numGroups`);
    }
    const { eps = 1e-5, affine = true, dtype = "float32" } = options;
    this.eps = eps;
    this.weight = null;
    this.bias = null;
    const make = (what: string, fill: typeof ones) =>
      creating(owner, what, () => new Parameter(fill([numChannels], { dtype })));
    this.registerParameter("weight", affine ? make("the weight", ones) : null);
    this.registerParameter("bias", affine ? make("the bias", zeros) : null);
  }

  /**
   * Normalises `x` ([N, numChannels, ...]); the output has its shape.
   *
   * @throws RangeError when dim 1 is not numChannels; TypeError for another dtype than the parameters'.
   */
  forward(x: Tensor): Tensor {
    const owner = `GroupNorm(${this.numGroups}, ${this.numChannels})`;
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new RangeError(
        `${owner}: input of shape [${x.shape.join(", ")}] must be [N, ${this.numChannels}, ...]`,
      );
    }
    const dtype = this.weight?.dtype;
    if (dtype !== undefined && x.dtype !== dtype) throw dtypeMismatch(owner, x.dtype, dtype);
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}
