// Reductions over one, several or all dims, with `keepdim`, one registry block each (see
// define.ts). Backward re-expands the gradient to the input's shape; tie rules follow PyTorch:
// amax/amin and full max/min split the gradient evenly among tied elements, max/min along a dim
// send it to the returned index. Longer than 300 lines: one table of blocks plus the variance
// kernel's driver.

import { isGradEnabled } from "../autograd/grad-mode.js";
import { mapBinary, subRow } from "../kernels/elementwise.js";
import { chainInner, chainOperandOf, chainWasm } from "../kernels/elementwise-chain.js";
import type { FloatArray } from "../kernels/gemm-js.js";
import { type ReduceKind, reduce, sumSquaredDeviations, useWasm } from "../kernels/reduce.js";
import { full } from "../tensor/creation.js";
import {
  allocate,
  allocateUnfilled,
  type DType,
  isFloat,
  type TypedArray,
} from "../tensor/dtype.js";
import {
  formatShape,
  normalizeDim,
  normalizeDims,
  numelOf,
  reducedShape,
} from "../tensor/shape.js";
import { type Dims, Tensor } from "../tensor/tensor.js";
import { activeTracer } from "../tensor/tracing.js";
import { chooseOnValue } from "./binary.js";
import {
  defineComposite,
  defineNonDifferentiable,
  defineOp,
  meta,
  type Op,
  type OpInfo,
  type Recorded,
  type TensorMeta,
} from "./define.js";
import { checkTensor, requireFloat, sameShapeAs } from "./helpers.js";
import { arangeLike } from "./indexing.js";
import { cat } from "./join.js";
import { flip } from "./rearrange.js";
import { cumprod } from "./scan.js";

/** The result of `max`/`min` along a dim, like PyTorch's `(values, indices)` named tuple. */
export interface ValuesIndices {
  /** The extreme values, of the input's shape without the reduced dim (kept as size 1 with `keepdim`). */
  values: Tensor;
  /** int32 positions along the reduced dim (first occurrence at ties). */
  indices: Tensor;
}

/** Options of {@link variance} and {@link std}, as `torch.var(x, dim, correction=, keepdim=)`. */
export interface VarianceOptions {
  /** Subtracted from the element count in the denominator: 1 (default) is unbiased, 0 biased. */
  correction?: number;
  /** Keep the reduced dims as size 1 (so the result broadcasts against the input). Default false. */
  keepdim?: boolean;
}

function run(kind: ReduceKind, x: Tensor, dims: number[], keepdim: boolean, dtype: DType): Tensor {
  const shape = reducedShape(x.shape, dims, keepdim);
  const out = allocate(dtype, numelOf(shape));
  reduce(kind, x, dims, out);
  return Tensor.fromTypedArray(out, shape);
}

/** `grad` (reduced over `dims`) reshaped to keep those dims, ready to broadcast against x. */
function keepDims(grad: Tensor, x: TensorMeta, dims: readonly number[], keepdim: boolean): Tensor {
  return keepdim ? grad : grad.reshape(reducedShape(x.shape, dims, true));
}

function checkNonEmpty(x: Tensor, dims: readonly number[], op: string): void {
  for (const d of dims.length === 0 && x.ndim > 0 ? [] : dims) {
    if (x.shape[d] === 0)
      throw new RangeError(
        `${op}: cannot reduce over dim ${d} of size 0 (shape ${formatShape(x.shape)}); the result would have no identity`,
      );
  }
  if (x.numel() === 0 && dims.length === x.ndim)
    throw new RangeError(`${op}: cannot reduce an empty tensor (shape ${formatShape(x.shape)})`);
}

/** Shape rule of reductions over `dim` (all dims when omitted). */
function reducedShapeOf(x: TensorMeta, dim?: Dims, keepdim?: boolean): readonly number[] {
  const dims = normalizeDims(dim, x.shape.length, "reduce", x.shape);
  return reducedShape(x.shape, dims, keepdim ?? false);
}

/** Shape rule of reductions over one `dim` (of all elements, flattened, when omitted). */
function reducedAlongShapeOf(x: TensorMeta, dim?: number, keepdim?: boolean): readonly number[] {
  if (dim === undefined) return keepdim ? x.shape.map(() => 1) : [];
  const dims = x.shape.length === 0 ? [] : [normalizeDim(dim, x.shape.length, "reduce", x.shape)];
  return reducedShape(x.shape, dims, keepdim ?? false);
}

