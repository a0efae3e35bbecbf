// Creating tensors: from nested arrays or typed arrays, filled, ranges, identity, and random
// (from a seedable Generator). Every function validates its shape and dtype arguments.

import {
  allocate,
  allocateUnfilled,
  assertDType,
  checkInt32Range,
  type DType,
  isFloat,
  type TypedArray,
} from "./dtype.js";
import { defaultGenerator, type Generator } from "./random.js";
import { formatShape, MAX_DIMS, numelOf, validateShape } from "./shape.js";
import { type NestedArray, Tensor } from "./tensor.js";
import { setActiveTracer, traceable } from "./tracing.js";

/**
 * `fn`, seen by a tracer as one call of kind "creation": a compiled function makes the tensor
 * again on every call (fresh zeros, new random draws from the same generator), as eager code does.
 */
function creation<F extends (...args: never[]) => Tensor>(name: string, fn: F): F {
  const traced = traceable({ name, kind: "creation" }, fn);
  Object.defineProperty(traced, "name", { value: name });
  return traced;
}

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
  if (!options?.requiresGrad) return t;
  // Part of the creation call, which a replay makes again whole: not a change a tracer records
  // on its own (it would meet the new tensor before the creation returns it).
  const tracer = setActiveTracer(null);
  try {
    t.requiresGrad_(true);
  } finally {
    setActiveTracer(tracer);
  }
  return t;
}

/**
 * The shape and row-major leaves of nested arrays, walked level by level (no recursion, so deep
 * input cannot overflow the stack). The first path fixes the shape; every other list must match.
 */
function flattenNested(data: readonly unknown[]): { shape: number[]; leaves: unknown[] } {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    if (shape.length === MAX_DIMS) {
      throw new RangeError(
        `tensor: nested arrays deeper than ${MAX_DIMS} levels; a tensor has at most ${MAX_DIMS} dims`,
      );
    }
    shape.push(level.length);
    level = level[0];
  }
  let lists: readonly unknown[][] = [data as unknown[]];
  for (let depth = 0; depth < shape.length; depth++) {
    const next: unknown[] = [];
    for (const list of lists) {
      if (!Array.isArray(list)) {
        throw new RangeError(
          `tensor: ragged nested arrays: found ${typeof list} ${String(list)} at depth ${depth} where the first path has a list of length ${shape[depth]}`,
        );
      }
      if (list.length !== shape[depth]) {
        throw new RangeError(
          `tensor: ragged nested arrays: a list at depth ${depth} has length ${list.length}, expected ${shape[depth]} (the length on the first path)`,
        );
      }
      for (let i = 0; i < list.length; i++) next.push(list[i]);
    }
    lists = next as unknown[][];
  }
  const leaves = lists as unknown[];
  for (let i = 0; i < leaves.length; i++) {
    const v = leaves[i];
    if (Array.isArray(v)) {
      throw new RangeError(
        `tensor: ragged nested arrays: a list at depth ${shape.length} (flat position ${i}) where the first path has a number`,
      );
    }
    if (typeof v !== "number" && typeof v !== "boolean") {
      throw new TypeError(
        `tensor: data must hold only numbers (or booleans), found ${v === null ? "null" : typeof v} at flat position ${i}`,
      );
    }
  }
  return { shape, leaves };
}

/** Typed arrays whose values int32 holds exactly: `tensor` reads them as int32 by default. */
const SMALL_INTEGER_ARRAYS = [Int8Array, Int16Array, Uint16Array, Uint8ClampedArray] as const;

/**
 * The dtype `tensor` gives a typed array when no dtype is passed, or a TypeError naming the
 * array type when Koubai has no dtype that keeps its values.
 */
