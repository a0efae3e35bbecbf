// Training resumes exactly: N steps in one go equal N/2 steps, a save through JSON, a restore
// into fresh objects and N/2 more steps, bit for bit.

import { noGrad, type Tensor, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import {
  Adam,
  CosineAnnealingLR,
  LinearLR,
  type LRScheduler,
  type Optimizer,
  SequentialLR,
  SGD,
} from "../src/index.js";

// y = 3x - 1 plus a fixed wiggle, fitted by w·x + b with mean squared error.
const xs = tensor([-1, -0.5, 0, 0.5, 1, 1.5], { dtype: "float64" });
const ys = tensor([-4.1, -2.4, -0.9, 0.6, 2.1, 3.4], { dtype: "float64" });

interface Run {
  params: Tensor[];
  optimizer: Optimizer;
  scheduler: LRScheduler;
}

type Setup = (params: Tensor[]) => { optimizer: Optimizer; scheduler: LRScheduler };

function fresh(setup: Setup, values = [0.5, 0]): Run {
  const params = values.map((v) => tensor([v], { dtype: "float64", requiresGrad: true }));
  return { params, ...setup(params) };
}

function train(run: Run, steps: number): void {
  const [w, b] = run.params;
  for (let i = 0; i < steps; i++) {
    run.optimizer.zeroGrad();
    const loss = xs.mul(w).add(b).sub(ys).square().mean();
    loss.backward();
    run.optimizer.step();
    run.scheduler.step();
  }
}

function save(run: Run): string {
  return JSON.stringify({
    params: run.params.map((p) => Array.from(p.toArray())),
    optimizer: run.optimizer.stateDict(),
    scheduler: run.scheduler.stateDict(),
  });
}

function restore(setup: Setup, json: string): Run {
  const saved = JSON.parse(json);
  const run = fresh(setup, [0, 0]);
  noGrad(() => {
    run.params.forEach((p, i) => {
      p.copy_(tensor(saved.params[i], { dtype: "float64" }));
    });
  });
  run.optimizer.loadStateDict(saved.optimizer);
  run.scheduler.loadStateDict(saved.scheduler);
  return run;
}

const setups: Array<[string, Setup]> = [
  [
    "SGD with Nesterov momentum and CosineAnnealingLR",
    (params) => {
      const optimizer = new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true });
      return { optimizer, scheduler: new CosineAnnealingLR(optimizer, { tMax: 7 }) };
    },
  ],
  [
    "Adam with amsgrad and a LinearLR warm-up chained into CosineAnnealingLR",
    (params) => {
      const optimizer = new Adam(params, { lr: 0.2, amsgrad: true, weightDecay: 0.01 });
      const warmUp = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 4 });
      const decay = new CosineAnnealingLR(optimizer, { tMax: 10 });
      const scheduler = new SequentialLR(optimizer, {
        schedulers: [warmUp, decay],
        milestones: [4],
      });
      return { optimizer, scheduler };
    },
  ],
];

describe("resuming from a JSON checkpoint", () => {
  it.each(setups)("gives bit-identical parameters: %s", (_, setup) => {
    const n = 12;
    const uninterrupted = fresh(setup);
    train(uninterrupted, n);

    const first = fresh(setup);
    train(first, n / 2);
    const resumed = restore(setup, save(first));
    train(resumed, n / 2);

    const expected = uninterrupted.params.map((p) => Array.from(p.toArray()));
    expect(resumed.params.map((p) => Array.from(p.toArray()))).toEqual(expected);
    expect(resumed.optimizer.paramGroups[0].lr).toBe(uninterrupted.optimizer.paramGroups[0].lr);
    // The run really moved, so equality is not trivial.
    expect(expected[0][0]).not.toBe(0.5);
    expect(Array.from(first.params[0].toArray())).not.toEqual(expected[0]);
  });
});
