// Convolutions, as torch.nn.functional's: conv1d, conv2d, convTranspose1d and convTranspose2d are
// composites of one primitive, `convolution`, which maps an "input space" [N, Cin, H, W] to an
// "output space" [N, Cout, Ho, Wo] (or, transposed, back). Its two gradients are convolutions
// again: the input's is the transposed convolution of gradOut with the same weight, the weight's
// is `convolutionWeight` (gradOut correlated with the input). convolutionWeight is linear in both
// of its tensors, so its gradients are convolutions too: gradients of every order stay in these
// two primitives. 1-D convolutions run as 2-D ones over a height of 1.

import { type ConvPlan, convForward, convInput, convWeight } from "../kernels/conv.js";
import type { FloatArray } from "../kernels/gemm-js.js";
import { allocateUnfilled, isFloat } from "../tensor/dtype.js";
import { formatShape, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineComposite, defineOp, type TensorMeta } from "./define.js";
import { checkOptionsObject, checkTensor, denseFloats, perSpatialDim } from "./helpers.js";

/**
 * A convolution's geometry over the two spatial dims (height, width), as `convolution` takes it:
 * the zero padding before and after each dim, so that asymmetric `"same"` padding and a
 * transposed convolution's `outputPadding` need no special case.
 */
export interface ConvGeometry {
  readonly stride: readonly [number, number];
  /** Zero padding before the first row and column. */
  readonly padding: readonly [number, number];
  /**
   * Zero padding after the last row and column; negative values drop trailing rows and columns
   * (a transposed convolution's `outputPadding` lowers it).
   */
  readonly paddingAfter: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  /** True: map output space back to input space (the gradient of a convolution's input). */
  readonly transposed: boolean;
}

/** Output-space size of a convolution over `size` elements (floor, as PyTorch). */
function convolvedSize(size: number, g: ConvGeometry, kernel: number, d: 0 | 1): number {
  const span = g.dilation[d] * (kernel - 1) + 1;
  return Math.floor((size + g.padding[d] + g.paddingAfter[d] - span) / g.stride[d]) + 1;
}

/** Input-space size a transposed convolution produces from `size` output-space elements. */
function transposedSize(size: number, g: ConvGeometry, kernel: number, d: 0 | 1): number {
  const span = g.dilation[d] * (kernel - 1) + 1;
  return (size - 1) * g.stride[d] - g.padding[d] - g.paddingAfter[d] + span;
}

/**
 * The padding after that makes an input-space size `inSize` convolve to exactly `outSize`: the
 * rows that the floor in `convolvedSize` dropped are dropped here too, so gradients map each space
 * onto exactly the other.
 */
function exactPaddingAfter(
  inSize: number,
  outSize: number,
  g: ConvGeometry,
  kernel: number,
  d: 0 | 1,
): number {
  const span = g.dilation[d] * (kernel - 1) + 1;
  return (outSize - 1) * g.stride[d] - g.padding[d] + span - inSize;
}

/** The geometry that maps `inSpace` ([N, C, H, W]) onto `outSpace` exactly, for the given kernel. */
function exactGeometry(
  g: ConvGeometry,
  inSpace: readonly number[],
  outSpace: readonly number[],
  weight: readonly number[],
  transposed: boolean,
): ConvGeometry {
  return {
    ...g,
    paddingAfter: [
      exactPaddingAfter(inSpace[2], outSpace[2], g, weight[2], 0),
      exactPaddingAfter(inSpace[3], outSpace[3], g, weight[3], 1),
    ],
    transposed,
  };
}

/** Shape rule of `convolution`. */
function convolutionShape(
  x: TensorMeta,
  weight: TensorMeta,
  _bias: unknown,
  g: ConvGeometry,
): readonly number[] {
  const [n, , h, w] = x.shape;
  const [wOut, wIn, kh, kw] = weight.shape;
  return g.transposed
    ? [n, wIn * g.groups, transposedSize(h, g, kh, 0), transposedSize(w, g, kw, 1)]
    : [n, wOut, convolvedSize(h, g, kh, 0), convolvedSize(w, g, kw, 1)];
}

