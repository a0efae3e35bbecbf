// The LRScheduler base class: PyTorch's chainable scheduler protocol. Each `step()` advances
// `lastEpoch` and writes `getLr()`'s values into the optimizer's groups; subclasses compute
// new rates from the current ones (the "chainable" form), with a closed form for jumps.

import { activeTracer, tracedCall } from "@koubai/core/internal";
import { refuseWhileTraced } from "../check.js";
import type { Optimizer, ParamGroup } from "../optimizer.js";

/** The JSON-serialisable form of a scheduler's state (everything but the optimizer). */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * Why `loaded` cannot replace `current` (a saved field of the same scheduler), or null: it must be
 * of the same kind, checked all the way down: a finite number for a finite number, a string, a
 * boolean, an array whose elements are each like the current elements, an object with the same
 * keys. Only shape and type: limits of particular fields are checked by their class.
 */
export function kindMismatch(current: unknown, loaded: unknown): string | null {
  if (typeof current === "number") {
    if (typeof loaded !== "number") return `expected a number, got ${describe(loaded)}`;
    return Number.isFinite(current) && !Number.isFinite(loaded)
      ? `expected a finite number, got ${loaded}`
      : null;
  }
  if (typeof current === "string" || typeof current === "boolean") {
    return typeof loaded === typeof current
      ? null
      : `expected a ${typeof current}, got ${describe(loaded)}`;
  }
  if (Array.isArray(current)) {
    if (!Array.isArray(loaded)) return `expected an array, got ${describe(loaded)}`;
    for (let i = 0; i < loaded.length; i++) {
      const problem =
        current.length === 0
          ? kindMismatch(0, loaded[i])
          : kindMismatch(current[Math.min(i, current.length - 1)], loaded[i]);
      if (problem !== null) return `[${i}]: ${problem}`;
    }
    return null;
  }
  if (current !== null && typeof current === "object") {
    if (loaded === null || typeof loaded !== "object" || Array.isArray(loaded))
      return `expected an object, got ${describe(loaded)}`;
    const keys = Object.keys(current);
    const extra = Object.keys(loaded).find((key) => !Object.hasOwn(current, key));
    if (extra !== undefined) return `unexpected key ${JSON.stringify(extra)}`;
    for (const key of keys) {
      if (!Object.hasOwn(loaded, key)) return `missing key ${JSON.stringify(key)}`;
      const problem = kindMismatch(
        (current as Record<string, unknown>)[key],
        (loaded as Record<string, unknown>)[key],
      );
      if (problem !== null) return `.${key}: ${problem}`;
    }
    return null;
  }
  return current === loaded ? null : `expected ${String(current)}, got ${describe(loaded)}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  return value === null ? "null" : typeof value === "object" ? "an object" : String(value);
}

/**
 * Base class of learning-rate schedulers, mirroring `torch.optim.lr_scheduler._LRScheduler`.
 * Constructing a scheduler records each group's `initialLr` (if not set yet) and takes the
 * initial step, so the optimizer's lr is the epoch-0 value right away. Call `step()` once per
 * epoch (or per batch for `OneCycleLR`), after `optimizer.step()`.
 *
 * To resume, construct the optimizer and scheduler as before, then `loadStateDict` both.
 */
export abstract class LRScheduler {
  /** Number of `step()` calls so far, minus one: 0 right after construction. */
  lastEpoch = -1;
  /** Each group's `initialLr`, the rate the schedule is relative to. */
  baseLrs: number[];
  /** @internal Steps taken, including the initial one (PyTorch's `_step_count`). */
  stepCount = 0;
  /** The rates the last `step()` wrote into the groups (read them with `getLastLr()`). */
  protected lastLr: number[] = [];

  constructor(
    /** The optimizer whose groups' `lr` this scheduler sets. */
    readonly optimizer: Optimizer,
  ) {
    // Its construction writes the groups' rates, which a replay would not write again.
    refuseWhileTraced(`${this.typeName()}: constructing a scheduler`);
    for (const group of optimizer.paramGroups) {
      if (group.initialLr === undefined) group.initialLr = group.lr;
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  /**
   * The class name that messages print, e.g. `"StepLR"` (like PyTorch's `Module._get_name()`):
   * the static `typeName` string of the class, or of its nearest ancestor that declares one, else
   * `this.constructor.name`. Minifiers rename classes, so every built-in scheduler declares
   * `static readonly typeName = "StepLR"` and messages keep the real name. The static is
   * inherited: `class MyStep extends StepLR {}` reports `"StepLR"`; declare your own
   * `static override readonly typeName` to name a subclass, and to keep the name when minified.
   */
  typeName(): string {
    const declared = (this.constructor as { typeName?: unknown }).typeName;
    return typeof declared === "string" ? declared : this.constructor.name;
  }

  /** The learning rates for `lastEpoch`, from the groups' current rates. */
  protected abstract getLr(): number[];

  /** The learning rates at `lastEpoch` computed directly, for schedulers that have a closed form. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Names of subclass fields saved by `stateDict()` besides the base ones. */
  protected abstract readonly stateKeys: readonly string[];

  /** @internal Subclasses call this at the end of their constructor (PyTorch's `_initial_step`). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances the schedule by one step and updates every group's `lr`. Inside a compiled
   * function, a replay makes this call again, as it does `optimizer.step()`.
   */
  step(): void {
    const tracer = activeTracer();
    if (tracer === null) {
      this.advance();
      return;
    }
    const advance = () => this.advance();
    tracedCall(tracer, { name: `${this.typeName()}.step`, kind: "effect" }, [], advance, advance);
  }

  /** What `step()` does: the next epoch's rates, written into the groups. */
  protected advance(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }

  /**
   * @internal Jumps to `epoch` using the closed form when there is one (PyTorch's deprecated
   * `step(epoch)`, which `SequentialLR` uses at its milestones).
   */
  stepTo(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.getLr());
  }

  private apply(values: number[]): void {
    this.groups.forEach((group, i) => {
      group.lr = values[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The optimizer's groups (read live: `loadStateDict` on the optimizer keeps them). */
  protected get groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }

  /** The learning rates the last `step()` set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's state as plain JSON-serialisable data. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {
      lastEpoch: this.lastEpoch,
      baseLrs: [...this.baseLrs],
      stepCount: this.stepCount,
      lastLr: [...this.lastLr],
    };
    const self = this as unknown as Record<string, unknown>;
    for (const key of this.stateKeys) out[key] = structuredClone(self[key]);
    return out;
  }

  /**
   * Restores a `stateDict()` (possibly after `JSON.parse`). Every field is checked first (each
   * must be present and of the kind this scheduler saves: counters are integers, rates finite
   * numbers, one per parameter group); on any problem it throws and changes nothing.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    refuseWhileTraced(`${this.typeName()}.loadStateDict`);
    this.checkStateDict(stateDict, `${this.typeName()}.loadStateDict`);
    this.applyStateDict(stateDict);
  }

  /**
   * @internal Throws, naming `name`, when `loadStateDict(stateDict)` would refuse it. Subclasses
   * with limits on their own fields extend it.
   */
  checkStateDict(stateDict: SchedulerStateDict, name: string): void {
    if (typeof stateDict !== "object" || stateDict === null || Array.isArray(stateDict)) {
      throw new TypeError(`${name}: expected an object from stateDict()`);
    }
    const current = this.stateDict();
    for (const key of Object.keys(current)) {
      if (!Object.hasOwn(stateDict, key)) throw new Error(`${name}: the state dict has no ${key}`);
      const problem = kindMismatch(current[key], stateDict[key]);
      if (problem !== null) throw new TypeError(`${name}: ${key}: ${problem}`);
    }
    const { lastEpoch, stepCount, baseLrs, lastLr } = stateDict as {
      lastEpoch: number;
      stepCount: number;
      baseLrs: number[];
      lastLr: number[];
    };
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1)
      throw new RangeError(`${name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    if (!Number.isInteger(stepCount) || stepCount < 0)
      throw new RangeError(`${name}: stepCount must be an integer >= 0, got ${stepCount}`);
    const groups = this.groups.length;
    for (const [key, rates] of [
      ["baseLrs", baseLrs],
      ["lastLr", lastLr],
    ] as const) {
      if (rates.length !== groups || rates.some((r) => r < 0)) {
        throw new RangeError(
          `${name}: ${key} must hold ${groups} rates >= 0 (one per parameter group), got [${rates.join(", ")}]`,
        );
      }
    }
  }

  /** @internal Sets the fields `checkStateDict` accepted. */
  applyStateDict(stateDict: SchedulerStateDict): void {
    const self = this as unknown as Record<string, unknown>;
    this.lastEpoch = stateDict.lastEpoch as number;
    this.baseLrs = [...(stateDict.baseLrs as number[])];
    this.stepCount = stateDict.stepCount as number;
    this.lastLr = [...(stateDict.lastLr as number[])];
    for (const key of this.stateKeys) self[key] = structuredClone(stateDict[key]);
  }
}
