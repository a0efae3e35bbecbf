// Shared plumbing for op definitions: turning scalars into tensors, allocating outputs, running
// elementwise kernels under broadcasting, and reducing a broadcast gradient back to its input.

import { type BinaryRow, mapBinary, mapUnary, type UnaryRow } from "../kernels/elementwise.js";
import {
  allocateUnfilled,
  checkInt32Range,
  type DType,
  isFloat,
  promoteTensorTypes,
  promoteWithScalar,
} from "../tensor/dtype.js";
import { broadcastShapes, formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { TensorMeta } from "./define.js";

export type { TensorLike } from "../tensor/tensor.js";

import type { TensorLike } from "../tensor/tensor.js";

export function checkTensor(value: unknown, op: string, what = "input"): Tensor {
  if (value instanceof Tensor) return value;
  throw new TypeError(`${op}: ${what} must be a Tensor, got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value instanceof Tensor)
    return `a tensor of shape ${formatShape(value.shape)} and dtype ${value.dtype}`;
  if (Array.isArray(value)) return "an array (wrap it with tensor(...))";
  return value === null ? "null" : typeof value;
}

/** The dtype of a binary op between `a` and `b`, with PyTorch's promotion. */
export function resultDType(a: TensorLike, b: TensorLike, op: string): DType {
  if (typeof a === "number" && typeof b === "number") return "float32";
  if (typeof a === "number") return promoteWithScalar(checkTensor(b, op).dtype, a);
  if (typeof b === "number") return promoteWithScalar(checkTensor(a, op).dtype, b);
  return promoteTensorTypes(checkTensor(a, op), checkTensor(b, op, "other"));
}

/**
 * `value` as a tensor of `dtype` (a number becomes a 0-d tensor). A number outside the int32
 * range is refused for int32 rather than wrapped (2³¹ would become -2³¹).
 */
export function toTensor(value: TensorLike, dtype: DType, op: string): Tensor {
  if (typeof value === "number") {
    if (dtype === "int32") checkInt32Range(value, op, "the number");
    return Tensor.scalar(value, dtype);
  }
  return checkTensor(value, op).to(dtype);
}

// --- shape rules (see define.ts): the output shape from the arguments, reading only shapes ------

/** Shape rule of ops whose output has their first input's shape (the other arguments aside). */
export function sameShapeAs(
  x: { readonly shape: readonly number[] },
  ..._rest: unknown[]
): readonly number[] {
  return x.shape;
}

/** The shape of an operand: a JS number is 0-d. */
export function shapeOf(x: { readonly shape: readonly number[] } | number): readonly number[] {
  return typeof x === "number" ? [] : x.shape;
}

/** Shape rule of elementwise ops of two operands: their broadcast shape. */
export function broadcastShapeOf(
  a: { readonly shape: readonly number[] } | number,
  b: { readonly shape: readonly number[] } | number,
  ..._rest: unknown[]
): readonly number[] {
  return broadcastShapes(shapeOf(a), shapeOf(b), "broadcast");
}

// Outputs are allocated unfilled: the kernels write every element.

export function unaryForward(row: UnaryRow, x: Tensor, dtype: DType, op: string): Tensor {
  const out = allocateUnfilled(dtype, x.numel(), op, x.shape);
  mapUnary(row, x, out);
  return Tensor.fromTypedArray(out, x.shape);
}

/**
 * Broadcasts `a` and `b` and runs `row` into a new tensor of `dtype`. Kernels compute in JS
 * doubles and round once on store, which equals computing in the promoted dtype.
 */
export function binaryForward(
  row: BinaryRow,
  a: Tensor,
  b: Tensor,
  dtype: DType,
  op: string,
): Tensor {
  if (sameShape(a.shape, b.shape) && a.isContiguous() && b.isContiguous()) {
    // The common case in training loops: no broadcast views, one flat loop.
    const out = allocateUnfilled(dtype, a.numel(), op, a.shape);
    mapBinary(row, a, b, a.shape, out);
    return Tensor.fromTypedArray(out, a.shape);
  }
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocateUnfilled(dtype, numelOf(shape), op, shape);
  mapBinary(row, a.broadcastView(shape), b.broadcastView(shape), shape, out);
  return Tensor.fromTypedArray(out, shape);
}

/**
 * fn(t) for a broadcast view t (stride 0 along dims of size > 1: a reduction's gradient, expanded
 * back) computed on one copy of its distinct values and expanded again: the same values without a
 * full-size pass. For elementwise fn only; a dense t is passed through.
 */
export function onDistinctValues(t: Tensor, fn: (compact: Tensor) => Tensor): Tensor {
  let compact = t;
  t.strides.forEach((stride, d) => {
    if (stride === 0 && t.shape[d] > 1) compact = compact.narrow(d, 0, 1);
  });
  return compact === t ? fn(t) : fn(compact).expand(t.shape);
}

/**
 * The gradient of a broadcast input: sum `grad` over the dims that broadcasting added or
 * stretched, so it has `input`'s shape again, and cast it to `input`'s dtype.
 */
export function unbroadcast(grad: Tensor, input: TensorMeta): Tensor {
  const shape = input.shape;
  if (sameShape(grad.shape, shape)) {
    return grad.dtype === input.dtype ? grad : grad.to(input.dtype);
  }
  const lead = grad.shape.length - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < grad.shape.length; d++) {
    if (d < lead || (shape[d - lead] === 1 && grad.shape[d] !== 1)) dims.push(d);
  }
  let summed = dims.length > 0 ? grad.sum(dims, true) : grad;
  if (lead > 0) summed = summed.reshape(shape);
  return summed.dtype === input.dtype ? summed : summed.to(input.dtype);
}

export function requireFloat(x: Tensor, op: string): void {
  if (!isFloat(x.dtype)) {
    throw new TypeError(
      `${op}: expected a float32 or float64 tensor, got dtype ${x.dtype} (shape ${formatShape(x.shape)})`,
    );
  }
}

// --- arguments of the spatial ops (convolution, pooling) -----------------------------------------

/** One value per spatial dim from a number or a list, each an integer ≥ `min`. */
export function perSpatialDim(
  op: string,
  what: string,
  value: unknown,
  spatial: 1 | 2,
  min: number,
): number[] {
  const list = typeof value === "number" ? new Array<number>(spatial).fill(value) : value;
  if (
    !Array.isArray(list) ||
    list.length !== spatial ||
    !list.every((v) => Number.isInteger(v) && v >= min)
  ) {
    const form = spatial === 1 ? "an integer" : `an integer or ${spatial} integers`;
    throw new RangeError(
      `${op}: ${what} must be ${form}, each at least ${min}; got ${JSON.stringify(value)}`,
    );
  }
  return list;
}

/** `options` when it is a plain options object; a TypeError naming the op otherwise. */
export function checkOptionsObject<T extends object>(op: string, options: T): T {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `${op}: options must be an object such as { stride: 2 }, got ${describe(options)}`,
    );
  }
  return options;
}

/** The elements of `t` as one contiguous array starting at 0 (the tensor's own when it is so). */
export function denseFloats(t: Tensor): Float32Array | Float64Array {
  return (t.isContiguous() && t.offset === 0 ? t.data : t.toArray()) as Float32Array | Float64Array;
}
