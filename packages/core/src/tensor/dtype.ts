// Element types, their typed-array storage, and PyTorch's promotion rule between them.

import { formatBytes } from "../kernels/format-bytes.js";
import { arrayCache } from "./array-cache.js";
import type { Tensor } from "./tensor.js";

/**
 * Element types a tensor can hold. `float32` is the default; `int32` is for indices and class
 * targets; `bool` is what comparisons return. Only float tensors can require gradients.
 */
export type DType = "float32" | "float64" | "int32" | "bool";

/** Every {@link DType} as a list, for validating and iterating over dtypes. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** The typed array behind each dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface TypedArrayMap {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

const CONSTRUCTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

/** Bytes per element of `dtype`'s typed array. */
export function bytesPerElement(dtype: DType): number {
  return CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

/** The smallest and largest int32 values. */
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** True when `value` is an integer that an int32 tensor holds exactly. */
export function fitsInt32(value: number): boolean {
  return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
}

/**
 * Throws a RangeError naming `op` unless `value` is inside the int32 range; Int32Array would
 * otherwise wrap it silently (2³¹ becomes -2³¹). Non-integers are the caller's business.
 */
export function checkInt32Range(value: number, op: string, what: string): void {
  if (!(value >= INT32_MIN && value <= INT32_MAX)) {
    throw new RangeError(
      `${op}: ${what} is ${value}, outside the int32 range [${INT32_MIN}, ${INT32_MAX}]; use a float dtype (float64 holds integers up to 2^53 exactly)`,
    );
  }
}

/**
 * The error for an array the runtime refused to allocate (a length over its typed-array limit,
 * or memory it could not get), naming `op`, the shape and the bytes asked for.
 */
function allocationError(
  dtype: DType,
  length: number,
  op: string,
  shape: readonly number[] | undefined,
  cause: unknown,
): RangeError {
  const bytes = length * CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
  const what =
    shape === undefined
      ? `${length} ${dtype} elements`
      : `a ${dtype} tensor of shape [${shape.join(", ")}]`;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RangeError(
    `${op}: cannot allocate ${what} (${bytes} bytes, ${formatBytes(bytes)}): the runtime refused with "${reason}"`,
  );
}

/**
 * A zero-filled typed array of `length` elements for `dtype`. When the runtime refuses (too
 * long, or out of memory) the RangeError names `op` and `shape` (the tensor being made).
 */
export function allocate(
  dtype: DType,
  length: number,
  op = "allocate",
  shape?: readonly number[],
): TypedArray {
  const reused = takeReusable(dtype, length);
  if (reused !== undefined) return watched(reused.fill(0));
  return watched(fresh(dtype, length, op, shape));
}

/** A new zero-filled array (no reuse), reported to the pool set. */
function fresh(dtype: DType, length: number, op: string, shape?: readonly number[]): TypedArray {
  let array: TypedArray;
  try {
    array = new CONSTRUCTORS[dtype](length);
  } catch (e) {
    throw allocationError(dtype, length, op, shape, e);
  }
  pool?.fresh?.(array);
  return array;
}

/**
 * From this many bytes, {@link allocateUnfilled} skips zero-filling where the runtime allows it.
 * Below it there is nothing to gain: smaller arrays come from fresh pages the system has already
 * zeroed, and the zero fill of a 16 MB array (about 1 ms) is what a [4096, 1024] op saves.
 */
const UNFILLED_MIN_BYTES = 4 << 20;

/** Node's Buffer.allocUnsafeSlow (memory not zero-filled); undefined in browsers. */
const allocUnsafeSlow = (
  globalThis as { Buffer?: { allocUnsafeSlow?: (size: number) => Uint8Array<ArrayBuffer> } }
).Buffer?.allocUnsafeSlow;

/** Test hook: the value unfilled arrays are filled with instead, and the size from which. */
let poison: { value: number; minBytes: number } | null = null;

/** Arrays a compiled function's replay hands back for reuse (see compile/memory.ts). */
export interface ArrayPool {
  /**
   * An array of this dtype and length that nothing references any more, or undefined. Called
   * once per allocation.
   */
  take(dtype: DType, length: number): TypedArray | undefined;
  /**
   * Told of the array an allocation got after `take` had none: made anew, or taken from the
   * engine's cache (which only holds arrays nothing references).
   */
  fresh?(array: TypedArray): void;
  /**
   * The tensor over `array` of `shape` made by the same allocation of an earlier call, to be made
   * again now (see Tensor.fromTypedArray); undefined when a new one is to be made, which is then
   * handed to `madeTensor`.
   */
  tensorOver?(array: TypedArray, shape: readonly number[]): Tensor | undefined;
  madeTensor?(array: TypedArray, tensor: Tensor): void;
}

let pool: ArrayPool | null = null;

/** The pool set by setArrayPool, or null. */
export function arrayPool(): ArrayPool | null {
  return pool;
}

/** Makes `next` the pool allocations draw from first (null: none); returns the previous one. */
export function setArrayPool(next: ArrayPool | null): ArrayPool | null {
  const previous = pool;
  pool = next;
  return previous;
}

/** An array nothing references any more: from the pool set, else from the engine's cache. */
function takeReusable(dtype: DType, length: number): TypedArray | undefined {
  const pooled = pool?.take(dtype, length);
  if (pooled !== undefined) return pooled;
  if (length * CONSTRUCTORS[dtype].BYTES_PER_ELEMENT < WATCH_MIN_BYTES) return undefined;
  const cached = arrayCache.take(dtype, length);
  if (cached !== undefined) pool?.fresh?.(cached);
  return cached;
}

/**
 * Arrays from this size are reported to the allocation watcher and taken from the cache. Smaller
 * ones are not worth it yet: a fresh one costs microseconds (3-9 µs above 64 bytes on the
 * benchmark machine), where a fresh 16 MB one costs up to tens of milliseconds in page faults.
 */
export const WATCH_MIN_BYTES = 1024 * 1024;

let watcher: ((array: TypedArray) => void) | null = null;

/**
 * Makes `next` receive every array of at least WATCH_MIN_BYTES that allocate and
 * allocateUnfilled hand out (null: none); returns the previous watcher. The autograd engine
 * watches a backward pass to learn which arrays only it can reach.
 */
export function watchAllocations(
  next: ((array: TypedArray) => void) | null,
): ((array: TypedArray) => void) | null {
  const previous = watcher;
  watcher = next;
  return previous;
}

function watched<A extends TypedArray>(array: A): A {
  if (watcher !== null && array.byteLength >= WATCH_MIN_BYTES) watcher(array);
  return array;
}

/**
 * A typed array of `length` elements for `dtype` whose contents are unspecified, like the
 * outputs PyTorch allocates with `at::empty`: for kernels that write every element. In Node, a
 * large one is not zero-filled (Buffer.allocUnsafeSlow); elsewhere it is {@link allocate}'s. An
 * array from the compiled function's pool or the engine's cache comes as it was left.
 */
export function allocateUnfilled(
  dtype: DType,
  length: number,
  op = "allocate",
  shape?: readonly number[],
): TypedArray {
  const Constructor = CONSTRUCTORS[dtype];
  const bytes = length * Constructor.BYTES_PER_ELEMENT;
  const reused = takeReusable(dtype, length);
  if (reused !== undefined) {
    return watched(
      poison !== null && bytes >= poison.minBytes ? reused.fill(poison.value) : reused,
    );
  }
  if (poison !== null && bytes >= poison.minBytes) {
    return watched(fresh(dtype, length, op, shape).fill(poison.value));
  }
  if (bytes < UNFILLED_MIN_BYTES || typeof allocUnsafeSlow !== "function") {
    return watched(fresh(dtype, length, op, shape));
  }
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = allocUnsafeSlow(bytes);
  } catch {
    // Above Buffer's own size limit (4 GiB in Node 20, less in browser polyfills), where a
    // typed array may still be allowed.
    return watched(fresh(dtype, length, op, shape));
  }
  const array = new Constructor(raw.buffer, raw.byteOffset, length);
  pool?.fresh?.(array);
  return watched(array);
}