/** The kernel's view of a convolution from input space `inSpace` to output space `outSpace`. */
function planOf(
  inSpace: readonly number[],
  outSpace: readonly number[],
  weight: readonly number[],
  g: ConvGeometry,
): ConvPlan {
  return {
    batch: inSpace[0],
    groups: g.groups,
    inChannels: inSpace[1],
    outChannels: outSpace[1],
    inH: inSpace[2],
    inW: inSpace[3],
    outH: outSpace[2],
    outW: outSpace[3],
    kh: weight[2],
    kw: weight[3],
    strideH: g.stride[0],
    strideW: g.stride[1],
    padH: g.padding[0],
    padW: g.padding[1],
    dilationH: g.dilation[0],
    dilationW: g.dilation[1],
  };
}

function geometryOf(saved: {
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly paddingAfter: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
  readonly transposed: boolean;
}): ConvGeometry {
  const pair = (v: readonly number[]) => [v[0], v[1]] as const;
  return {
    stride: pair(saved.stride),
    padding: pair(saved.padding),
    paddingAfter: pair(saved.paddingAfter),
    dilation: pair(saved.dilation),
    groups: saved.groups,
    transposed: saved.transposed,
  };
}

/**
 * The convolution primitive behind conv1d, conv2d, convTranspose1d and convTranspose2d, over
 * contiguous or strided 4-D float tensors that the public functions have checked: x [N, C, H, W],
 * weight [Cout, Cin/groups, kh, kw], an optional bias [channels out]. With `transposed`, x is in
 * output space ([N, Cout, H, W]) and the result in input space.
 * d/dx = the convolution the other way with the same weight; d/dweight = convolutionWeight;
 * d/dbias = gradOut summed over N, H and W.
 * @function
 */
export const convolution = defineOp({
  name: "convolution",
  rule: "d/dx = the transposed convolution of g with the weight; d/dweight = g correlated with x; d/dbias = Σ g over N, H, W",
  kind: "opaque",
  internal: true,
  shape: convolutionShape,
  forward: (x: Tensor, weight: Tensor, bias: Tensor | null, geometry: ConvGeometry) => {
    const shape = convolutionShape(x, weight, bias, geometry);
    const out = allocateUnfilled(x.dtype, numelOf(shape), "convolution", shape) as FloatArray;
    const b = bias === null ? null : denseFloats(bias);
    if (geometry.transposed) {
      convInput(
        denseFloats(x),
        denseFloats(weight),
        b,
        out,
        planOf(shape, x.shape, weight.shape, geometry),
      );
    } else {
      convForward(
        denseFloats(x),
        denseFloats(weight),
        b,
        out,
        planOf(x.shape, shape, weight.shape, geometry),
      );
    }
    return {
      out: Tensor.fromTypedArray(out, shape),
      inputs: bias === null ? [x, weight] : [x, weight, bias],
      saved: { x, weight, hasBias: bias !== null, ...geometry },
    };
  },
  backward: (saved, gradOut, needs): (Tensor | null)[] => {
    const { x, weight } = saved;
    const g = geometryOf(saved);
    // The input-space and output-space tensors of the convolution this op computes.
    const [inSpace, outSpace] = g.transposed ? [gradOut, x] : [x, gradOut];
    const grads = [
      needs[0]
        ? convolution(
            gradOut,
            weight,
            null,
            exactGeometry(g, inSpace.shape, outSpace.shape, weight.shape, !g.transposed),
          )
        : null,
      needs[1] ? convolutionWeight(inSpace, outSpace, g, weight.shape) : null,
    ];
    if (saved.hasBias) grads.push(needs[2] ? gradOut.sum([0, 2, 3]) : null);
    return grads;
  },
});

