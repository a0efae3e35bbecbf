// Reusing the arrays of a replay's intermediate values. At plan time, each value a replay makes
// gets the step after which nothing reads it; at run time, once every value living in an array's
// memory is dead, the array goes to the compiled function's pool, and the next allocation of that
// dtype and length (in this call or a later one) takes it instead of a fresh array. Arrays that
// may outlive the call are never pooled: the inputs', captured tensors', and those of values that
// escape (the result, gradients assigned to `.grad`, what an optimizer step receives), with every
// view of them, since liveness is counted per ArrayBuffer.

import { ArrayCache } from "../tensor/array-cache.js";
import { type DType, type TypedArray, WATCH_MIN_BYTES } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { forEachInArgs, type TracedNode, TracedValue } from "./trace.js";

/** The free arrays of one compiled function's plan, by type and length, without bounds. */
export class ReplayPool extends ArrayCache {
  /** Arrays handed out again during the latest call. */
  reused = 0;

  constructor() {
    super(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  override take(dtype: DType, length: number): TypedArray | undefined {
    const array = super.take(dtype, length);
    if (array !== undefined) this.reused++;
    return array;
  }
}

/** What one replay step reads and makes, as liveness needs it. */
export interface StepValues {
  /** The values it reads (a custom op's backward also reads what its forward saved). */
  readonly reads: readonly TracedValue[];
  /** The values it makes (outputs and saved tensors of its calls). */
  readonly makes: readonly TracedValue[];
  /** True for an effect (setting `.grad`, an optimizer step): what it receives escapes. */
  readonly effect: boolean;
}

/** The reads and makes of a step made of `units` (one call, or a fused run of calls). */
export function stepValues(units: readonly TracedNode[]): StepValues {
  const reads: TracedValue[] = [];
  const makes: TracedValue[] = [];
  for (const unit of units) {
    forEachInArgs(unit.args, (x) => {
      if (x instanceof TracedValue) reads.push(x);
      else reads.push(...x.producer.saved);
    });
    makes.push(...unit.outputs, ...unit.saved);
  }
  return { reads, makes, effect: units.some((u) => u.kind === "effect") };
}

/** Values from this size have their arrays reused: the size the engine recycles from too. */
export const REUSE_MIN_BYTES = WATCH_MIN_BYTES;

function bytesOf(v: TracedValue): number {
  const size = v.shape.reduce((n, s) => n * s, 1);
  return size * (v.dtype === "float64" ? 8 : v.dtype === "bool" ? 1 : 4);
}

/**
 * For each step, the values worth reusing (at least REUSE_MIN_BYTES) that die after it; and the
 * values that must outlive the call. Every value a step makes still counts as a use of its
 * buffer (ReplayMemory.made), small ones too: a small view keeps a large array alive.
 */
export function liveness(
  steps: readonly StepValues[],
  outputs: readonly TracedValue[],
): { dies: TracedValue[][]; escaping: Set<TracedValue> } {
  const escaping = new Set<TracedValue>(outputs);
  const last = new Map<TracedValue, number>();
  steps.forEach((step, s) => {
    for (const v of step.makes) if (!last.has(v)) last.set(v, s);
    for (const v of step.reads) {
      last.set(v, s);
      if (step.effect) escaping.add(v);
    }
  });
  const big = (v: TracedValue) => bytesOf(v) >= REUSE_MIN_BYTES;
  const dies: TracedValue[][] = steps.map(() => []);
  for (const [v, s] of last) {
    if (v.source === "op" && !escaping.has(v) && big(v)) dies[s].push(v);
  }
  return { dies, escaping };
}

/** True when the array is all of its ArrayBuffer (a view into a larger one is never pooled). */
function ownsBuffer(array: TypedArray): boolean {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength;
}

/**
 * One call's bookkeeping: how many live values use each buffer, and which buffers are pinned.
 * `made` after each step registers its new values; `died` releases arrays no live value uses.
 */
export class ReplayMemory {
  readonly #uses = new Map<ArrayBufferLike, number>();
  readonly #pinned = new Set<ArrayBufferLike>();
  readonly #counted: Uint8Array;

  constructor(
    private readonly pool: ReplayPool,
    pinned: Iterable<Tensor>,
    values: number,
  ) {
    for (const t of pinned) this.#pinned.add(t.data.buffer);
    this.#counted = new Uint8Array(values);
  }

  made(values: readonly TracedValue[], env: (Tensor | undefined)[], escaping: Set<TracedValue>) {
    for (const v of values) {
      const t = env[v.id];
      if (t === undefined || this.#counted[v.id] === 1) continue;
      this.#counted[v.id] = 1;
      const buffer = t.data.buffer;
      if (escaping.has(v)) this.#pinned.add(buffer);
      this.#uses.set(buffer, (this.#uses.get(buffer) ?? 0) + 1);
    }
  }

  died(values: readonly TracedValue[], env: (Tensor | undefined)[]) {
    for (const v of values) {
      const t = env[v.id];
      if (t === undefined || this.#counted[v.id] !== 1) continue;
      env[v.id] = undefined;
      const buffer = t.data.buffer;
      const uses = (this.#uses.get(buffer) ?? 1) - 1;
      if (uses > 0) {
        this.#uses.set(buffer, uses);
        continue;
      }
      this.#uses.delete(buffer);
      if (!this.#pinned.has(buffer) && ownsBuffer(t.data)) this.pool.release(t.data);
    }
  }
}