function naturalDType(data: ArrayBufferView): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool"; // bool storage; values are checked to be 0 or 1
  if (SMALL_INTEGER_ARRAYS.some((Kind) => data instanceof Kind)) return "int32";
  // Range-checked per value: int32 is the only integer dtype.
  if (
    data instanceof Uint32Array ||
    data instanceof BigInt64Array ||
    data instanceof BigUint64Array
  )
    return "int32";
  const Float16 = (globalThis as { Float16Array?: new () => ArrayBufferView }).Float16Array;
  if (Float16 !== undefined && data instanceof Float16) return "float32"; // float32 holds every float16
  const kind = data instanceof DataView ? "a DataView" : `a view of type ${data.constructor?.name}`;
  throw new TypeError(
    `tensor: cannot read ${kind}: it has no element type Koubai stores; pass a Float32Array, Float64Array, Int32Array or another typed array of numbers (for raw bytes, e.g. new Float32Array(view.buffer, view.byteOffset, view.byteLength / 4))`,
  );
}

/**
 * A tensor holding a copy of `data`: a number (a 0-d tensor), nested arrays, or a typed array
 * (pass `shape` for more than 1-D), like `torch.tensor`. Numbers and arrays default to float32.
 * Without a `dtype`, a typed array keeps its values exactly: Float32Array, Float64Array and
 * Int32Array keep their dtype; Int8Array, Int16Array, Uint16Array and Uint8ClampedArray become
 * int32, as do Uint32Array, BigInt64Array and BigUint64Array, whose values must then fit int32;
 * a Uint8Array (a Node Buffer too) is bool storage, so it must hold only 0 and 1 (pass
 * `dtype: "int32"` for bytes). With a `dtype`, values are converted to it: to bool, nonzero
 * (NaN included) is true; to int32, values must be integers inside the int32 range.
 *
 * @throws RangeError for ragged nested arrays, nesting deeper than 64, a `shape` that does not
 * match the data's length, or int32 values outside [-2147483648, 2147483647].
 * @throws TypeError for non-numeric elements, non-integers with dtype int32, an unknown dtype, or
 * a DataView (no element type).
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);                          // [2, 3] float32
 * const y = tensor([0, 2], { dtype: "int32" });                       // class indices
 * const w = tensor(new Float64Array(6), { shape: [3, 2], requiresGrad: true });
 * ```
 */
export const tensor = creation(
  "tensor",
  function tensor(
    data: number | NestedArray[] | TypedArray | readonly number[] | ArrayBufferView,
    options: TensorOptions = {},
  ): Tensor {
    let values: ArrayLike<unknown>;
    let shape: number[];
    let dtype: DType;
    let natural: DType | null = null;
    if (ArrayBuffer.isView(data)) {
      natural = naturalDType(data);
      values = data as unknown as ArrayLike<unknown>;
      dtype = options.dtype ? assertDType(options.dtype, "tensor") : natural;
      shape = options.shape ? validateShape(options.shape, "tensor") : [values.length];
    } else if (typeof data === "number" || typeof data === "boolean") {
      values = [data];
      shape = [];
      dtype = options.dtype ? assertDType(options.dtype, "tensor") : "float32";
    } else if (Array.isArray(data)) {
      const nested = flattenNested(data);
      values = nested.leaves;
      shape = options.shape ? validateShape(options.shape, "tensor") : nested.shape;
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
    const out = allocate(dtype, values.length, "tensor", shape);
    const source = natural === null ? "" : ` (of the ${(data as object).constructor.name})`;
    if (natural === "bool" && options.dtype === undefined) {
      // A Uint8Array read as bool: any other byte value would be silently changed to 1.
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number;
        if (v > 1) {
          throw new RangeError(
            `tensor: a Uint8Array is read as bool (0 or 1), but element ${i} is ${v}; pass { dtype: "int32" } to keep byte values`,
          );
        }
        out[i] = v;
      }
    } else if (dtype !== "bool" && values.constructor === out.constructor) {
      out.set(values as never); // the same kind of typed array: every value fits as it is
    } else if (dtype === "bool") {
      for (let i = 0; i < values.length; i++) out[i] = Number(values[i]) !== 0 ? 1 : 0;
    } else if (dtype === "int32") {
      for (let i = 0; i < values.length; i++) {
        const v = Number(values[i]);
        if (!Number.isInteger(v))
          throw new TypeError(`tensor: int32 data must be integers, got ${v} at position ${i}`);
        checkInt32Range(v, "tensor", `the value at position ${i}${source}`);
        out[i] = v;
      }
    } else {
      for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
    }
    return finish(Tensor.fromTypedArray(out, shape), options);
  },
);

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
    const data = allocateUnfilled(dtype, numelOf(dims), op, dims);
    return finish(Tensor.fromTypedArray(data, dims), options);
  }
  if (typeof value !== "number")
    throw new TypeError(`${op}: the fill value must be a number, got ${typeof value}`);
  if (dtype === "int32") checkInt32Range(value, op, "fill value");
  const data = allocate(dtype, numelOf(dims), op, dims);
  if (value !== 0) data.fill(dtype === "bool" ? 1 : value);
  return finish(Tensor.fromTypedArray(data, dims), options);
}