/**
 * The gradient of a convolution's weight: dw[o, i, p, q] = Σ gradOut[n, o, h, w] · input[n, i,
 * h·s + p·d - pad, w·s + q·d - pad] for input-space `input` [N, Cin, H, W] and output-space
 * `gradOut` [N, Cout, Ho, Wo]. Linear in both: d/dinput = the transposed convolution of gradOut
 * with the incoming gradient as weight, d/dgradOut = the convolution of input with it.
 * @function
 */
export const convolutionWeight = defineOp({
  name: "convolutionWeight",
  rule: "d/dinput = the transposed convolution of gradOut with g; d/dgradOut = the convolution of input with g",
  kind: "opaque",
  internal: true,
  shape: (
    _input: TensorMeta,
    _gradOut: TensorMeta,
    _g: ConvGeometry,
    weightShape: readonly number[],
  ) => weightShape,
  forward: (
    input: Tensor,
    gradOut: Tensor,
    geometry: ConvGeometry,
    weightShape: readonly number[],
  ) => {
    const out = allocateUnfilled(
      input.dtype,
      numelOf(weightShape),
      "convolution",
      weightShape,
    ) as FloatArray;
    convWeight(
      denseFloats(input),
      denseFloats(gradOut),
      out,
      planOf(input.shape, gradOut.shape, weightShape, geometry),
    );
    return {
      out: Tensor.fromTypedArray(out, weightShape),
      inputs: [input, gradOut],
      saved: { input, gradOut, weightShape, ...geometry },
    };
  },
  backward: (saved, gradWeight, needs): (Tensor | null)[] => {
    const { input, gradOut } = saved;
    const g = geometryOf(saved);
    return [
      needs[0]
        ? convolution(
            gradOut,
            gradWeight,
            null,
            exactGeometry(g, input.shape, gradOut.shape, gradWeight.shape, true),
          )
        : null,
      needs[1]
        ? convolution(
            input,
            gradWeight,
            null,
            exactGeometry(g, input.shape, gradOut.shape, gradWeight.shape, false),
          )
        : null,
    ];
  },
});

// --- the public functions ----------------------------------------------------------------------

/** Options of {@link conv1d} and {@link conv2d}, as `torch.nn.functional.conv2d`'s arguments. */
export interface ConvOptions {
  /** Step between output positions: one number for every spatial dim, or one per dim. Default 1. */
  readonly stride?: number | readonly number[];
  /**
   * Implicit zero padding on both sides of each spatial dim (a number, or one per dim), or
   * `"valid"` (none) or `"same"` (the output keeps the input's size; stride must be 1; an odd
   * total puts the extra element after, as PyTorch). Default 0.
   */
  readonly padding?: number | readonly number[] | "same" | "valid";
  /** Spacing between kernel elements (à trous). Default 1. */
  readonly dilation?: number | readonly number[];
  /** Split channels into this many independent groups (groups = in channels: depthwise). Default 1. */
  readonly groups?: number;
}

/** Options of {@link convTranspose1d} and {@link convTranspose2d}, as PyTorch's. */
export interface ConvTransposeOptions {
  /** Step between input positions in the output. Default 1. */
  readonly stride?: number | readonly number[];
  /** `dilation·(kernel - 1) - padding` zero padding is added to both sides of the input. Default 0. */
  readonly padding?: number | readonly number[];
  /** Extra size added to one side of each output dim; smaller than stride or dilation. Default 0. */
  readonly outputPadding?: number | readonly number[];
  /** Spacing between kernel elements. Default 1. */
  readonly dilation?: number | readonly number[];
  /** Independent channel groups. Default 1. */
  readonly groups?: number;
}

type Spatial = 1 | 2;
const DIM_NAMES: Record<Spatial, readonly string[]> = { 1: ["L"], 2: ["H", "W"] };

