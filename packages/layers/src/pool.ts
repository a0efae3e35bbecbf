// Pooling layers: no parameters, no buffers; each holds its window and calls core's function, as
// nn.MaxPool2d and friends do (same arguments, camelCase).

import {
  type AvgPoolOptions,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  type InterpolateOptions,
  interpolate,
  type MaxPoolOptions,
  maxPool1d,
  maxPool2d,
  type Tensor,
  type ValuesIndices,
} from "@koubai/core";
import { Module } from "./module.js";

/**
 * Options of {@link MaxPool2d} and {@link MaxPool1d}: core's, but for `returnIndices`. A module's
 * `forward` returns a tensor, so where PyTorch's `return_indices=True` makes `forward` return a
 * pair, these layers have `forwardWithIndices`.
 */
export type MaxPoolLayerOptions = Omit<MaxPoolOptions, "returnIndices">;

function checkLayerOptions(owner: string, options: MaxPoolLayerOptions): void {
  if (typeof options === "object" && options !== null && "returnIndices" in options) {
    throw new TypeError(
      `${owner}: returnIndices is not an option of the layer; call forwardWithIndices(x) for the indices`,
    );
  }
}

/**
 * Max pooling over the last two dims, as `nn.MaxPool2d`: [N, C, H, W] → [N, C, Ho, Wo]. Options:
 * stride (default the kernel size), padding, dilation, ceilMode; `forwardWithIndices` also
 * returns the maxima's indices (PyTorch's `return_indices=True`). See core's `maxPool2d`.
 *
 * @example
 * ```ts
 * new MaxPool2d(2).forward(randn([8, 16, 28, 28])).shape; // [8, 16, 14, 14]
 * ```
 */
export class MaxPool2d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "MaxPool2d";

  constructor(
    /** The window's size: one number or [kh, kw]. */
    readonly kernelSize: number | readonly number[],
    /** The pooling's options, as passed to `maxPool2d` (all but returnIndices). */
    readonly options: MaxPoolLayerOptions = {},
  ) {
    super();
    checkLayerOptions("MaxPool2d", options);
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { ...this.options, returnIndices: false });
  }

  /** `{ values, indices }`: the pooled `x` and the flat positions of the maxima (for unpooling). */
  forwardWithIndices(x: Tensor): ValuesIndices {
    return maxPool2d(x, this.kernelSize, { ...this.options, returnIndices: true });
  }
}

/** Max pooling over the last dim, as `nn.MaxPool1d`: [N, C, L] → [N, C, Lo]; see {@link MaxPool2d}. */
export class MaxPool1d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "MaxPool1d";

  constructor(
    /** The window's length. */
    readonly kernelSize: number,
    /** The pooling's options, as passed to `maxPool1d` (all but returnIndices). */
    readonly options: MaxPoolLayerOptions = {},
  ) {
    super();
    checkLayerOptions("MaxPool1d", options);
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernelSize, { ...this.options, returnIndices: false });
  }

  /** `{ values, indices }`: the pooled `x` and the flat positions of the maxima (for unpooling). */
  forwardWithIndices(x: Tensor): ValuesIndices {
    return maxPool1d(x, this.kernelSize, { ...this.options, returnIndices: true });
  }
}

/**
 * Average pooling over the last two dims, as `nn.AvgPool2d`. Options: stride (default the kernel
 * size), padding, ceilMode, countIncludePad (default true), divisorOverride.
 */
export class AvgPool2d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "AvgPool2d";

  constructor(
    /** The window's size: one number or [kh, kw]. */
    readonly kernelSize: number | readonly number[],
    /** The pooling's options, as passed to `avgPool2d`. */
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Average pooling over the last dim, as `nn.AvgPool1d`; options as {@link AvgPool2d}'s. */
export class AvgPool1d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "AvgPool1d";

  constructor(
    /** The window's length. */
    readonly kernelSize: number,
    /** The pooling's options, as passed to `avgPool1d`. */
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling to a fixed size over the last two dims, as `nn.AdaptiveAvgPool2d`
 * (`new AdaptiveAvgPool2d(1)` is global average pooling).
 */
export class AdaptiveAvgPool2d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "AdaptiveAvgPool2d";

  constructor(
    /** One number, or [Ho, Wo] where null keeps the input's size. */
    readonly outputSize: number | readonly (number | null)[],
  ) {
    super();
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Average pooling to a fixed length over the last dim, as `nn.AdaptiveAvgPool1d`. */
export class AdaptiveAvgPool1d extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "AdaptiveAvgPool1d";

  constructor(
    /** The output length. */
    readonly outputSize: number,
  ) {
    super();
  }

  /** The pooled `x`. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }
}

/**
 * Nearest-neighbour upsampling, as `nn.Upsample(mode="nearest")`: give `size` or `scaleFactor`
 * (one, or one per spatial dim); [N, C, H, W] → [N, C, Ho, Wo]. See core's `interpolate`.
 */
export class Upsample extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Upsample";

  constructor(
    /** The output size or the scale factor, and the mode (only "nearest"). */
    readonly options: InterpolateOptions,
  ) {
    super();
  }

  /** The resized `x`. */
  forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }
}
