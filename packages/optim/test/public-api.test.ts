// The package as users import it: by name, alongside @koubai/core, training a tiny model.

import { manualSeed, mseLoss, randn, tensor, zeros } from "@koubai/core";
import * as optim from "@koubai/optim";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm,
  LambdaLR,
  LinearLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
} from "@koubai/optim";
import { describe, expect, it } from "vitest";

function fitLine(
  makeOptimizer: (params: ReturnType<typeof zeros>[]) => {
    optimizer: SGD | Adam | AdamW;
    scheduler: { step(loss: number): void };
  },
): { first: number; last: number } {
  manualSeed(0);
  const x = randn([32, 2]);
  const trueW = tensor([[2], [-1]]);
  const y = x.matmul(trueW).add(0.5);
  const w = zeros([2, 1], { requiresGrad: true });
  const b = zeros([1], { requiresGrad: true });
  const { optimizer, scheduler } = makeOptimizer([w, b]);
  const losses: number[] = [];
  for (let step = 0; step < 40; step++) {
    optimizer.zeroGrad();
    const loss = mseLoss(x.matmul(w).add(b), y);
    loss.backward();
    clipGradNorm([w, b], 10);
    optimizer.step();
    scheduler.step(loss.item()); // schedulers of the epoch ignore the loss
    losses.push(loss.item());
  }
  return { first: losses[0], last: losses[losses.length - 1] };
}

describe("@koubai/optim public API", () => {
  it("trains a linear model with SGD momentum and StepLR", () => {
    const { first, last } = fitLine((params) => {
      const optimizer = new SGD(params, { lr: 0.1, momentum: 0.9 });
      return { optimizer, scheduler: new StepLR(optimizer, { stepSize: 20, gamma: 0.5 }) };
    });
    expect(last).toBeLessThan(first * 0.01);
  });

  it("trains with Adam under a warm-up then cosine schedule", () => {
    const { first, last } = fitLine((params) => {
      const optimizer = new Adam(params, { lr: 0.3 });
      const scheduler = new SequentialLR(optimizer, {
        schedulers: [
          new LinearLR(optimizer, { startFactor: 0.2, totalIters: 5 }),
          new CosineAnnealingLR(optimizer, { tMax: 35 }),
        ],
        milestones: [5],
      });
      return { optimizer, scheduler };
    });
    expect(last).toBeLessThan(first * 0.05);
  });

  it("trains with AdamW under OneCycleLR", () => {
    const { first, last } = fitLine((params) => {
      const optimizer = new AdamW(params, { lr: 0.1 });
      return { optimizer, scheduler: new OneCycleLR(optimizer, { maxLr: 0.5, totalSteps: 40 }) };
    });
    expect(last).toBeLessThan(first * 0.05);
  });

  it("trains with SGD under a LambdaLR warm-up", () => {
    const { first, last } = fitLine((params) => {
      const optimizer = new SGD(params, { lr: 0.2 });
      const warmUp = (epoch: number) => Math.min(1, (epoch + 1) / 5);
      return { optimizer, scheduler: new LambdaLR(optimizer, { lrLambda: warmUp }) };
    });
    expect(last).toBeLessThan(first * 0.01);
  });

  it("trains with SGD under ReduceLROnPlateau fed the loss", () => {
    const { first, last } = fitLine((params) => {
      const optimizer = new SGD(params, { lr: 0.2 });
      return { optimizer, scheduler: new ReduceLROnPlateau(optimizer, { patience: 2 }) };
    });
    expect(last).toBeLessThan(first * 0.01);
  });
});

// Every exported optimizer and scheduler class, keyed by export name, with valid minimal arguments.
// A new class must be added here (the first test fails until it is), so its typeName is checked.
const sgd = () => new optim.SGD([zeros([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
const construct: Record<
  string,
  () => optim.Optimizer | optim.LRScheduler | optim.ReduceLROnPlateau
> = {
  Adam: () => new optim.Adam([zeros([1], { requiresGrad: true })]),
  AdamW: () => new optim.AdamW([zeros([1], { requiresGrad: true })]),
  SGD: sgd,
  CosineAnnealingLR: () => new optim.CosineAnnealingLR(sgd(), { tMax: 1 }),
  ExponentialLR: () => new optim.ExponentialLR(sgd(), { gamma: 0.5 }),
  LambdaLR: () => new optim.LambdaLR(sgd(), { lrLambda: () => 1 }),
  LinearLR: () => new optim.LinearLR(sgd()),
  MultiStepLR: () => new optim.MultiStepLR(sgd(), { milestones: [1] }),
  MultiplicativeLR: () => new optim.MultiplicativeLR(sgd(), { lrLambda: () => 1 }),
  OneCycleLR: () => new optim.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 2 }),
  ReduceLROnPlateau: () => new optim.ReduceLROnPlateau(sgd()),
  SequentialLR: () => {
    const optimizer = sgd();
    const schedulers = [new optim.LinearLR(optimizer), new optim.LinearLR(optimizer)];
    return new optim.SequentialLR(optimizer, { schedulers, milestones: [1] });
  },
  StepLR: () => new optim.StepLR(sgd(), { stepSize: 1 }),
};
// Abstract bases declare no typeName, so a user's direct subclass reports its own class name.
const abstractBases: unknown[] = [optim.Optimizer, optim.LRScheduler];
const exportedClasses = Object.entries(optim).filter(
  ([, value]) =>
    typeof value === "function" &&
    (value.prototype instanceof optim.Optimizer ||
      value.prototype instanceof optim.LRScheduler ||
      // The one scheduler outside the LRScheduler hierarchy (its step takes a metric).
      value === optim.ReduceLROnPlateau),
) as [string, { typeName?: unknown; name: string }][];

describe("typeName of the exported optimizers and schedulers", () => {
  it("has a constructor for every exported Optimizer and LRScheduler subclass, and ReduceLROnPlateau", () => {
    expect(exportedClasses.map(([name]) => name).sort()).toEqual(Object.keys(construct).sort());
  });

  it.each(exportedClasses)(
    "%s declares its own static typeName equal to its class name",
    (name, X) => {
      expect(Object.hasOwn(X, "typeName")).toBe(true);
      expect(X.typeName).toBe(name);
      const instance = construct[name]();
      expect(instance.constructor).toBe(X);
      expect(instance.typeName()).toBe(X.name);
    },
  );

  it("leaves typeName undeclared on the abstract bases Optimizer and LRScheduler", () => {
    for (const base of abstractBases) expect(Object.hasOwn(base as object, "typeName")).toBe(false);
  });
});
