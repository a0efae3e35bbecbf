// The package as users import it: by name, alongside @koubai/core, training a tiny model.

import { manualSeed, mseLoss, randn, tensor, zeros } from "@koubai/core";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm,
  LinearLR,
  OneCycleLR,
  SequentialLR,
  SGD,
  StepLR,
} from "@koubai/optim";
import { describe, expect, it } from "vitest";

function fitLine(
  makeOptimizer: (params: ReturnType<typeof zeros>[]) => {
    optimizer: SGD | Adam | AdamW;
    scheduler: { step(): void };
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
    scheduler.step();
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
});
