// A compiled function's memory plan: which arrays its replays reuse for their intermediate
// values. A replay allocates the same arrays in the same order on every call (same kernels,
// same shapes), so the first replay records its allocations and which values live in each
// array, and the plan gives every array that only dead-by-then values use a slot: one array,
// kept by the compiled function and handed out again to later allocations of the same dtype and
// length whose lifetimes do not overlap, in this call and every later one. Arrays that may
// outlive the call are never planned: those of the result, of gradients assigned to `.grad`, of
// what an optimizer step receives (with every view of them), and anything allocated outside the
// values (an op's own scratch, an optimizer's state).
//
// Gradients are the exception: a gradient a replay assigns to `.grad` (that nothing else
// receives) is marked unread (tensor.ts); when a later `.grad` assignment (`zeroGrad()`) drops it
// and nobody has read it in between, nothing outside the replays can hold it, so its array goes
// to the next allocation of its dtype and length that the plan leaves fresh: the next call's
// gradient, typically. A training step that does not look at its gradients then allocates none.
//
// Every later replay checks, as it goes, that it allocates what the recording did (dtype and
// length, step by step) and that each value lives in the array the plan expects; at the first
// difference it stops handing out slots for the rest of the call, and the plan is dropped (its
// arrays too, since a result may now live in one) and recorded again on the next call. (Inputs
// with other strides, which make ops copy where they made views, trace anew: the strides of a
// non-contiguous input are part of the signature. The check guards what a signature cannot see.)

import { formatBytes } from "../kernels/format-bytes.js";
import { type ArrayPool, bytesPerElement, type DType, type TypedArray } from "../tensor/dtype.js";
import { sameShape } from "../tensor/shape.js";
import { claimUnreadGrad, markGradUnread, peekGrad, type Tensor } from "../tensor/tensor.js";
import { forEachInArgs, type TracedNode, TracedValue } from "./trace.js";

/** What one replay step reads and makes, as liveness needs it. */
export interface StepValues {
  /** The values it reads (a custom op's backward also reads what its forward saved). */
  readonly reads: readonly TracedValue[];
  /** The values it makes (outputs and saved tensors of its calls). */
  readonly makes: readonly TracedValue[];
  /** True for an effect (setting `.grad`, an optimizer step): what it receives escapes. */
  readonly effect: boolean;
  /**
   * True for a custom op's forward or backward: user code, which may keep a tensor it receives
   * (in a closure, an outer array). Its reads count as escapes, so a gradient it received is
   * never marked unread; they still get slots (keeping an intermediate is a documented rule).
   */
  readonly userCode: boolean;
  /** For a `.grad` assignment of a value: that value (the new gradient); else null. */
  readonly gradAssigned: TracedValue | null;
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
  const only = units.length === 1 ? units[0] : null;
  const assigned = only !== null && isGradAssignment(only) ? only.args[1] : null;
  return {
    reads,
    makes,
    effect: units.some((u) => u.kind === "effect"),
    userCode: units.some((u) => u.kind === "custom"),
    gradAssigned: assigned instanceof TracedValue ? assigned : null,
  };
}

/** True for a replayed `t.grad = value` (value a tensor or null). */
export function isGradAssignment(unit: TracedNode): boolean {
  return unit.kind === "effect" && unit.op === "setGrad";
}

/** When each value is last needed, and which values must outlive the call. */
export interface Liveness {
  /** By value id: the last step that reads the value (or makes it, if none reads it); -1 if none. */
  readonly last: Int32Array;
  /** The result's values and every value an effect receives. */
  readonly escaping: ReadonlySet<TracedValue>;
  /**
   * By value id: how many ways it escapes (once if returned, once per effect or custom op step
   * receiving it).
   */
  readonly escapes: Int32Array;
  /** By value id: the step assigning it to a `.grad`, or -1. */
  readonly gradStep: Int32Array;
}

