// Large arrays the autograd engine found dead, kept for the next allocation of the same dtype and
// length instead of being left to the garbage collector. A fresh large typed array is costly
// even when the collector has freed an old one: the system allocator may have handed its pages
// back to the operating system, and the new array's first writes then fault each page in again
// (16 MB is 4,096 faults; from half a millisecond on bare metal to tens of milliseconds in some
// virtual machines). Only the engine releases arrays here, and only those no tensor a user can
// reach still uses (see autograd/dead-gradients.ts); every allocation may take one back
// (dtype.ts's allocate and allocateUnfilled).

import type { ArrayPool, DType, TypedArray } from "./dtype.js";

const TYPE_NAMES: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};

/**
 * At most this many bytes wait for reuse: enough for the dead gradients of one training step of
 * a layer over [4096, 1024] float32 values, bounded so that a program whose shapes keep changing
 * holds no more than this beyond what it uses.
 */
export const CACHE_MAX_BYTES = 256 * 1024 * 1024;

/** At most this many arrays of one dtype and length wait in the engine's cache. */
const MAX_PER_SIZE = 8;

/**
 * Free arrays by dtype and length, at most `maxBytes` in all and `maxPerSize` of one size (the
 * engine's cache; a compiled function's pool, compile/memory.ts, is one without bounds).
 */
export class ArrayCache implements ArrayPool {
  readonly #free = new Map<string, TypedArray[]>();
  /** Bytes waiting for reuse. */
  bytes = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxPerSize: number,
  ) {}

  take(dtype: DType, length: number): TypedArray | undefined {
    const key = `${TYPE_NAMES[dtype]}:${length}`;
    const list = this.#free.get(key);
    const array = list?.pop();
    if (array === undefined) return undefined;
    if (list!.length === 0) this.#free.delete(key);
    this.bytes -= array.byteLength;
    return array;
  }

  /**
   * Keeps `array` (which nothing references any more) for reuse. When that would pass the byte
   * limit, the sizes released longest ago are dropped first: with shapes that keep changing, the
   * cache follows the current ones instead of filling up with sizes nobody asks for again.
   */
  release(array: TypedArray): void {
    if (array.byteLength > this.maxBytes) return;
    const key = `${array.constructor.name}:${array.length}`;
    const list = this.#free.get(key) ?? [];
    if (list.length >= this.maxPerSize) return;
    // Map order is release order of sizes: this one moves to the end.
    this.#free.delete(key);
    for (const [oldKey, oldList] of this.#free) {
      if (this.bytes + array.byteLength <= this.maxBytes) break;
      for (const dropped of oldList) this.bytes -= dropped.byteLength;
      this.#free.delete(oldKey);
    }
    while (list.length > 0 && this.bytes + array.byteLength > this.maxBytes) {
      this.bytes -= list.shift()!.byteLength;
    }
    list.push(array);
    this.#free.set(key, list);
    this.bytes += array.byteLength;
  }

  /** Drops every waiting array (the garbage collector frees them). */
  clear(): void {
    this.#free.clear();
    this.bytes = 0;
  }
}

/** The process-wide cache the engine releases into and allocations take from. */
export const arrayCache = new ArrayCache(CACHE_MAX_BYTES, MAX_PER_SIZE);

/**
 * Frees the large arrays Koubai keeps for reuse, like `torch.cuda.empty_cache()`: after a
 * backward pass, the arrays of gradients and temporaries that nothing references any more (at
 * most 256 MB, the sizes released longest ago dropped first) wait for the next tensors of the
 * same dtype and length. Nothing a user holds is
 * ever among them; call this to give their memory back, e.g. before a phase that uses other
 * shapes. Koubai works the same either way.
 *
 * @example
 * ```ts
 * loss.backward();
 * emptyCache(); // the step's dead gradient arrays go to the garbage collector now
 * ```
 */
export function emptyCache(): void {
  arrayCache.clear();
}
