// Which large arrays a backward pass made that only the engine can reach, so that each goes back
// to the array cache (tensor/array-cache.ts) the moment nothing uses it: the gradient a node
// received once its backward has run, the temporaries a built-in backward made and dropped, and
// the partial sums of a node's gradients once added up. The next allocation of the same dtype and
// length, later in this pass or in the next forward, then reuses the array instead of asking the
// system for fresh memory. PyTorch frees such buffers the same way when their reference count
// drops to zero; here the engine counts the references itself, since it is the only holder.
//
// An array qualifies only when all of these hold:
// - it was allocated during this pass (the allocation watcher saw it), so no user code made it;
// - no gradient waiting in the engine's sums uses its buffer (counted per ArrayBuffer, so views
//   count too: reshape's backward hands on a view of its gradOut);
// - it never escaped: a leaf's `.grad` (adopted or copied into), a result of `autogradGrad`, a
//   retained gradient, or anything a custom op's backward (user code) saw or made.
// Not at all under `createGraph` (gradients are graph values then) or while a trace watches the
// pass (its steps keep every gradient), nor while compile() traces (its alias tracking reads
// buffers' identity).

import { arrayCache } from "../tensor/array-cache.js";
import { type TypedArray, watchAllocations } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";

function bufferOf(t: Tensor): ArrayBufferLike {
  return t.storage.data.buffer;
}

/** The arrays of one backward pass that may go back to the cache, and what still uses them. */
export class DeadGradients {
  /** Arrays this pass allocated, neither released nor escaped yet, by buffer. */
  readonly #made = new Map<ArrayBufferLike, TypedArray>();
  /** How many gradients waiting in the engine's sums use each buffer. */
  readonly #waiting = new Map<ArrayBufferLike, number>();
  /** Buffers to look at in the next sweep: just allocated, or just stopped waiting. */
  #candidates: ArrayBufferLike[] = [];
  readonly #previousWatcher: ((array: TypedArray) => void) | null;

  constructor() {
    this.#previousWatcher = watchAllocations((array) => {
      // Only arrays that are all of their buffer: a view into a larger one is never recycled.
      if (array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) {
        this.#made.set(array.buffer, array);
        this.#candidates.push(array.buffer);
      }
      this.#previousWatcher?.(array); // whoever watched before the pass still sees its arrays
    });
  }

  /** A gradient now waits in the engine's sums. */
  hold(t: Tensor): void {
    const buffer = bufferOf(t);
    this.#waiting.set(buffer, (this.#waiting.get(buffer) ?? 0) + 1);
  }

  /** A gradient left the engine's sums (taken by its node, or replaced by a total). */
  drop(t: Tensor): void {
    const buffer = bufferOf(t);
    const count = this.#waiting.get(buffer);
    if (count === undefined) throw new Error("DeadGradients.drop: a gradient that was not held");
    if (count > 1) this.#waiting.set(buffer, count - 1);
    else {
      this.#waiting.delete(buffer);
      this.#candidates.push(buffer);
    }
  }

  /** `t` is reachable from outside the engine from now on: its array is never recycled. */
  escape(t: Tensor | null): void {
    if (t !== null) this.#made.delete(bufferOf(t));
  }

  /** Everything allocated so far escapes (a custom op's backward, user code, saw it). */
  escapeAll(): void {
    this.#made.clear();
  }

  /** Sends every array of this pass that nothing uses any more to the cache. */
  sweep(): void {
    for (const buffer of this.#candidates) {
      const array = this.#made.get(buffer);
      if (array === undefined || this.#waiting.has(buffer)) continue;
      this.#made.delete(buffer);
      arrayCache.release(array);
    }
    this.#candidates = [];
  }

  /** Stops watching allocations (the pass is over). */
  finish(): void {
    watchAllocations(this.#previousWatcher);
  }
}