/**
 * For tests: make {@link allocateUnfilled} fill arrays of at least `minBytes` with `value` (NaN,
 * say), so a kernel that leaves an element unwritten shows it; null restores normal behaviour.
 */
export function setUnfilledPoison(next: { value: number; minBytes: number } | null): void {
  poison = next;
}

export function isFloat(dtype: DType): dtype is "float32" | "float64" {
  return dtype === "float32" || dtype === "float64";
}

/** The dtype of a tensor's own storage (a Uint8Array is bool storage); for user data see creation.ts. */
export function dtypeOfArray(array: TypedArray): DType {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Float64Array) return "float64";
  if (array instanceof Int32Array) return "int32";
  return "bool";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's promotion between two tensors: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

/**
 * PyTorch's promotion between two tensors: a 0-d tensor only decides the result when it is of a
 * higher category (bool < integer < float) than the other, dimensioned one; otherwise the
 * dimensioned tensor's dtype wins among equals (so float32 [N] + float64 0-d stays float32).
 */
export function promoteTensorTypes(
  a: { dtype: DType; shape: readonly number[] },
  b: { dtype: DType; shape: readonly number[] },
): DType {
  const aScalar = a.shape.length === 0;
  const bScalar = b.shape.length === 0;
  if (aScalar === bScalar) return promoteTypes(a.dtype, b.dtype);
  const [dimensioned, zeroDim] = aScalar ? [b, a] : [a, b];
  return CATEGORY[zeroDim.dtype] > CATEGORY[dimensioned.dtype] ? zeroDim.dtype : dimensioned.dtype;
}

/**
 * The dtype of `tensor op number`: a JS number is a "wrapped scalar" in PyTorch's terms and never
 * widens a float tensor, but a non-integer number lifts an integer/bool tensor to float32.
 */
export function promoteWithScalar(dtype: DType, scalar: number): DType {
  if (isFloat(dtype)) return dtype;
  if (!Number.isInteger(scalar)) return "float32";
  return dtype === "bool" ? "int32" : dtype;
}

/** The dtype a float-only op (exp, div, mean, ...) computes in: integers become float32. */
export function floatDType(dtype: DType): "float32" | "float64" {
  return dtype === "float64" ? "float64" : "float32";
}

export function assertDType(value: unknown, op: string): DType {
  if (typeof value === "string" && (DTYPES as readonly string[]).includes(value))
    return value as DType;
  throw new TypeError(
    `${op}: unknown dtype ${JSON.stringify(value)}; expected one of ${DTYPES.join(", ")}`,
  );
}