export function liveness(
  steps: readonly StepValues[],
  outputs: readonly TracedValue[],
  values: number,
): Liveness {
  const escaping = new Set<TracedValue>(outputs);
  const last = new Int32Array(values).fill(-1);
  const escapes = new Int32Array(values);
  const gradStep = new Int32Array(values).fill(-1);
  for (const v of outputs) escapes[v.id]++;
  steps.forEach((step, s) => {
    for (const v of step.makes) if (last[v.id] < 0) last[v.id] = s;
    for (const v of step.reads) {
      last[v.id] = s;
      if (step.effect) {
        escaping.add(v);
        escapes[v.id]++;
      } else if (step.userCode) escapes[v.id]++;
    }
    // What user code made (a custom op's result) it may have kept as well.
    if (step.userCode) for (const v of step.makes) escapes[v.id]++;
    if (step.gradAssigned !== null) gradStep[step.gradAssigned.id] = s;
  });
  return { last, escaping, escapes, gradStep };
}

/**
 * Something a replay made from a tensor (a view of it, how a fused pass reads it), kept for the
 * next call: it serves again while the tensor there has the same elements laid out the same way
 * (its shape is the trace's). Kept only over arrays that stay alive anyway (a captured tensor's,
 * one the plan keeps), so that it keeps nothing alive itself.
 */
export class KeptFrom<T> {
  readonly #data: TypedArray;
  readonly #offset: number;
  readonly #strides: readonly number[];

  constructor(
    base: Tensor,
    readonly value: T,
  ) {
    this.#data = base.data;
    this.#offset = base.offset;
    this.#strides = base.strides;
  }

  /** True when `base` has the elements `value` was made from, laid out the same way. */
  matches(base: Tensor): boolean {
    return (
      base.data === this.#data &&
      base.offset === this.#offset &&
      (base.strides === this.#strides || sameShape(base.strides, this.#strides))
    );
  }
}

/** One allocation of the recorded replay: what it asked for, during which step, what it got. */
interface Allocation {
  readonly dtype: DType;
  readonly length: number;
  readonly step: number;
  /** The buffer of the array it made anew; null when it took one from elsewhere. */
  buffer: ArrayBufferLike | null;
}

/** A session of one replay: the pool its allocations draw from, told where the replay is. */
export interface ReplaySession extends ArrayPool {
  /** Before step `s` runs. */
  beginStep(s: number): void;
  /** After step `s` made `made` (whose tensors are in `env`). */
  endStep(s: number, made: readonly TracedValue[], env: readonly (Tensor | undefined)[]): void;
  /** After step `s`, a `.grad` assignment, replaced gradient `old` with `now` (either may be null). */
  gradAssigned(s: number, old: Tensor | null, now: Tensor | null): void;
  /** See Planned.droppedUnread; absent while recording. */
  droppedUnread?(grad: Tensor): boolean;
}

/** True when the array is all of its ArrayBuffer: only such an array can be handed out whole. */
function ownsBuffer(array: TypedArray): boolean {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength;
}

/** True when `t` is all of its array, which is all of its buffer, element for element. */
function ownsArray(t: Tensor): boolean {
  return ownsBuffer(t.data) && t.offset === 0 && t.numel() === t.data.length && t.isContiguous();
}

/** The first replay: records every allocation and the buffer of every value. */
class Recording implements ReplaySession {
  readonly allocations: Allocation[] = [];
  /** By value id: the buffer its tensor used during the recorded call (null: none). */
  readonly buffers: (ArrayBufferLike | null)[];
  #step = 0;

  constructor(values: number) {
    this.buffers = new Array(values).fill(null);
  }

