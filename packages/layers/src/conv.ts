// Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, with PyTorch's argument
// names (camelCase), weight layouts, state-dict keys and default initialisation. The arithmetic
// is core's conv functions; a layer checks the input against itself first, so its errors name the
// layer.

import {
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  type Generator,
  type Tensor,
  Tensor as TensorClass,
  zeros,
} from "@koubai/core";
import { kaimingUniform, uniform } from "./init.js";
import { creating, dtypeMismatch, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link Conv1d} and {@link Conv2d}, as `nn.Conv2d`'s keyword arguments. */
export interface ConvLayerOptions extends ConvOptions {
  /** Learn an additive bias per output channel. Default true. */
  readonly bias?: boolean;
  /** Dtype of weight and bias. Default float32. */
  readonly dtype?: "float32" | "float64";
  /** Generator for the initial weights (default: core's default generator). */
  readonly generator?: Generator;
}

/** Options of {@link ConvTranspose1d} and {@link ConvTranspose2d}, as `nn.ConvTranspose2d`'s. */
export interface ConvTransposeLayerOptions extends ConvTransposeOptions {
  /** Learn an additive bias per output channel. Default true. */
  readonly bias?: boolean;
  /** Dtype of weight and bias. Default float32. */
  readonly dtype?: "float32" | "float64";
  /** Generator for the initial weights (default: core's default generator). */
  readonly generator?: Generator;
}

/**
 * What the four convolution layers share: the parameters, their initialisation (as PyTorch's
 * `_ConvNd.reset_parameters`: kaimingUniform(a = √5) for the weight, i.e. U(-1/√fanIn,
 * 1/√fanIn), and the bias from the same range) and the checks of an input.
 */
export abstract class ConvBase extends Module {
  /**
   * The kernel: [outChannels, inChannels/groups, ...kernelSize] for a convolution,
   * [inChannels, outChannels/groups, ...kernelSize] for a transposed one (PyTorch's layouts).
   */
  weight: Parameter;
  /** One bias per output channel, or null when created with `bias: false`. */
  bias: Parameter | null;
  /** The kernel size per spatial dim. */
  readonly kernelSize: readonly number[];

  /** @throws RangeError for channel counts that are not positive multiples of `groups`. */
  constructor(
    /** Channels of the input (dim 1, or dim 0 when unbatched). */
    readonly inChannels: number,
    /** Channels of the output. */
    readonly outChannels: number,
    /** The kernel's size: one number for every spatial dim, or one per dim. */
    kernelSize: number | readonly number[],
    /** Spatial dims: 1 (Conv1d) or 2 (Conv2d). */
    spatial: 1 | 2,
    /** Whether the weight is laid out [in, out/groups, ...] (a transposed convolution). */
    transposed: boolean,
    options: {
      readonly groups?: number;
      readonly bias?: boolean;
      readonly dtype?: "float32" | "float64";
      readonly generator?: Generator;
    },
  ) {
    super();
    const owner = `${this.typeName()}(${inChannels}, ${outChannels}, ${JSON.stringify(kernelSize)})`;
    const groups = options.groups ?? 1;
    for (const [what, n] of [
      ["inChannels", inChannels],
      ["outChannels", outChannels],
      ["groups", groups],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`${owner}: ${what} must be a positive integer, got ${n}`);
    }
    if (inChannels % groups !== 0)
      throw new RangeError(
        `${owner}: inChannels (${inChannels}) must be divisible by groups (${groups})`,
      );
    if (outChannels % groups !== 0)
      throw new RangeError(
        `${owner}: outChannels (${outChannels}) must be divisible by groups (${groups})`,
      );
    const kernel =
      typeof kernelSize === "number"
        ? new Array<number>(spatial).fill(kernelSize)
        : [...kernelSize];
    if (kernel.length !== spatial || !kernel.every((k) => Number.isInteger(k) && k >= 1)) {
      throw new RangeError(
        `${owner}: kernelSize must be ${spatial === 1 ? "a positive integer" : "a positive integer or 2 of them"}, got ${JSON.stringify(kernelSize)}`,
      );
    }
    this.kernelSize = kernel;
    const { bias = true, dtype = "float32", generator } = options;
    const shape = transposed
      ? [inChannels, outChannels / groups, ...kernel]
      : [outChannels, inChannels / groups, ...kernel];
    const make = (what: string, s: number[]) =>
      creating(owner, what, () => new Parameter(zeros(s, { dtype })));
    this.weight = make("the weight", shape);
    this.bias = null;
    this.registerParameter("bias", bias ? make("the bias", [outChannels]) : null);
    kaimingUniform(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias !== null) {
      const fanIn = shape[1] * kernel.reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      uniform(this.bias, -bound, bound, { generator });
    }
  }

  /** The layer as messages name it, e.g. `Conv2d(1, 16, 3)`. */
  protected owner(): string {
    return `${this.typeName()}(${this.inChannels}, ${this.outChannels}, ${JSON.stringify(this.kernelSize.length === 1 ? this.kernelSize[0] : this.kernelSize)})`;
  }

