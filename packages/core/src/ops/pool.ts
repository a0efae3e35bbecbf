// Pooling, as torch.nn.functional's, over the last one or two dims (every leading dim is a batch
// or channel dim). maxPool2d is a primitive that records which input won each window; its
// gradient scatters onto those winners (maxPoolScatter, whose own gradient gathers them again).
// Average pooling of every kind is one linear primitive, averagePool, described by its windows;
// its gradient is the same windows run backwards (the adjoint), and the adjoint's gradient is the
// forward again. The 1-D functions are composites that run the 2-D ones over a height of 1.

import type { FloatArray } from "../kernels/gemm-js.js";
import {
  type AveragePlan,
  averagePoolAdjoint,
  averagePoolForward,
  type MaxPoolPlan,
  maxPoolForward,
  maxPoolScatter as scatterKernel,
} from "../kernels/pool.js";
import { tensor } from "../tensor/creation.js";
import { allocateUnfilled, isFloat } from "../tensor/dtype.js";
import { formatShape, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import {
  defineComposite,
  defineOp,
  meta,
  type Op,
  type OpInfo,
  type TensorMeta,
} from "./define.js";
import {
  checkOptionsObject,
  checkTensor,
  denseFloats,
  describe,
  perSpatialDim,
} from "./helpers.js";
import { gather, indexSelect } from "./indexing.js";
import type { ValuesIndices } from "./reduce.js";

type Spatial = 1 | 2;

function checkInput(op: string, x: unknown, spatial: Spatial): Tensor {
  const t = checkTensor(x, op);
  const layout = spatial === 1 ? "[N, C, L] or [C, L]" : "[N, C, H, W] or [C, H, W]";
  if (t.ndim !== spatial + 1 && t.ndim !== spatial + 2) {
    throw new RangeError(`${op}: expected a ${layout} input, got shape ${formatShape(t.shape)}`);
  }
  if (!isFloat(t.dtype)) {
    throw new TypeError(
      `${op}: expected a float32 or float64 input, got dtype ${t.dtype} (shape ${formatShape(t.shape)})`,
    );
  }
  return t;
}

/**
 * PyTorch's pooling output size: ⌊(size + 2·pad - dilation·(k - 1) - 1 + (ceil ? stride - 1 : 0))
 * / stride⌋ + 1, and with ceilMode the last window must start inside the input or its left padding.
 */
function pooledSize(
  size: number,
  k: number,
  pad: number,
  stride: number,
  dilation: number,
  ceil: boolean,
): number {
  let out =
    Math.floor((size + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

interface Window {
  readonly kernel: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly ceilMode: boolean;
  readonly out: number[];
}

/** Checks and normalises a pooling window over the last `spatial` dims of x. */
function windowOf(
  op: string,
  x: TensorMeta,
  spatial: Spatial,
  kernelSize: unknown,
  options: { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: unknown },
): Window {
  const kernel = perSpatialDim(op, "kernelSize", kernelSize, spatial, 1);
  const stride =
    options.stride === undefined || options.stride === null
      ? kernel
      : perSpatialDim(op, "stride", options.stride, spatial, 1);
  const padding = perSpatialDim(op, "padding", options.padding ?? 0, spatial, 0);
  const dilation = perSpatialDim(op, "dilation", options.dilation ?? 1, spatial, 1);
  const ceilMode = options.ceilMode ?? false;
  if (typeof ceilMode !== "boolean")
    throw new TypeError(`${op}: ceilMode must be a boolean, got ${describe(ceilMode)}`);
  const sizes = x.shape.slice(-spatial);
  const out = sizes.map((size, d) => {
    if (padding[d] > kernel[d] / 2) {
      throw new RangeError(
        `${op}: padding should be at most half of the kernel size, got padding ${padding[d]} for kernel size ${kernel[d]}`,
      );
    }
    return pooledSize(size, kernel[d], padding[d], stride[d], dilation[d], ceilMode);
  });
  if (out.some((o) => o < 1)) {
    throw new RangeError(
      `${op}: the output would be ${formatShape(out)} for input ${formatShape(x.shape)} and kernel ${formatShape(kernel)}: the window is larger than the padded input`,
    );
  }
  return { kernel, stride, padding, dilation, ceilMode, out };
}

/** x's shape with its last two dims replaced. */
function withPlane(shape: readonly number[], h: number, w: number): number[] {
  return [...shape.slice(0, -2), h, w];
}

function planesOf(shape: readonly number[]): number {
  return numelOf(shape.slice(0, -2));
}

// --- max pooling -------------------------------------------------------------------------------

/** Options of {@link maxPool2d} and {@link maxPool1d}, as PyTorch's arguments. */
export interface MaxPoolOptions {
  /** Step between windows; defaults to the kernel size. */
  readonly stride?: number | readonly number[] | null;
  /** Implicit -∞ padding on both sides, at most half the kernel size. Default 0. */
  readonly padding?: number | readonly number[];
  /** Spacing between window elements. Default 1. */
  readonly dilation?: number | readonly number[];
  /** Round the output size up (a last, partial window), as PyTorch's ceil_mode. Default false. */
  readonly ceilMode?: boolean;
  /** Also return the flat position in each input plane of every maximum. Default false. */
  readonly returnIndices?: boolean;
}

/** `maxPool2d`'s two forms. */
export interface MaxPool2dFunction {
  /**
   * The maximum of every window over the last two dims, like `torch.nn.functional.max_pool2d`:
   * x [N, C, H, W] (or [C, H, W]) gives [N, C, Ho, Wo]. The gradient goes to each window's
   * maximum (the first one in row-major order on a tie; a NaN wins, as in PyTorch).
   *
   * @throws RangeError for a bad kernel size, stride, padding (more than half the kernel) or
   * dilation, or a window larger than the padded input.
   * @throws TypeError for a non-float input.
   *
   * @example
   * ```ts
   * maxPool2d(randn([8, 16, 28, 28]), 2).shape; // [8, 16, 14, 14]
   * ```
   */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options?: MaxPoolOptions & { returnIndices?: false },
  ): Tensor;
  /**
   * `{ values, indices }`: the pooled values and, as int32, the flat position (h·W + w) of each
   * maximum in its input plane, as PyTorch's `return_indices=True`.
   */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options: MaxPoolOptions & { returnIndices: true },
  ): ValuesIndices;
  /** Either, as `returnIndices` says at run time. */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options: MaxPoolOptions,
  ): Tensor | ValuesIndices;
}

/**
 * Max pooling over the last two dims; see {@link MaxPool2dFunction}.
 * @function
 */
export const maxPool2d = defineOp({
  name: "maxPool2d",
  rule: "g goes to the maximum of each window",
  kind: "opaque",
  shape: (x: TensorMeta, kernelSize: number | readonly number[], options: MaxPoolOptions = {}) => {
    const w = windowOf("maxPool2d", x, 2, kernelSize, options);
    return withPlane(x.shape, w.out[0], w.out[1]);
  },
  forward: (x: Tensor, kernelSize: number | readonly number[], options: MaxPoolOptions = {}) => {
    checkInput("maxPool2d", x, 2);
    checkOptionsObject("maxPool2d", options);
    const w = windowOf("maxPool2d", x, 2, kernelSize, options);
    const shape = withPlane(x.shape, w.out[0], w.out[1]);
    const plan: MaxPoolPlan = {
      planes: planesOf(x.shape),
      inH: x.shape[x.ndim - 2],
      inW: x.shape[x.ndim - 1],
      outH: w.out[0],
      outW: w.out[1],
      kh: w.kernel[0],
      kw: w.kernel[1],
      strideH: w.stride[0],
      strideW: w.stride[1],
      padH: w.padding[0],
      padW: w.padding[1],
      dilationH: w.dilation[0],
      dilationW: w.dilation[1],
    };
    const numel = numelOf(shape);
    const out = allocateUnfilled(x.dtype, numel, "maxPool2d", shape) as FloatArray;
    const indexData = allocateUnfilled("int32", numel, "maxPool2d", shape) as Int32Array;
    maxPoolForward(denseFloats(x), out, indexData, plan);
    const indices = Tensor.fromTypedArray(indexData, shape);
    return {
      out: Tensor.fromTypedArray(out, shape),
      inputs: [x],
      saved: { x: meta(x), indices },
      result:
        options.returnIndices === true ? (values: Tensor) => ({ values, indices }) : undefined,
    };
  },
  backward: ({ x, indices }, gradOut): Tensor[] => [maxPoolScatter(gradOut, indices, x.shape)],
}) as unknown as Op<
  MaxPool2dFunction,
  OpInfo<"maxPool2d"> & { readonly differentiable: true; readonly internal: false }
>;

/**
 * The gradient of max pooling: gradOut added onto the recorded maxima of an input-shaped zero
 * tensor. d/dgradOut = the incoming gradient gathered at the same positions.
 * @function
 */
export const maxPoolScatter = defineOp({
  name: "maxPoolScatter",
  rule: "d/dgradOut = g gathered at the maxima",
  kind: "opaque",
  internal: true,
  shape: (_g: TensorMeta, _indices: TensorMeta, inputShape: readonly number[]) => inputShape,
  forward: (gradOut: Tensor, indices: Tensor, inputShape: readonly number[]) => {
    // The kernel zeroes dx itself.
    const length = numelOf(inputShape);
    const dx = allocateUnfilled(gradOut.dtype, length, "maxPool2d", inputShape) as FloatArray;
    const outPlane = gradOut.shape[gradOut.ndim - 2] * gradOut.shape[gradOut.ndim - 1];
    const inPlane = inputShape[inputShape.length - 2] * inputShape[inputShape.length - 1];
    scatterKernel(
      denseFloats(gradOut),
      denseFloats(indices) as unknown as Int32Array,
      dx,
      planesOf(inputShape),
      outPlane,
      inPlane,
    );
    return { out: Tensor.fromTypedArray(dx, inputShape), inputs: [gradOut], saved: { indices } };
  },
  backward: ({ indices }, gradIn): Tensor[] => [
    gather(gradIn.flatten(-2), -1, indices.flatten(-2)).reshape(indices.shape),
  ],
});

/** `maxPool1d`'s two forms. */
export interface MaxPool1dFunction {
  /**
   * The maximum of every window over the last dim, like `torch.nn.functional.max_pool1d`:
   * x [N, C, L] (or [C, L]) gives [N, C, Lo]; gradient and errors as {@link maxPool2d}'s.
   */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options?: MaxPoolOptions & { returnIndices?: false },
  ): Tensor;
  /** `{ values, indices }`, the indices being positions along L. */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options: MaxPoolOptions & { returnIndices: true },
  ): ValuesIndices;
  /** Either, as `returnIndices` says at run time. */
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options: MaxPoolOptions,
  ): Tensor | ValuesIndices;
}

