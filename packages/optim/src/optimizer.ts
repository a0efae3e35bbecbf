// The Optimizer base class: parameter groups with per-group options, per-parameter state, and
// state dicts that refer to parameters by index (as PyTorch does) so training can resume from
// JSON. The update rules live in the subclasses (sgd.ts, adam.ts, adamw.ts).

import { enableGrad, noGrad, Tensor } from "@koubai/core";
import { activeTracer, tracedCall } from "@koubai/core/internal";
import { refuseWhileTraced } from "./check.js";
import {
  deserializeTensor,
  isSerializedTensor,
  type SerializedTensor,
  serializeTensor,
} from "./serialize.js";

/**
 * One parameter group: its tensors plus the options that apply to them. `lr` is read on every
 * `step()`, so schedulers (and users) change it by assignment. Schedulers add their own keys
 * (`initialLr`, and `maxLr`, `minLr`, `maxMomentum`, `baseMomentum` for `OneCycleLR`), which
 * are saved with the group.
 */
export interface ParamGroup {
  /** The tensors this group updates (leaves that require grad). */
  params: Tensor[];
  /** Learning rate γ of this group, read at every `step()`. */
  lr: number;
  /** The rate schedules are relative to, set by the first scheduler attached (PyTorch's `initial_lr`). */
  initialLr?: number;
  [option: string]: unknown;
}

/** The options of a group type, without `params` (a key-remapping `Omit` that keeps known keys). */
export type GroupOptions<G extends ParamGroup> = {
  [K in keyof G as K extends "params" ? never : K]: G[K];
};

/** A group as passed in: `params` may be any iterable of tensors; missing options take the defaults. */
export type ParamGroupInput<G extends ParamGroup> = {
  /** The group's tensors: an iterable of them (a single tensor is accepted too). */
  params: Iterable<Tensor> | Tensor;
} & Partial<GroupOptions<G>>;

/** What an optimizer accepts: tensors (one group) or an array of groups. */
export type Params<G extends ParamGroup> = Iterable<Tensor> | Iterable<ParamGroupInput<G>>;

/** Per-parameter state values: tensors (moment buffers) and numbers (step counts). */
export type StateValue = Tensor | number;

/** The JSON-serialisable form returned by `Optimizer.stateDict()`. */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by the parameter's index across all groups in order. */
  state: Record<string, Record<string, number | SerializedTensor>>;
  /** Group options, with `params` replaced by the parameters' indices. */
  paramGroups: Array<
    Record<string, unknown> & {
      /** Indices of the group's parameters, numbered across all groups in order. */
      params: number[];
    }
  >;
}

