// Linear: y = x·Wᵀ + b, with PyTorch's default initialisation.

import { type Generator, linear, type Tensor, Tensor as TensorClass, zeros } from "@koubai/core";
import { kaimingUniform, uniform } from "./init.js";
import { creating, dtypeMismatch, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link Linear}, as the keyword arguments of `nn.Linear`. */
export interface LinearOptions {
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Dtype of weight and bias. Default float32. */
  dtype?: "float32" | "float64";
  /** Generator for the initial weights (default: core's default generator). */
  generator?: Generator;
}

/**
 * Fully connected layer: y = x·Wᵀ + b for x [..., inFeatures] → y [..., outFeatures], with
 * weight [outFeatures, inFeatures] and bias [outFeatures]. Initialised as `nn.Linear`:
 * weight by kaimingUniform(a = √5), i.e. U(-1/√inFeatures, 1/√inFeatures), and bias by
 * U(-1/√inFeatures, 1/√inFeatures) (0 when inFeatures is 0).
 *
 * @example
 * ```ts
 * const fc = new Linear(4, 2);
 * fc.forward(randn([8, 4])).shape; // [8, 2]
 * ```
 */
export class Linear extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Linear";

  /** The weight W, `[outFeatures, inFeatures]`. */
  weight: Parameter;
  /** The bias b, `[outFeatures]`, or null when created with `bias: false`. */
  bias: Parameter | null;

  /** @throws RangeError when a feature count is not a non-negative integer. */
  constructor(
    /** Size of the last input dim. */
    readonly inFeatures: number,
    /** Size of the last output dim. */
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [what, n] of [
      ["inFeatures", inFeatures],
      ["outFeatures", outFeatures],
    ] as const) {
      if (!Number.isInteger(n) || n < 0)
        throw new RangeError(`Linear: ${what} must be a non-negative integer, got ${n}`);
    }
    const { bias = true, dtype = "float32", generator } = options;
    const owner = `Linear(${inFeatures}, ${outFeatures})`;
    const make = (what: string, shape: number[]) =>
      creating(owner, what, () => new Parameter(zeros(shape, { dtype })));
    this.weight = make("the weight", [outFeatures, inFeatures]);
    this.bias = null;
    this.registerParameter("bias", bias ? make("the bias", [outFeatures]) : null);
    if (inFeatures > 0) kaimingUniform(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias !== null && inFeatures > 0) {
      const bound = 1 / Math.sqrt(inFeatures);
      uniform(this.bias, -bound, bound, { generator });
    }
  }

  /**
   * `x·Wᵀ + b`: `[..., inFeatures]` → `[..., outFeatures]`.
   *
   * @throws TypeError when `x` is not a tensor of the weight's dtype; RangeError when its last
   * dim is not `inFeatures`.
   */
  forward(x: Tensor): Tensor {
    const owner = `Linear(${this.inFeatures}, ${this.outFeatures})`;
    if (!(x instanceof TensorClass)) {
      throw new TypeError(
        `${owner}: input must be a Tensor, got ${Array.isArray(x) ? "an array (wrap it with tensor(...))" : x === null ? "null" : typeof x}`,
      );
    }
    if (x.dtype !== this.weight.dtype) throw dtypeMismatch(owner, x.dtype, this.weight.dtype);
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new RangeError(
        `${owner}: input of shape [${x.shape.join(", ")}] must end with ${this.inFeatures} features (shape [..., ${this.inFeatures}])`,
      );
    }
    return linear(x, this.weight, this.bias);
  }
}
