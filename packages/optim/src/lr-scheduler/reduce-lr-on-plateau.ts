// ReduceLROnPlateau: lowers the rate when a monitored metric (validation loss, accuracy) stops
// improving. It reacts to values passed to step(metric) rather than following a schedule of the
// epoch, so it stands apart from the LRScheduler base class (see the class comment).

import type { Tensor } from "@koubai/core";
import { activeTracer, tracedCall } from "@koubai/core/internal";
import { refuseWhileTraced } from "../check.js";
import { Optimizer } from "../optimizer.js";
import { kindMismatch, type SchedulerStateDict } from "./lr-scheduler.js";

/** Options of `ReduceLROnPlateau`; the defaults are torch's. */
export interface ReduceLROnPlateauOptions {
  /** `"min"` (default): lower is better, like a loss; `"max"`: higher is better, like accuracy. */
  mode?: "min" | "max";
  /** The rate is multiplied by this on a reduction: `newLr = lr · factor`, below 1; default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before a reduction, default 10. */
  patience?: number;
  /** How much better than the best a metric must be to count as an improvement, default 1e-4. */
  threshold?: number;
  /**
   * `"rel"` (default): better than `best · (1 ∓ threshold)`; `"abs"`: better than
   * `best ∓ threshold` (minus in mode "min", plus in mode "max").
   */
  thresholdMode?: "rel" | "abs";
  /** Epochs after a reduction during which bad epochs are not counted, default 0. */
  cooldown?: number;
  /** Lower bound of the rate: one number for every group or one per group, default 0. */
  minLr?: number | readonly number[];
  /** A reduction smaller than this (`lr − newLr ≤ eps`) is skipped, default 1e-8. */
  eps?: number;
}

/** Non-finite numbers as strings, the convention of Koubai's state dicts (JSON has no Infinity). */
function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function decodeNumber(v: unknown): number {
  return typeof v === "string" ? Number(v) : (v as number);
}

/**
 * Reduces every group's rate by `factor` once the metric passed to `step(metric)` has not
 * improved for more than `patience` epochs, exactly as `torch.optim.lr_scheduler.ReduceLROnPlateau`
 * (1.13). Each `step(metric)`:
 *
 * ```text
 * lastEpoch += 1
 * if isBetter(metric, best): best = metric; numBadEpochs = 0   else: numBadEpochs += 1
 * if cooldownCounter > 0:    cooldownCounter -= 1; numBadEpochs = 0
 * if numBadEpochs > patience:
 *   for each group i: newLr = max(lr · factor, minLrs[i]); if lr − newLr > eps: lr = newLr
 *   cooldownCounter = cooldown; numBadEpochs = 0
 *
 * isBetter(a, best):  min/rel: a < best · (1 − threshold)    min/abs: a < best − threshold
 *                     max/rel: a > best · (1 + threshold)    max/abs: a > best + threshold
 * ```
 *
 * `best` starts at +Infinity in mode "min" and −Infinity in mode "max". A NaN metric is accepted
 * and counts as a bad epoch, as in torch (every comparison with NaN is false), so it never
 * becomes `best`. Note that "rel" scales a negative `best` towards zero, as torch does.
 *
 * Unlike the other schedulers this is not an `LRScheduler`: as in torch 1.13 it has no schedule
 * of the epoch to compute (`getLr`, closed forms, `initialLr`, the initial step) and its `step`
 * takes the metric, so it cannot be chained by `SequentialLR`, which steps its schedulers without
 * one. It shares their surface: `step`, `getLastLr()`, `typeName()`, `stateDict()`,
 * `loadStateDict()`. Unlike torch 1.13, `getLastLr()` works before the first step (it returns
 * the rates at construction, as later torch versions do).
 *
 * @example
 * ```ts
 * const scheduler = new ReduceLROnPlateau(optimizer, { mode: "min", patience: 5 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   train();
 *   scheduler.step(validationLoss()); // a number, or a one-element tensor
 * }
 * ```
 */
export class ReduceLROnPlateau {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ReduceLROnPlateau";

