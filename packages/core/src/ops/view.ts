// Views: new shape/strides/offset over the same storage, no copy. Each backward maps the
// gradient back through the inverse view (transpose ↔ transpose, expand ↔ sum, narrow ↔ pad).
// Also cast, contiguous and clone, which copy.

import { record } from "../autograd/node.js";
import { copyToContiguous, writeToView } from "../kernels/strided.js";
import { allocate, allocateUnfilled, type DType, isFloat } from "../tensor/dtype.js";
import {
  contiguousStrides,
  formatShape,
  normalizeDim,
  normalizeDims,
  numelOf,
  validateShape,
} from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { checkTensor } from "./helpers.js";

export function dimIndex(dim: number, x: Tensor, op: string): number {
  return normalizeDim(dim, x.shape.length, op, x.shape);
}

function makeView(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(x.storage, shape, strides, offset);
}

/** A contiguous copy with no graph edge. */
function materialize(x: Tensor, op: string, dtype: DType = x.dtype): Tensor {
  const out = allocateUnfilled(dtype, x.numel(), op, x.shape); // copyToContiguous writes every element
  copyToContiguous(x, out);
  return Tensor.fromTypedArray(out, x.shape);
}

/** The same values in `dtype`; d/dx = identity, cast back to x's dtype. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, "cast");
  if (x.dtype === dtype) return x;
  const out = materialize(x, "to", dtype);
  if (!isFloat(dtype)) return out; // integer results carry no gradient
  return record("cast", out, [x], (gradOut) => [gradOut.to(x.dtype)]);
}

/** A contiguous copy of x (x itself when already contiguous); d/dx = identity. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return record("contiguous", materialize(x, "contiguous"), [x], (gradOut) => [gradOut]);
}

/** A copy of x in fresh storage; d/dx = identity. */
export function clone(x: Tensor): Tensor {
  return record("clone", materialize(x, "clone"), [x], (gradOut) => [gradOut]);
}

function inferShape(x: Tensor, shape: readonly number[], op: string): number[] {
  const n = x.numel();
  let inferred = -1;
  const out = shape.slice();
  for (let d = 0; d < out.length; d++) {
    if (out[d] === -1) {
      if (inferred !== -1)
        throw new RangeError(`${op}: only one dimension can be -1, got ${formatShape(shape)}`);
      inferred = d;
    } else if (!Number.isInteger(out[d]) || out[d] < 0) {
      throw new RangeError(
        `${op}: invalid shape ${formatShape(shape)} (sizes must be non-negative integers or a single -1)`,
      );
    }
  }
  if (inferred !== -1) {
    const known = numelOf(out.filter((_, d) => d !== inferred));
    if (known === 0 || n % known !== 0) {
      throw new RangeError(
        `${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(x.shape)} (${n} elements)`,
      );
    }
    out[inferred] = n / known;
  }
  if (numelOf(out) !== n) {
    throw new RangeError(
      `${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(x.shape)} (${n} elements)`,
    );
  }
  return out;
}

/** Strides for viewing x as `shape` without a copy, or null when the layout does not allow it. */
function viewStrides(x: Tensor, shape: readonly number[]): number[] | null {
  // With no elements any strides address nothing (the dim matching below would never meet a
  // zero-sized count), so empty tensors always view, as in PyTorch.
  if (x.isContiguous() || x.numel() === 0) return contiguousStrides(shape);
  // Merge/split dims only within runs of x's dims that are contiguous with each other.
  const oldShape: number[] = [];
  const oldStrides: number[] = [];
  x.shape.forEach((s, d) => {
    if (s !== 1) {
      oldShape.push(s);
      oldStrides.push(x.strides[d]);
    }
  });
  const strides = new Array<number>(shape.length).fill(1);
  let oi = 0;
  let ni = 0;
  while (ni < shape.length) {
    if (shape[ni] === 1) {
      strides[ni] = 1;
      ni++;
      continue;
    }
    if (oi >= oldShape.length) return null;
    // Take a chunk of old dims and a chunk of new dims with equal element counts.
    let oldCount = oldShape[oi];
    let newCount = shape[ni];
    const oStart = oi;
    const nStart = ni;
    while (oldCount !== newCount) {
      if (oldCount < newCount) oldCount *= oldShape[++oi];
      else {
        ni++;
        while (shape[ni] === 1) ni++;
        newCount *= shape[ni];
      }
    }
    for (let d = oStart; d < oi; d++)
      if (oldStrides[d] !== oldStrides[d + 1] * oldShape[d + 1]) return null;
    let stride = oldStrides[oi];
    for (let d = ni; d >= nStart; d--) {
      strides[d] = stride;
      stride *= shape[d];
    }
    oi++;
    ni++;
  }
  return strides;
}

