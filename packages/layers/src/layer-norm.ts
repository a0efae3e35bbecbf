// LayerNorm composed from primitives: autograd derives its gradient.

import { addcmul, ones, type Tensor, zeros } from "@koubai/core";
import { creating, dtypeMismatch, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link LayerNorm}, as the keyword arguments of `nn.LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn weight (init 1) and bias (init 0) of shape normalizedShape. Default true. */
  elementwiseAffine?: boolean;
  /** Dtype of weight and bias. Default float32. */
  dtype?: "float32" | "float64";
}

/**
 * Normalises over the last dims (`normalizedShape`): y = (x - E[x]) / √(Var[x] + eps)·γ + β, with
 * the biased variance, as `nn.LayerNorm`. Input [..., ...normalizedShape].
 */
export class LayerNorm extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "LayerNorm";

  /** The trailing dims normalised over, e.g. `[C]` for input `[N, T, C]`. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** γ, of shape `normalizedShape` (init 1), or null without `elementwiseAffine`. */
  weight: Parameter | null;
  /** β, of shape `normalizedShape` (init 0), or null without `elementwiseAffine`. */
  bias: Parameter | null;

  /** @throws RangeError when `normalizedShape` is empty or holds a size below 1. */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((s) => !Number.isInteger(s) || s < 1))
      throw new RangeError(
        `LayerNorm: normalizedShape must be positive integers, got [${shape.join(", ")}]`,
      );
    const { eps = 1e-5, elementwiseAffine = true, dtype = "float32" } = options;
    this.normalizedShape = shape;
    this.eps = eps;
    this.weight = null;
    this.bias = null;
    const make = (what: string, fill: typeof ones) =>
      creating(
        `LayerNorm([${shape.join(", ")}])`,
        what,
        () => new Parameter(fill(shape, { dtype })),
      );
    this.registerParameter("weight", elementwiseAffine ? make("the weight", ones) : null);
    this.registerParameter("bias", elementwiseAffine ? make("the bias", zeros) : null);
  }

  /**
   * Normalises `x` of `[..., ...normalizedShape]`; the output has the same shape.
   *
   * @throws RangeError when `x` does not end with `normalizedShape`.
   * @throws TypeError when `x`'s dtype differs from the parameters'.
   */
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((s, i) => s !== this.normalizedShape[i])) {
      throw new RangeError(
        `LayerNorm: input of shape [${x.shape.join(", ")}] does not end with normalizedShape [${this.normalizedShape.join(", ")}]`,
      );
    }
    const paramDType = this.weight?.dtype ?? this.bias?.dtype;
    if (paramDType !== undefined && x.dtype !== paramDType)
      throw dtypeMismatch("LayerNorm", x.dtype, paramDType);
    if (paramDType === undefined && x.dtype !== "float32" && x.dtype !== "float64") {
      throw new TypeError(
        `LayerNorm: input has dtype ${x.dtype}; cast it with .float() (normalisation needs float32 or float64)`,
      );
    }
    const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
    const centered = x.sub(x.mean(dims, true));
    const variance = centered.square().mean(dims, true);
    const y = centered.mul(variance.add(this.eps).rsqrt());
    // The affine step in one pass when both are there (the roundings of y·weight + bias).
    if (this.weight !== null && this.bias !== null) return addcmul(this.bias, y, this.weight);
    if (this.weight !== null) return y.mul(this.weight);
    return this.bias !== null ? y.add(this.bias) : y;
  }
}