  take(dtype: DType, length: number): undefined {
    this.allocations.push({ dtype, length, step: this.#step, buffer: null });
    return undefined;
  }

  fresh(array: TypedArray): void {
    const allocation = this.allocations.at(-1);
    if (allocation !== undefined && allocation.buffer === null && ownsBuffer(array)) {
      allocation.buffer = array.buffer;
    }
  }

  beginStep(s: number): void {
    this.#step = s;
  }

  endStep(_s: number, made: readonly TracedValue[], env: readonly (Tensor | undefined)[]): void {
    for (const v of made) {
      const t = env[v.id];
      if (t !== undefined) this.buffers[v.id] = t.data.buffer;
    }
  }

  gradAssigned(): void {}
}

/** True when nothing was set on `t` since it was made: no gradient, graph, requiresGrad or name. */
function untouched(t: Tensor): boolean {
  return t.gradFn === null && !t.requiresGradFlag && t.name === undefined && peekGrad(t) === null;
}

/** What the recording's values and allocations give: a slot per planned allocation. */
class MemoryPlan {
  /**
   * By allocation index: the tensor a call made over the slot's array, which the next call's
   * same allocation may make again (see Planned.tensorOver).
   */
  readonly tensors: (Tensor | undefined)[] = [];
  /**
   * The buffers of the arrays of dropped unread gradients the plan recycled: like the slots'
   * arrays, the same on every call while nobody reads the gradients (see ReplayArrays.keeps).
   */
  readonly recycledBuffers = new WeakSet<ArrayBufferLike>();
  /** The session of a call under this plan, when no call is using it. */
  #idle: Planned | null = null;

  /** A session for a call (the one of the call before, reset; a nested call gets its own). */
  session(): Planned {
    const idle = this.#idle;
    this.#idle = null;
    if (idle === null) return new Planned(this);
    idle.reset();
    return idle;
  }

  /** After the call using it: `session` serves the next. */
  release(session: Planned): void {
    this.#idle = session;
  }
  /** By allocation index: its dtype, length and slot (-1: allocated fresh every call). */
  readonly dtypes: DType[];
  readonly lengths: Int32Array;
  readonly slotOf: Int32Array;
  /** Allocations of step s are indices [stepStart[s], stepStart[s + 1]). */
  readonly stepStart: Int32Array;
  /** By value id: the slot whose array the value lives in, or -1 (never a slot's). */
  readonly expected: Int32Array;
  /** By slot: its array, made on first use and kept while the plan stands. */
  readonly arrays: (TypedArray | undefined)[];
  readonly slotDtypes: DType[];
  readonly slotLengths: number[];
  /** The buffers of the slots' arrays made so far. */
  readonly slotBuffers = new Set<ArrayBufferLike>();
  /** By allocation index: the last step reading a value in its array. */
  readonly lastUse: Int32Array;
  /**
   * By step: the allocation whose array that step (a `.grad` assignment) makes a gradient, when
   * the assignment is the only way the array escapes the call. Only such a gradient is marked
   * unread.
   */
  readonly gradAllocation = new Map<number, number>();
  /**
   * By allocation index: the bin of arrays of its dtype and length that unread gradients left,
   * for an allocation the slots do not serve; -1 for the others.
   */
  readonly binOf: Int32Array;
  /** By bin: arrays of dropped unread gradients, waiting for an allocation of their size. */
  readonly bins: TypedArray[][] = [];
  /** By bin: how many arrays it keeps (how many allocations of a call may take one). */
  readonly binCapacity: number[] = [];
  /** The bin of each dtype and length the plan leaves fresh. */
  readonly #binIndex = new Map<DType, Map<number, number>>();

  constructor(recording: Recording, live: Liveness, steps: number) {
    const { allocations, buffers } = recording;
    const n = allocations.length;
    this.dtypes = allocations.map((a) => a.dtype);
    this.lengths = Int32Array.from(allocations, (a) => a.length);
    this.stepStart = new Int32Array(steps + 1);
    for (const a of allocations) this.stepStart[a.step + 1]++;
    for (let s = 0; s < steps; s++) this.stepStart[s + 1] += this.stepStart[s];
    // Each allocation's lifetime: from its step to the last read of any value in its buffer.
    const allocationOf = new Map<ArrayBufferLike, number>();
    allocations.forEach((a, i) => {
      if (a.buffer !== null) allocationOf.set(a.buffer, i);
    });
    // By value id: the allocation whose buffer it lives in, or -1.
    const valueAllocation = Int32Array.from(buffers, (buffer) =>
      buffer === null ? -1 : (allocationOf.get(buffer) ?? -1),
    );
    const lastUse = new Int32Array(n).fill(-1);
    const escapes = new Uint8Array(n);
    // By allocation: how many ways the values in its array escape, and the step assigning one
    // of them to a `.grad`.
    const escapeCount = new Int32Array(n);
    const gradStep = new Int32Array(n).fill(-1);
    valueAllocation.forEach((i, id) => {
      if (i < 0) return;
      lastUse[i] = Math.max(lastUse[i], live.last[id]);
      escapeCount[i] += live.escapes[id];
      if (live.gradStep[id] >= 0) gradStep[i] = live.gradStep[id];
    });
    for (const v of live.escaping) {
      if (valueAllocation[v.id] >= 0) escapes[valueAllocation[v.id]] = 1;
    }
    for (let i = 0; i < n; i++) {
      if (gradStep[i] >= 0 && escapeCount[i] === 1) this.gradAllocation.set(gradStep[i], i);
    }
    this.lastUse = lastUse;
    // Slots, first fit in allocation order: a slot serves an allocation of its dtype and length
    // once every earlier allocation it served is dead (lifetimes end after their last step).
    this.slotOf = new Int32Array(n).fill(-1);
    this.slotDtypes = [];
    this.slotLengths = [];
    const freeAfter: number[] = [];
    for (let i = 0; i < n; i++) {
      if (lastUse[i] < 0 || escapes[i] === 1) continue;
      const { dtype, length, step } = allocations[i];
      let slot = this.slotDtypes.findIndex(
        (d, j) => d === dtype && this.slotLengths[j] === length && freeAfter[j] < step,
      );
      if (slot < 0) {
        slot = this.slotDtypes.length;
        this.slotDtypes.push(dtype);
        this.slotLengths.push(length);
        freeAfter.push(0);
      }
      this.slotOf[i] = slot;
      freeAfter[slot] = lastUse[i];
    }
    this.arrays = new Array(this.slotDtypes.length).fill(undefined);
    this.expected = valueAllocation.map((i) => (i >= 0 ? this.slotOf[i] : -1));
    this.binOf = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      if (this.slotOf[i] >= 0) continue;
      const bin = this.#bin(this.dtypes[i], this.lengths[i], true);
      this.binOf[i] = bin;
      this.binCapacity[bin]++;
    }
  }

  /** The bin of arrays of this dtype and length (made when `make`), or -1. */
  #bin(dtype: DType, length: number, make: boolean): number {
    let byLength = this.#binIndex.get(dtype);
    if (byLength === undefined) {
      if (!make) return -1;
      byLength = new Map();
      this.#binIndex.set(dtype, byLength);
    }
    let bin = byLength.get(length);
    if (bin === undefined) {
      if (!make) return -1;
      bin = this.bins.length;
      byLength.set(length, bin);
      this.bins.push([]);
      this.binCapacity.push(0);
    }
    return bin;
  }