/** `t.shape` for the `...Like` functions, with an error naming `op` when `t` is no tensor. */
function shapeOf(t: Tensor, op: string): readonly number[] {
  if (t instanceof Tensor) return t.shape;
  const got = Array.isArray(t)
    ? "an array (wrap it with tensor(...))"
    : t === null
      ? "null"
      : typeof t;
  throw new TypeError(`${op}: expected a Tensor, got ${got}`);
}

/**
 * A tensor of `shape` whose values are unspecified, like torch.empty: for a result you are about
 * to overwrite in full (with `copy_`, or a kernel's output). In Node a large one (4 MB and up)
 * skips the zero fill, which saves about 1 ms per 16 MB, and may hold any bytes the process used
 * before (as torch.empty's memory may); one of 1 MB and up may reuse an array a backward pass
 * recycled (see `emptyCache`), as it was left, in Node and browsers alike. Smaller ones hold
 * zeros today, but code must not rely on any of this. Validates like {@link zeros}.
 */
export const empty = creation(
  "empty",
  (shape: readonly number[], options: CreateOptions = {}): Tensor =>
    filled(shape, null, options, "empty"),
);
/** {@link empty} of `t`'s shape and dtype (options override the dtype); never in `t`'s graph. */
export const emptyLike = creation(
  "emptyLike",
  (t: Tensor, options: CreateOptions = {}): Tensor =>
    filled(shapeOf(t, "emptyLike"), null, { dtype: t.dtype, ...options }, "emptyLike"),
);

/**
 * A tensor of `shape` filled with 0 (float32 unless `dtype` says otherwise).
 *
 * @throws TypeError or RangeError when `shape` is not an array of non-negative integers, or for
 * an unknown dtype.
 */
export const zeros = creation(
  "zeros",
  (shape: readonly number[], options: CreateOptions = {}): Tensor =>
    filled(shape, 0, options, "zeros"),
);
/** A tensor of `shape` filled with 1; validates like {@link zeros}. */
export const ones = creation(
  "ones",
  (shape: readonly number[], options: CreateOptions = {}): Tensor =>
    filled(shape, 1, options, "ones"),
);
/** A tensor of `shape` filled with `value`; validates like {@link zeros}. */
export const full = creation(
  "full",
  (shape: readonly number[], value: number, options: CreateOptions = {}): Tensor =>
    filled(shape, value, options, "full"),
);
/** Zeros of `t`'s shape and dtype (options override the dtype); never in `t`'s graph. */
export const zerosLike = creation(
  "zerosLike",
  (t: Tensor, options: CreateOptions = {}): Tensor =>
    filled(shapeOf(t, "zerosLike"), 0, { dtype: t.dtype, ...options }, "zerosLike"),
);
/** Ones of `t`'s shape and dtype (options override the dtype), e.g. a `backward` seed. */
export const onesLike = creation(
  "onesLike",
  (t: Tensor, options: CreateOptions = {}): Tensor =>
    filled(shapeOf(t, "onesLike"), 1, { dtype: t.dtype, ...options }, "onesLike"),
);
/** `value` at every position of `t`'s shape, in `t`'s dtype unless options override it. */
export const fullLike = creation(
  "fullLike",
  (t: Tensor, value: number, options: CreateOptions = {}): Tensor =>
    filled(shapeOf(t, "fullLike"), value, { dtype: t.dtype, ...options }, "fullLike"),
);

