// Creating tensors: from nested arrays or typed arrays, filled, ranges, identity, and random
// (from a seedable Generator). Every function validates its shape and dtype arguments.

import {
  allocate,
  allocateUnfilled,
  assertDType,
  type DType,
  dtypeOfArray,
  isFloat,
  type TypedArray,
} from "./dtype.js";
import { defaultGenerator, type Generator } from "./random.js";
import { formatShape, numelOf, validateShape } from "./shape.js";
import { type NestedArray, Tensor } from "./tensor.js";

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Default float32 (int32 for `randint` and `arange` of integers). */
  dtype?: DType;
  /** Make the result a leaf that requires grad (float dtypes only). Default false. */
  requiresGrad?: boolean;
}

/** Options of {@link tensor}. */
export interface TensorOptions extends CreateOptions {
  /** The shape for flat data (a typed array or a flat list); inferred from nesting otherwise. */
  shape?: readonly number[];
}

/** Options of the random creation functions ({@link rand}, {@link randn}, {@link randint}). */
export interface RandomOptions extends CreateOptions {
  /** Source of randomness; seed one with `new Generator(seed)`. Default the global `defaultGenerator`. */
  generator?: Generator;
}

function finish(t: Tensor, options: CreateOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function inferShape(data: NestedArray | readonly NestedArray[]): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

/**
 * A tensor holding a copy of `data`: a number (a 0-d tensor), nested arrays, or a typed array
 * (its dtype is kept unless `dtype` says otherwise; pass `shape` for more than 1-D), like
 * `torch.tensor`. Numbers and arrays default to float32.
 *
 * @throws RangeError for ragged nested arrays or a `shape` that does not match the data's length.
 * @throws TypeError for non-numeric elements, non-integers with dtype int32, or an unknown dtype.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);                          // [2, 3] float32
 * const y = tensor([0, 2], { dtype: "int32" });                       // class indices
 * const w = tensor(new Float64Array(6), { shape: [3, 2], requiresGrad: true });
 * ```
 */
export function tensor(
  data: number | NestedArray[] | TypedArray | readonly number[],
  options: TensorOptions = {},
): Tensor {
  let values: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    values = data as TypedArray;
    dtype = options.dtype ? assertDType(options.dtype, "tensor") : dtypeOfArray(data as TypedArray);
    shape = options.shape ? validateShape(options.shape, "tensor") : [values.length];
  } else if (typeof data === "number") {
    values = [data];
    shape = [];
    dtype = options.dtype ? assertDType(options.dtype, "tensor") : "float32";
  } else if (Array.isArray(data)) {
    const nestedShape = inferShape(data as NestedArray[]);
    const flat = (data as unknown[]).flat(Number.POSITIVE_INFINITY as 1) as unknown[];
    for (let i = 0; i < flat.length; i++) {
      if (typeof flat[i] !== "number" && typeof flat[i] !== "boolean") {
        throw new TypeError(
          `tensor: data must hold only numbers, found ${typeof flat[i]} at flat position ${i}`,
        );
      }
    }
    if (numelOf(nestedShape) !== flat.length) {
      throw new RangeError(
        `tensor: ragged nested arrays (the first path suggests shape ${formatShape(nestedShape)} but there are ${flat.length} numbers)`,
      );
    }
    checkRagged(data as NestedArray[], nestedShape, 0);
    values = flat as number[];
    shape = options.shape ? validateShape(options.shape, "tensor") : nestedShape;
    dtype = options.dtype ? assertDType(options.dtype, "tensor") : "float32";
  } else {
    throw new TypeError(
      `tensor: expected a number, nested arrays or a typed array, got ${data === null ? "null" : typeof data}`,
    );
  }
  if (numelOf(shape) !== values.length) {
    throw new RangeError(
      `tensor: shape ${formatShape(shape)} needs ${numelOf(shape)} values, got ${values.length}`,
    );
  }
  const out = allocate(dtype, values.length);
  if (dtype === "bool") for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else if (dtype === "int32") {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isInteger(Number(values[i])))
        throw new TypeError(
          `tensor: int32 data must be integers, got ${values[i]} at position ${i}`,
        );
      out[i] = values[i];
    }
  } else for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  return finish(Tensor.fromTypedArray(out, shape), options);
}

function checkRagged(data: NestedArray[], shape: number[], depth: number): void {
  if (data.length !== shape[depth]) {
    throw new RangeError(
      `tensor: ragged nested arrays: a list at depth ${depth} has length ${data.length}, expected ${shape[depth]}`,
    );
  }
  if (depth + 1 < shape.length) {
    for (const child of data) {
      if (!Array.isArray(child))
        throw new RangeError(`tensor: ragged nested arrays: expected a list at depth ${depth + 1}`);
      checkRagged(child, shape, depth + 1);
    }
  }
}