/**
 * Σ over `dim` (all dims when omitted); d/dx = 1 (the gradient broadcast back). Integer and bool
 * inputs sum to int32.
 * @function
 */
export const sum = defineOp({
  name: "sum",
  rule: "d/dx = g, broadcast back over the summed dims",
  kind: "reduction",
  shape: reducedShapeOf,
  forward: (x: Tensor, dim?: Dims, keepdim: boolean = false) => {
    checkTensor(x, "sum");
    const dims = normalizeDims(dim, x.ndim, "sum", x.shape);
    const out = run("sum", x, dims, keepdim, isFloat(x.dtype) ? x.dtype : "int32");
    return { out, inputs: [x], saved: { x: meta(x), dims, keepdim } };
  },
  backward: ({ x, dims, keepdim }, gradOut) => [
    keepDims(gradOut, x, dims, keepdim).expand(x.shape),
  ],
});

/**
 * Arithmetic mean over `dim` (all dims when omitted; float tensors only); composed as sum / count.
 * @function
 */
export const mean = defineComposite("mean", (x: Tensor, dim?: Dims, keepdim = false): Tensor => {
  checkTensor(x, "mean");
  requireFloat(x, "mean");
  const dims = normalizeDims(dim, x.ndim, "mean", x.shape);
  const count = dims.reduce((n, d) => n * x.shape[d], 1);
  return sum(x, dims, keepdim).div(count);
});

/**
 * Π over one dim (all elements when omitted). d/dx_i = Π_{j≠i} x_j: out/x_i when no element is
 * zero, as PyTorch; otherwise the product of the others, as the product of those before and of
 * those after each element (exclusive running products, like PyTorch's), which stays right (also
 * for second derivatives) with one zero (only the zero gets a gradient) or several (all are 0).
 * @function
 */
export const prod = defineOp({
  name: "prod",
  rule: "d/dxᵢ = g·Π_{j≠i} xⱼ",
  kind: "reduction",
  shape: reducedAlongShapeOf,
  forward: (
    x: Tensor,
    dim?: number,
    keepdim: boolean = false,
  ): Tensor | Recorded<ProdSaved, Tensor> => {
    checkTensor(x, "prod");
    // All elements: one reduction over every dim, recorded as one call whose backward reads
    // only x and out.
    const d = dim === undefined ? null : normalizeDim(dim, x.ndim, "prod", x.shape);
    const dims = x.ndim === 0 ? [] : d === null ? x.shape.map((_, i) => i) : [d];
    const out = run("prod", x, dims, keepdim, isFloat(x.dtype) ? x.dtype : "int32");
    return { out, inputs: [x], saved: { x, out, d, dims, keepdim } };
  },
  backward: ({ x, out, d, dims, keepdim }, gradOut) => {
    const g = keepDims(gradOut, x, dims, keepdim);
    if (dims.length === 0) return [g];
    const withoutZeros = () => g.mul(keepDims(out, x, dims, keepdim)).div(x);
    const withZeros = () =>
      g.mul(
        d === null ? productOfOthers(x.reshape([-1]), 0).reshape(x.shape) : productOfOthers(x, d),
      );
    return [chooseOnValue(x.eq(0).sum().gt(0), withZeros, withoutZeros)];
  },
});

/** What prod's backward reads (d null: all elements). */
type ProdSaved = {
  x: Tensor;
  out: Tensor;
  d: number | null;
  dims: readonly number[];
  keepdim: boolean;
};

/**
 * Π_{j≠i} x_j along `dim`, for every i, without dividing: the product of the elements before i
 * times that of the elements after it, each an exclusive running product (O(n), exact with
 * zeros, differentiable again).
 */
function productOfOthers(x: Tensor, dim: number): Tensor {
  const n = x.shape[dim];
  const onesShape = x.shape.map((size, i) => (i === dim ? 1 : size));
  const ones = full(onesShape, 1, { dtype: x.dtype });
  const before = cat([ones, cumprod(x.narrow(dim, 0, n - 1), dim) as Tensor], dim);
  const reversed = flip(x, dim).narrow(dim, 0, n - 1);
  const after = flip(cat([ones, cumprod(reversed, dim) as Tensor], dim), dim);
  return before.mul(after);
}

