// LinearLR: a linear ramp of the rate's multiplier, the usual warm-up.

import type { Optimizer } from "../optimizer.js";
import { LRScheduler } from "./lr-scheduler.js";

/** Options of `LinearLR`. */
export interface LinearLROptions {
  /** Multiplier at step 0, in (0, 1], default 1/3. */
  startFactor?: number;
  /** Multiplier from step `totalIters` on, in [0, 1], default 1. */
  endFactor?: number;
  /** Steps the ramp lasts, default 5. */
  totalIters?: number;
}

/**
 * Scales each group's rate by a factor that moves linearly from `startFactor` to `endFactor`
 * over `totalIters` steps, then stays, like `torch.optim.lr_scheduler.LinearLR`:
 * `lr_t = initialLr · (s + (e − s) · min(t, T) / T)`. Steps use PyTorch's chainable form
 * `lr_t = lr_{t−1} · (1 + (e − s) / (T·s + (t − 1)·(e − s)))`.
 *
 * @example
 * ```ts
 * const warmUp = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 * ```
 */
export class LinearLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "LinearLR";

  /** s: the multiplier at step 0. */
  readonly startFactor: number;
  /** e: the multiplier from step `totalIters` on. */
  readonly endFactor: number;
  /** T: steps the ramp lasts. */
  readonly totalIters: number;
  protected readonly stateKeys = ["startFactor", "endFactor", "totalIters"];

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super(optimizer);
    const startFactor = options.startFactor ?? 1 / 3;
    const endFactor = options.endFactor ?? 1;
    const totalIters = options.totalIters ?? 5;
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new RangeError(
        `LinearLR: startFactor must be greater than 0 and at most 1, got ${startFactor}`,
      );
    }
    if (!(endFactor >= 0 && endFactor <= 1)) {
      throw new RangeError(`LinearLR: endFactor must be between 0 and 1, got ${endFactor}`);
    }
    if (!Number.isInteger(totalIters) || totalIters <= 0) {
      throw new RangeError(`LinearLR: totalIters must be a positive integer, got ${totalIters}`);
    }
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: total } = this;
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr * s);
    if (this.lastEpoch > total) return this.groups.map((g) => g.lr);
    const factor = 1 + (e - s) / (total * s + (this.lastEpoch - 1) * (e - s));
    return this.groups.map((g) => g.lr * factor);
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: total } = this;
    return this.baseLrs.map(
      (base) => base * (s + ((e - s) * Math.min(total, this.lastEpoch)) / total),
    );
  }
}
