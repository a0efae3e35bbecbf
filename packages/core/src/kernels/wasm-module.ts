// Loading the kernels' WebAssembly modules. Each wrapper (gemm-wasm.ts, elementwise-wasm.ts, ...)
// compiles its module on first use, once, and falls back to its JavaScript loops where that
// fails: no WebAssembly, or no SIMD128 (the module then does not validate).

import { formatBytes } from "./format-bytes.js";

/** The bytes of a base64 string (atob works in browsers and Node alike). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Scratch memory up to this size stays with a module's shared instance, to be reused by the next
 * call. A call that needs more runs on an instance of its own ({@link WasmLoader.fresh}), whose
 * memory the garbage collector returns once the call is over: WebAssembly memory can grow but
 * never shrink, so one large call on the shared instance would hold its peak for the life of
 * the process.
 */
export const KEPT_SCRATCH_BYTES = 64 << 20;

/** What {@link lazyInstance} returns: the shared instance, and a way to get a private one. */
export interface WasmLoader<T> {
  /** The shared instance's prepared value (created on the first call), or null where it cannot load. */
  (): T | null;
  /** A new instance with its own memory, for one large call; null where the module cannot load. */
  fresh(): T | null;
  /** The shared value for calls needing at most {@link KEPT_SCRATCH_BYTES}, else a fresh one. */
  forScratch(bytes: number): T | null;
}

/**
 * A loader for the module in `base64`. Its first call compiles and instantiates the module
 * (synchronously: every kernel module stays under the browsers' 4 KB limit for that) and returns
 * `prepare(exports)`; later calls return the same value. Where compiling or instantiating throws,
 * it returns null, and keeps returning null. The compiled module is kept, so `fresh()` only
 * instantiates.
 */
export function lazyInstance<T>(
  base64: string,
  prepare: (exports: WebAssembly.Exports) => T,
): WasmLoader<T> {
  const instantiate = instantiator(base64, prepare);
  let value: T | null | undefined;
  const shared = (() => {
    if (value === undefined) value = instantiate({});
    return value;
  }) as WasmLoader<T>;
  shared.fresh = () => (shared() === null ? null : instantiate({}));
  shared.forScratch = (bytes) => (bytes <= KEPT_SCRATCH_BYTES ? shared() : shared.fresh());
  return shared;
}

/**
 * Grows a module's memory to at least `bytes` and returns its (possibly new) buffer, or null
 * when the runtime refuses (past WebAssembly's 4 GiB, or out of memory). Growing detaches the
 * old buffer, so views made before the call must be made again.
 */
export function tryGrowMemory(memory: WebAssembly.Memory, bytes: number): ArrayBuffer | null {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) {
    try {
      memory.grow(Math.ceil(missing / 65536));
    } catch {
      return null;
    }
  }
  return memory.buffer;
}

/**
 * {@link tryGrowMemory}, throwing a RangeError that names `op` and the bytes asked for when the
 * memory cannot grow.
 */
export function growMemory(memory: WebAssembly.Memory, bytes: number, op: string): ArrayBuffer {
  const buffer = tryGrowMemory(memory, bytes);
  if (buffer === null) {
    throw new RangeError(
      `${op}: cannot get ${bytes} bytes (${formatBytes(bytes)}) of WebAssembly memory for the kernel's scratch space; the runtime refused to grow it`,
    );
  }
  return buffer;
}

/**
 * For a module that imports its memory (`env.memory`): returns a function that instantiates it
 * on a given memory (the module is compiled once, on first use) and returns `prepare(exports)`,
 * or null where it cannot load. Lets one module's loops work on the values another module's
 * loops left in the same memory.
 */
export function onImportedMemory<T>(
  base64: string,
  prepare: (exports: WebAssembly.Exports) => T,
): (memory: WebAssembly.Memory) => T | null {
  const instantiate = instantiator(base64, prepare);
  return (memory) => instantiate({ env: { memory } });
}

/**
 * Instantiates the module in `base64` with the given imports and returns `prepare(exports)`, or
 * null where compiling or instantiating throws. The module is compiled on the first call, once;
 * a module that failed to compile is not tried again.
 */
function instantiator<T>(
  base64: string,
  prepare: (exports: WebAssembly.Exports) => T,
): (imports: WebAssembly.Imports) => T | null {
  let compiled: WebAssembly.Module | null | undefined;
  return (imports) => {
    if (compiled === undefined) {
      try {
        compiled = new WebAssembly.Module(decodeBase64(base64));
      } catch {
        compiled = null;
      }
    }
    if (compiled === null) return null;
    try {
      return prepare(new WebAssembly.Instance(compiled, imports).exports);
    } catch {
      return null;
    }
  };
}

/**
 * Views of a module's memory by element type, byte offset and length, made once per buffer (a
 * memory that grows gets a new buffer, and the old one's views go with it): a training step runs
 * the same kernels on the same places call after call, which then make no views.
 */
const memoryViews = new WeakMap<
  ArrayBufferLike,
  [Map<number, Float32Array>, Map<number, Float64Array>]
>();

/** At most this many views are kept per buffer and element type (then they are made afresh). */
const MAX_MEMORY_VIEWS = 512;

/** `length` float32 (or float64) values of `buffer` from byte `at`, as a view kept for reuse. */
export function memoryView(
  buffer: ArrayBufferLike,
  isF32: true,
  at: number,
  length: number,
): Float32Array;
export function memoryView(
  buffer: ArrayBufferLike,
  isF32: boolean,
  at: number,
  length: number,
): Float32Array | Float64Array;
export function memoryView(
  buffer: ArrayBufferLike,
  isF32: boolean,
  at: number,
  length: number,
): Float32Array | Float64Array {
  let byType = memoryViews.get(buffer);
  if (byType === undefined) {
    byType = [new Map(), new Map()];
    memoryViews.set(buffer, byType);
  }
  const byPlace: Map<number, Float32Array | Float64Array> = byType[isF32 ? 0 : 1];
  // Exact while offsets stay below 2^27 bytes; past that, two places may share a key and the
  // check below makes the view again.
  const key = at * 2 ** 26 + length;
  let view = byPlace.get(key);
  if (view === undefined || view.byteOffset !== at || view.length !== length) {
    if (byPlace.size >= MAX_MEMORY_VIEWS) byPlace.clear();
    view = isF32 ? new Float32Array(buffer, at, length) : new Float64Array(buffer, at, length);
    byPlace.set(key, view);
  }
  return view;
}