/** x with a new shape (one entry may be -1); a view when the layout allows, else a copy. d/dx = reshape back. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "reshape");
  const target = inferShape(x, shape, "reshape");
  const strides = viewStrides(x, target);
  const base = strides === null ? materialize(x, "reshape") : x;
  const out = makeView(
    base,
    target,
    strides ?? contiguousStrides(target),
    strides === null ? 0 : x.offset,
  );
  return record("reshape", out, [x], (gradOut) => [gradOut.reshape(x.shape)]);
}

/** Like `reshape`, but always a view: an error when the layout would need a copy. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "view");
  const target = inferShape(x, shape, "view");
  const strides = viewStrides(x, target);
  if (strides === null) {
    throw new Error(
      `view: shape ${formatShape(target)} is not compatible with the strides of the input (shape ${formatShape(x.shape)}, ` +
        `strides ${formatShape(x.strides)}); use reshape(), or contiguous() first`,
    );
  }
  const out = makeView(x, target, strides, x.offset);
  return record("view", out, [x], (gradOut) => [gradOut.reshape(x.shape)]);
}

/** Swaps two dims; d/dx = the same transpose of the gradient. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor(x, "transpose");
  const a = dimIndex(dim0, x, "transpose");
  const b = dimIndex(dim1, x, "transpose");
  if (x.ndim === 0) return x;
  const shape = x.shape.slice();
  const strides = x.strides.slice();
  [shape[a], shape[b]] = [shape[b], shape[a]];
  [strides[a], strides[b]] = [strides[b], strides[a]];
  return record("transpose", makeView(x, shape, strides, x.offset), [x], (gradOut) => [
    gradOut.transpose(a, b),
  ]);
}

/** Transpose of a tensor with at most 2 dims. */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2)
    throw new RangeError(
      `t: expects a tensor with at most 2 dims, got shape ${formatShape(x.shape)}; use transpose or permute`,
    );
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Reorders dims; d/dx = the inverse permutation of the gradient. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, "permute");
  if (dims.length !== x.ndim) {
    throw new RangeError(
      `permute: got ${dims.length} dims ${formatShape(dims)} for a tensor of shape ${formatShape(x.shape)}`,
    );
  }
  const order = dims.map((d) => dimIndex(d, x, "permute"));
  if (new Set(order).size !== order.length)
    throw new RangeError(`permute: dims ${formatShape(dims)} repeat a dim`);
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => {
    inverse[d] = i;
  });
  const out = makeView(
    x,
    order.map((d) => x.shape[d]),
    order.map((d) => x.strides[d]),
    x.offset,
  );
  return record("permute", out, [x], (gradOut) => [gradOut.permute(inverse)]);
}

/**
 * Broadcasts x to `shape` without copying (stride 0); -1 keeps a size, new dims go in front.
 * d/dx = the gradient summed over the expanded dims.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "expand");
  validateShape(
    shape.map((s) => (s === -1 ? 0 : s)),
    "expand",
  );
  const lead = shape.length - x.ndim;
  if (lead < 0) {
    throw new RangeError(
      `expand: target shape ${formatShape(shape)} has fewer dims than the input ${formatShape(x.shape)}`,
    );
  }
  const target = shape.map((s, d) => {
    if (d < lead) {
      if (s === -1)
        throw new RangeError(
          `expand: -1 is not allowed for the new leading dim ${d} in ${formatShape(shape)}`,
        );
      return s;
    }
    const own = x.shape[d - lead];
    if (s === -1) return own;
    if (own !== 1 && own !== s) {
      throw new RangeError(
        `expand: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (dim ${d}: size ${own} must be 1 or equal ${s})`,
      );
    }
    return s;
  });
  const out = x.broadcastView(target);
  return record("expand", makeView(x, target, out.strides, x.offset), [x], (gradOut) => {
    const dims: number[] = [];
    for (let d = 0; d < target.length; d++)
      if (d < lead || (x.shape[d - lead] === 1 && target[d] !== 1)) dims.push(d);
    const summed = dims.length > 0 ? gradOut.sum(dims, true) : gradOut;
    return [lead > 0 ? summed.reshape(x.shape) : summed];
  });
}

/** Removes size-1 dims (all, or the given ones if they have size 1); d/dx = reshape back. */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  checkTensor(x, "squeeze");
  const dims =
    dim === undefined ? x.shape.map((_, d) => d) : normalizeDims(dim, x.ndim, "squeeze", x.shape);
  const keep = x.shape.map((s, d) => !(s === 1 && dims.includes(d)));
  const out = makeView(
    x,
    x.shape.filter((_, d) => keep[d]),
    x.strides.filter((_, d) => keep[d]),
    x.offset,
  );
  return record("squeeze", out, [x], (gradOut) => [gradOut.reshape(x.shape)]);
}

