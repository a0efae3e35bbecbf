// Builds the scheduler a fixture case describes, on the optimizer it describes.

import { zeros } from "@koubai/core";
import {
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  SequentialLR,
  SGD,
  StepLR,
} from "../../src/index.js";
import { fixtures, type SchedulerCase } from "./fixtures.js";

type Options = Record<string, unknown>;

export function makeScheduler(optimizer: Optimizer, kind: string, options: Options): LRScheduler {
  const o = options as never;
  switch (kind) {
    case "StepLR":
      return new StepLR(optimizer, o);
    case "MultiStepLR":
      return new MultiStepLR(optimizer, o);
    case "ExponentialLR":
      return new ExponentialLR(optimizer, o);
    case "CosineAnnealingLR":
      return new CosineAnnealingLR(optimizer, o);
    case "LinearLR":
      return new LinearLR(optimizer, o);
    case "OneCycleLR":
      return new OneCycleLR(optimizer, o);
    case "SequentialLR": {
      const inner = (options.schedulers as Array<{ scheduler: string; options: Options }>).map(
        (s) => makeScheduler(optimizer, s.scheduler, s.options),
      );
      return new SequentialLR(optimizer, {
        schedulers: inner,
        milestones: options.milestones as number[],
      });
    }
    default:
      throw new Error(`fixture: unknown scheduler ${kind}`);
  }
}

/** The fixture's optimizer (SGD on a zero parameter) and scheduler. */
export function makeCase(c: SchedulerCase): { optimizer: SGD; scheduler: LRScheduler } {
  const p = zeros([2], { dtype: "float64", requiresGrad: true });
  const optimizer = new SGD([p], { lr: c.optimizer.lr, momentum: c.optimizer.momentum });
  return { optimizer, scheduler: makeScheduler(optimizer, c.scheduler, c.options) };
}

/** Steps like the fixture (optimizer then scheduler) and records lr and momentum after each. */
export function replay(c: SchedulerCase): { lrs: number[]; momentums: number[] } {
  const { optimizer, scheduler } = makeCase(c);
  const group = optimizer.paramGroups[0];
  const lrs = [group.lr];
  const momentums = [group.momentum];
  for (let i = 1; i < c.lrs.length; i++) {
    const p = group.params[0];
    p.grad = zeros([2], { dtype: "float64" });
    optimizer.step();
    scheduler.step();
    lrs.push(group.lr);
    momentums.push(group.momentum);
  }
  return { lrs, momentums };
}

/** Registers one test per fixture case of `kind`, comparing lrs (and momentums) with torch's. */
export function fixtureCases(kind: string): Array<readonly [string, SchedulerCase]> {
  const cases = fixtures.schedulers.filter((c) => c.scheduler === kind);
  if (cases.length === 0) throw new Error(`fixture: no cases for ${kind}`);
  return cases.map((c) => [c.name, c] as const);
}