/**
 * Max pooling over the last dim; see {@link MaxPool1dFunction}.
 * @function
 */
export const maxPool1d = defineComposite(
  "maxPool1d",
  (
    x: Tensor,
    kernelSize: number | readonly number[],
    options: MaxPoolOptions = {},
  ): Tensor | ValuesIndices => {
    checkInput("maxPool1d", x, 1);
    checkOptionsObject("maxPool1d", options);
    const w = windowOf("maxPool1d", x, 1, kernelSize, options); // errors name the 1-D arguments
    const r = maxPool2d(x.unsqueeze(-2), [1, w.kernel[0]], {
      stride: [1, w.stride[0]],
      padding: [0, w.padding[0]],
      dilation: [1, w.dilation[0]],
      ceilMode: w.ceilMode,
      returnIndices: options.returnIndices,
    });
    if (r instanceof Tensor) return r.squeeze(-2);
    return { values: r.values.squeeze(-2), indices: r.indices.squeeze(-2) };
  },
) as unknown as Op<MaxPool1dFunction, OpInfo<"maxPool1d"> & { readonly differentiable: true }>;

// --- average pooling ---------------------------------------------------------------------------

/**
 * The average of windows over the last two dims described by `plan` (see AveragePlan); with
 * `adjoint`, the transposed map from the pooled shape back to the input's (the gradient).
 * Linear: d/dx = the same windows the other way.
 * @function
 */