function checkGroups(op: string, groups: unknown): number {
  if (!Number.isInteger(groups) || (groups as number) < 1) {
    throw new RangeError(`${op}: groups must be a positive integer, got ${JSON.stringify(groups)}`);
  }
  return groups as number;
}

/** Checks dtypes, ranks and channel counts; returns whether x has a batch dim. */
function checkOperands(
  op: string,
  spatial: Spatial,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  groups: number,
  transposed: boolean,
): boolean {
  checkTensor(x, op);
  checkTensor(weight, op, "weight");
  if (bias !== null && bias !== undefined) checkTensor(bias, op, "bias");
  const layout = spatial === 1 ? "[N, C, L]" : "[N, C, H, W]";
  const unbatched = spatial === 1 ? "[C, L]" : "[C, H, W]";
  if (x.ndim !== spatial + 1 && x.ndim !== spatial + 2) {
    throw new RangeError(
      `${op}: expected a ${spatial + 2}-D input ${layout} (or ${spatial + 1}-D ${unbatched}), got shape ${formatShape(x.shape)}`,
    );
  }
  const weightLayout = transposed
    ? spatial === 1
      ? "[Cin, Cout/groups, k]"
      : "[Cin, Cout/groups, kh, kw]"
    : spatial === 1
      ? "[Cout, Cin/groups, k]"
      : "[Cout, Cin/groups, kh, kw]";
  if (weight.ndim !== spatial + 2) {
    throw new RangeError(
      `${op}: expected a ${spatial + 2}-D weight ${weightLayout}, got shape ${formatShape(weight.shape)}`,
    );
  }
  for (const [t, what] of [
    [x, "input"],
    [weight, "weight"],
    [bias, "bias"],
  ] as const) {
    if (t === null || t === undefined) continue;
    if (!isFloat(t.dtype) || t.dtype !== x.dtype) {
      throw new TypeError(
        `${op}: input, weight and bias must share one float dtype; got input ${x.dtype}, weight ${weight.dtype}${bias ? `, bias ${bias.dtype}` : ""} (${what} shape ${formatShape(t.shape)})`,
      );
    }
  }
  const channels = x.shape[x.ndim - spatial - 1];
  const shapes = `input ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}, groups ${groups}`;
  // The weight is [output-space channels, input-space channels / groups, ...] either way: a
  // transposed convolution's input lives in output space.
  const [whole, perGroup] = weight.shape;
  if (transposed) {
    if (channels !== whole)
      throw new RangeError(
        `${op}: the input has ${channels} channels but the weight's dim 0 says ${whole} (${shapes})`,
      );
    if (whole % groups !== 0)
      throw new RangeError(
        `${op}: ${whole} input channels do not split into ${groups} groups (${shapes})`,
      );
  } else {
    if (whole % groups !== 0)
      throw new RangeError(
        `${op}: ${whole} output channels do not split into ${groups} groups (${shapes})`,
      );
    if (channels !== perGroup * groups) {
      throw new RangeError(
        `${op}: the input has ${channels} channels but the weight expects ${perGroup}·${groups} = ${perGroup * groups} (${shapes})`,
      );
    }
  }
  const outChannels = transposed ? perGroup * groups : whole;
  if (bias !== null && bias !== undefined && (bias.ndim !== 1 || bias.shape[0] !== outChannels)) {
    throw new RangeError(
      `${op}: bias must have shape [${outChannels}] (one per output channel), got ${formatShape(bias.shape)} (${shapes})`,
    );
  }
  return x.ndim === spatial + 2;
}

/** Lifts x and weight to the primitive's 4-D form and runs it; drops the added dims again. */
function runConvolution(
  op: string,
  spatial: Spatial,
  batched: boolean,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  geometry: ConvGeometry,
): Tensor {
  let x4 = batched ? x : x.unsqueeze(0);
  let w4 = weight;
  if (spatial === 1) {
    x4 = x4.unsqueeze(2);
    w4 = weight.unsqueeze(2);
  }
  const shape = convolutionShape(x4, w4, bias, geometry);
  const names = DIM_NAMES[spatial];
  for (let d = 0; d < spatial; d++) {
    const size = shape[4 - spatial + d];
    if (size < 1) {
      throw new RangeError(
        `${op}: the output's ${names[d]} would be ${size} (input ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}): the kernel with its dilation is larger than the padded input`,
      );
    }
  }
  let out = convolution(x4, w4, bias, geometry);
  if (spatial === 1) out = out.squeeze(2);
  return batched ? out : out.squeeze(0);
}