  /**
   * Keeps the array of a dropped unread gradient for the next allocation of its size that the
   * plan leaves fresh; drops it (to the garbage collector) when no such allocation would take it.
   */
  recycle(dtype: DType, array: TypedArray): boolean {
    const bin = this.#bin(dtype, array.length, false);
    if (bin < 0 || this.bins[bin].length >= this.binCapacity[bin]) return false;
    this.bins[bin].push(array);
    return true;
  }

  /** Bytes of every slot's array. */
  get bytes(): number {
    let bytes = 0;
    for (let j = 0; j < this.slotLengths.length; j++) {
      bytes += this.slotLengths[j] * bytesPerElement(this.slotDtypes[j]);
    }
    return bytes;
  }

  /** How many allocations of a call the slots serve. */
  get planned(): number {
    return this.slotOf.reduce((n, slot) => n + (slot >= 0 ? 1 : 0), 0);
  }
}

/** A replay under a plan: allocations take their slot's array; every value is checked. */
class Planned implements ReplaySession {
  #next = 0;
  #end = 0;
  /** Set at the first difference from the recording: no slots handed out from then on. */
  diverged = false;
  /** Arrays made anew during the call (allocations the plan leaves fresh), and their bytes. */
  freshArrays = 0;
  freshBytes = 0;
  /** Allocations that took the array of a dropped unread gradient. */
  recycledArrays = 0;
  /**
   * The gradients this call marked unread (the first `markedCount`): unmarked again if the call
   * diverges or throws.
   */
  readonly marked: Tensor[] = [];
  markedCount = 0;
  /**
   * The arrays this call allocated that the slots do not serve (their buffers), and their
   * allocations: the first #unslottedCount of each. Lists rather than a map, filled anew by each
   * call of a plan (a session serves call after call: see MemoryPlan.session).
   */
  readonly #unslottedBuffers: ArrayBufferLike[] = [];
  readonly #unslottedAllocations: number[] = [];
  #unslottedCount = 0;

