// SequentialLR: hands the schedule from one scheduler to the next at milestones (warm-up, then
// decay).

import type { Optimizer } from "../optimizer.js";
import { LRScheduler, type SchedulerStateDict } from "./lr-scheduler.js";

/**
 * Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]`, and so on, like
 * `torch.optim.lr_scheduler.SequentialLR`. At each milestone the next scheduler restarts at
 * its epoch 0 through its closed form (so it starts from its `initialLr`, e.g. the full rate
 * after a warm-up), then continues with ordinary steps. All schedulers must drive `optimizer`.
 *
 * Construct the inner schedulers first (each takes its initial step); this constructor undoes
 * those steps and restarts the first one, as PyTorch does.
 *
 * @example
 * ```ts
 * const warmUp = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 * const decay = new CosineAnnealingLR(optimizer, { tMax: 95 });
 * const scheduler = new SequentialLR(optimizer, { schedulers: [warmUp, decay], milestones: [5] });
 * ```
 */
export class SequentialLR extends LRScheduler {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "SequentialLR";

  /** The schedulers in the order they take over. */
  readonly schedulers: LRScheduler[];
  /** Steps at which `schedulers[i + 1]` takes over from `schedulers[i]` (one fewer than schedulers). */
  readonly milestones: number[];
  protected readonly stateKeys = ["milestones"];

  constructor(
    optimizer: Optimizer,
    options: { schedulers: readonly LRScheduler[]; milestones: readonly number[] },
  ) {
    super(optimizer);
    const { schedulers, milestones } = options ?? {};
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new TypeError("SequentialLR: schedulers must be a non-empty array of schedulers");
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler) || s.optimizer !== optimizer) {
        throw new Error(
          `SequentialLR: expects all schedulers to belong to the same optimizer, but the scheduler at index ${i} does not belong to the one passed in`,
        );
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(
        `SequentialLR: expects one milestone fewer than schedulers, but got ${schedulers.length} schedulers and ${Array.isArray(milestones) ? milestones.length : String(milestones)} milestones`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = 0;
    // Reset to the initial rates and undo the inner schedulers' construction steps.
    for (const group of optimizer.paramGroups) group.lr = group.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  protected override getLr(): number[] {
    return this.getLastLr();
  }

  /** Advances the active scheduler (restarting the next one at its milestone). */
  protected override advance(): void {
    this.lastEpoch += 1;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepTo(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  /** The state, with each inner scheduler's state under `schedulers`. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** @internal Checks its own fields and every inner scheduler's state before any is loaded. */
  override checkStateDict(stateDict: SchedulerStateDict, name: string): void {
    const inner = stateDict?.schedulers;
    if (!Array.isArray(inner) || inner.length !== this.schedulers.length) {
      throw new RangeError(`${name}: expected states for ${this.schedulers.length} schedulers`);
    }
    const { schedulers: _inner, ...own } = stateDict;
    super.checkStateDict({ ...own, schedulers: this.stateDict().schedulers }, name);
    inner.forEach((s, i) => {
      this.schedulers[i].checkStateDict(s as SchedulerStateDict, `${name} (schedulers[${i}])`);
    });
  }

  /** @internal */
  override applyStateDict(stateDict: SchedulerStateDict): void {
    super.applyStateDict(stateDict);
    (stateDict.schedulers as SchedulerStateDict[]).forEach((s, i) => {
      this.schedulers[i].applyStateDict(s);
    });
  }
}