/** A validated tensor of `shape` holding `value` everywhere; null leaves the storage unfilled. */
function filled(
  shape: readonly number[],
  value: number | null,
  options: CreateOptions,
  op: string,
): Tensor {
  const dims = validateShape(shape, op);
  const dtype = options.dtype ? assertDType(options.dtype, op) : "float32";
  if (value === null) {
    return finish(Tensor.fromTypedArray(allocateUnfilled(dtype, numelOf(dims)), dims), options);
  }
  const data = allocate(dtype, numelOf(dims));
  if (value !== 0) data.fill(dtype === "bool" ? (value ? 1 : 0) : value);
  return finish(Tensor.fromTypedArray(data, dims), options);
}

/**
 * A tensor of `shape` whose values are unspecified, like torch.empty: for a result you are about
 * to overwrite in full (with `copy_`, or a kernel's output). In Node a large one (4 MB and up)
 * skips the zero fill, which saves about 1 ms per 16 MB, and may hold any bytes the process used
 * before (as torch.empty's memory may); elsewhere, and below that size, it holds zeros, but code
 * must not rely on that. Validates like {@link zeros}.
 */
export const empty = (shape: readonly number[], options: CreateOptions = {}): Tensor =>
  filled(shape, null, options, "empty");
/** {@link empty} of `t`'s shape and dtype (options override the dtype); never in `t`'s graph. */
export const emptyLike = (t: Tensor, options: CreateOptions = {}): Tensor =>
  empty(t.shape, { dtype: t.dtype, ...options });

/**
 * A tensor of `shape` filled with 0 (float32 unless `dtype` says otherwise).
 *
 * @throws TypeError or RangeError when `shape` is not an array of non-negative integers, or for
 * an unknown dtype.
 */
export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor =>
  filled(shape, 0, options, "zeros");
/** A tensor of `shape` filled with 1; validates like {@link zeros}. */
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor =>
  filled(shape, 1, options, "ones");
/** A tensor of `shape` filled with `value`; validates like {@link zeros}. */
export const full = (
  shape: readonly number[],
  value: number,
  options: CreateOptions = {},
): Tensor => filled(shape, value, options, "full");
/** Zeros of `t`'s shape and dtype (options override the dtype); never in `t`'s graph. */
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor =>
  zeros(t.shape, { dtype: t.dtype, ...options });
/** Ones of `t`'s shape and dtype (options override the dtype), e.g. a `backward` seed. */
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor =>
  ones(t.shape, { dtype: t.dtype, ...options });
/** `value` at every position of `t`'s shape, in `t`'s dtype unless options override it. */
export const fullLike = (t: Tensor, value: number, options: CreateOptions = {}): Tensor =>
  full(t.shape, value, { dtype: t.dtype, ...options });

/** start, start+step, ... (< end), like torch.arange; integers give int32 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  if (!Number.isFinite(from) || !Number.isFinite(to) || !Number.isFinite(step) || step === 0) {
    throw new RangeError(
      `arange: start ${from}, end ${to} and step ${step} must be finite, with step nonzero`,
    );
  }
  const n = Math.max(0, Math.ceil((to - from) / step));
  const allInts = [from, to, step].every(Number.isInteger);
  const dtype = options.dtype
    ? assertDType(options.dtype, "arange")
    : allInts
      ? "int32"
      : "float32";
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = from + i * step;
  return finish(Tensor.fromTypedArray(data, [n]), options);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(
  start: number,
  end: number,
  steps: number,
  options: CreateOptions = {},
): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const data = allocate(options.dtype ? assertDType(options.dtype, "linspace") : "float32", steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
  for (let i = 0; i < steps; i++)
    data[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
  return finish(Tensor.fromTypedArray(data, [steps]), options);
}

/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = zeros([n, m], { ...options, requiresGrad: false });
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return finish(t, options);
}

function random(
  shape: readonly number[],
  options: RandomOptions,
  op: string,
  draw: (g: Generator) => number,
): Tensor {
  const dims = validateShape(shape, op);
  const dtype = options.dtype ? assertDType(options.dtype, op) : "float32";
  if (!isFloat(dtype)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const generator = options.generator ?? defaultGenerator;
  const data = allocate(dtype, numelOf(dims));
  for (let i = 0; i < data.length; i++) data[i] = draw(generator);
  // float32 rounding can turn a value just below 1 into 1; keep rand in [0, 1).
  if (op === "rand" && dtype === "float32")
    for (let i = 0; i < data.length; i++) if (data[i] >= 1) data[i] = 0.99999994;
  return finish(Tensor.fromTypedArray(data, dims), options);
}

/** Uniform samples in [0, 1). */
export const rand = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  random(shape, options, "rand", (g) => g.uniform());
/** Standard normal samples. */
export const randn = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  random(shape, options, "randn", (g) => g.normal());

/** Uniform integers in [low, high) as int32. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: RandomOptions = {},
): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got low ${low} and high ${high}`);
  }
  const dims = validateShape(shape, "randint");
  const generator = options.generator ?? defaultGenerator;
  const data = allocate(
    options.dtype ? assertDType(options.dtype, "randint") : "int32",
    numelOf(dims),
  );
  for (let i = 0; i < data.length; i++) data[i] = generator.integer(low, high);
  return finish(Tensor.fromTypedArray(data, dims), options);
}