  #unslot(buffer: ArrayBufferLike, i: number): void {
    this.#unslottedBuffers[this.#unslottedCount] = buffer;
    this.#unslottedAllocations[this.#unslottedCount++] = i;
  }

  /** The allocation of this call whose array is `buffer`, if the slots do not serve it. */
  #unslotted(buffer: ArrayBufferLike): number | undefined {
    for (let j = this.#unslottedCount - 1; j >= 0; j--) {
      if (this.#unslottedBuffers[j] === buffer) return this.#unslottedAllocations[j];
    }
    return undefined;
  }

  /** Makes the session ready for a call: nothing of the call before stays in it. */
  reset(): void {
    this.#next = 0;
    this.#end = 0;
    this.diverged = false;
    this.freshArrays = 0;
    this.freshBytes = 0;
    this.recycledArrays = 0;
    this.#taken = -1;
    this.#wrapping = -1;
    this.#forget();
    this.tensorsOverSlots = 0;
    this.keptTensors = 0;
  }

  /**
   * The latest allocation `take` served from a slot or with a recycled gradient's array, until a
   * tensor is made over its array; that array when recycled.
   */
  #taken = -1;
  #recycled: TypedArray | undefined = undefined;
  /** The gradients this call dropped unread and whose arrays it recycled (see droppedUnread). */
  readonly #dropped: Tensor[] = [];
  #droppedCount = 0;
  /** The allocation whose tensor is being made (see tensorOver), else -1. */
  #wrapping = -1;

  constructor(private readonly plan: MemoryPlan) {}