  /** Checks x's type, dtype, rank and channel count against the layer. */
  protected checkInput(x: Tensor, spatial: 1 | 2): void {
    const owner = this.owner();
    if (!(x instanceof TensorClass)) {
      throw new TypeError(
        `${owner}: input must be a Tensor, got ${Array.isArray(x) ? "an array (wrap it with tensor(...))" : x === null ? "null" : typeof x}`,
      );
    }
    if (x.dtype !== this.weight.dtype) throw dtypeMismatch(owner, x.dtype, this.weight.dtype);
    const dims = spatial === 1 ? "L" : "H, W";
    if (
      (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) ||
      x.shape[x.ndim - spatial - 1] !== this.inChannels
    ) {
      throw new RangeError(
        `${owner}: input of shape [${x.shape.join(", ")}] must be [N, ${this.inChannels}, ${dims}] or [${this.inChannels}, ${dims}]`,
      );
    }
  }
}

/**
 * 2-D convolution layer, as `nn.Conv2d`: [N, inChannels, H, W] → [N, outChannels, Ho, Wo] with
 * weight [outChannels, inChannels/groups, kh, kw] and bias [outChannels] (state-dict keys
 * `weight`, `bias`). Options: stride, padding (a number, per dim, `"same"` or `"valid"`),
 * dilation, groups, bias, dtype, generator. See core's `conv2d` for the arithmetic.
 *
 * @example
 * ```ts
 * const conv = new Conv2d(1, 16, 3, { padding: 1 });
 * conv.forward(randn([64, 1, 28, 28])).shape; // [64, 16, 28, 28]
 * ```
 */
export class Conv2d extends ConvBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Conv2d";
  /** The convolution's options, as passed to `conv2d`. */
  readonly options: ConvOptions;

  /** @throws RangeError for invalid channel counts, kernel size or options. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 2, false, options);
    this.options = convOptions(this.owner(), options);
  }

  /** The convolution of `x` ([N, inChannels, H, W] or unbatched [inChannels, H, W]). */
  forward(x: Tensor): Tensor {
    this.checkInput(x, 2);
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

/**
 * 1-D convolution layer, as `nn.Conv1d`: [N, inChannels, L] → [N, outChannels, Lo] with weight
 * [outChannels, inChannels/groups, k]; options as {@link Conv2d}'s over one spatial dim.
 */
export class Conv1d extends ConvBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Conv1d";
  /** The convolution's options, as passed to `conv1d`. */
  readonly options: ConvOptions;

  /** @throws RangeError for invalid channel counts, kernel size or options. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 1, false, options);
    this.options = convOptions(this.owner(), options);
  }

  /** The convolution of `x` ([N, inChannels, L] or unbatched [inChannels, L]). */
  forward(x: Tensor): Tensor {
    this.checkInput(x, 1);
    return conv1d(x, this.weight, this.bias, this.options);
  }
}

/**
 * 2-D transposed convolution layer, as `nn.ConvTranspose2d`: [N, inChannels, H, W] →
 * [N, outChannels, Ho, Wo] with Ho = (H - 1)·stride - 2·padding + dilation·(kh - 1) +
 * outputPadding + 1, weight [inChannels, outChannels/groups, kh, kw] and bias [outChannels].
 */
export class ConvTranspose2d extends ConvBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ConvTranspose2d";
  /** The convolution's options, as passed to `convTranspose2d`. */
  readonly options: ConvTransposeOptions;

  /** @throws RangeError for invalid channel counts, kernel size or options. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvTransposeLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 2, true, options);
    this.options = transposeOptions(options);
  }

  /** The transposed convolution of `x` ([N, inChannels, H, W] or unbatched). */
  forward(x: Tensor): Tensor {
    this.checkInput(x, 2);
    return convTranspose2d(x, this.weight, this.bias, this.options);
  }
}

/**
 * 1-D transposed convolution layer, as `nn.ConvTranspose1d`: [N, inChannels, L] →
 * [N, outChannels, Lo] with weight [inChannels, outChannels/groups, k].
 */
export class ConvTranspose1d extends ConvBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ConvTranspose1d";
  /** The convolution's options, as passed to `convTranspose1d`. */
  readonly options: ConvTransposeOptions;

  /** @throws RangeError for invalid channel counts, kernel size or options. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvTransposeLayerOptions = {},
  ) {
    super(inChannels, outChannels, kernelSize, 1, true, options);
    this.options = transposeOptions(options);
  }

  /** The transposed convolution of `x` ([N, inChannels, L] or unbatched). */
  forward(x: Tensor): Tensor {
    this.checkInput(x, 1);
    return convTranspose1d(x, this.weight, this.bias, this.options);
  }
}

/** The options core's conv functions take; `"same"` with a stride refused now, as PyTorch does. */
function convOptions(owner: string, o: ConvLayerOptions): ConvOptions {
  const strided =
    o.stride !== undefined &&
    (typeof o.stride === "number" ? o.stride !== 1 : o.stride.some((s) => s !== 1));
  if (o.padding === "same" && strided) {
    throw new RangeError(
      `${owner}: padding "same" is not supported with a stride other than 1 (got stride ${JSON.stringify(o.stride)})`,
    );
  }
  return { stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups };
}

function transposeOptions(o: ConvTransposeLayerOptions): ConvTransposeOptions {
  return {
    stride: o.stride,
    padding: o.padding,
    outputPadding: o.outputPadding,
    dilation: o.dilation,
    groups: o.groups,
  };
}
