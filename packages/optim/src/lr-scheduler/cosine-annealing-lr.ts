// CosineAnnealingLR in PyTorch's recursive form, which keeps oscillating past tMax.

import type { Optimizer } from "../optimizer.js";
import { LRScheduler } from "./lr-scheduler.js";

/** Python's `%` (the result takes the divisor's sign), which PyTorch's period test relies on. */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/**
 * Anneals each group's rate along a cosine from its initial value to `etaMin` over `tMax`
 * steps, like `torch.optim.lr_scheduler.CosineAnnealingLR`. The closed form is
 * `lr_t = ηmin + (initialLr − ηmin) · (1 + cos(π·t / tMax)) / 2`; each step uses the recursive
 * form
 *
 * ```text
 * lr_t = ηmin + (lr_{t−1} − ηmin) · (1 + cos(π·t/T)) / (1 + cos(π·(t−1)/T))
 * lr_t = lr_{t−1} + (initialLr − ηmin) · (1 − cos(π/T)) / 2     when (t − 1 − T) mod 2T = 0
 * ```
 *
 * NOTE: there is no restart: past `tMax` the rate rises again towards the initial value
 * (a period of 2·tMax), exactly as PyTorch does. It also respects changes other code makes to
 * `lr` between steps, which the closed form would not.
 *
 * @example
 * ```ts
 * const scheduler = new CosineAnnealingLR(optimizer, { tMax: 100, etaMin: 1e-5 });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "CosineAnnealingLR";

  /** T: steps from the initial rate down to `etaMin` (half the period). */
  readonly tMax: number;
  /** ηmin: the lowest rate, default 0. */
  readonly etaMin: number;
  protected readonly stateKeys = ["tMax", "etaMin"];

  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (typeof options?.tMax !== "number" || !(options.tMax > 0)) {
      throw new RangeError(
        `CosineAnnealingLR: tMax (steps of the half period) must be a number > 0, got ${String(options?.tMax)}`,
      );
    }
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { tMax, etaMin, lastEpoch: t } = this;
    if (t === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) return this.closedFormLr();
    if (pyMod(t - 1 - tMax, 2 * tMax) === 0) {
      return this.groups.map(
        (g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2,
      );
    }
    return this.groups.map(
      (g) =>
        ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) *
          (g.lr - etaMin) +
        etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    const { tMax, etaMin, lastEpoch: t } = this;
    return this.baseLrs.map(
      (base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2,
    );
  }
}
