// OneCycleLR (Smith & Topsakal, "super-convergence"): warm up to maxLr, anneal far below the
// start, and cycle momentum (SGD momentum or Adam's beta1) inversely, stepped once per batch.

import type { Optimizer, ParamGroup } from "../optimizer.js";
import { LRScheduler, type SchedulerStateDict } from "./lr-scheduler.js";

/** The group keys a phase may read its start and end values from. */
const PHASE_KEYS = ["initialLr", "maxLr", "minLr", "maxMomentum", "baseMomentum"];

/** Options of `OneCycleLR`. */
export interface OneCycleLROptions {
  /** Peak learning rate: one number or one per group. */
  maxLr: number | readonly number[];
  /** Number of scheduler steps in the cycle (usually epochs × batches per epoch). */
  totalSteps: number;
  /** Fraction of the cycle spent rising, default 0.3. */
  pctStart?: number;
  /** "cos" (default) or "linear" interpolation within each phase. */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum between maxMomentum and baseMomentum inversely to the rate, default true. */
  cycleMomentum?: boolean;
  /** Momentum at the peak rate, default 0.85 (one number or one per group). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end, default 0.95 (one number or one per group). */
  maxMomentum?: number | readonly number[];
  /** `initialLr = maxLr / divFactor`, default 25. */
  divFactor?: number;
  /** `minLr = initialLr / finalDivFactor`, default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, back down to initialLr, then to minLr) instead of two, default false. */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

function perGroup(name: string, groups: number, value: number | readonly number[]): number[] {
  if (typeof value === "number") return new Array<number>(groups).fill(value);
  if (!Array.isArray(value) || value.length !== groups) {
    throw new RangeError(
      `OneCycleLR: expected ${groups} values for ${name} (one per parameter group), got ${Array.isArray(value) ? value.length : String(value)}`,
    );
  }
  return [...value];
}

/**
 * The one-cycle policy, exactly as `torch.optim.lr_scheduler.OneCycleLR`. With phases ending at
 * step `pctStart·totalSteps − 1` and `totalSteps − 1`, each step interpolates within its phase at
 * `pct = (t − phaseStart) / (phaseEnd − phaseStart)`:
 *
 * ```text
 * cos:    anneal(a, b, pct) = b + (a − b)/2 · (1 + cos(π·pct))
 * linear: anneal(a, b, pct) = (b − a)·pct + a
 * phase 1: lr initialLr → maxLr,   momentum maxMomentum → baseMomentum
 * phase 2: lr maxLr → minLr,       momentum baseMomentum → maxMomentum
 * ```
 *
 * With `threePhase`, phase 2 returns to initialLr at `2·pctStart·totalSteps − 2` and a third
 * phase anneals to minLr with momentum held at maxMomentum. Stepping past `totalSteps` is an
 * error. The per-group values live in the groups (`initialLr`, `maxLr`, `minLr`,
 * `maxMomentum`, `baseMomentum`), so they are saved with the optimizer's state dict.
 *
 * @example
 * ```ts
 * const scheduler = new OneCycleLR(optimizer, { maxLr: 0.1, totalSteps: epochs * batches });
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "OneCycleLR";

  /** Number of steps in the cycle; stepping past it is an error. */
  readonly totalSteps: number;
  /** Interpolation within each phase. */
  readonly annealStrategy: "cos" | "linear";
  /** Whether momentum (or Adam's beta1) is cycled inversely to the rate. */
  readonly cycleMomentum: boolean;
  /** Whether momentum is Adam's beta1 (`betas[0]`) rather than SGD's `momentum`. */
  readonly useBeta1: boolean;
  private readonly phases: Phase[];
  protected readonly stateKeys = [
    "totalSteps",
    "annealStrategy",
    "cycleMomentum",
    "useBeta1",
    "phases",
  ];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    super(optimizer);
    const total = options?.totalSteps;
    if (typeof total !== "number" || !Number.isInteger(total) || total <= 0) {
      throw new RangeError(`OneCycleLR: expected a positive integer totalSteps, got ${total}`);
    }
    const pctStart = options.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1)) {
      throw new RangeError(`OneCycleLR: expected pctStart between 0 and 1, got ${pctStart}`);
    }
    const strategy = options.annealStrategy ?? "cos";
    if (strategy !== "cos" && strategy !== "linear") {
      throw new RangeError(
        `OneCycleLR: annealStrategy must be "cos" or "linear", got ${JSON.stringify(strategy)}`,
      );
    }
    this.totalSteps = total;
    this.annealStrategy = strategy;
    const phase = (endStep: number, lr: [string, string], m: [string, string]): Phase => ({
      endStep,
      startLr: lr[0],
      endLr: lr[1],
      startMomentum: m[0],
      endMomentum: m[1],
    });
    this.phases = options.threePhase
      ? [
          phase(pctStart * total - 1, ["initialLr", "maxLr"], ["maxMomentum", "baseMomentum"]),
          phase(2 * pctStart * total - 2, ["maxLr", "initialLr"], ["baseMomentum", "maxMomentum"]),
          phase(total - 1, ["initialLr", "minLr"], ["maxMomentum", "maxMomentum"]),
        ]
      : [
          phase(pctStart * total - 1, ["initialLr", "maxLr"], ["maxMomentum", "baseMomentum"]),
          phase(total - 1, ["maxLr", "minLr"], ["baseMomentum", "maxMomentum"]),
        ];

    const groups = optimizer.paramGroups;
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    perGroup("maxLr", groups.length, options.maxLr).forEach((maxLr, i) => {
      groups[i].initialLr = maxLr / divFactor;
      groups[i].maxLr = maxLr;
      groups[i].minLr = groups[i].initialLr / finalDivFactor;
    });
    this.baseLrs = groups.map((g) => g.initialLr!);

    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = "betas" in optimizer.defaults;
    if (this.cycleMomentum) {
      if (!("momentum" in optimizer.defaults) && !this.useBeta1) {
        throw new Error(
          `OneCycleLR: cycleMomentum needs an optimizer with momentum or betas, and ${optimizer.typeName()} has neither; pass cycleMomentum: false`,
        );
      }
      const maxM = perGroup("maxMomentum", groups.length, options.maxMomentum ?? 0.95);
      const baseM = perGroup("baseMomentum", groups.length, options.baseMomentum ?? 0.85);
      groups.forEach((g, i) => {
        this.setMomentum(g, maxM[i]);
        g.maxMomentum = maxM[i];
        g.baseMomentum = baseM[i];
      });
    }
    this.initialStep();
  }

  /** @internal Also checks the fields' limits: a phase reads only the five group keys above. */
  override checkStateDict(stateDict: SchedulerStateDict, name: string): void {
    super.checkStateDict(stateDict, name);
    const { totalSteps, annealStrategy, phases } = stateDict as {
      totalSteps: number;
      annealStrategy: string;
      phases: Phase[];
    };
    if (!Number.isInteger(totalSteps) || totalSteps <= 0)
      throw new RangeError(`${name}: totalSteps must be a positive integer, got ${totalSteps}`);
    if (annealStrategy !== "cos" && annealStrategy !== "linear") {
      throw new RangeError(
        `${name}: annealStrategy must be "cos" or "linear", got ${JSON.stringify(annealStrategy)}`,
      );
    }
    for (const phase of phases) {
      for (const key of [phase.startLr, phase.endLr, phase.startMomentum, phase.endMomentum]) {
        if (!PHASE_KEYS.includes(key)) {
          throw new RangeError(
            `${name}: a phase refers to the group key ${JSON.stringify(key)}; expected one of ${PHASE_KEYS.join(", ")}`,
          );
        }
      }
    }
  }

  private setMomentum(group: ParamGroup, value: number): void {
    if (this.useBeta1) group.betas = [value, (group.betas as number[])[1]];
    else group.momentum = value;
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    if (t > this.totalSteps) {
      throw new RangeError(
        `OneCycleLR: tried to step ${t + 1} times; the specified number of total steps is ${this.totalSteps}`,
      );
    }
    return this.groups.map((group) => {
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (t <= phase.endStep || i === this.phases.length - 1) {
          const pct = (t - startStep) / (phase.endStep - startStep);
          const value = (key: string): number => group[key] as number;
          if (this.cycleMomentum) {
            this.setMomentum(
              group,
              this.anneal(value(phase.startMomentum), value(phase.endMomentum), pct),
            );
          }
          return this.anneal(value(phase.startLr), value(phase.endLr), pct);
        }
        startStep = phase.endStep;
      }
      throw new Error("OneCycleLR: unreachable, the last phase always applies");
    });
  }
}
