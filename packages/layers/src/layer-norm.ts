// LayerNorm composed from primitives: autograd derives its gradient.

import { ones, type Tensor, zeros } from "@koubai/core";
import { Module } from "./module.js";
import { Parameter } from "./parameter.js";

export interface LayerNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /** Learn weight (init 1) and bias (init 0) of shape normalizedShape. Default true. */
  elementwiseAffine?: boolean;
  /** Default float32. */
  dtype?: "float32" | "float64";
}

/**
 * Normalises over the last dims (`normalizedShape`): y = (x - E[x]) / √(Var[x] + eps)·γ + β, with
 * the biased variance, as `nn.LayerNorm`. Input [..., ...normalizedShape].
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;

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
    this.registerParameter(
      "weight",
      elementwiseAffine ? new Parameter(ones(shape, { dtype })) : null,
    );
    this.registerParameter(
      "bias",
      elementwiseAffine ? new Parameter(zeros(shape, { dtype })) : null,
    );
  }

  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((s, i) => s !== this.normalizedShape[i])) {
      throw new RangeError(
        `LayerNorm: input of shape [${x.shape.join(", ")}] does not end with normalizedShape [${this.normalizedShape.join(", ")}]`,
      );
    }
    const paramDType = this.weight?.dtype ?? this.bias?.dtype;
    if (paramDType !== undefined && x.dtype !== paramDType) {
      throw new TypeError(
        `LayerNorm: input has dtype ${x.dtype} but the layer's parameters are ${paramDType}; call .to("${x.dtype}") on the layer or cast the input`,
      );
    }
    const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
    const centered = x.sub(x.mean(dims, true));
    const variance = centered.square().mean(dims, true);
    let y = centered.mul(variance.add(this.eps).rsqrt());
    if (this.weight !== null) y = y.mul(this.weight);
    if (this.bias !== null) y = y.add(this.bias);
    return y;
  }
}