/** A 1-D geometry value becomes the 2-D one over a height of 1. */
function lift(values: number[], spatial: Spatial, fill: number): [number, number] {
  return spatial === 1 ? [fill, values[0]] : [values[0], values[1]];
}

function convNd(
  op: string,
  spatial: Spatial,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvOptions,
): Tensor {
  const groups = checkGroups(op, options.groups ?? 1);
  const batched = checkOperands(op, spatial, x, weight, bias, groups, false);
  const stride = perSpatialDim(op, "stride", options.stride ?? 1, spatial, 1);
  const dilation = perSpatialDim(op, "dilation", options.dilation ?? 1, spatial, 1);
  const kernel = weight.shape.slice(2);
  const padding = options.padding ?? 0;
  let before: number[];
  let after: number[];
  if (padding === "valid") {
    before = after = new Array<number>(spatial).fill(0);
  } else if (padding === "same") {
    if (stride.some((s) => s !== 1)) {
      throw new RangeError(
        `${op}: padding "same" needs stride 1 (the output could not keep the input's size), got stride ${JSON.stringify(options.stride)}`,
      );
    }
    const total = kernel.map((k, d) => dilation[d] * (k - 1));
    before = total.map((t) => Math.floor(t / 2));
    after = total.map((t, d) => t - before[d]);
  } else if (typeof padding === "string") {
    throw new RangeError(
      `${op}: padding must be a number, a list of numbers, "same" or "valid", got ${JSON.stringify(padding)}`,
    );
  } else {
    before = after = perSpatialDim(op, "padding", padding, spatial, 0);
  }
  const geometry: ConvGeometry = {
    stride: lift(stride, spatial, 1),
    padding: lift(before, spatial, 0),
    paddingAfter: lift(after, spatial, 0),
    dilation: lift(dilation, spatial, 1),
    groups,
    transposed: false,
  };
  return runConvolution(op, spatial, batched, x, weight, bias ?? null, geometry);
}

function convTransposeNd(
  op: string,
  spatial: Spatial,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvTransposeOptions,
): Tensor {
  const groups = checkGroups(op, options.groups ?? 1);
  const batched = checkOperands(op, spatial, x, weight, bias, groups, true);
  const stride = perSpatialDim(op, "stride", options.stride ?? 1, spatial, 1);
  const dilation = perSpatialDim(op, "dilation", options.dilation ?? 1, spatial, 1);
  const padding = perSpatialDim(op, "padding", options.padding ?? 0, spatial, 0);
  const outputPadding = perSpatialDim(op, "outputPadding", options.outputPadding ?? 0, spatial, 0);
  for (let d = 0; d < spatial; d++) {
    if (outputPadding[d] >= stride[d] && outputPadding[d] >= dilation[d]) {
      throw new RangeError(
        `${op}: outputPadding must be smaller than either stride or dilation, got outputPadding ${outputPadding[d]}, stride ${stride[d]}, dilation ${dilation[d]}`,
      );
    }
  }
  const geometry: ConvGeometry = {
    stride: lift(stride, spatial, 1),
    padding: lift(padding, spatial, 0),
    paddingAfter: lift(
      padding.map((p, d) => p - outputPadding[d]),
      spatial,
      0,
    ),
    dilation: lift(dilation, spatial, 1),
    groups,
    transposed: true,
  };
  return runConvolution(op, spatial, batched, x, weight, bias ?? null, geometry);
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning framework) like
 * `torch.nn.functional.conv2d`: x [N, Cin, H, W] (or unbatched [Cin, H, W]) with weight
 * [Cout, Cin/groups, kh, kw] and an optional bias [Cout] gives [N, Cout, Ho, Wo] with
 * Ho = ⌊(H + 2·padding - dilation·(kh - 1) - 1) / stride⌋ + 1.
 * d/dx is the transposed convolution of the gradient with the same weight; d/dweight
 * correlates the gradient with x; d/dbias sums the gradient over N, Ho and Wo.
 *
 * @throws RangeError for wrong ranks, channel counts that do not match the weight and groups, a
 * bias of the wrong size, invalid stride/padding/dilation/groups, or a kernel larger than the
 * padded input.
 * @throws TypeError when the tensors do not share one float dtype.
 *
 * @example
 * ```ts
 * const x = randn([8, 3, 32, 32]);
 * const w = randn([16, 3, 3, 3]);
 * conv2d(x, w, null, { padding: 1 }).shape; // [8, 16, 32, 32]
 * ```
 * @function
 */
