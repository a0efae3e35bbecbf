// compile(): trace a function once per input signature, then replay the traced calls on every
// later call. The replay makes the same op calls with the same kernels as eager code (so results
// are bit for bit the same), but skips what eager code does around them: no autograd graph is
// recorded for a function that runs its own backward, the engine does not sort nodes, and the
// function's own JavaScript (module lookups, argument plumbing) does not run.

import { isAnomalyEnabled } from "../autograd/anomaly.js";
import { isGradEnabled, setGradEnabled } from "../autograd/grad-mode.js";
import { bytesPerElement, setArrayPool, type TypedArray } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import { formatShape, sameShape } from "../tensor/shape.js";
import { Storage } from "../tensor/storage.js";
import { peekGrad, Tensor } from "../tensor/tensor.js";
import { activeTracer, WithSaved } from "../tensor/tracing.js";
import { FusedUnit, fuseElementwise, inPlaceTargets, storageOf } from "./fuse.js";
import {
  isGradAssignment,
  KeptFrom,
  liveness,
  ReplayArrays,
  type ReplaySession,
  stepValues,
} from "./memory.js";
import {
  findTensor,
  mapTensors,
  type TracedArg,
  TracedGenerator,
  type TracedGraph,
  TracedHandle,
  type TracedNode,
  TracedValue,
  tensorsIn,
  trace,
} from "./trace.js";

/** Options of {@link compile}. */
export interface CompileOptions {
  /**
   * Reports each trace (the first call, and every retrace for a new input signature, after
   * `train()`/`eval()`, or when a captured tensor's `requiresGrad` changed, and the trace that
   * checks an input position's first new tensor): `true` prints to `console.info`, a function
   * receives the message.
   */
  log?: boolean | ((message: string) => void);
  /**
   * Debugging aid: every call after the first runs `fn` eagerly while tracing it again and
   * compares the calls it makes with the ones a replay would make, throwing a CompileError at
   * the first difference (which op, which argument). A replay makes the same calls with the same
   * kernels, so equal calls mean equal tensors. Slower than eager; off by default.
   */
  check?: boolean;
  /**
   * Fuse runs of consecutive elementwise calls (float add, sub, mul, div, maximum, minimum, neg,
   * abs, square, sqrt, rsqrt, relu) of one shape into one pass over their operands, writing out
   * only the values later calls read (default true). Results are the same bits either way.
   */
  fuse?: boolean;
  /**
   * Plan the arrays of intermediate values (default true; only for functions whose replays
   * record no autograd graph: they run their own backward, or their calls are made under
   * `noGrad` or on tensors that do not require grad): the first replay records what each call
   * allocates, and later calls give values whose lifetimes do not overlap the same arrays, kept
   * between calls. Arrays that may outlive a call (the result, gradients, the inputs') are never
   * reused as slots; only a gradient dropped before anyone read it (through `.grad`) passes its
   * array on to a later gradient.
   */
  reuseArrays?: boolean;
}

/** A compiled function: call it like the original; inspect it with `explain()`. */
export interface CompiledFunction<A extends Tensor[], R> {
  (...inputs: A): R;
  /** The traced calls, what a call replays, and the values it makes, for the latest signature. */
  explain(): string;
  /**
   * How many times the function was traced (first call, new signatures, mode changes, checks of
   * new input tensors).
   */
  readonly traces: number;
  /** How many calls replayed a trace instead of tracing. */
  readonly replays: number;
}

/** How many entries of a sparse list by node id are set. */
function countDefined(list: readonly unknown[]): number {
  return list.reduce<number>((n, entry) => n + (entry === undefined ? 0 : 1), 0);
}

/** Where a tensor goes in a plan's result template (a replay puts its own there). */
const RESULT_SLOT = Tensor.fromTypedArray(new Float32Array(1), []);

/** A function `compile` cannot replay faithfully, with the reason. */
export class CompileError extends Error {
  /** Always "CompileError". */
  override name = "CompileError";
}

let modeEpoch = 0;

/**
 * @internal Called when state a trace may depend on changes outside tensors (a module's
 * `train()`/`eval()`): every compiled function retraces on its next call.
 */
export function invalidateTraces(): void {
  modeEpoch++;
}

/**
 * `error`, thrown by a replayed call made inside a composite the user called (a target checked by
 * nllLoss inside crossEntropy), with that composite named: a replay runs the composite's calls,
 * not its own checks, so the message names an op the user may never have called.
 */
function inReplayOf(unit: TracedNode, error: unknown): unknown {
  let outer: TracedNode | null = null;
  for (let n = unit.parent; n !== null; n = n.parent) if (n.kind === "composite") outer = n;
  if (outer === null || !(error instanceof Error) || error.message.startsWith(`${outer.op}:`)) {
    return error;
  }
  error.message += ` (in ${outer.op}, whose calls compile() replays one by one)`;
  return error;
}

/** The custom op or effect a call was made inside of, if any (its values stay inside it). */
function enclosing(node: TracedNode | null): TracedNode | null {
  for (let n = node?.parent ?? null; n !== null; n = n.parent) {
    if (n.kind === "custom" || n.kind === "effect" || n.kind === "creation") return n;
  }
  return null;
}

function describeValue(v: TracedValue): string {
  return `a ${v.dtype} tensor of shape ${formatShape(v.shape)}`;
}

/** Throws a CompileError when a call reads a value no earlier replayed call (or input) makes. */
function checkReplayable(graph: TracedGraph, units: readonly TracedNode[]): void {
  const available = new Set<TracedValue>(graph.inputs);
  for (const v of graph.values) if (v.source === "captured") available.add(v);
  const check = (v: TracedValue, user: string): void => {
    if (available.has(v)) return;
    if (v.source === "untraced") {
      throw new CompileError(
        `compile: ${user} reads ${describeValue(v)} that was made while tracing by no Koubai op ` +
          "(a kernel called directly, or a tensor a custom op's forward made for its backward), so a replay could not make it again. " +
          "Compute it with tensor ops, or keep this code out of the compiled function.",
      );
    }
    const inside = enclosing(v.producer);
    throw new CompileError(
      `compile: ${user} reads ${describeValue(v)} made inside ${inside === null ? "a call that is not replayed" : `${inside.kind} ${inside.op}`}, ` +
        "which a replay runs as one call; only its result can be used outside it. " +
        "Save only the custom op's inputs and output for its backward, or keep this code out of the compiled function.",
    );
  };
  const handles = new Set<TracedHandle>();
  for (const unit of units) {
    for (const v of unit.inputs) check(v, `${unit.op} (call #${unit.id})`);
    for (const h of unit.handles) {
      if (!handles.has(h)) {
        throw new CompileError(
          `compile: ${unit.op} (call #${unit.id}) reads the context of ${h.producer.op}, made inside a call that a replay runs as one; compile cannot replay it`,
        );
      }
    }
    if (unit.handle !== null) handles.add(unit.handle);
    for (const v of unit.outputs) available.add(v);
    for (const v of unit.saved) available.add(v);
  }
  for (const v of graph.outputs) check(v, "the function's result");
}