/** What the backward of amax, amin and full max/min reads. */
type ExtremeSaved = { x: Tensor; out: Tensor; dims: readonly number[]; keepdim: boolean };

/** amax/amin/max/min over dims; recorded for float inputs only. */
function extreme(
  kind: "max" | "min",
  op: string,
  x: Tensor,
  dim: Dims | undefined,
  keepdim: boolean,
): Tensor | Recorded<ExtremeSaved, Tensor> {
  checkTensor(x, op);
  const dims = normalizeDims(dim, x.ndim, op, x.shape);
  checkNonEmpty(x, dims, op);
  const out = run(kind, x, dims, keepdim, x.dtype);
  if (!isFloat(x.dtype)) return out;
  return { out, inputs: [x], saved: { x, out, dims, keepdim } };
}

/** d/dx = 1/k on each of the k elements equal to the extreme, 0 elsewhere. */
function tiedShare({ x, out, dims, keepdim }: ExtremeSaved, gradOut: Tensor): Tensor[] {
  const hits = x.eq(keepDims(out, x, dims, keepdim)).to(x.dtype);
  const share = hits.div(hits.sum(dims, true));
  return [share.mul(keepDims(gradOut, x, dims, keepdim))];
}

/**
 * Maximum over `dim` (all dims when omitted); d/dx = 1/k on each of the k tied maxima, 0 elsewhere.
 * @function
 */
export const amax = defineOp({
  name: "amax",
  rule: "g split evenly among the maxima",
  kind: "reduction",
  shape: reducedShapeOf,
  forward: (x: Tensor, dim?: Dims, keepdim: boolean = false) =>
    extreme("max", "amax", x, dim, keepdim),
  backward: tiedShare,
});

/**
 * Minimum over `dim` (all dims when omitted); gradient split evenly among ties, as `amax`.
 * @function
 */
export const amin = defineOp({
  name: "amin",
  rule: "g split evenly among the minima",
  kind: "reduction",
  shape: reducedShapeOf,
  forward: (x: Tensor, dim?: Dims, keepdim: boolean = false) =>
    extreme("min", "amin", x, dim, keepdim),
  backward: tiedShare,
});

/** What the backward of max/min reads: as amax's over all dims, or the indices along one dim. */
type MaxMinSaved =
  | (ExtremeSaved & { indices: null })
  | { x: TensorMeta; indices: Tensor; d: number; dims: readonly number[]; keepdim: boolean };

/** Full max/min (ties share the gradient), or values and indices along `dim`. */
function maxOrMin(
  kind: "max" | "min",
  x: Tensor,
  dim: number | undefined,
  keepdim: boolean,
): Tensor | Recorded<MaxMinSaved, ValuesIndices> {
  if (dim === undefined) {
    const full = extreme(kind, kind, x, undefined, false);
    if (full instanceof Tensor) return full;
    return { out: full.out, inputs: full.inputs, saved: { ...full.saved, indices: null } };
  }
  checkTensor(x, kind);
  const d = normalizeDim(dim, x.ndim, kind, x.shape);
  const dims = x.ndim === 0 ? [] : [d];
  checkNonEmpty(x, dims, kind);
  const indices = run(kind === "max" ? "argmax" : "argmin", x, dims, keepdim, "int32");
  const values = run(kind, x, dims, keepdim, x.dtype);
  return {
    out: values,
    // Integer values carry no gradient: no input, so nothing is recorded.
    inputs: isFloat(x.dtype) ? [x] : [],
    saved: { x: meta(x), indices, d, dims, keepdim },
    result: (out) => ({ values: out, indices }),
  };
}

function maxMinBackward(saved: MaxMinSaved, gradOut: Tensor): Tensor[] {
  if (saved.indices === null) return tiedShare(saved, gradOut);
  const { x, indices, d, dims, keepdim } = saved;
  const chosen = arangeLike(x, d).eq(keepDims(indices, x, dims, keepdim));
  return [keepDims(gradOut, x, dims, keepdim).mul(chosen)];
}