/** Inserts a size-1 dim at `dim` (in [-ndim-1, ndim]); d/dx = squeeze it again. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, "unsqueeze");
  const d = normalizeDim(dim, x.ndim + 1, "unsqueeze", x.shape);
  const shape = x.shape.slice();
  const strides = x.strides.slice();
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return record("unsqueeze", makeView(x, shape, strides, x.offset), [x], (gradOut) => [
    gradOut.reshape(x.shape),
  ]);
}

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, "flatten");
  if (x.ndim === 0) return reshape(x, [1]);
  const s = dimIndex(startDim, x, "flatten");
  const e = dimIndex(endDim, x, "flatten");
  if (s > e)
    throw new RangeError(
      `flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
    );
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/**
 * Elements start, start+step, ... (< stop) along `dim`, as `x[:, start:stop:step]`; negative start
 * and stop count from the end and are clamped like Python slices. d/dx = the gradient scattered
 * back into zeros at the same positions.
 */
export function slice(
  x: Tensor,
  dim: number,
  start?: number | null,
  stop?: number | null,
  step = 1,
): Tensor {
  checkTensor(x, "slice");
  const d = dimIndex(dim, x, "slice");
  if (!Number.isInteger(step) || step <= 0)
    throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
  ] as const) {
    if (v !== undefined && v !== null && !Number.isInteger(v))
      throw new RangeError(`slice: ${name} must be an integer, got ${v}`);
  }
  const size = x.shape[d];
  const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const from = start === undefined || start === null ? 0 : clampIndex(start);
  const to = stop === undefined || stop === null ? size : clampIndex(stop);
  const length = Math.max(0, Math.ceil((to - from) / step));
  const shape = x.shape.slice();
  const strides = x.strides.slice();
  shape[d] = length;
  strides[d] = x.strides[d] * step;
  const out = makeView(x, shape, strides, x.offset + from * x.strides[d]);
  return record("slice", out, [x], (gradOut) => [sliceScatter(gradOut, x.shape, d, from, step)]);
}

/** `narrow(x, dim, start, length)` = `slice(x, dim, start, start + length)`, with bounds checked. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor(x, "narrow");
  const d = dimIndex(dim, x, "narrow");
  const size = x.shape[d];
  const begin = start < 0 ? start + size : start;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    begin < 0 ||
    length < 0 ||
    begin + length > size
  ) {
    throw new RangeError(
      `narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  return slice(x, d, begin, begin + length);
}

/** The slice at `index` along `dim`, with that dim removed. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  checkTensor(x, "select");
  const d = dimIndex(dim, x, "select");
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(
      `select: index ${index} is out of range for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  const i = index < 0 ? index + size : index;
  return squeeze(slice(x, d, i, i + 1), d);
}

/**
 * The inverse of slicing, as a differentiable op: zeros of `shape` with `src` written at
 * from, from+step, ... along `dim`. d/dsrc = the same slice of the gradient.
 */
export function sliceScatter(
  src: Tensor,
  shape: readonly number[],
  dim: number,
  from: number,
  step: number,
): Tensor {
  const data = allocate(src.dtype, numelOf(shape), "sliceScatter", shape);
  const out = Tensor.fromTypedArray(data, shape);
  const strides = out.strides.slice();
  strides[dim] *= step;
  const window = new Tensor(out.storage, src.shape, strides, from * out.strides[dim]);
  writeToView(window, src.toArray());
  return record("sliceScatter", out, [src], (gradOut) => [
    gradOut.slice(dim, from, from + src.shape[dim] * step, step),
  ]);
}