export const averagePool = defineOp({
  name: "averagePool",
  rule: "g/divisor spread evenly over each window",
  kind: "opaque",
  internal: true,
  shape: (x: TensorMeta, plan: AveragePlan, adjoint: boolean = false) =>
    adjoint
      ? withPlane(x.shape, plan.inH, plan.inW)
      : withPlane(x.shape, plan.rowStart.length, plan.colStart.length),
  forward: (x: Tensor, plan: AveragePlan, adjoint: boolean = false) => {
    const shape = adjoint
      ? withPlane(x.shape, plan.inH, plan.inW)
      : withPlane(x.shape, plan.rowStart.length, plan.colStart.length);
    const out = allocateUnfilled(x.dtype, numelOf(shape), "averagePool", shape) as FloatArray;
    if (adjoint) averagePoolAdjoint(denseFloats(x), out, planesOf(x.shape), plan);
    else averagePoolForward(denseFloats(x), out, planesOf(x.shape), plan);
    return { out: Tensor.fromTypedArray(out, shape), inputs: [x], saved: { ...plan, adjoint } };
  },
  backward: (saved, gradOut): Tensor[] => {
    const { adjoint, ...plan } = saved;
    return [averagePool(gradOut, plan, !adjoint)];
  },
});

/** Options of {@link avgPool2d} and {@link avgPool1d}, as PyTorch's arguments. */
export interface AvgPoolOptions {
  /** Step between windows; defaults to the kernel size. */
  readonly stride?: number | readonly number[] | null;
  /** Implicit zero padding on both sides, at most half the kernel size. Default 0. */
  readonly padding?: number | readonly number[];
  /** Round the output size up. Default false. */
  readonly ceilMode?: boolean;
  /** Count the padding's zeros in the divisor. Default true. */
  readonly countIncludePad?: boolean;
  /** Divide every window's sum by this instead (avgPool2d only). */
  readonly divisorOverride?: number | null;
}