export const conv2d = defineComposite(
  "conv2d",
  (x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor =>
    convNd("conv2d", 2, x, weight, bias, checkOptionsObject("conv2d", options)),
);

/**
 * 1-D convolution like `torch.nn.functional.conv1d`: x [N, Cin, L] (or [Cin, L]) with weight
 * [Cout, Cin/groups, k] and an optional bias [Cout] gives [N, Cout, Lo]; options and gradients
 * as {@link conv2d}'s, over one spatial dim.
 *
 * @throws RangeError and TypeError as {@link conv2d}.
 * @function
 */
export const conv1d = defineComposite(
  "conv1d",
  (x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvOptions = {}): Tensor =>
    convNd("conv1d", 1, x, weight, bias, checkOptionsObject("conv1d", options)),
);

/**
 * 2-D transposed convolution (the gradient of conv2d with respect to its input, sometimes called
 * deconvolution) like `torch.nn.functional.conv_transpose2d`: x [N, Cin, H, W] (or unbatched)
 * with weight [Cin, Cout/groups, kh, kw] gives [N, Cout, Ho, Wo] with
 * Ho = (H - 1)·stride - 2·padding + dilation·(kh - 1) + outputPadding + 1.
 *
 * @throws RangeError for wrong ranks or channel counts, invalid options, or an outputPadding not
 * smaller than the stride or the dilation.
 * @throws TypeError when the tensors do not share one float dtype.
 *
 * @example
 * ```ts
 * const x = randn([1, 16, 7, 7]);
 * const w = randn([16, 8, 4, 4]);
 * convTranspose2d(x, w, null, { stride: 2, padding: 1 }).shape; // [1, 8, 14, 14]
 * ```
 * @function
 */
export const convTranspose2d = defineComposite(
  "convTranspose2d",
  (
    x: Tensor,
    weight: Tensor,
    bias: Tensor | null = null,
    options: ConvTransposeOptions = {},
  ): Tensor =>
    convTransposeNd(
      "convTranspose2d",
      2,
      x,
      weight,
      bias,
      checkOptionsObject("convTranspose2d", options),
    ),
);

/**
 * 1-D transposed convolution like `torch.nn.functional.conv_transpose1d`: x [N, Cin, L] with
 * weight [Cin, Cout/groups, k]; options as {@link convTranspose2d}'s over one spatial dim.
 *
 * @throws RangeError and TypeError as {@link convTranspose2d}.
 * @function
 */
export const convTranspose1d = defineComposite(
  "convTranspose1d",
  (
    x: Tensor,
    weight: Tensor,
    bias: Tensor | null = null,
    options: ConvTransposeOptions = {},
  ): Tensor =>
    convTransposeNd(
      "convTranspose1d",
      1,
      x,
      weight,
      bias,
      checkOptionsObject("convTranspose1d", options),
    ),
);
