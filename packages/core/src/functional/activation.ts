// Activations and normalisers composed from primitives: no backward code here, autograd derives
// every gradient (and every gradient of a gradient).

import { where } from "../ops/binary.js";
import { defineComposite } from "../ops/define.js";
import { checkTensor, requireFloat } from "../ops/helpers.js";
import { softplus } from "../ops/unary.js";
import { rand } from "../tensor/creation.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * GELU(x) = x·Φ(x) = x/2·(1 + erf(x/√2)); with `approximate: "tanh"`,
 * x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))), as torch.nn.functional.gelu.
 * @function
 */
export const gelu = defineComposite(
  "gelu",
  (x: Tensor, options: { approximate?: "none" | "tanh" } = {}): Tensor => {
    checkTensor(x, "gelu");
    requireFloat(x, "gelu");
    const approximate = options.approximate ?? "none";
    if (approximate === "none") return x.mul(x.mul(Math.SQRT1_2).erf().add(1)).mul(0.5);
    if (approximate === "tanh") {
      const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
      return x.mul(inner.tanh().add(1)).mul(0.5);
    }
    throw new RangeError(
      `gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`,
    );
  },
);

/** Options of {@link dropout}, as `torch.nn.functional.dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1]. Default 0.5. */
  p?: number;
  /** Dropout is the identity when false (evaluation). Default true. */
  training?: boolean;
  /** Source of the random mask. Default the global `defaultGenerator`. */
  generator?: Generator;
}

/**
 * Zeroes each element with probability p and scales the survivors by 1/(1-p), so the expected
 * value is unchanged (inverted dropout, as in PyTorch). The identity when not training.
 * @function
 */
export const dropout = defineComposite(
  "dropout",
  (x: Tensor, options: DropoutOptions = {}): Tensor => {
    checkTensor(x, "dropout");
    const { p = 0.5, training = true, generator = defaultGenerator } = options;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
    if (!training || p === 0) return x;
    if (p === 1) return x.mul(0);
    const keep = rand(x.shape, { dtype: x.dtype, generator }).ge(p);
    return x.mul(keep.to(x.dtype).mul(1 / (1 - p)));
  },
);

/**
 * SiLU (swish): x·σ(x), as `torch.nn.functional.silu`.
 * @function
 */
export const silu = defineComposite("silu", (x: Tensor): Tensor => {
  checkTensor(x, "silu");
  requireFloat(x, "silu");
  return x.mul(x.sigmoid());
});

/**
 * Mish: x·tanh(softplus(x)), as `torch.nn.functional.mish`.
 * @function
 */
export const mish = defineComposite("mish", (x: Tensor): Tensor => {
  checkTensor(x, "mish");
  requireFloat(x, "mish");
  return x.mul(softplus(x).tanh());
});

/**
 * ELU: x for x > 0, alpha·(eˣ - 1) otherwise, as `torch.nn.functional.elu` (at 0 the gradient is
 * alpha, PyTorch's choice).
 *
 * @throws RangeError for a non-finite alpha.
 * @function
 */
export const elu = defineComposite("elu", (x: Tensor, alpha = 1): Tensor => {
  checkTensor(x, "elu");
  requireFloat(x, "elu");
  if (!Number.isFinite(alpha))
    throw new RangeError(`elu: alpha must be a finite number, got ${alpha}`);
  // expm1 of min(x, 0), not of x: for large x, eˣ overflows to ∞ in the branch `where` discards,
  // and its gradient 0·∞ would be NaN.
  return where(x.gt(0), x, x.clamp(null, 0).expm1().mul(alpha));
});

/** SELU's constants, as PyTorch's (from Klambauer et al., 2017). */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * SELU: scale·ELU(x, alpha) with PyTorch's fixed alpha ≈ 1.6733 and scale ≈ 1.0507.
 * @function
 */
export const selu = defineComposite("selu", (x: Tensor): Tensor => {
  checkTensor(x, "selu");
  requireFloat(x, "selu");
  return elu(x, SELU_ALPHA).mul(SELU_SCALE);
});

/**
 * HardTanh: x clamped to [minVal, maxVal], as `torch.nn.functional.hardtanh`; the gradient is 1
 * strictly inside the range and 0 at and beyond its ends (PyTorch's choice).
 *
 * @throws RangeError when minVal > maxVal.
 * @function
 */
export const hardtanh = defineComposite(
  "hardtanh",
  (x: Tensor, minVal = -1, maxVal = 1): Tensor => {
    checkTensor(x, "hardtanh");
    requireFloat(x, "hardtanh");
    if (!(minVal <= maxVal)) {
      throw new RangeError(
        `hardtanh: minVal cannot be greater than maxVal, got minVal ${minVal} and maxVal ${maxVal}`,
      );
    }
    return where(x.le(minVal), minVal, where(x.ge(maxVal), maxVal, x));
  },
);