/** The windows of a padded, strided average pooling along one dim, as PyTorch's CPU kernel. */
function strided(
  size: number,
  out: number,
  k: number,
  stride: number,
  pad: number,
  countIncludePad: boolean,
): { start: number[]; end: number[]; count: number[] } {
  const start: number[] = [];
  const end: number[] = [];
  const count: number[] = [];
  for (let o = 0; o < out; o++) {
    const s = o * stride - pad;
    const e = Math.min(s + k, size + pad);
    const clippedStart = Math.max(s, 0);
    const clippedEnd = Math.min(e, size);
    start.push(clippedStart);
    end.push(clippedEnd);
    count.push(countIncludePad ? e - s : clippedEnd - clippedStart);
  }
  return { start, end, count };
}

function avgPoolNd(
  op: string,
  spatial: Spatial,
  x: Tensor,
  kernelSize: unknown,
  options: AvgPoolOptions,
): Tensor {
  checkInput(op, x, spatial);
  checkOptionsObject(op, options);
  const w = windowOf(op, x, spatial, kernelSize, { ...options, dilation: 1 });
  const countIncludePad = options.countIncludePad ?? true;
  if (typeof countIncludePad !== "boolean") {
    throw new TypeError(
      `${op}: countIncludePad must be a boolean, got ${describe(countIncludePad)}`,
    );
  }
  const divisor = options.divisorOverride ?? 0;
  if (options.divisorOverride !== undefined && options.divisorOverride !== null) {
    if (spatial === 1) throw new TypeError(`${op}: divisorOverride is an option of avgPool2d only`);
    if (typeof divisor !== "number" || !Number.isInteger(divisor) || divisor === 0) {
      throw new RangeError(
        `${op}: divisorOverride must be a nonzero integer, got ${JSON.stringify(options.divisorOverride)}`,
      );
    }
  }
  const lifted = spatial === 1 ? x.unsqueeze(-2) : x;
  const [inH, inW] = lifted.shape.slice(-2);
  const rows =
    spatial === 1
      ? { start: [0], end: [1], count: [1] }
      : strided(inH, w.out[0], w.kernel[0], w.stride[0], w.padding[0], countIncludePad);
  const d = spatial - 1;
  const cols = strided(inW, w.out[d], w.kernel[d], w.stride[d], w.padding[d], countIncludePad);
  const plan: AveragePlan = {
    rowStart: rows.start,
    rowEnd: rows.end,
    rowSize: rows.count,
    colStart: cols.start,
    colEnd: cols.end,
    colSize: cols.count,
    divisor,
    inH,
    inW,
  };
  const out = averagePool(lifted, plan);
  return spatial === 1 ? out.squeeze(-2) : out;
}

