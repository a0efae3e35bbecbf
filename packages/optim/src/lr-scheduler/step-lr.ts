// Schedulers that multiply the rate by gamma at chosen steps: StepLR (every stepSize steps),
// MultiStepLR (at milestones) and ExponentialLR (every step).

import type { Optimizer } from "../optimizer.js";
import { LRScheduler } from "./lr-scheduler.js";

function checkPositiveInteger(where: string, option: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${where}: ${option} must be a positive integer, got ${String(value)}`);
  }
}

/**
 * Multiplies each group's rate by `gamma` every `stepSize` steps, like
 * `torch.optim.lr_scheduler.StepLR`: `lr_t = initialLr · gamma^⌊t / stepSize⌋`.
 *
 * @example
 * ```ts
 * const scheduler = new StepLR(optimizer, { stepSize: 30, gamma: 0.1 });
 * ```
 */
export class StepLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "StepLR";

  /** Steps between two decays. */
  readonly stepSize: number;
  /** Multiplicative decay factor, default 0.1. */
  readonly gamma: number;
  protected readonly stateKeys = ["stepSize", "gamma"];

  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    checkPositiveInteger("StepLR", "stepSize", options?.stepSize);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected override getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) {
      return this.groups.map((g) => g.lr);
    }
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    const k = Math.floor(this.lastEpoch / this.stepSize);
    return this.baseLrs.map((base) => base * this.gamma ** k);
  }
}

/**
 * Multiplies each group's rate by `gamma` at every milestone, like
 * `torch.optim.lr_scheduler.MultiStepLR`: `lr_t = initialLr · gamma^(number of milestones ≤ t)`.
 * A milestone listed k times multiplies by `gamma^k`.
 *
 * @example
 * ```ts
 * const scheduler = new MultiStepLR(optimizer, { milestones: [30, 80], gamma: 0.1 });
 * ```
 */
export class MultiStepLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "MultiStepLR";

  /** Milestones in increasing order, repeats kept. */
  readonly milestones: number[];
  /** Multiplicative decay factor, default 0.1. */
  readonly gamma: number;
  protected readonly stateKeys = ["milestones", "gamma"];

  constructor(optimizer: Optimizer, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    if (!Array.isArray(options?.milestones)) {
      throw new TypeError("MultiStepLR: milestones must be an array of step numbers");
    }
    for (const m of options.milestones) {
      if (!Number.isInteger(m) || m < 0) {
        throw new RangeError(`MultiStepLR: milestones must be integers >= 0, got ${String(m)}`);
      }
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** hits);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}

/**
 * Multiplies each group's rate by `gamma` every step, like
 * `torch.optim.lr_scheduler.ExponentialLR`: `lr_t = initialLr · gamma^t`.
 *
 * @example
 * ```ts
 * const scheduler = new ExponentialLR(optimizer, { gamma: 0.95 });
 * ```
 */
export class ExponentialLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ExponentialLR";

  /** Multiplicative decay factor applied every step. */
  readonly gamma: number;
  protected readonly stateKeys = ["gamma"];

  constructor(optimizer: Optimizer, options: { gamma: number }) {
    super(optimizer);
    if (typeof options?.gamma !== "number") {
      throw new TypeError("ExponentialLR: gamma (the per-step factor) is required");
    }
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}
