import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { LambdaLR, type LrLambda, MultiplicativeLR, SGD } from "../../src/index.js";
import { type LambdaSchedulerCase, schedulerFixtures } from "../helpers/fixtures.js";
import { lambdasNamed } from "../helpers/torch-lambdas.js";

/** SGD with one single-parameter group per rate, like the fixture generator's optimizer. */
function sgdWithGroups(groupLrs: readonly number[]): SGD {
  const groups = groupLrs.map((lr) => ({
    params: [zeros([2], { dtype: "float64", requiresGrad: true })],
    lr,
  }));
  return new SGD(groups, { lr: groupLrs[0] });
}

const groupRates = (optimizer: SGD) => optimizer.paramGroups.map((g) => g.lr);

function casesOf(kind: LambdaSchedulerCase["scheduler"]) {
  const cases = schedulerFixtures.lambdaSchedulers.filter((c) => c.scheduler === kind);
  if (cases.length === 0) throw new Error(`fixture: no cases for ${kind}`);
  return cases.map((c) => [c.name, c] as const);
}

/** Constructs the case's scheduler, steps it like torch did and compares every group's rates. */
function expectTorchRates(_: string, c: LambdaSchedulerCase): void {
  const optimizer = sgdWithGroups(c.groupLrs);
  const Scheduler = c.scheduler === "LambdaLR" ? LambdaLR : MultiplicativeLR;
  const scheduler = new Scheduler(optimizer, { lrLambda: lambdasNamed(c.lrLambda) });
  const rates = [groupRates(optimizer)];
  for (let i = 1; i < c.lrs.length; i++) {
    optimizer.step();
    scheduler.step();
    rates.push(groupRates(optimizer));
  }
  expect(rates.flat()).toBeAllclose(c.lrs.flat());
  expect(scheduler.getLastLr()).toEqual(rates[rates.length - 1]);
}

/** Runs `steps` steps in one go, and the same split by a JSON save and a load into new objects. */
function resumedRates(
  makeScheduler: (optimizer: SGD) => LambdaLR | MultiplicativeLR,
  steps: number,
  saveAfter: number,
): { uninterrupted: number[][]; resumed: number[][] } {
  const optimizer = sgdWithGroups([0.1, 0.02]);
  const scheduler = makeScheduler(optimizer);
  const uninterrupted: number[][] = [];
  let saved = "";
  for (let i = 0; i < steps; i++) {
    if (i === saveAfter) {
      saved = JSON.stringify({
        optimizer: optimizer.stateDict(),
        scheduler: scheduler.stateDict(),
      });
    }
    scheduler.step();
    uninterrupted.push(groupRates(optimizer));
  }
  const restoredOptimizer = sgdWithGroups([1, 1]);
  const restored = makeScheduler(restoredOptimizer);
  const state = JSON.parse(saved);
  restoredOptimizer.loadStateDict(state.optimizer);
  restored.loadStateDict(state.scheduler);
  const resumed = uninterrupted.slice(0, saveAfter);
  for (let i = saveAfter; i < steps; i++) {
    restored.step();
    resumed.push(groupRates(restoredOptimizer));
  }
  return { uninterrupted, resumed };
}

const decay: LrLambda = (epoch) => 0.9 ** epoch;
const growth: LrLambda = (epoch) => 1 + epoch / 10;

describe("LambdaLR", () => {
  it.each(casesOf("LambdaLR"))("matches torch: %s", expectTorchRates);

  it("calls the function with epoch 0 on construction and with each new epoch on step()", () => {
    const epochs: number[] = [];
    const scheduler = new LambdaLR(sgdWithGroups([0.1]), {
      lrLambda: (epoch) => {
        epochs.push(epoch);
        return 1;
      },
    });
    scheduler.step();
    scheduler.step();
    expect(epochs).toEqual([0, 1, 2]);
  });

  it("refuses a list of functions whose length differs from the number of groups", () => {
    expect(() => new LambdaLR(sgdWithGroups([0.1, 0.2]), { lrLambda: [decay] })).toThrow(
      "LambdaLR: expected 2 lrLambdas (one per parameter group), got 1",
    );
  });

  it("refuses an lrLambda that is not a function, naming the value", () => {
    expect(() => new LambdaLR(sgdWithGroups([0.1]), { lrLambda: 0.5 as never })).toThrow(
      "LambdaLR: lrLambda must be a function of the epoch or an array of them (one per parameter group), got 0.5",
    );
    expect(
      () => new LambdaLR(sgdWithGroups([0.1, 0.2]), { lrLambda: [decay, "x" as never] }),
    ).toThrow("LambdaLR: lrLambda[1] must be a function of the epoch, got x");
  });

  it("refuses a function that returns something other than a number, naming group and epoch", () => {
    const optimizer = sgdWithGroups([0.1, 0.2]);
    const scheduler = new LambdaLR(optimizer, {
      lrLambda: [decay, (epoch) => (epoch < 1 ? 1 : (undefined as never))],
    });
    expect(() => scheduler.step()).toThrow(
      "LambdaLR: the lrLambda of parameter group 1 returned undefined at epoch 1; it must return a number",
    );
  });

  it("saves counters and rates but no functions in its state dict", () => {
    const scheduler = new LambdaLR(sgdWithGroups([0.1]), { lrLambda: decay });
    scheduler.step();
    expect(scheduler.stateDict()).toEqual({
      lastEpoch: 1,
      baseLrs: [0.1],
      stepCount: 2,
      lastLr: [0.1 * 0.9],
    });
  });

  it("resumes from a JSON state dict when given the same functions again", () => {
    const { uninterrupted, resumed } = resumedRates(
      (optimizer) => new LambdaLR(optimizer, { lrLambda: [decay, growth] }),
      10,
      4,
    );
    expect(resumed).toEqual(uninterrupted);
  });
});

describe("MultiplicativeLR", () => {
  it.each(casesOf("MultiplicativeLR"))("matches torch: %s", expectTorchRates);

  it("does not call the function on construction (epoch 0 keeps the rate)", () => {
    const epochs: number[] = [];
    const optimizer = sgdWithGroups([0.1]);
    const scheduler = new MultiplicativeLR(optimizer, {
      lrLambda: (epoch) => {
        epochs.push(epoch);
        return 0.5;
      },
    });
    expect(epochs).toEqual([]);
    expect(optimizer.paramGroups[0].lr).toBe(0.1);
    scheduler.step();
    expect(epochs).toEqual([1]);
    expect(optimizer.paramGroups[0].lr).toBe(0.05);
  });

  it("refuses a list of functions whose length differs from the number of groups", () => {
    expect(() => new MultiplicativeLR(sgdWithGroups([0.1]), { lrLambda: [decay, growth] })).toThrow(
      "MultiplicativeLR: expected 1 lrLambdas (one per parameter group), got 2",
    );
  });

  it("names itself when a function returns something other than a number", () => {
    const scheduler = new MultiplicativeLR(sgdWithGroups([0.1]), {
      lrLambda: () => "0.5" as never,
    });
    expect(() => scheduler.step()).toThrow(
      'MultiplicativeLR: the lrLambda of parameter group 0 returned "0.5" at epoch 1; it must return a number',
    );
  });

  it("resumes from JSON state dicts (the optimizer's carries the current rates)", () => {
    const { uninterrupted, resumed } = resumedRates(
      (optimizer) => new MultiplicativeLR(optimizer, { lrLambda: [decay, growth] }),
      10,
      5,
    );
    expect(resumed).toEqual(uninterrupted);
  });
});