/**
 * The average of every window over the last two dims, like `torch.nn.functional.avg_pool2d`:
 * x [N, C, H, W] (or [C, H, W]) gives [N, C, Ho, Wo]. With `countIncludePad` (the default) the
 * padding's zeros count in the divisor; `divisorOverride` replaces the divisor. Each input
 * element's gradient is the sum of gradOut/divisor over the windows that hold it.
 *
 * @throws RangeError for a bad kernel size, stride or padding (more than half the kernel), a
 * window larger than the padded input, or a zero divisorOverride.
 * @throws TypeError for a non-float input.
 * @function
 */
export const avgPool2d = defineComposite(
  "avgPool2d",
  (x: Tensor, kernelSize: number | readonly number[], options: AvgPoolOptions = {}): Tensor =>
    avgPoolNd("avgPool2d", 2, x, kernelSize, options),
);

/**
 * The average of every window over the last dim, like `torch.nn.functional.avg_pool1d`:
 * x [N, C, L] (or [C, L]) gives [N, C, Lo]; options (but divisorOverride) as {@link avgPool2d}'s.
 * @function
 */
export const avgPool1d = defineComposite(
  "avgPool1d",
  (x: Tensor, kernelSize: number | readonly number[], options: AvgPoolOptions = {}): Tensor =>
    avgPoolNd("avgPool1d", 1, x, kernelSize, options),
);

/** PyTorch's adaptive windows: output o averages [⌊o·size/out⌋, ⌈(o+1)·size/out⌉). */
function adaptive(size: number, out: number): { start: number[]; end: number[]; count: number[] } {
  const start: number[] = [];
  const end: number[] = [];
  const count: number[] = [];
  for (let o = 0; o < out; o++) {
    const s = Math.floor((o * size) / out);
    const e = Math.ceil(((o + 1) * size) / out);
    start.push(s);
    end.push(e);
    count.push(e - s);
  }
  return { start, end, count };
}

function adaptiveNd(op: string, spatial: Spatial, x: Tensor, outputSize: unknown): Tensor {
  checkInput(op, x, spatial);
  const sizes = x.shape.slice(-spatial);
  const list = typeof outputSize === "number" ? new Array(spatial).fill(outputSize) : outputSize;
  if (
    !Array.isArray(list) ||
    list.length !== spatial ||
    !list.every((v) => v === null || (Number.isInteger(v) && v >= 1))
  ) {
    throw new RangeError(
      `${op}: outputSize must be ${spatial === 1 ? "a positive integer" : "a positive integer or 2 of them (null keeps the input's size)"}, got ${JSON.stringify(outputSize)}`,
    );
  }
  const out = list.map((v, d) => (v === null ? sizes[d] : (v as number)));
  if (sizes.some((s) => s === 0)) {
    throw new RangeError(`${op}: input ${formatShape(x.shape)} has an empty spatial dim`);
  }
  const lifted = spatial === 1 ? x.unsqueeze(-2) : x;
  const [inH, inW] = lifted.shape.slice(-2);
  const rows = spatial === 1 ? adaptive(1, 1) : adaptive(inH, out[0]);
  const cols = adaptive(inW, out[spatial - 1]);
  const plan: AveragePlan = {
    rowStart: rows.start,
    rowEnd: rows.end,
    rowSize: rows.count,
    colStart: cols.start,
    colEnd: cols.end,
    colSize: cols.count,
    divisor: 0,
    inH,
    inW,
  };
  const pooled = averagePool(lifted, plan);
  return spatial === 1 ? pooled.squeeze(-2) : pooled;
}