/** `max`'s two forms, as `torch.max`. */
export interface MaxFunction {
  /**
   * The largest element of `x` as a 0-d tensor, like `torch.max(x)`. d/dx = 1/k on each of the
   * k tied maxima, 0 elsewhere.
   *
   * @throws RangeError when `x` is empty.
   */
  (x: Tensor): Tensor;
  /**
   * `{ values, indices }` of the maxima along `dim`, like `torch.max(x, dim)`: for `x` of
   * `[N, C]` and `dim` 1 both are `[N]` (`[N, 1]` with `keepdim`), `indices` int32, first at
   * ties. d/dx = gradOut at the returned index, 0 elsewhere.
   *
   * @throws RangeError when `dim` is out of range or has size 0.
   */
  (x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
}

/** `min`'s two forms, as `torch.min`. */
export interface MinFunction {
  /**
   * The smallest element of `x` as a 0-d tensor, like `torch.min(x)`; the gradient is split
   * evenly among tied minima.
   *
   * @throws RangeError when `x` is empty.
   */
  (x: Tensor): Tensor;
  /**
   * `{ values, indices }` of the minima along `dim`, like `torch.min(x, dim)`; shapes and
   * gradient as for `max` along a dim.
   *
   * @throws RangeError when `dim` is out of range or has size 0.
   */
  (x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
}

/**
 * The largest element, or the maxima along a dim with their indices; see {@link MaxFunction}.
 * @function
 */
export const max = defineOp({
  name: "max",
  rule: "g goes to the maximum (along a dim: the indexed one; overall: split among ties)",
  kind: "reduction",
  shape: reducedAlongShapeOf,
  forward: (x: Tensor, dim?: number, keepdim: boolean = false) => maxOrMin("max", x, dim, keepdim),
  backward: maxMinBackward,
}) as unknown as Op<
  MaxFunction,
  OpInfo<"max"> & { readonly differentiable: true; readonly internal: false }
>;

/**
 * The smallest element, or the minima along a dim with their indices; see {@link MinFunction}.
 * @function
 */
export const min = defineOp({
  name: "min",
  rule: "g goes to the minimum (along a dim: the indexed one; overall: split among ties)",
  kind: "reduction",
  shape: reducedAlongShapeOf,
  forward: (x: Tensor, dim?: number, keepdim: boolean = false) => maxOrMin("min", x, dim, keepdim),
  backward: maxMinBackward,
}) as unknown as Op<
  MinFunction,
  OpInfo<"min"> & { readonly differentiable: true; readonly internal: false }
>;

function argExtreme(
  kind: "argmax" | "argmin",
  x: Tensor,
  dim: number | undefined,
  keepdim: boolean,
): Tensor {
  checkTensor(x, kind);
  if (dim === undefined) {
    const flatInput = x.reshape([-1]);
    checkNonEmpty(flatInput, [0], kind);
    const flat = run(kind, flatInput, [0], false, "int32");
    return keepdim ? flat.reshape(x.shape.map(() => 1)) : flat;
  }
  const d = normalizeDim(dim, x.ndim, kind, x.shape);
  const dims = x.ndim === 0 ? [] : [d];
  checkNonEmpty(x, dims, kind);
  return run(kind, x, dims, keepdim, "int32");
}

/**
 * Index (int32) of the largest element along `dim`, or in the flattened tensor; first at ties.
 * Not differentiable.
 *
 * @throws RangeError when the reduced dim (or the tensor) is empty.
 * @function
 */
export const argmax = defineNonDifferentiable({
  name: "argmax",
  kind: "reduction",
  shape: reducedAlongShapeOf,
  forward: (x: Tensor, dim?: number, keepdim: boolean = false) =>
    argExtreme("argmax", x, dim, keepdim),
});

/**
 * Index (int32) of the smallest element along `dim`, or in the flattened tensor; first at ties.
 * Not differentiable.
 *
 * @throws RangeError when the reduced dim (or the tensor) is empty.
 * @function
 */
export const argmin = defineNonDifferentiable({
  name: "argmin",
  kind: "reduction",
  shape: reducedAlongShapeOf,
  forward: (x: Tensor, dim?: number, keepdim: boolean = false) =>
    argExtreme("argmin", x, dim, keepdim),
});

/**
 * log Σ exp(x) over dims, stably: the maximum m is taken out first, log Σ exp(x - m) + m, so
 * logits of ±1000 are fine. Composite: autograd derives d/dx = softmax(x).
 * @function
 */
export const logsumexp = defineComposite(
  "logsumexp",
  (x: Tensor, dim: Dims | undefined, keepdim = false): Tensor => {
    checkTensor(x, "logsumexp");
    requireFloat(x, "logsumexp");
    const dims = normalizeDims(dim, x.ndim, "logsumexp", x.shape);
    const peak = x.detach().amax(dims, true);
    const shift = peak.mul(peak.abs().lt(Number.POSITIVE_INFINITY)); // an infinite max would give inf - inf
    const result = x.sub(shift).exp().sum(dims, true).log().add(shift);
    return keepdim ? result : result.squeeze(dims);
  },
);

/**
 * Σ(x - mean)² / (N - correction) over `dim` (all dims when omitted); `correction` 1 (default) is
 * the unbiased estimate. Two-pass (mean first) with double accumulation, so a mean of 1e4 and a
 * spread of 0.1 come out right. d/dx = 2(x - mean)/(N - correction).
 * NOTE: a primitive, not a composite: through `x - mean(x)` autograd would add the mean path's
 * term -2·Σ(x - mean)/N, which is 0 in exact arithmetic but not in floating point, and costs
 * precision when |mean| ≫ std. The backward is written with differentiable ops, so the second
 * derivative 2(δᵢⱼ - 1/N)/(N - correction) still comes out. Exported as `var` too.
 * @function
 */
export const variance = defineOp({
  name: "var",
  rule: "d/dx = g·2(x - mean)/(N - correction)",
  kind: "reduction",
  shape: (x: TensorMeta, dim?: Dims, options: VarianceOptions = {}) =>
    reducedShapeOf(x, dim, options.keepdim),
  forward: (x: Tensor, dim?: Dims, options: VarianceOptions = {}) => {
    checkTensor(x, "var");
    requireFloat(x, "var");
    const { correction = 1, keepdim = false } = options;
    if (!Number.isFinite(correction) || correction < 0)
      throw new RangeError(`var: correction must be a non-negative number, got ${correction}`);
    const dims = normalizeDims(dim, x.ndim, "var", x.shape);
    const count = dims.reduce((n, d) => n * x.shape[d], 1);
    const divisor = Math.max(0, count - correction);
    // The forward runs in float64 even for float32 input: a float32 mean of values near 1e4 is
    // off by up to half an ulp (5e-4), which would bias a variance of 0.01 by ~1e-5 relative. Two
    // kernel passes, mean = Σx/count then Σ(x - mean)²/divisor, with no float64 copy of x.
    const shape = reducedShape(x.shape, dims, keepdim);
    const size = numelOf(shape);
    const mu = new Float64Array(size);
    reduce("sum", x, dims, mu);
    for (let o = 0; o < size; o++) mu[o] = mu[o] / count;
    const squares = new Float64Array(size);
    sumSquaredDeviations(x, dims, mu, squares);
    const values = allocate(x.dtype, size);
    for (let o = 0; o < size; o++) values[o] = squares[o] / divisor;
    const out = Tensor.fromTypedArray(values, shape);
    return { out, inputs: [x], saved: { x, mu, dims, keepdim, divisor } };
  },
  // 2/divisor scales the reduced-size gradient, not the full-size product: one pass fewer.
  // Under createGraph the mean must stay a function of x (it shapes the second derivative);
  // otherwise the forward's mean, rounded to x's dtype, saves a reduction pass.
  backward: ({ x, mu, dims, keepdim, divisor }, gradOut) => {
    const scale = keepDims(gradOut, x, dims, keepdim).mul(2 / divisor);
    // x - mean with the float64 mean, rounded once: a mean rounded to float32 first would be off
    // by up to half an ulp (5e-4 near 1e4), a large error against a spread of 0.1. Under
    // createGraph the difference must stay a function of x (it shapes the second derivative).
    // A tracer must see the difference made by an op, so it takes the op too.
    if (isGradEnabled() || activeTracer() !== null) return [center(x, dims).mul(scale)];
    // No graph is recorded, so the fresh x - mean is scaled in place: one full-size array
    // fewer, the same roundings.
    return [subtractMean(x, dims, mu).mul_(scale)];
  },
});

/**
 * √var over `dim` (all dims when omitted), unbiased by default; same options as `variance`.
 * @function
 */
export const std = defineComposite(
  "std",
  (x: Tensor, dim?: Dims, options: VarianceOptions = {}): Tensor =>
    variance(x, dim, options).sqrt(),
);

/**
 * `[var, mean]` over `dim` (all dims when omitted), like `torch.var_mean`: the variance as
 * {@link variance} computes it (unbiased unless `correction` says otherwise) and the mean.
 * @function
 */
export const varMean = defineComposite(
  "varMean",
  (x: Tensor, dim?: Dims, options: VarianceOptions = {}): [Tensor, Tensor] => {
    checkTensor(x, "varMean");
    return [variance(x, dim, options), mean(x, dim, options.keepdim ?? false)];
  },
);

/**
 * x minus its mean over `dim` (all dims when omitted), the mean taken in float64 and each
 * difference rounded once to x's dtype: exact to float32 rounding even for values near 1e4 with a
 * spread of 0.1, where `x.sub(x.mean(dim, true))` in float32 would carry the mean's rounding (up to
 * half an ulp of 1e4, 5e-4) into every element. d/dx = g - mean(g) over the same dims.
 *
 * @throws TypeError for a non-float input; RangeError for a bad dim.
 * @function
 */
export const center = defineOp({
  name: "center",
  rule: "d/dx = g - mean(g) over the centred dims",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim?: Dims) => {
    checkTensor(x, "center");
    requireFloat(x, "center");
    const dims = normalizeDims(dim, x.ndim, "center", x.shape);
    const count = dims.reduce((n, d) => n * x.shape[d], 1);
    const mu = new Float64Array(numelOf(reducedShape(x.shape, dims, true)));
    if (count > 0) {
      reduce("sum", x, dims, mu);
      for (let o = 0; o < mu.length; o++) mu[o] /= count;
    }
    return { out: subtractMean(x, dims, mu), inputs: [x], saved: { dims } };
  },
  backward: ({ dims }, gradOut): Tensor[] => [gradOut.sub(gradOut.mean(dims, true))],
});

/**
 * x - mu, mu holding float64 means over `dims` (one per kept position), into a new tensor of
 * x's dtype. float64 x: one subtraction, rounded once. float32 x: mu is split into a float32 head
 * and tail (hi + lo = mu to 2⁻⁴⁸ relative), and out = (x - hi) - lo, two float32 passes that run
 * in the WebAssembly kernels. Where x is within a factor of 2 of hi (values near a large mean, the
 * case that needs care) x - hi is exact, so the result is mu's difference rounded once; elsewhere
 * it is within one ulp of that.
 */
function subtractMean(x: TensorMeta & Tensor, dims: readonly number[], mu: Float64Array): Tensor {
  const out = allocateUnfilled(x.dtype, x.numel(), "center", x.shape);
  const meanShape = reducedShape(x.shape, dims, true);
  const broadcast = (values: TypedArray) =>
    Tensor.fromTypedArray(values, meanShape).broadcastView(x.shape);
  if (x.dtype === "float64") {
    mapBinary(subRow, x, broadcast(mu), x.shape, out);
    return Tensor.fromTypedArray(out, x.shape);
  }
  const hi = Float32Array.from(mu);
  const lo = new Float32Array(mu.length);
  for (let i = 0; i < mu.length; i++) lo[i] = mu[i] - hi[i];
  // Both subtractions in one pass where the WebAssembly chain reads x and the means' layout.
  if (useWasm(out, out.length)) {
    const operands = [x, broadcast(hi), broadcast(lo)].map((t) =>
      chainOperandOf(t as Tensor & { data: FloatArray }, x.shape),
    );
    const steps = [
      { op: "sub", a: 0, b: 1 },
      { op: "sub", a: 3, b: 2 },
    ] as const;
    const n = out.length;
    const written = [{ slot: 4, out: out as FloatArray }];
    if (
      operands.every((o) => o !== null) &&
      chainWasm(operands, steps, written, n, chainInner(x.shape))
    ) {
      return Tensor.fromTypedArray(out, x.shape);
    }
  }
  mapBinary(subRow, x, broadcast(hi), x.shape, out);
  const head = Tensor.fromTypedArray(out, x.shape);
  mapBinary(subRow, head, broadcast(lo), x.shape, out);
  return head;
}