/**
 * Base class of all optimizers, mirroring `torch.optim.Optimizer`. Subclasses implement
 * `update(group)`; `step()` runs it for every group under `noGrad`.
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup, S extends object = object> {
  /** The groups in order; each holds its tensors and options. */
  readonly paramGroups: G[] = [];
  /** Per-parameter state, created lazily on the first step that parameter has a gradient. */
  readonly state = new Map<Tensor, S>();

  /**
   * The class name that messages print, e.g. `"Adam"` (like PyTorch's `Module._get_name()`): the
   * static `typeName` string of the class, or of its nearest ancestor that declares one, else
   * `this.constructor.name`. Minifiers rename classes (`Adam` may become `Qt`), so every built-in
   * optimizer declares `static readonly typeName = "Adam"` and messages keep the real name. The
   * static is inherited: `class MyAdam extends Adam {}` reports `"Adam"`; declare your own
   * `static override readonly typeName` to name a subclass, and to keep the name when minified.
   */
  typeName(): string {
    const declared = (this.constructor as { typeName?: unknown }).typeName;
    return typeof declared === "string" ? declared : this.constructor.name;
  }

  constructor(
    params: Params<G>,
    /** Options used for any group that does not set them. */
    readonly defaults: GroupOptions<G>,
  ) {
    const name = this.typeName();
    if (params instanceof Tensor) {
      throw new TypeError(
        `${name}: params should be an iterable of Tensors or of parameter groups, got a single Tensor; wrap it in an array`,
      );
    }
    if (params === null || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(
        `${name}: params should be an iterable of Tensors or of parameter groups, got ${params === null ? "null" : typeof params}`,
      );
    }
    const items = Array.from(params as Iterable<Tensor | ParamGroupInput<G>>);
    if (items.length === 0) throw new RangeError(`${name}: got an empty parameter list`);
    const groups = items.every((item) => item instanceof Tensor)
      ? [{ params: items as Tensor[] } as unknown as ParamGroupInput<G>]
      : (items as ParamGroupInput<G>[]);
    for (const group of groups) this.addParamGroup(group);
  }

  /** Throws when a group's options are invalid (negative lr, ...). Called by `addParamGroup`. */
  protected abstract validateGroup(group: G): void;

  /** Applies one update to every parameter of `group` that has a gradient. Runs under `noGrad`. */
  protected abstract update(group: G): void;

  /**
   * Performs one optimization step. With a `closure` (which re-evaluates the model, calls
   * `backward()` and returns the loss), runs it first with grad mode on and returns its result.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    if (closure !== undefined) {
      const name = `${this.typeName()}.step`;
      if (typeof closure !== "function")
        throw new TypeError(`${name}: the closure must be a function, got ${typeof closure}`);
      if (Object.prototype.toString.call(closure) === "[object AsyncFunction]") {
        throw new TypeError(
          `${name}: the closure is async, but step runs it synchronously and would update the parameters before its backward() ran; await the data first, then pass a synchronous closure (or call backward() and step() yourself)`,
        );
      }
    }
    const tracer = activeTracer();
    if (tracer === null) return this.#step(closure);
    if (closure !== undefined) {
      // Traced (inside compile): the closure's ops are traced where it runs, like the code
      // around it, so a replay computes the loss on that call's data; a step recorded with the
      // closure as an argument would rerun the first call's closure, and its captured tensors.
      const loss = enableGrad(closure);
      this.#tracedUpdate(tracer);
      return loss;
    }
    return this.#tracedUpdate(tracer) as undefined;
  }

  /** The update as one traced call; a replay runs this class's update, not an override of step. */
  #tracedUpdate(tracer: NonNullable<ReturnType<typeof activeTracer>>): void {
    // The update is one call, which a replay makes again, reading the groups' current
    // settings, so learning-rate schedules keep working.
    const info = { name: `${this.typeName()}.step`, kind: "effect" };
    tracedCall(
      tracer,
      info,
      [],
      () => this.#step(),
      () => this.#step(),
    );
  }

  #step<T>(closure?: () => T): T | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    noGrad(() => {
      for (const group of this.paramGroups) this.update(group);
    });
    return loss;
  }

  /**
   * Clears the gradients of every parameter: `setToNone` (default, as in PyTorch 2) sets `.grad`
   * to null, so the next step skips parameters that receive no gradient; otherwise fills with 0.
   */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        // Unconditional, so that a compiled step's trace does not depend on whether a
        // gradient was there before.
        if (setToNone) p.grad = null;
        else if (p.grad !== null) noGrad(() => p.grad!.detach().zero_());
      }
    }
  }

  /**
   * Adds a group (e.g. layers unfrozen during fine-tuning); missing options take `defaults`.
   * Each parameter may appear once across all groups (torch 1.13 only warns about a repeat
   * within a group, and then updates it twice per step).
   */
  addParamGroup(input: ParamGroupInput<G>): void {
    const name = this.typeName();
    if (typeof input !== "object" || input === null || !("params" in input)) {
      throw new TypeError(`${name}.addParamGroup: a group must be an object with a params field`);
    }
    const raw = input.params;
    if (raw instanceof Set) {
      throw new TypeError(
        `${name}.addParamGroup: params must be an ordered collection (an array), not a Set, so state dicts match between runs`,
      );
    }
    checkOwnKeys(input, `${name}.addParamGroup`);
    const params = raw instanceof Tensor ? [raw] : Array.from(raw);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new TypeError(
          `${name}.addParamGroup: can only optimize Tensors, but params[${i}] is ${p === null ? "null" : typeof p}`,
        );
      }
      if (!p.isLeaf) {
        throw new Error(
          `${name}.addParamGroup: can't optimize a non-leaf Tensor (params[${i}] was produced by ${p.gradFn!.op}); use a leaf created with requiresGrad`,
        );
      }
    });
    // torch 1.13 only warns here and then updates such a parameter twice per step.
    const first = params.findIndex((p, i) => params.indexOf(p) !== i);
    if (first !== -1) {
      throw new Error(
        `${name}.addParamGroup: params[${first}] is the same tensor as params[${params.indexOf(params[first])}]; pass each parameter once (a duplicate would be updated twice per step)`,
      );
    }
    const existing = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => existing.has(p))) {
      throw new Error(`${name}.addParamGroup: some parameters appear in more than one group`);
    }
    const group = { ...this.defaults, ...input, params } as unknown as G;
    const options = group as ParamGroup;
    if (Array.isArray(options.betas)) options.betas = [...options.betas];
    this.validateGroup(group);
    this.paramGroups.push(group);
  }

  /** The state as JSON-serialisable data; parameters are referred to by index. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...options } = group;
      const ids = params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...structuredClone(options), params: ids };
    });
    const state: OptimizerStateDict["state"] = {};
    for (const [p, s] of this.state) {
      const id = index.get(p);
      if (id === undefined) continue;
      const entry: Record<string, number | SerializedTensor> = {};
      for (const [key, value] of Object.entries(s)) {
        entry[key] = value instanceof Tensor ? serializeTensor(value) : (value as number);
      }
      state[String(id)] = entry;
    }
    return { state, paramGroups };
  }

  /**
   * Checks one restored per-parameter state entry (its fields as numbers and tensors already
   * cast to the parameter's dtype and shape) and throws, naming `where`, when an update could
   * not use it. Called by `loadStateDict` before it changes anything. The default accepts any.
   */
  protected validateState(_state: Record<string, StateValue>, _group: G, _where: string): void {}

  /**
   * Restores a `stateDict()` (possibly after `JSON.parse`). The groups must have the same sizes;
   * saved group options replace the current ones; state tensors are copied and cast to their
   * parameter's dtype. Everything is checked first (the group options as the constructor checks
   * them, parameter indices, every state entry); on any problem it throws and changes nothing.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = `${this.typeName()}.loadStateDict`;
    refuseWhileTraced(name);
    const saved = (stateDict as Partial<OptimizerStateDict> | null)?.paramGroups;
    const savedState = (stateDict as Partial<OptimizerStateDict> | null)?.state;
    if (
      !Array.isArray(saved) ||
      savedState === null ||
      typeof savedState !== "object" ||
      Array.isArray(savedState)
    ) {
      throw new TypeError(
        `${name}: expected an object with state (an object) and paramGroups (an array), as stateDict() returns`,
      );
    }
    if (saved.length !== this.paramGroups.length) {
      throw new RangeError(
        `${name}: loaded state dict has ${saved.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byId = new Map<number, { p: Tensor; group: number }>();
    const options = saved.map((g, i) => {
      if (g === null || typeof g !== "object" || Array.isArray(g))
        throw new TypeError(`${name}: paramGroups[${i}] must be an object`);
      const params = this.paramGroups[i].params;
      if (!Array.isArray(g.params) || g.params.length !== params.length) {
        throw new RangeError(
          `${name}: loaded parameter group ${i} has ${Array.isArray(g.params) ? g.params.length : "no list of"} parameters, this optimizer's has ${params.length}`,
        );
      }
      g.params.forEach((id, j) => {
        if (!Number.isSafeInteger(id) || id < 0 || byId.has(id)) {
          throw new RangeError(
            `${name}: paramGroups[${i}].params[${j}] is ${JSON.stringify(id)}; expected a parameter index (an integer >= 0) used once`,
          );
        }
        byId.set(id, { p: params[j], group: i });
      });
      const { params: _ids, ...rest } = g;
      checkOwnKeys(rest, `${name}: paramGroups[${i}]`);
      const copy = structuredClone(rest);
      try {
        this.validateGroup({ ...copy, params } as unknown as G);
      } catch (e) {
        if (e instanceof Error) e.message = `${name}: paramGroups[${i}]: ${e.message}`;
        throw e;
      }
      return copy;
    });
    const state = new Map<Tensor, S>();
    for (const [key, entry] of Object.entries(savedState)) {
      const target = String(Number(key)) === key ? byId.get(Number(key)) : undefined;
      if (target === undefined)
        throw new RangeError(`${name}: state for unknown parameter index ${JSON.stringify(key)}`);
      const { p } = target;
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        throw new TypeError(
          `${name}: state ${key} is ${entry === null ? "null" : Array.isArray(entry) ? "an array" : typeof entry}, expected an object of numbers and tensors as stateDict() returns`,
        );
      }
      checkOwnKeys(entry, `${name}: state ${key}`);
      const restored: Record<string, StateValue> = {};
      for (const [field, value] of Object.entries(entry)) {
        if (typeof value === "number") {
          restored[field] = value;
          continue;
        }
        if (!isSerializedTensor(value)) {
          throw new TypeError(`${name}: state ${key}.${field} is neither a number nor a tensor`);
        }
        const t = deserializeTensor(value, `${name} (state ${key}.${field})`, p.dtype);
        if (t.shape.length !== p.shape.length || t.shape.some((s, d) => s !== p.shape[d])) {
          throw new RangeError(
            `${name}: state ${key}.${field} has shape [${t.shape.join(", ")}] but parameter ${key} has shape [${p.shape.join(", ")}]`,
          );
        }
        restored[field] = t;
      }
      const group = { ...options[target.group], params: [] } as unknown as G;
      this.validateState(restored, group, `${name}: state ${key}`);
      state.set(p, restored as S);
    }
    // Everything is valid: now change the optimizer.
    this.paramGroups.forEach((group, i) => {
      for (const k of Object.keys(group)) if (k !== "params") delete group[k];
      Object.assign(group, options[i]);
    });
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
  }
}

/**
 * Refuses a "__proto__" key in a record from a state dict or a group: assigning it to an ordinary
 * object (as group options are) would replace that object's prototype.
 */
function checkOwnKeys(record: object, where: string): void {
  if (Object.hasOwn(record, "__proto__")) {
    throw new TypeError(
      `${where}: "__proto__" is not a valid option or state name (it would replace the object's prototype)`,
    );
  }
}