/**
 * Average pooling to a fixed output size over the last two dims, like
 * `torch.nn.functional.adaptive_avg_pool2d`: output (i, j) averages input rows
 * [⌊i·H/Ho⌋, ⌈(i+1)·H/Ho⌉) and the columns likewise. `outputSize` is one number, or
 * [Ho, Wo] where null keeps the input's size.
 *
 * @throws RangeError for an invalid output size or an empty spatial dim.
 * @throws TypeError for a non-float input.
 * @example
 * ```ts
 * adaptiveAvgPool2d(randn([2, 64, 7, 7]), 1).shape; // [2, 64, 1, 1]: global average pooling
 * ```
 * @function
 */
export const adaptiveAvgPool2d = defineComposite(
  "adaptiveAvgPool2d",
  (x: Tensor, outputSize: number | readonly (number | null)[]): Tensor =>
    adaptiveNd("adaptiveAvgPool2d", 2, x, outputSize),
);

/**
 * Average pooling to a fixed output length over the last dim, like
 * `torch.nn.functional.adaptive_avg_pool1d`.
 *
 * @throws RangeError for an invalid output size or an empty last dim.
 * @function
 */
export const adaptiveAvgPool1d = defineComposite(
  "adaptiveAvgPool1d",
  (x: Tensor, outputSize: number | readonly number[]): Tensor =>
    adaptiveNd("adaptiveAvgPool1d", 1, x, outputSize),
);

// --- nearest-neighbour resizing ---------------------------------------------------------------

/** Options of {@link interpolate}: an output size or a scale factor (one, or one per spatial dim). */
export interface InterpolateOptions {
  /** The output's spatial size. */
  readonly size?: number | readonly number[];
  /** Multiplies each spatial size (the output size is ⌊size·factor⌋). */
  readonly scaleFactor?: number | readonly number[];
  /** Only `"nearest"` (the default) so far. */
  readonly mode?: "nearest";
}

/**
 * Resizes the spatial dims of x ([N, C, L] or [N, C, H, W]) by nearest neighbour, like
 * `torch.nn.functional.interpolate(mode="nearest")`: output position o reads input position
 * ⌊o·scale⌋ with scale = 1/scaleFactor (or in/out when a size is given), computed in float32 as
 * PyTorch's kernel does. Gradients sum over the outputs that read an element.
 *
 * @throws RangeError without exactly one of size and scaleFactor, for non-positive sizes or
 * factors, an unsupported mode, or an input that is not 3-D or 4-D.
 * @function
 */
export const interpolate = defineComposite(
  "interpolate",
  (x: Tensor, options: InterpolateOptions): Tensor => {
    checkTensor(x, "interpolate");
    checkOptionsObject("interpolate", options);
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new RangeError(
        `interpolate: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape ${formatShape(x.shape)}`,
      );
    }
    if ((options.mode ?? "nearest") !== "nearest") {
      throw new RangeError(
        `interpolate: only mode "nearest" is supported, got ${JSON.stringify(options.mode)}`,
      );
    }
    if ((options.size === undefined) === (options.scaleFactor === undefined)) {
      throw new RangeError("interpolate: give exactly one of size and scaleFactor");
    }
    const spatial = x.ndim - 2;
    const inSizes = x.shape.slice(2);
    const given = options.size ?? options.scaleFactor;
    const list = typeof given === "number" ? new Array<number>(spatial).fill(given) : given;
    if (
      !Array.isArray(list) ||
      list.length !== spatial ||
      !list.every((v) => typeof v === "number" && v > 0)
    ) {
      throw new RangeError(
        `interpolate: ${options.size !== undefined ? "size" : "scaleFactor"} must be a positive number or ${spatial} of them, got ${JSON.stringify(given)}`,
      );
    }
    let out = x;
    inSizes.forEach((inSize, i) => {
      const outSize = options.size !== undefined ? list[i] : Math.floor(inSize * list[i]);
      if (!Number.isInteger(outSize) || outSize < 1) {
        throw new RangeError(
          `interpolate: the output size ${outSize} of spatial dim ${i} is not a positive integer`,
        );
      }
      const scale = Math.fround(options.size !== undefined ? inSize / outSize : 1 / list[i]);
      const index = new Int32Array(outSize);
      for (let o = 0; o < outSize; o++)
        index[o] = Math.min(Math.floor(Math.fround(o * scale)), inSize - 1);
      out = indexSelect(out, 2 + i, tensor(index));
    });
    return out;
  },
);