/** One trace, ready to replay: the calls in order and where each value lives during a call. */
class Plan {
  readonly units: TracedNode[];
  /** What a replay runs: the units, with runs of elementwise calls fused when asked. */
  readonly steps: (TracedNode | FusedUnit)[];
  readonly outputIds: number[];
  /** True when the function ran a backward pass: the replay records no autograd graph. */
  readonly runsBackward: boolean;
  /**
   * The memory plan of the replays' intermediate values; only for functions whose replays record
   * no autograd graph (otherwise the graph may still hold any value after the call).
   */
  readonly arrays: ReplayArrays | null;
  /** The function's result with a placeholder where each tensor goes (see RESULT_SLOT). */
  readonly resultTemplate: unknown;
  /** Why the replays' arrays are not planned (for explain()), or null when they are. */
  readonly unplanned: string | null;
  readonly #made: (readonly TracedValue[])[];
  /** The storage of captured tensors updated in place (when fused: see inPlaceTargets). */
  readonly #inPlaceStorage: Set<ArrayBufferLike>;
  /** The tensors the function captured (parameters, buffers, constants). */
  readonly #captured: readonly TracedValue[];
  /**
   * The captured tensors whose requiresGrad the trace depends on: all of them in a function that
   * runs a backward, else those a call made with grad mode on reads.
   */
  readonly #gradFlagsRead: readonly TracedValue[];
  /**
   * Each `.grad` the trace read before assigning it, with the input position of the tensor read
   * (-1 for a captured tensor): an input's is checked on the tensor passed at that position.
   */
  readonly #gradReads: readonly { tensor: Tensor; grad: Tensor | null; input: number }[];
  /** By step: the tensor whose `.grad` that step assigns, or null (see ReplaySession.gradAssigned). */
  readonly #gradTargets: (TracedValue | null)[];
  /**
   * By node id: for a view (a movement call on one tensor) that stays inside the call, the value
   * it is a view of; a replay may then keep the view from one call to the next (see #run).
   */
  readonly #viewBases: (TracedValue | undefined)[];
  /** By node id, for a view in #viewBases of a captured tensor or of a view of one: that tensor. */
  readonly #capturedRoots: (TracedValue | undefined)[] = [];
  /**
   * By node id: for a view that becomes a `.grad` (and leaves the call only that way), the value
   * it is a view of; a replay may hand out the gradient it made last call again, when this call
   * dropped it with nobody having read it (see #run).
   */
  readonly #gradViewBases: (TracedValue | undefined)[] = [];
  /** How many views could be kept from one call to the next (see #viewBases). */
  get keepableViews(): number {
    return countDefined(this.#viewBases);
  }
  /** How many gradients a call could take from the call before (see #gradViewBases). */
  get keepableGradViews(): number {
    return countDefined(this.#gradViewBases);
  }
  /** Views, and gradients' views, the latest completed call took from the call before. */
  keptViews = 0;
  keptGradViews = 0;
  /** Replays that ran in the traced order since an input shares that storage. */
  unfusedReplays = 0;
  /**
   * By input position: true until a call passing another tensor there has shown that the
   * function does not also use the traced one directly (see needsAliasCheck).
   */
  readonly #aliasUnchecked: boolean[];

  constructor(
    readonly graph: TracedGraph,
    readonly signature: string,
    readonly epoch: number,
    /** The traced call's result: the shape of every replay's result. */
    result: unknown,
    fuse: boolean,
    /** Why its arrays are not planned whatever the calls do (an option), or null. */
    notPlanned: string | null,
  ) {
    // Its tensors stand for the replays' own: the plan does not keep the traced call's.
    this.resultTemplate = mapTensors(result, () => RESULT_SLOT);
    this.units = graph.primitives(); // what a replay calls
    this.#captured = graph.values.filter((v) => v.source === "captured");
    checkReplayable(graph, this.units);
    this.outputIds = graph.outputs.map((v) => v.id);
    this.runsBackward = graph.allNodes.some((n) => n.kind === "backward");
    const readWithGrad = new Set(this.units.filter((u) => u.gradEnabled).flatMap((u) => u.inputs));
    this.#gradFlagsRead = this.runsBackward
      ? this.#captured
      : this.#captured.filter((v) => readWithGrad.has(v));
    // Only calls that record no autograd graph fuse: those made with grad mode off (all of them
    // in a function that runs its own backward) or on tensors none of which requires grad.
    this.steps = fuse
      ? fuseElementwise(graph, this.units, (unit) => this.runsBackward || !unit.recordsGraph)
      : this.units;
    const stepValueList = this.steps.map((s) => stepValues(s instanceof FusedUnit ? s.units : [s]));
    this.#made = stepValueList.map((s) => s.makes);
    // A replay records no graph when the function runs its own backward (every call then
    // replays with grad mode off) or when no call recorded one: made under noGrad (inference),
    // or on tensors none of which requires grad.
    const recordsNoGraph = this.runsBackward || this.units.every((unit) => !unit.recordsGraph);
    const { contextTensors } = graph;
    this.unplanned =
      notPlanned !== null
        ? notPlanned
        : !recordsNoGraph
          ? "calls record an autograd graph, which may hold any value after the call; a function that runs its own backward, or whose calls record no graph (under noGrad, or on tensors that do not require grad), gets a memory plan"
          : this.runsBackward && contextTensors.length > 0
            ? `${contextTensors.join(", ")} ${contextTensors.length === 1 ? "keeps" : "keep"} tensors in ctx.state, where a replay cannot see when backward reads them (saveForBackward can)`
            : null;
    const live = liveness(stepValueList, graph.outputs, graph.values.length);
    this.arrays =
      this.unplanned === null
        ? new ReplayArrays(live, this.steps.length, graph.values.length)
        : null;
    this.#viewBases = [];
    for (const unit of this.units) {
      const base = viewBaseOf(unit);
      if (base === null || (!this.runsBackward && unit.recordsGraph)) continue;
      const out = unit.outputs[0];
      if (live.escapes[out.id] === 0) {
        this.#viewBases[unit.id] = base;
        const root = storageOf(base);
        if (root.source === "captured") this.#capturedRoots[unit.id] = root;
      } else if (live.escapes[out.id] === 1 && live.gradStep[out.id] >= 0) {
        this.#gradViewBases[unit.id] = base;
      }
    }
    this.#inPlaceStorage = fuse ? inPlaceTargets(this.units) : new Set();
    const inputPosition = new Map(graph.inputs.map((v, i) => [v.tensor, i] as const));
    this.#gradReads = graph.gradReads.map(({ tensor, grad }) => ({
      tensor,
      grad,
      input: inputPosition.get(tensor) ?? -1,
    }));
    this.#aliasUnchecked = graph.inputs.map(() => true);
    this.#gradTargets = this.steps.map((step) => {
      const target = step instanceof FusedUnit || !isGradAssignment(step) ? null : step.args[0];
      return target instanceof TracedValue ? target : null;
    });
  }

  /** The fused units among the steps. */
  get fused(): FusedUnit[] {
    return this.steps.filter((s) => s instanceof FusedUnit);
  }

  /** Why this plan no longer describes a call on `inputs`, or null when it does. */
  staleness(inputs: readonly Tensor[]): string | null {
    if (this.epoch !== modeEpoch) return "a module's train()/eval() changed since the last trace";
    const flags = this.#gradFlagsRead;
    for (let i = 0; i < flags.length; i++) {
      const v = flags[i];
      // Calls on tensors that did not require grad replay without a graph (fused, planned), and
      // a backward pass reaches the tensors that did: a trace holds for the flags it began with.
      const now = v.tensor!.requiresGrad;
      if (now !== v.requiresGrad) {
        return `${v.label} (${v.dtype}${formatShape(v.shape)}) ${v.requiresGrad ? "required" : "did not require"} grad when traced and ${now ? "does" : "does not"} now`;
      }
    }
    const reads = this.#gradReads;
    for (let i = 0; i < reads.length; i++) {
      const read = reads[i];
      // Which tensor: a gradient the trace added into or read must be the same one (an input's
      // is the one of the tensor passed now: a new input tensor comes with a null `.grad`).
      const tensor = read.input >= 0 ? inputs[read.input] : read.tensor;
      const now = peekGrad(tensor);
      if (now !== read.grad) {
        const name =
          read.input >= 0
            ? `input${read.input}`
            : (tensor.name ?? `a tensor of shape ${formatShape(tensor.shape)}`);
        return read.grad === null
          ? `${name}.grad was null when traced and is a tensor now`
          : `${name}.grad is ${now === null ? "null" : "another tensor"} now`;
      }
    }
    return null;
  }

  /**
   * True when `inputs` has, at a position not checked yet, another tensor than the traced call
   * had. The trace cannot tell a tensor the function received from the same tensor used
   * directly (a parameter passed as an input and also captured): both became the input, and a
   * replay would use the tensor passed now for both. So such a call traces once more
   * (checkAliases says what that trace shows) before the replays trust the position.
   */
  needsAliasCheck(inputs: readonly Tensor[]): boolean {
    const traced = this.graph.inputs;
    for (let i = 0; i < inputs.length; i++) {
      if (this.#aliasUnchecked[i] && inputs[i] !== traced[i].tensor) return true;
    }
    return false;
  }

  /**
   * After a trace of a call on `inputs` that needsAliasCheck asked for, `graph`: names the
   * traced inputs the function also used directly (they now appear as captured tensors), or
   * returns null and trusts the positions whose tensor changed.
   */
  checkAliases(inputs: readonly Tensor[], graph: TracedGraph): string | null {
    const captured = new Set(
      graph.values.filter((v) => v.source === "captured").map((v) => v.tensor),
    );
    const aliased: string[] = [];
    const changed: number[] = [];
    this.graph.inputs.forEach((v, i) => {
      if (!this.#aliasUnchecked[i] || inputs[i] === v.tensor) return;
      if (captured.has(v.tensor)) aliased.push(`input${i} (${v.dtype}${formatShape(v.shape)})`);
      // Passed again at another position, the traced tensor is an input of this trace too, so
      // this trace cannot tell whether the function also uses it directly: stay unchecked.
      else if (!inputs.includes(v.tensor!)) changed.push(i);
    });
    if (aliased.length === 0) {
      for (const i of changed) this.#aliasUnchecked[i] = false;
      return null;
    }
    return `the tensor passed as ${aliased.join(" and ")} when traced is also used directly by the function`;
  }

  /**
   * After a retrace for the same signature (a mode change, a gradient flag, a `.grad` that
   * changed), the input positions `previous` had checked stay checked, unless the tensor passed
   * there now is one `previous` found the function using directly: what the function uses
   * directly does not change between traces, and a trace per retrace would otherwise double them.
   */
  inheritAliasChecks(previous: Plan): void {
    const captured = new Set(previous.#captured.map((v) => v.tensor));
    this.graph.inputs.forEach((v, i) => {
      if (!previous.#aliasUnchecked[i] && !captured.has(v.tensor)) this.#aliasUnchecked[i] = false;
    });
  }

  /**
   * The replays' working arrays, made on the first and emptied after each call, so that a replay
   * allocates no bookkeeping of its own (a call from inside a call gets arrays of its own).
   */
  #scratch: ReplayScratch | null = null;
  /** True while a replay of this plan runs (a call of the function from inside it is nested). */
  #replaying = false;
  /** Whether the memory plan keeps an array (the same on every call): see FusedUnit.run. */
  readonly #keeps = (array: TypedArray): boolean => this.arrays?.keeps(array) === true;

  replay(inputs: readonly Tensor[]): unknown {
    // A call from inside a call of this plan (a custom op's forward calling the function
    // again) gets working arrays of its own, and no memory plan: the plan's arrays hold the
    // values of the call it is inside.
    const nested = this.#replaying;
    this.#scratch ??= new ReplayScratch(this.graph, this.units);
    const scratch = nested ? new ReplayScratch(this.graph, this.units) : this.#scratch;
    this.#replaying = true;
    const { env } = scratch;
    const traced = this.graph.inputs;
    for (let i = 0; i < traced.length; i++) env[traced[i].id] = inputs[i];
    for (const v of this.#captured) env[v.id] = v.tensor!;
    const previous = setGradEnabled(false);
    // An input sharing storage with a captured tensor that the function updates in place: the
    // fused order (which may move the update after a pass reading the input) is not the eager
    // one, so this call replays its calls in the traced order, without array reuse.
    const inTracedOrder = inputs.some((t) => this.#inPlaceStorage.has(t.data.buffer));
    if (inTracedOrder) this.unfusedReplays++;
    const session = inTracedOrder || nested ? null : (this.arrays?.begin() ?? null);
    scratch.session = session;
    const previousPool = setArrayPool(session);
    let completed = false;
    try {
      if (inTracedOrder) for (const unit of this.units) this.#run(unit, scratch);
      else {
        const { steps } = this;
        for (let s = 0; s < steps.length; s++) {
          const step = steps[s];
          session?.beginStep(s);
          const gradTarget = this.#gradTargets[s];
          if (gradTarget !== null && session !== null) {
            // The session may reuse the array of the gradient this assignment drops.
            const target = env[gradTarget.id]!;
            const old = peekGrad(target);
            this.#run(step as TracedNode, scratch);
            session.gradAssigned(s, old, peekGrad(target));
          } else if (!(step instanceof FusedUnit)) this.#run(step, scratch);
          else if (!step.run(env, this.#keeps)) {
            for (const unit of step.units) this.#run(unit, scratch);
          }
          session?.endStep(s, this.#made[s], env);
        }
      }
      completed = true;
      this.keptViews = scratch.keptViews;
      this.keptGradViews = scratch.keptGradViews;
      // A lone tensor (a loss) is returned as it is; a structure is made anew, as eager code would.
      if (this.resultTemplate instanceof Tensor) return env[this.outputIds[0]];
      return mapTensors(this.resultTemplate, (_, i) => env[this.outputIds[i]]);
    } finally {
      setArrayPool(previousPool);
      setGradEnabled(previous);
      if (session !== null) this.arrays!.end(session, completed);
      scratch.clear();
      if (!nested) this.#replaying = false;
    }
  }

  /** Makes one traced call again, on the tensors of this replay. */
  #run(unit: TracedNode, scratch: ReplayScratch): void {
    const gradBase = this.#gradViewBases[unit.id];
    if (gradBase !== undefined) this.#runView(unit, gradBase, scratch, true);
    else {
      const viewBase = this.#viewBases[unit.id];
      if (viewBase !== undefined) this.#runView(unit, viewBase, scratch, false);
      else this.#call(unit, scratch);
    }
  }

  /**
   * A view call whose view may be the one it made last call: the same view of the same elements
   * serves again. A view that stays inside the call (`grad` false): nobody else holds it. A view
   * that becomes a `.grad` (`grad` true): only when this call dropped that gradient (zeroGrad)
   * with nobody having read it and recycled its array; nothing outside the call holds it then, so
   * handing it out again is what a new tensor would be to everyone (a gradient someone read is
   * never handed out again: its array is not recycled either). Views of the function's inputs are
   * not kept (their arrays change from call to call), nor of what a call makes fresh.
   */
  #runView(unit: TracedNode, baseValue: TracedValue, scratch: ReplayScratch, grad: boolean): void {
    const { env } = scratch;
    const base = env[baseValue.id]!;
    const views = grad ? scratch.gradViews : scratch.views;
    const kept = views[unit.id];
    if (kept?.matches(base) && (!grad || scratch.session?.droppedUnread?.(kept.value) === true)) {
      env[unit.outputs[0].id] = kept.value;
      if (grad) scratch.keptGradViews++;
      else scratch.keptViews++;
      return;
    }
    this.#call(unit, scratch);
    const view = env[unit.outputs[0].id];
    // Kept only over arrays that stay alive anyway; otherwise the entry goes, so that a view of
    // a dropped plan's array does not keep that array alive.
    views[unit.id] =
      view !== undefined &&
      view !== base &&
      view.data === base.data &&
      (this.#ofCaptured(unit, base, env) || this.arrays?.keeps(base.data) === true)
        ? new KeptFrom(base, view)
        : undefined;
  }

  /**
   * True when `base`, the tensor `unit` views, has the array of a captured tensor (it is one, or a
   * view of one: `t(weight)` for a Linear's backward), which stays alive anyway.
   */
  #ofCaptured(unit: TracedNode, base: Tensor, env: readonly (Tensor | undefined)[]): boolean {
    const root = this.#capturedRoots[unit.id];
    return root !== undefined && env[root.id]?.data === base.data;
  }

  #call(unit: TracedNode, scratch: ReplayScratch): void {
    const { env } = scratch;
    // A function that runs its own backward needs no graph of its forward; otherwise each
    // call runs in the grad mode it was traced in, so the result's graph is the eager one.
    setGradEnabled(!this.runsBackward && unit.gradEnabled);
    const args = scratch.argsOf(unit);
    let result: unknown;
    try {
      result = unit.again(...(args as never[]));
    } catch (error) {
      throw inReplayOf(unit, error);
    } finally {
      scratch.release(unit); // also when the call throws: the list must not keep its tensors
    }
    if (result instanceof WithSaved) {
      const reply = result;
      const saved = unit.saved;
      for (let i = 0; i < saved.length; i++) env[saved[i].id] = reply.saved[i];
      if (unit.handle !== null) scratch.contexts[unit.handle.id] = reply.handle;
      result = reply.result;
      reply.release();
    }
    const outs = unit.outputs;
    if (outs.length === 0) return;
    if (outs.length === 1 && result instanceof Tensor) env[outs[0].id] = result;
    else {
      const made = tensorsIn(result);
      for (let i = 0; i < outs.length; i++) env[outs[i].id] = made[i];
    }
  }
}

/**
 * Where a replay keeps its tensors while it runs, and the argument lists of its calls: arrays
 * made once per plan and emptied after every call (so that nothing of a call stays reachable
 * from the plan).
 */
class ReplayScratch {
  /** By value id: the tensor of this call. */
  readonly env: (Tensor | undefined)[];
  /** By handle id: the contexts custom ops made for their backward. */
  readonly contexts: unknown[];
  /** By generator id: the generators the function makes, a new one per call as it would. */
  readonly generators: (Generator | undefined)[];
  /**
   * By node id: an argument list reused on every call, for calls whose arguments are values and
   * plain constants (most); undefined for the others, whose lists are made per call.
   */
  readonly #lists: (unknown[] | undefined)[];
  /**
   * By node id: the view a view call made last, kept for the next call (see Plan's #runView).
   * It keeps the Storage object of the base it was made from: a base in one of the plan's arrays
   * may be a new tensor (and Storage) on a later call, so the kept view's Storage may be an older
   * one over the same array. Nothing in a replay tells them apart: calls that record no graph never read
   * `storage.version`, and an in-place write overlapping its own source was refused when the
   * function was traced.
   */
  readonly views: (KeptFrom<Tensor> | undefined)[] = [];
  /** By node id: the gradient a view call made last call (see Plan's #runView). */
  readonly gradViews: (KeptFrom<Tensor> | undefined)[] = [];
  /** Views, and gradients' views, this call took from the call before. */
  keptViews = 0;
  keptGradViews = 0;
  /** The memory plan's session of this call, if any. */
  session: ReplaySession | null = null;

  constructor(graph: TracedGraph, units: readonly TracedNode[]) {
    this.env = new Array(graph.values.length).fill(undefined);
    this.contexts = new Array(graph.handles.length).fill(undefined);
    this.generators = new Array(graph.generators.length).fill(undefined);
    this.#lists = [];
    for (const unit of units) {
      if (allFlat(unit.args)) this.#lists[unit.id] = new Array(unit.args.length);
    }
  }

  /** The arguments of `unit`'s call in this replay. */
  argsOf(unit: TracedNode): unknown[] {
    const list = this.#lists[unit.id];
    if (list === undefined) return unit.args.map((arg) => this.#resolve(arg));
    const { args } = unit;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      list[i] = arg instanceof TracedValue ? this.env[arg.id] : arg;
    }
    return list;
  }

  /** After `unit`'s call: its reused argument list lets go of this call's tensors. */
  release(unit: TracedNode): void {
    const list = this.#lists[unit.id];
    if (list !== undefined) list.fill(undefined);
  }

  #resolve(arg: TracedArg): unknown {
    if (arg instanceof TracedValue) return this.env[arg.id];
    if (arg instanceof TracedHandle) return this.contexts[arg.id];
    if (arg instanceof TracedGenerator) {
      this.generators[arg.id] ??= arg.initial.cloneState();
      return this.generators[arg.id];
    }
    if (arg === null || typeof arg !== "object") return arg;
    if (Array.isArray(arg)) return arg.map((a) => this.#resolve(a));
    if (Object.getPrototypeOf(arg) !== Object.prototype) return arg;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(arg)) out[key] = this.#resolve(v as TracedArg);
    return out;
  }

  /** After a call: drops every tensor, context and generator it used. */
  clear(): void {
    this.keptViews = 0;
    this.keptGradViews = 0;
    this.session = null;
    this.env.fill(undefined);
    this.contexts.fill(undefined);
    this.generators.fill(undefined);
  }
}

/**
 * For a movement call on one tensor with one result: that tensor's value; else null. Shapes are
 * fixed by the trace, so the same base laid out the same way gives the same view.
 */
function viewBaseOf(unit: TracedNode): TracedValue | null {
  if (unit.kind !== "movement" || unit.outputs.length !== 1 || unit.saved.length > 0) return null;
  const values = unit.args.filter((arg) => arg instanceof TracedValue);
  if (values.length !== 1 || !allFlat(unit.args)) return null;
  return values[0];
}

/**
 * True for an argument a replay passes as it is or as one value's tensor: a value, or a
 * constant that holds none (a number, a string, a class instance such as a module, or an array
 * or plain object of such constants, like a shape or a list of dims). Such arrays and objects
 * are the trace's own copies (see Tracer's #arg), frozen here, since every replay passes the
 * same one: an op may keep it (as a shape, say) but never change it.
 */
function isFlatArg(arg: TracedArg): boolean {
  return arg instanceof TracedValue || isConstant(arg);
}

/** True when every argument is flat (each constant among them frozen, whatever the others). */
function allFlat(args: readonly TracedArg[]): boolean {
  let flat = true;
  for (const arg of args) if (!isFlatArg(arg)) flat = false;
  return flat;
}

function isConstant(arg: TracedArg): boolean {
  if (arg instanceof TracedValue || arg instanceof TracedHandle || arg instanceof TracedGenerator)
    return false;
  if (arg === null || typeof arg !== "object") return true;
  if (Array.isArray(arg)) {
    if (!arg.every(isConstant)) return false;
  } else if (Object.getPrototypeOf(arg) === Object.prototype) {
    if (!Object.values(arg).every((v) => isConstant(v as TracedArg))) return false;
  } else return true; // a class instance: passed as it is, as before
  Object.freeze(arg);
  return true;
}

/**
 * Throws a CompileError when the result holds a tensor made during the call (its storage made
 * after `firstSerial`) where a replay does
 * not put its own (in a Map, a Set, a class instance, or deeper than tensorsIn looks): every
 * replay would return the traced call's tensor there.
 */
function checkResult(result: unknown, firstSerial: number): void {
  const replaced = new Set(tensorsIn(result));
  // Storage made before the call (a parameter, or a view of one) is the same on every call.
  const path = findTensor(
    result,
    "result",
    (t) => !replaced.has(t) && t.storage.serial >= firstSerial,
  );
  if (path !== null) {
    throw new CompileError(
      `compile: the function's result holds a tensor made during the call at ${path}, where a replay would return the first call's tensor again. ` +
        "Return tensors as the result itself or in arrays and plain objects, four levels deep at most.",
    );
  }
}

/** Where a value comes from, comparable across two traces of the same function. */
function addressOf(v: TracedValue, units: Map<TracedNode, number>, graph: TracedGraph): string {
  if (v.source === "input") return `input ${graph.inputs.indexOf(v)}`;
  if (v.source === "captured" || v.source === "untraced") return `captured ${v.label}`;
  const producer = v.producer!;
  const slot = producer.outputs.includes(v)
    ? `output ${producer.outputs.indexOf(v)}`
    : `saved ${producer.saved.indexOf(v)}`;
  return `${slot} of call #${units.get(producer) ?? "?"}`;
}

/**
 * The first way `graph` (a new trace) makes other calls than `plan` replays: op, count or an
 * argument; null when the calls are the same.
 */
function firstDifference(plan: Plan, graph: TracedGraph): string | null {
  const units = graph.primitives();
  const positions = [
    new Map(plan.units.map((u, i) => [u, i] as const)),
    new Map(units.map((u, i) => [u, i] as const)),
  ];
  const same = (a: TracedArg, b: TracedArg): boolean => {
    if (a instanceof TracedValue || b instanceof TracedValue) {
      if (!(a instanceof TracedValue && b instanceof TracedValue)) return false;
      if (a.source === "captured" && b.source === "captured") return a.tensor === b.tensor;
      // The plan's captured tensor, passed now as an input (so the new trace calls it an input):
      // a replay puts that very tensor at both places.
      if (a.source === "captured" && b.source === "input") return a.tensor === b.tensor;
      return addressOf(a, positions[0], plan.graph) === addressOf(b, positions[1], graph);
    }
    if (a instanceof TracedHandle || b instanceof TracedHandle) {
      return a instanceof TracedHandle && b instanceof TracedHandle;
    }
    // A generator the function made in each trace: the same if it starts at the same point.
    if (a instanceof TracedGenerator || b instanceof TracedGenerator) {
      return (
        a instanceof TracedGenerator &&
        b instanceof TracedGenerator &&
        a.initial.sameState(b.initial)
      );
    }
    // Data for a creation call (tensor(new Int32Array(...))): a new array each trace, the same
    // if its values are.
    if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return sameArrayValues(a, b);
    if (Array.isArray(a) || Array.isArray(b)) {
      return (
        Array.isArray(a) &&
        Array.isArray(b) &&
        a.length === b.length &&
        a.every((x, i) => same(x, b[i]))
      );
    }
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
      if (Object.getPrototypeOf(a) !== Object.prototype) return a === b;
      const ka = Object.keys(a);
      const kb = Object.keys(b);
      const ra = a as Record<string, TracedArg>;
      const rb = b as Record<string, TracedArg>;
      return ka.length === kb.length && ka.every((k) => same(ra[k], rb[k]));
    }
    return Object.is(a, b);
  };
  const count = Math.min(plan.units.length, units.length);
  for (let i = 0; i < count; i++) {
    const [was, now] = [plan.units[i], units[i]];
    if (was.op !== now.op) return `call #${i} is now ${now.op}, where the trace has ${was.op}`;
    const n = Math.max(was.args.length, now.args.length);
    for (let k = 0; k < n; k++) {
      if (!same(was.args[k], now.args[k])) {
        return `call #${i} (${now.op}) now gets argument ${k} = ${describeArg(now.args[k])}, where the trace has ${describeArg(was.args[k])}`;
      }
    }
  }
  if (plan.units.length !== units.length) {
    return `the function now makes ${units.length} calls, where the trace has ${plan.units.length}`;
  }
  return null;
}

/** True for two typed arrays of one type with the same values (NaN equal to NaN). */
function sameArrayValues(a: unknown, b: unknown): boolean {
  if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor)
    return false;
  const x = a as unknown as ArrayLike<number>;
  const y = b as unknown as ArrayLike<number>;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function describeArg(arg: TracedArg): string {
  if (arg instanceof TracedValue) return `${arg.label} (${describeValue(arg)})`;
  if (typeof arg === "number" || typeof arg === "boolean" || arg === undefined) return String(arg);
  if (ArrayBuffer.isView(arg) && "length" in arg) {
    const values = Array.from(arg as unknown as ArrayLike<number>);
    const shown = values.slice(0, 8).join(", ");
    return `${arg.constructor.name}(${values.length}) [${shown}${values.length > 8 ? ", ..." : ""}]`;
  }
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

/** With `check`: throws at the first call the eagerly traced `graph` makes unlike the plan. */
function checkPlan(plan: Plan, graph: TracedGraph): void {
  const difference = firstDifference(plan, graph);
  if (difference !== null) {
    throw new CompileError(
      `compile (check): ${difference}. A replay would repeat the traced call, so this function cannot be compiled as written: ` +
        "numbers and branches computed in JavaScript are fixed when it is traced.",
    );
  }
}

/** What signatureOf reads of an input (its shape and strides arrays never change). */
interface InputMeta {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Null for a contiguous input. */
  readonly strides: readonly number[] | null;
  readonly requiresGrad: boolean;
  /** Whether the input was made by an op that recorded a graph (it has a gradFn). */
  readonly hasGraph: boolean;
}

function metaOf(t: Tensor): InputMeta {
  return {
    dtype: t.dtype,
    shape: t.shape,
    strides: t.isContiguous() ? null : t.strides,
    requiresGrad: t.requiresGrad,
    hasGraph: t.gradFn !== null,
  };
}

/** True when signatureOf(inputs) would give `last.text`. */
function sameSignature(
  last: { of: readonly InputMeta[]; gradEnabled: boolean },
  inputs: readonly Tensor[],
): boolean {
  if (last.gradEnabled !== isGradEnabled() || last.of.length !== inputs.length) return false;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    const m = last.of[i];
    if (
      t.dtype !== m.dtype ||
      t.requiresGrad !== m.requiresGrad ||
      (t.gradFn !== null) !== m.hasGraph ||
      !sameShape(t.shape, m.shape)
    ) {
      return false;
    }
    const contiguous = t.isContiguous();
    if (contiguous !== (m.strides === null)) return false;
    if (!contiguous && !sameShape(t.strides, m.strides!)) return false;
  }
  return true;
}

/**
 * What a trace depends on in a call: each input's dtype, shape and requiresGrad, whether it has
 * a graph (a backward inside the function must not run into it: see the tracer's
 * backwardWillRun), and the caller's grad mode (every call the function makes inherits it).
 */
function signatureOf(inputs: readonly Tensor[]): string {
  // A non-contiguous input's strides too, as PyTorch's compiler guards on them: ops choose
  // between a view and a copy by the layout (reshape), and so does the backward, whose
  // choice the trace keeps (a copy adopted as a leaf's .grad would replay as a view of the
  // input).
  const tensors = inputs
    .map(
      (t, i) =>
        `input${i}: ${t.dtype}${formatShape(t.shape)}` +
        `${t.isContiguous() ? "" : ` strides ${formatShape(t.strides)}`}` +
        `${t.requiresGrad ? (t.gradFn === null ? " requiresGrad" : " requiresGrad (made by an op)") : ""}`,
    )
    .join(", ");
  return isGradEnabled() ? tensors : `${tensors} (called under noGrad)`;
}

function summary(plan: Plan): string {
  const counts = new Map<string, number>();
  let bytes = 0;
  for (const unit of plan.units) {
    counts.set(unit.kind, (counts.get(unit.kind) ?? 0) + 1);
    for (const v of unit.outputs) {
      if (v.producer === unit) {
        const size = v.shape.reduce((n, s) => n * s, 1);
        bytes += size * bytesPerElement(v.dtype);
      }
    }
  }
  const kinds = [...counts].map(([kind, n]) => `${n} ${kind}`).join(", ");
  return [
    `signature: ${plan.signature}`,
    `each call replays ${plan.units.length} calls (${kinds})${plan.runsBackward ? ", with no autograd graph recorded (the function runs its own backward)" : ""}`,
    `values made per call: ${(bytes / 2 ** 20).toFixed(2)} MiB in ${plan.graph.values.filter((v) => v.source === "op").length} tensors; ` +
      (plan.arrays !== null
        ? plan.arrays.describe()
        : `each a fresh garbage-collected array: ${plan.unplanned}`),
    ...viewSummary(plan),
    ...fusionSummary(plan),
  ].join("\n");
}

/** The explain() line on views kept from one call to the next, when there are any to keep. */
function viewSummary(plan: Plan): string[] {
  const keepable = plan.keepableViews;
  const grads = plan.keepableGradViews;
  if (keepable === 0 && grads === 0) return [];
  const inside =
    keepable === 0
      ? []
      : [
          `the latest call took ${plan.keptViews} of its ${keepable} views that stay inside the call from the call before (same elements, same layout: views of parameters and of the plan's arrays)`,
        ];
  const gradients =
    grads === 0
      ? []
      : [
          `${plan.keptGradViews} of the ${grads} gradients it made as views were the ones it made the call before (dropped by zeroGrad() with nobody having read them)`,
        ];
  return [`views: ${[...inside, ...gradients].join("; ")}`];
}

/** The explain() lines on fusion: how many calls the fused units run, and each unit's calls. */
function fusionSummary(plan: Plan): string[] {
  const fused = plan.fused;
  if (fused.length === 0) return ["fused: no runs of elementwise calls"];
  const reductions = fused.reduce(
    (n, f) => n + f.reductions.length + (f.centring?.sums.length ?? 0),
    0,
  );
  const centrings = fused.filter((f) => f.centring !== null).length;
  const calls = fused.reduce((n, f) => n + f.units.length, 0) - reductions - centrings;
  const values = calls + centrings;
  const written = fused.reduce((n, f) => n + f.written.length, 0);
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const parts: string[] = [];
  if (calls > 0) parts.push(plural(calls, "elementwise call", "elementwise calls"));
  if (centrings > 0) parts.push(plural(centrings, "centring", "centrings"));
  if (reductions > 0) parts.push(plural(reductions, "reduction", "reductions"));
  const what =
    parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
  const one = calls + centrings + reductions === 1;
  const writes =
    values === 0
      ? ""
      : `, writing out ${written} of ${one ? "its" : "their"} ${plural(values, "value", "values")}${written === values ? "" : " (the others never leave WebAssembly)"}`;
  return [
    `fused: ${what} ${one ? "runs" : "run"} as ${plural(fused.length, "pass", "passes")}${writes}`,
    ...fused.map((f) => `  ${f.describe()}`),
    ...(plan.unfusedReplays === 0
      ? []
      : [
          `${plan.unfusedReplays} ${plan.unfusedReplays === 1 ? "replay" : "replays"} ran unfused, in the traced order: an input shared storage with a tensor the function updates in place`,
        ]),
  ];
}

/**
 * Compiles `fn`: the first call with a given input signature (shapes, dtypes, the strides of
 * non-contiguous inputs, which inputs require grad, whether the call is made under `noGrad`)
 * runs `fn` eagerly while tracing every
 * op call, creation, in-place update, `.grad` and `requiresGrad_` change and optimizer step it
 * makes; later calls with that signature replay those
 * calls without running `fn`'s JavaScript. Results are bit for bit those of eager calls (the
 * replay runs the same kernels in the same order). The first call passing another tensor at an
 * input position traces once more, to tell an input from the same tensor used directly (a
 * parameter passed in and captured); a training loop on new batches replays from its third call.
 *
 * What a traced function may do: anything made of Koubai's ops, modules, `backward()` and
 * optimizers. It must not read tensor values (`item()`, `tolist()`): that throws a TraceError
 * naming the line, since a replay would not repeat the decision; return the tensor instead and
 * read it outside. Numbers the function computes in JavaScript (a learning rate in a closure)
 * are fixed at trace time, except an optimizer's settings, which its step reads on every call,
 * so schedulers keep working. A function that calls `backward()` returns tensors without a
 * graph. `train()`/`eval()` on any module makes every compiled function retrace, and so does a
 * change of `requiresGrad` on a tensor the function uses (between calls). Keep a tensor made
 * inside by returning it: the arrays of values the function does not return are reused.
 *
 * @example
 * ```ts
 * const step = compile((x: Tensor, y: Tensor) => {
 *   optimizer.zeroGrad();
 *   const loss = crossEntropy(model.forward(x), y);
 *   loss.backward();
 *   optimizer.step();
 *   return loss;
 * });
 * const loss = step(x, y).item(); // traced on the first call, replayed afterwards
 * console.log(step.explain());
 * ```
 */
export function compile<A extends Tensor[], R>(
  fn: (...inputs: A) => R,
  options: CompileOptions = {},
): CompiledFunction<A, R> {
  if (typeof fn !== "function")
    throw new TypeError(`compile: expected a function, got ${typeof fn}`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError("compile: options must be an object like { log: true }");
  }
  if (options.fuse !== undefined && typeof options.fuse !== "boolean") {
    throw new TypeError(`compile: options.fuse must be true or false, got ${typeof options.fuse}`);
  }
  const fuse = options.fuse ?? true;
  const log =
    options.log === true
      ? (message: string) => console.info(message)
      : typeof options.log === "function"
        ? options.log
        : null;
  const plans = new Map<string, Plan>();
  /** Signatures whose calls ran detectAnomaly inside: they run eagerly. */
  const underAnomaly = new Set<string>();
  let latest: Plan | null = null;
  /** The latest call's signature when it ran eagerly for detectAnomaly (latest is then null). */
  let latestEager: string | null = null;
  let traces = 0;
  let replays = 0;
  /** The latest call's signature, and what it was made from (see sameSignature). */
  let lastSignature: { text: string; of: InputMeta[]; gradEnabled: boolean } | null = null;
  const compiled = ((...inputs: A): R => {
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (!(t instanceof Tensor)) {
        throw new TypeError(
          `compile: every argument of a compiled function must be a Tensor; argument ${i} is ${t === null ? "null" : typeof t}`,
        );
      }
    }
    // Called while another function is traced (a compiled function inside a compiled one):
    // run as plain code, so that the outer trace records these ops and its replays make them.
    if (activeTracer() !== null) return fn(...inputs);
    // Under detectAnomaly every op checks its result, which a replay (and a fused pass) would
    // not: such a call runs eagerly, checks included.
    if (isAnomalyEnabled()) {
      log?.(
        `compile: ran ${fn.name || "the function"} eagerly (called under detectAnomaly, whose checks a replay would skip)`,
      );
      return fn(...inputs);
    }
    // The latest call's signature string, when this call's would be the same (no string made).
    if (lastSignature === null || !sameSignature(lastSignature, inputs)) {
      lastSignature = {
        text: signatureOf(inputs),
        of: inputs.map(metaOf),
        gradEnabled: isGradEnabled(),
      };
    }
    const signature = lastSignature.text;
    if (underAnomaly.has(signature)) {
      latest = null;
      latestEager = signature;
      return fn(...inputs);
    }
    const known = plans.get(signature);
    const stale = known?.staleness(inputs) ?? null;
    const aliasCheck = known !== undefined && stale === null && known.needsAliasCheck(inputs);
    if (known !== undefined && stale === null && !aliasCheck && options.check === true) {
      // Run eagerly (the result is the eager one) and compare what it did with the plan.
      const { graph, result } = trace(fn as (...t: Tensor[]) => R, inputs);
      if (options.check === true) checkPlan(known, graph);
      replays++;
      latest = known;
      return result;
    }
    if (known !== undefined && stale === null && !aliasCheck) {
      replays++;
      latest = known;
      return known.replay(inputs) as R;
    }
    if (new Set(inputs).size < inputs.length) {
      // One tensor at two positions cannot be traced (the trace could not tell which uses are
      // which input) but replays fine once a plan is trusted: until then, such a call runs
      // eagerly, untraced, and the next call on distinct tensors traces.
      log?.(
        `compile: ran ${fn.name || "the function"} eagerly (the same tensor at two input positions cannot be traced): ${signature}`,
      );
      return fn(...inputs);
    }
    const firstSerial = Storage.nextSerial();
    const { graph, result } = trace(fn as (...t: Tensor[]) => R, inputs);
    if (graph.underAnomaly) {
      // detectAnomaly inside the function checks every op's result, which a replay would not.
      underAnomaly.add(signature);
      plans.delete(signature);
      traces++;
      latest = null;
      latestEager = signature;
      log?.(
        `compile: ${fn.name || "the function"} runs detectAnomaly inside, whose checks a replay would skip: it runs eagerly from now on for ${signature}`,
      );
      return result;
    }
    const aliased = aliasCheck ? known.checkAliases(inputs, graph) : null;
    if (aliasCheck && aliased === null) {
      // The trace ran the call eagerly, and the plan's inputs are what the function received.
      if (options.check === true) checkPlan(known, graph);
      traces++;
      latest = known;
      log?.(
        `compile: traced ${fn.name || "the function"} again (new input tensors: checking that the function does not also use the first call's directly): ${signature}`,
      );
      return result;
    }
    const reason = aliased ?? stale ?? (plans.size === 0 ? "first call" : "new input signature");
    checkResult(result, firstSerial);
    const notPlanned =
      options.check === true
        ? "compile(fn, { check: true }) runs every call eagerly and compares it with the trace"
        : options.reuseArrays === false
          ? "compile(fn, { reuseArrays: false })"
          : null;
    const plan = new Plan(graph, signature, modeEpoch, result, fuse, notPlanned);
    if (known !== undefined && aliased === null) plan.inheritAliasChecks(known);
    traces++;
    plans.set(signature, plan);
    latest = plan;
    log?.(`compile: traced ${fn.name || "the function"} (${reason}): ${signature}`);
    return result;
  }) as CompiledFunction<A, R>;
  Object.defineProperties(compiled, {
    traces: { get: () => traces },
    replays: { get: () => replays },
    explain: {
      value: () =>
        latest !== null
          ? `${summary(latest)}\n${latest.graph.toString(1)}`
          : latestEager !== null
            ? `signature: ${latestEager}\nruns eagerly: the function calls detectAnomaly inside, whose checks a replay would skip`
            : "compile: not traced yet (call the function once)",
    },
  });
  return compiled;
}