  /** Whether lower (`"min"`) or higher (`"max"`) metrics are better. */
  readonly mode: "min" | "max";
  /** Multiplier of the rate on a reduction. */
  readonly factor: number;
  /** Bad epochs tolerated before a reduction. */
  readonly patience: number;
  /** The margin an improvement must exceed, relative or absolute (see `thresholdMode`). */
  readonly threshold: number;
  /** Whether `threshold` is relative to `best` or absolute. */
  readonly thresholdMode: "rel" | "abs";
  /** Epochs after a reduction during which bad epochs are ignored. */
  readonly cooldown: number;
  /** Each group's lower bound of the rate. */
  readonly minLrs: number[];
  /** Reductions of at most this much are skipped. */
  readonly eps: number;
  /** The best metric so far (±Infinity until a first improvement). */
  best: number;
  /** Consecutive epochs without improvement (reset by an improvement, a reduction, a cooldown). */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Number of `step(metric)` calls so far (0 at construction, as in torch). */
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    /** The optimizer whose groups' `lr` this scheduler lowers. */
    readonly optimizer: Optimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    const name = "ReduceLROnPlateau";
    // A replay would keep one scheduler's counters where eager code makes a new one per call.
    refuseWhileTraced(`${name}: constructing a scheduler`);
    if (!(optimizer instanceof Optimizer)) {
      throw new TypeError(`${name}: expected an Optimizer, got ${String(optimizer)}`);
    }
    const mode = options.mode ?? "min";
    if (mode !== "min" && mode !== "max") {
      throw new RangeError(`${name}: mode must be "min" or "max", got ${JSON.stringify(mode)}`);
    }
    const thresholdMode = options.thresholdMode ?? "rel";
    if (thresholdMode !== "rel" && thresholdMode !== "abs") {
      throw new RangeError(
        `${name}: thresholdMode must be "rel" or "abs", got ${JSON.stringify(thresholdMode)}`,
      );
    }
    const factor = options.factor ?? 0.1;
    // torch only refuses factor >= 1; NaN is refused too, since it could never reduce anything.
    if (typeof factor !== "number" || !(factor < 1)) {
      throw new RangeError(`${name}: factor must be a number below 1, got ${String(factor)}`);
    }
    const numeric = { patience: 10, threshold: 1e-4, cooldown: 0, eps: 1e-8 };
    for (const [option, fallback] of Object.entries(numeric)) {
      const value = options[option as keyof typeof numeric] ?? fallback;
      if (typeof value !== "number" || Number.isNaN(value)) {
        throw new TypeError(`${name}: ${option} must be a number, got ${String(value)}`);
      }
    }
    const groups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups) {
        throw new RangeError(
          `${name}: expected ${groups} minLrs (one per parameter group), got ${minLr.length}`,
        );
      }
      this.minLrs = [...minLr];
    } else if (typeof minLr === "number") {
      this.minLrs = new Array<number>(groups).fill(minLr);
    } else {
      throw new TypeError(
        `${name}: minLr must be a number or an array of numbers (one per parameter group), got ${String(minLr)}`,
      );
    }
    this.mode = mode;
    this.factor = factor;
    this.patience = options.patience ?? numeric.patience;
    this.threshold = options.threshold ?? numeric.threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = options.cooldown ?? numeric.cooldown;
    this.eps = options.eps ?? numeric.eps;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The class name that messages print (see `LRScheduler.typeName()`, which works the same). */
  typeName(): string {
    const declared = (this.constructor as { typeName?: unknown }).typeName;
    return typeof declared === "string" ? declared : this.constructor.name;
  }

  /** The starting `best`: worse than any metric of the mode. */
  get modeWorse(): number {
    return this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Whether a cooldown is running (bad epochs are ignored meanwhile). */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether metric `a` improves on `best` by more than the threshold (table in the class doc). */
  isBetter(a: number, best: number): boolean {
    if (this.mode === "min") {
      return this.thresholdMode === "rel"
        ? a < best * (1 - this.threshold)
        : a < best - this.threshold;
    }
    return this.thresholdMode === "rel"
      ? a > best * (this.threshold + 1)
      : a > best + this.threshold;
  }

  /**
   * Records one epoch's metric (a number or a one-element tensor, e.g. a validation loss) and
   * lowers the rates if it has not improved for more than `patience` epochs.
   */
  step(metric: number | Tensor): void {
    const tracer = activeTracer();
    if (tracer === null) {
      this.#advance(metric);
      return;
    }
    // Inside a compiled function a replay makes this call again, with that call's metric tensor
    // (a number stays what it was when traced).
    tracedCall(
      tracer,
      { name: "ReduceLROnPlateau.step", kind: "effect" },
      [metric],
      () => this.#advance(metric),
      (m: number | Tensor) => this.#advance(m),
    );
  }

  #advance(metric: number | Tensor): void {
    const current = this.toNumber(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private toNumber(metric: unknown): number {
    if (typeof metric === "number") return metric;
    if (typeof metric === "object" && metric !== null && "item" in metric) {
      return (metric as Tensor).item();
    }
    throw new TypeError(
      `${this.typeName()}.step: metric must be a number or a one-element tensor, got ${String(metric)}`,
    );
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const newLr = Math.max(group.lr * this.factor, this.minLrs[i]);
      // Skips reductions too small to matter, e.g. once lr has reached minLr.
      if (group.lr - newLr > this.eps) group.lr = newLr;
    });
  }

  /** The rates after the last `step(metric)` (at construction: the groups' rates then). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * Everything but the optimizer, as JSON-serialisable data: the options, `best` (±Infinity as
   * the strings "Infinity"/"-Infinity"), `numBadEpochs`, `cooldownCounter`, `lastEpoch`, `lastLr`.
   */
  stateDict(): SchedulerStateDict {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      minLrs: [...this.minLrs],
      eps: this.eps,
      best: encodeNumber(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
    };
  }

  /**
   * Restores a `stateDict()` (possibly after `JSON.parse`), options included, as torch does.
   * Every field is checked first, as the constructor checks its options; on any problem it
   * throws and changes nothing.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const name = `${this.typeName()}.loadStateDict`;
    refuseWhileTraced(name);
    if (typeof stateDict !== "object" || stateDict === null || Array.isArray(stateDict)) {
      throw new TypeError(`${name}: expected an object from stateDict()`);
    }
    const current = this.stateDict();
    for (const key of Object.keys(current)) {
      if (!Object.hasOwn(stateDict, key)) throw new Error(`${name}: the state dict has no ${key}`);
      // best may be ±Infinity, saved as a string.
      if (key === "best") continue;
      const problem = kindMismatch(current[key], stateDict[key]);
      if (problem !== null) throw new TypeError(`${name}: ${key}: ${problem}`);
    }
    // Validated like the constructor's options, as torch re-runs its mode checks on load.
    const { mode, thresholdMode, factor, best } = stateDict;
    if (
      (mode !== "min" && mode !== "max") ||
      (thresholdMode !== "rel" && thresholdMode !== "abs")
    ) {
      throw new RangeError(
        `${name}: unknown mode ${JSON.stringify(mode)} or thresholdMode ${JSON.stringify(thresholdMode)}`,
      );
    }
    if (!((factor as number) < 1))
      throw new RangeError(`${name}: factor must be a number below 1, got ${String(factor)}`);
    if (typeof best !== "number" && !(typeof best === "string" && !Number.isNaN(Number(best))))
      throw new TypeError(`${name}: best must be a number, got ${JSON.stringify(best)}`);
    for (const key of ["numBadEpochs", "cooldownCounter", "lastEpoch"]) {
      const value = stateDict[key] as number;
      if (!Number.isInteger(value) || value < 0)
        throw new RangeError(`${name}: ${key} must be an integer >= 0, got ${value}`);
    }
    const minLrs = stateDict.minLrs as number[];
    const lastLr = stateDict.lastLr as number[];
    const groups = this.optimizer.paramGroups.length;
    if (minLrs.length !== groups || lastLr.length !== groups) {
      throw new RangeError(
        `${name}: expected ${groups} minLrs and lastLr (one per parameter group), got ${minLrs.length} and ${lastLr.length}`,
      );
    }
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(current)) self[key] = structuredClone(stateDict[key]);
    this.best = decodeNumber(best);
  }
}