  /**
   * The tensor made over the same slot array by the same allocation last call, when it has the
   * shape asked for and nothing set on it since (no grad, no graph, no name): the values in a
   * slot's array never leave the call, so nothing outside it holds that tensor, and the op
   * making the value again may as well return it. Else undefined: the new tensor is kept
   * (madeTensor) for the next call.
   */
  tensorOver(array: TypedArray, shape: readonly number[]): Tensor | undefined {
    const i = this.#taken;
    this.#taken = -1;
    this.#wrapping = -1;
    const { plan } = this;
    if (i < 0 || this.diverged) return undefined;
    const slot = plan.slotOf[i];
    if ((slot >= 0 ? plan.arrays[slot] : this.#recycled) !== array) return undefined;
    const kept = plan.tensors[i];
    this.tensorsOverSlots++;
    if (
      kept !== undefined &&
      kept.data === array &&
      sameShape(kept.shape, shape) &&
      untouched(kept)
    ) {
      this.keptTensors++;
      return kept;
    }
    this.#wrapping = i;
    return undefined;
  }

  /** Tensors made over slots' arrays during the call, and how many of them the call before made. */
  tensorsOverSlots = 0;
  keptTensors = 0;

  madeTensor(_array: TypedArray, tensor: Tensor): void {
    if (this.#wrapping >= 0) this.plan.tensors[this.#wrapping] = tensor;
    this.#wrapping = -1;
  }

  take(dtype: DType, length: number): TypedArray | undefined {
    if (this.diverged) return undefined;
    const { plan } = this;
    const i = this.#next;
    if (i >= this.#end || plan.dtypes[i] !== dtype || plan.lengths[i] !== length) {
      this.diverged = true;
      return undefined;
    }
    this.#next++;
    const slot = plan.slotOf[i];
    this.#taken = i;
    if (slot < 0) {
      const array = plan.bins[plan.binOf[i]].pop();
      if (array !== undefined) {
        this.#unslot(array.buffer, i);
        this.recycledArrays++;
        plan.recycledBuffers.add(array.buffer);
      } else {
        // Fresh this call: the tensor made over last call's array is not made again.
        plan.tensors[i] = undefined;
        this.#taken = -1;
      }
      this.#recycled = array;
      return array;
    }
    // A slot's first allocation makes its array through the allocator (see fresh).
    return plan.arrays[slot];
  }

  fresh(array: TypedArray): void {
    const { plan } = this;
    const slot = this.diverged || this.#next === 0 ? -1 : plan.slotOf[this.#next - 1];
    // The first use of a slot: the array just made becomes the slot's.
    if (slot >= 0 && plan.arrays[slot] === undefined && ownsBuffer(array)) {
      plan.arrays[slot] = array;
      plan.slotBuffers.add(array.buffer);
      return;
    }
    this.freshArrays++;
    this.freshBytes += array.byteLength;
    if (slot < 0 && !this.diverged && this.#next > 0) this.#unslot(array.buffer, this.#next - 1);
  }

  gradAssigned(s: number, old: Tensor | null, now: Tensor | null): void {
    if (this.diverged) return;
    const { plan } = this;
    if (old !== null && old !== now && claimUnreadGrad(old) && ownsArray(old)) {
      // A gradient made by an earlier call, or by this one if no later step reads its array.
      const i = this.#unslotted(old.data.buffer);
      if ((i === undefined || plan.lastUse[i] <= s) && plan.recycle(old.dtype, old.data)) {
        this.#dropped[this.#droppedCount++] = old;
      }
    }
    const i = plan.gradAllocation.get(s);
    if (
      now !== null &&
      i !== undefined &&
      this.#unslotted(now.data.buffer) === i &&
      ownsArray(now)
    ) {
      markGradUnread(now);
      this.marked[this.markedCount++] = now;
    }
  }

  /**
   * True when this call dropped `grad` (a `.grad` it replaced) with nobody having read it, and
   * recycled its array: nothing outside holds it then, so the call may hand the same tensor out
   * as the new gradient over that array (see Plan's #run).
   */
  droppedUnread(grad: Tensor): boolean {
    if (this.diverged) return false;
    for (let i = 0; i < this.#droppedCount; i++) if (this.#dropped[i] === grad) return true;
    return false;
  }

  /**
   * After the call (once ReplayArrays.end has read `marked`): holds on to nothing of it (its
   * gradients, the buffers of what it returned), and serves the plan's next call.
   */
  finish(): void {
    this.#forget();
    this.plan.release(this);
  }

  /** Lets go of the call's tensors and buffers (its lists are emptied, not shortened). */
  #forget(): void {
    this.marked.fill(undefined as never, 0, this.markedCount);
    this.markedCount = 0;
    this.#unslottedBuffers.fill(undefined as never, 0, this.#unslottedCount);
    this.#unslottedCount = 0;
    this.#dropped.fill(undefined as never, 0, this.#droppedCount);
    this.#droppedCount = 0;
    this.#recycled = undefined;
  }

  beginStep(s: number): void {
    if (this.#next !== this.plan.stepStart[s]) this.diverged = true;
    this.#end = this.plan.stepStart[s + 1];
  }

  endStep(s: number, made: readonly TracedValue[], env: readonly (Tensor | undefined)[]): void {
    if (this.diverged) return;
    const { plan } = this;
    if (this.#next !== plan.stepStart[s + 1]) {
      this.diverged = true;
      return;
    }
    for (const v of made) {
      const t = env[v.id];
      if (t === undefined) continue;
      const buffer = t.data.buffer;
      const slot = plan.expected[v.id];
      const ok = slot >= 0 ? buffer === plan.arrays[slot]?.buffer : !plan.slotBuffers.has(buffer);
      if (!ok) {
        this.diverged = true;
        return;
      }
    }
  }
}

/** After this many dropped plans, a compiled function's replays stop planning. */
const MAX_DROPPED_PLANS = 3;

/**
 * The arrays of one trace's replays: the first replay records, later ones run under the plan;
 * a plan dropped (a call that allocated differently, or threw) is recorded again.
 */
export class ReplayArrays {
  #plan: MemoryPlan | null = null;
  /** Plans dropped because a call allocated differently from the recorded one. */
  dropped = 0;
  /** The latest call under a plan: arrays it made anew, and their bytes. */
  #lastFresh: {
    arrays: number;
    bytes: number;
    recycled: number;
    tensors: number;
    keptTensors: number;
  } | null = null;

  constructor(
    private readonly live: Liveness,
    private readonly steps: number,
    private readonly values: number,
  ) {}

  /** The session for the next call, or null when planning gave up (fresh arrays). */
  begin(): ReplaySession | null {
    if (this.dropped >= MAX_DROPPED_PLANS) return null;
    return this.#plan === null ? new Recording(this.values) : this.#plan.session();
  }

  /** After the call; `completed` is false when it threw. */
  end(session: ReplaySession, completed: boolean): void {
    if (session instanceof Recording) {
      if (completed) this.#plan = new MemoryPlan(session, this.live, this.steps);
      return;
    }
    const planned = session as Planned;
    if (planned.diverged) this.dropped++;
    if (planned.diverged || !completed) {
      // What a diverged call made may share arrays the recording did not see shared.
      for (let i = 0; i < planned.markedCount; i++) claimUnreadGrad(planned.marked[i]);
    }
    planned.finish();
    // A value the plan did not expect may live in a slot's array (a result, even): the arrays
    // go with the plan. A call that threw may have left one there as well.
    if (planned.diverged || !completed) {
      this.#plan = null;
      this.#lastFresh = null;
      return;
    }
    this.#lastFresh = {
      arrays: planned.freshArrays,
      bytes: planned.freshBytes,
      recycled: planned.recycledArrays,
      tensors: planned.tensorsOverSlots,
      keptTensors: planned.keptTensors,
    };
  }

  /**
   * True when `array` is one the plan keeps for its slots, or the array of a dropped unread
   * gradient it recycled: the same array on every call (the latter while nobody reads that
   * gradient; a kept object over one read since lets go of it at the next call, which finds
   * another array there).
   */
  keeps(array: TypedArray): boolean {
    const plan = this.#plan;
    if (plan === null) return false;
    const { buffer } = array;
    return plan.slotBuffers.has(buffer) || plan.recycledBuffers.has(buffer);
  }

  /** For explain(): what the plan does. */
  describe(): string {
    const plan = this.#plan;
    const drops =
      this.dropped === 0
        ? ""
        : `; ${this.dropped} ${this.dropped === 1 ? "plan was" : "plans were"} dropped: a call allocated differently from the one it was recorded from`;
    if (this.dropped >= MAX_DROPPED_PLANS) {
      return `each a fresh garbage-collected array${drops}, so replays no longer plan`;
    }
    if (plan === null) return `arrays are planned from the next call's allocations${drops}`;
    const fresh =
      this.#lastFresh === null
        ? ""
        : `; the latest call made ${this.#lastFresh.arrays} fresh (${formatBytes(this.#lastFresh.bytes)}: what it returns, gradients, what outlives it, ops' own scratch)` +
          (this.#lastFresh.recycled === 0
            ? ""
            : ` and reused the arrays of ${this.#lastFresh.recycled} dropped ${this.#lastFresh.recycled === 1 ? "gradient" : "gradients"} nobody had read`) +
          (this.#lastFresh.tensors === 0
            ? ""
            : `; it took ${this.#lastFresh.keptTensors} of the ${this.#lastFresh.tensors} tensors its ops made over the kept arrays from the call before`);
    // Slots make their arrays on first use: right after the recording call there are none yet.
    const made = plan.arrays.some((array) => array !== undefined);
    return (
      `${plan.planned} of each call's ${plan.lengths.length} array allocations ${made ? "reuse" : "will reuse, from the next call on,"} ${plan.arrays.length} arrays the function keeps (${formatBytes(plan.bytes)})` +
      fresh +
      drops
    );
  }
}