/** start, start+step, ... (< end), like torch.arange; integers give int32 unless a dtype is given. */
export const arange = creation(
  "arange",
  function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
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
    if (dtype === "int32" && n > 0) {
      checkInt32Range(from, "arange", "start");
      checkInt32Range(from + (n - 1) * step, "arange", "last value");
    }
    const data = allocate(dtype, n, "arange", [n]);
    for (let i = 0; i < n; i++) data[i] = from + i * step;
    return finish(Tensor.fromTypedArray(data, [n]), options);
  },
);

/** `steps` evenly spaced values from start to end inclusive. */
export const linspace = creation(
  "linspace",
  function linspace(
    start: number,
    end: number,
    steps: number,
    options: CreateOptions = {},
  ): Tensor {
    if (!Number.isInteger(steps) || steps < 0)
      throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
    const dtype = options.dtype ? assertDType(options.dtype, "linspace") : "float32";
    if (dtype === "int32") {
      checkInt32Range(start, "linspace", "start");
      checkInt32Range(end, "linspace", "end");
    }
    const data = allocate(dtype, steps, "linspace", [steps]);
    const step = steps > 1 ? (end - start) / (steps - 1) : 0;
    // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
    for (let i = 0; i < steps; i++)
      data[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
    return finish(Tensor.fromTypedArray(data, [steps]), options);
  },
);

/** The n×m identity matrix (m defaults to n). */
export const eye = creation(
  "eye",
  function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
    const t = filled([n, m], 0, { ...options, requiresGrad: false }, "eye");
    for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
    return finish(t, options);
  },
);

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
  const data = allocate(dtype, numelOf(dims), op, dims);
  for (let i = 0; i < data.length; i++) data[i] = draw(generator);
  // float32 rounding can turn a value just below 1 into 1; keep rand in [0, 1).
  if (op === "rand" && dtype === "float32")
    for (let i = 0; i < data.length; i++) if (data[i] >= 1) data[i] = 0.99999994;
  return finish(Tensor.fromTypedArray(data, dims), options);
}

/** Uniform samples in [0, 1). */
export const rand = creation(
  "rand",
  (shape: readonly number[], options: RandomOptions = {}): Tensor =>
    random(shape, options, "rand", (g) => g.uniform()),
);
/** Standard normal samples. */
export const randn = creation(
  "randn",
  (shape: readonly number[], options: RandomOptions = {}): Tensor =>
    random(shape, options, "randn", (g) => g.normal()),
);

/**
 * Uniform integers in [low, high), int32 unless `dtype` says otherwise. The bounds must fit the
 * dtype: int32 values in [-2³¹, 2³¹), float bounds within ±2⁵³ (where every integer is exact),
 * bool within [0, 2].
 */
export const randint = creation(
  "randint",
  function randint(
    low: number,
    high: number,
    shape: readonly number[],
    options: RandomOptions = {},
  ): Tensor {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new RangeError(`randint: need integers low < high, got low ${low} and high ${high}`);
    }
    const dtype = options.dtype ? assertDType(options.dtype, "randint") : "int32";
    if (dtype === "int32") {
      checkInt32Range(low, "randint", "low");
      checkInt32Range(high - 1, "randint", "high - 1 (the largest value drawn)");
    } else if (dtype === "bool" && (low < 0 || high > 2)) {
      throw new RangeError(
        `randint: bool values are 0 or 1, so low and high must be within [0, 2]; got ${low} and ${high}`,
      );
    } else if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
      throw new RangeError(
        `randint: low ${low} and high ${high} must be within ±2^53 for ${dtype}`,
      );
    }
    const dims = validateShape(shape, "randint");
    const generator = options.generator ?? defaultGenerator;
    const data = allocate(dtype, numelOf(dims), "randint", dims);
    for (let i = 0; i < data.length; i++) data[i] = generator.integer(low, high);
    return finish(Tensor.fromTypedArray(data, dims), options);
  },
);
