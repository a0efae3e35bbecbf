// Schedulers driven by a user function of the epoch: LambdaLR (the rate is initialLr times the
// function) and MultiplicativeLR (the rate is multiplied by the function every step).
// The functions are not state: state dicts hold the counters and rates only.

import type { Optimizer } from "../optimizer.js";
import { LRScheduler } from "./lr-scheduler.js";

/** A factor as a function of the epoch (`lastEpoch`, 0 at construction). */
export type LrLambda = (epoch: number) => number;

/** Options of `LambdaLR` and `MultiplicativeLR`. */
export interface LambdaLROptions {
  /** One function shared by every parameter group, or one function per group. */
  lrLambda: LrLambda | readonly LrLambda[];
}

/** One function per group, checked like torch (a list must have one entry per group). */
function lambdasPerGroup(where: string, groups: number, lrLambda: unknown): LrLambda[] {
  if (typeof lrLambda === "function") return new Array<LrLambda>(groups).fill(lrLambda as LrLambda);
  if (!Array.isArray(lrLambda)) {
    throw new TypeError(
      `${where}: lrLambda must be a function of the epoch or an array of them (one per parameter group), got ${String(lrLambda)}`,
    );
  }
  if (lrLambda.length !== groups) {
    throw new RangeError(
      `${where}: expected ${groups} lrLambdas (one per parameter group), got ${lrLambda.length}`,
    );
  }
  lrLambda.forEach((fn, i) => {
    if (typeof fn !== "function") {
      throw new TypeError(
        `${where}: lrLambda[${i}] must be a function of the epoch, got ${String(fn)}`,
      );
    }
  });
  return [...lrLambda];
}

/**
 * Calls group `i`'s function. A result that is not a number would turn the rate into NaN (or a
 * string) silently in JavaScript, where Python would raise, so it is an error here.
 */
function factorOf(scheduler: LRScheduler, lambdas: readonly LrLambda[], i: number, epoch: number) {
  const factor = lambdas[i](epoch);
  if (typeof factor !== "number") {
    throw new TypeError(
      `${scheduler.typeName()}: the lrLambda of parameter group ${i} returned ${typeof factor === "string" ? JSON.stringify(factor) : String(factor)} at epoch ${epoch}; it must return a number`,
    );
  }
  return factor;
}

/**
 * Sets each group's rate to its `initialLr` times a function of the epoch, like
 * `torch.optim.lr_scheduler.LambdaLR`: `lr_t = initialLr · lrLambda(t)`. Construction takes
 * the first step, so the rate is `initialLr · lrLambda(0)` right away.
 *
 * `stateDict()` saves the counters and rates (`lastEpoch`, `baseLrs`, `stepCount`, `lastLr`),
 * not the functions: to resume, construct the scheduler with the same functions, then call
 * `loadStateDict`. (torch saves a lambda's attributes only when it is a callable object; plain
 * functions are not saved there either.)
 *
 * @example
 * ```ts
 * // Two groups: the first decays by 5% per epoch, the second warms up over 10 epochs.
 * const scheduler = new LambdaLR(optimizer, {
 *   lrLambda: [(epoch) => 0.95 ** epoch, (epoch) => Math.min(1, (epoch + 1) / 10)],
 * });
 * ```
 */
export class LambdaLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "LambdaLR";

  /** Each group's function of the epoch. */
  readonly lrLambdas: readonly LrLambda[];
  protected readonly stateKeys = [];

  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    super(optimizer);
    this.lrLambdas = lambdasPerGroup("LambdaLR", optimizer.paramGroups.length, options?.lrLambda);
    this.initialStep();
  }

  protected override getLr(): number[] {
    return this.baseLrs.map((base, i) => base * factorOf(this, this.lrLambdas, i, this.lastEpoch));
  }
}

/**
 * Multiplies each group's rate by a function of the epoch at every step after construction,
 * like `torch.optim.lr_scheduler.MultiplicativeLR`: `lr_0 = lr`, `lr_t = lr_{t−1} ·
 * lrLambda(t)` for t > 0. The function is not called at construction (epoch 0).
 *
 * `stateDict()` saves the counters and rates, not the functions: to resume, construct the
 * scheduler with the same functions, then call `loadStateDict` (the optimizer's state dict
 * carries the current rates).
 *
 * @example
 * ```ts
 * const scheduler = new MultiplicativeLR(optimizer, { lrLambda: () => 0.95 });
 * ```
 */
export class MultiplicativeLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "MultiplicativeLR";

  /** Each group's function of the epoch. */
  readonly lrLambdas: readonly LrLambda[];
  protected readonly stateKeys = [];

  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    super(optimizer);
    this.lrLambdas = lambdasPerGroup(
      "MultiplicativeLR",
      optimizer.paramGroups.length,
      options?.lrLambda,
    );
    this.initialStep();
  }

  protected override getLr(): number[] {
    if (this.lastEpoch <= 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g, i) => g.lr * factorOf(this, this.lrLambdas, i, this.lastEpoch));
  }
}
