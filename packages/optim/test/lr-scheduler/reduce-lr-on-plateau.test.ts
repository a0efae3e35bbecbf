import { tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import {
  LinearLR,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  SequentialLR,
  SGD,
} from "../../src/index.js";
import { decodeNumber, type PlateauCase, schedulerFixtures } from "../helpers/fixtures.js";

function sgdWithGroups(groupLrs: readonly number[]): SGD {
  const groups = groupLrs.map((lr) => ({
    params: [zeros([2], { dtype: "float64", requiresGrad: true })],
    lr,
  }));
  return new SGD(groups, { lr: groupLrs[0] });
}

/** The state torch's fixture records, read from a Koubai scheduler. */
function stateOf(optimizer: SGD, scheduler: ReduceLROnPlateau) {
  return {
    lrs: optimizer.paramGroups.map((g) => g.lr),
    best: scheduler.best,
    numBadEpochs: scheduler.numBadEpochs,
    cooldownCounter: scheduler.cooldownCounter,
    lastEpoch: scheduler.lastEpoch,
  };
}

const plateauCases = schedulerFixtures.plateau.map((c) => [c.name, c] as const);

describe("ReduceLROnPlateau", () => {
  it("has torch cases to compare with", () => {
    expect(plateauCases.length).toBeGreaterThan(10);
  });

  it.each(plateauCases)("matches torch step by step: %s", (_, c: PlateauCase) => {
    const optimizer = sgdWithGroups(c.groupLrs);
    const scheduler = new ReduceLROnPlateau(optimizer, c.options as ReduceLROnPlateauOptions);
    const states = [stateOf(optimizer, scheduler)];
    for (const metric of c.metrics) {
      optimizer.step();
      scheduler.step(decodeNumber(metric));
      states.push(stateOf(optimizer, scheduler));
    }
    // Counters and best are compared exactly; rates to 1e-12 (they are products of factors).
    expect(states.map(({ lrs: _, ...counters }) => counters)).toEqual(
      c.states.map(({ lrs: _, ...counters }) => ({
        ...counters,
        best: decodeNumber(counters.best),
      })),
    );
    expect(states.flatMap((s) => s.lrs)).toBeAllclose(c.states.flatMap((s) => s.lrs));
    expect(scheduler.getLastLr()).toEqual(states[states.length - 1].lrs);
  });

  it("reads a one-element tensor metric like the number it holds", () => {
    const byNumber = new ReduceLROnPlateau(sgdWithGroups([0.1]), { patience: 0 });
    const byTensor = new ReduceLROnPlateau(sgdWithGroups([0.1]), { patience: 0 });
    for (const metric of [1, 0.5, 0.5]) {
      byNumber.step(metric);
      byTensor.step(tensor([metric], { dtype: "float64" }));
    }
    expect(byTensor.best).toBe(0.5);
    expect(byTensor.getLastLr()).toEqual(byNumber.getLastLr());
  });

  it("refuses a metric that is not a number or a one-element tensor, and counts no epoch", () => {
    const scheduler = new ReduceLROnPlateau(sgdWithGroups([0.1]));
    expect(() => scheduler.step("0.5" as never)).toThrow(
      "ReduceLROnPlateau.step: metric must be a number or a one-element tensor, got 0.5",
    );
    expect(() => scheduler.step(tensor([1, 2]))).toThrow(
      "item: expected a tensor with one element",
    );
    expect(scheduler.lastEpoch).toBe(0);
  });

  it("reports the construction-time rates from getLastLr before any step, as a copy", () => {
    const scheduler = new ReduceLROnPlateau(sgdWithGroups([0.1, 0.02]));
    scheduler.getLastLr()[0] = 5;
    expect(scheduler.getLastLr()).toEqual([0.1, 0.02]);
  });

  it.each([
    [{ factor: 1 }, "ReduceLROnPlateau: factor must be a number below 1, got 1"],
    [{ factor: 2.5 }, "ReduceLROnPlateau: factor must be a number below 1, got 2.5"],
    [{ factor: Number.NaN }, "ReduceLROnPlateau: factor must be a number below 1, got NaN"],
    [{ mode: "mean" }, 'ReduceLROnPlateau: mode must be "min" or "max", got "mean"'],
    [
      { thresholdMode: "relative" },
      'ReduceLROnPlateau: thresholdMode must be "rel" or "abs", got "relative"',
    ],
    [{ minLr: [0.01] }, "ReduceLROnPlateau: expected 2 minLrs (one per parameter group), got 1"],
    [
      { minLr: "0" },
      "ReduceLROnPlateau: minLr must be a number or an array of numbers (one per parameter group), got 0",
    ],
    [{ patience: "3" }, "ReduceLROnPlateau: patience must be a number, got 3"],
    [{ eps: Number.NaN }, "ReduceLROnPlateau: eps must be a number, got NaN"],
  ])("refuses the options %o", (options, message) => {
    expect(() => new ReduceLROnPlateau(sgdWithGroups([0.1, 0.2]), options as never)).toThrow(
      message,
    );
  });

  it("refuses something that is not an optimizer, as torch does", () => {
    expect(() => new ReduceLROnPlateau({ paramGroups: [] } as never)).toThrow(
      "ReduceLROnPlateau: expected an Optimizer, got [object Object]",
    );
  });

  it("cannot be chained by SequentialLR, which steps its schedulers without a metric", () => {
    const optimizer = sgdWithGroups([0.1]);
    const plateau = new ReduceLROnPlateau(optimizer);
    expect(
      () =>
        new SequentialLR(optimizer, {
          schedulers: [new LinearLR(optimizer), plateau as never],
          milestones: [2],
        }),
    ).toThrow("SequentialLR: expects all schedulers to belong to the same optimizer");
  });
});

describe("ReduceLROnPlateau state dict", () => {
  // Reductions come at steps 4, 9 and 13 (1-based); the save points below fall before the
  // first one, inside a cooldown, and one bad epoch into the patience.
  const metrics = [1, 0.8, 0.8, 0.8, 0.8, 0.9, 0.7, 0.7, 0.75, 0.6, 0.6, 0.6, 0.6];
  const options: ReduceLROnPlateauOptions = {
    mode: "min",
    factor: 0.5,
    patience: 1,
    threshold: 0.01,
    thresholdMode: "abs",
    cooldown: 2,
    minLr: [0.01, 0.001],
  };

  it.each([0, 4, 7])(
    "resumes through JSON after %i steps exactly like an uninterrupted run",
    (saveAfter) => {
      const optimizer = sgdWithGroups([0.1, 0.02]);
      const scheduler = new ReduceLROnPlateau(optimizer, options);
      const uninterrupted = [];
      let saved = "";
      for (const [i, metric] of metrics.entries()) {
        if (i === saveAfter) {
          saved = JSON.stringify({
            optimizer: optimizer.stateDict(),
            scheduler: scheduler.stateDict(),
          });
        }
        scheduler.step(metric);
        uninterrupted.push(stateOf(optimizer, scheduler));
      }

      // Different options on purpose: loading restores them, as torch's load_state_dict does.
      const restoredOptimizer = sgdWithGroups([1, 1]);
      const restored = new ReduceLROnPlateau(restoredOptimizer, { mode: "max", factor: 0.9 });
      const state = JSON.parse(saved);
      restoredOptimizer.loadStateDict(state.optimizer);
      restored.loadStateDict(state.scheduler);
      expect(restored.mode).toBe("min");
      const resumed = [];
      for (const metric of metrics.slice(saveAfter)) {
        restored.step(metric);
        resumed.push(stateOf(restoredOptimizer, restored));
      }
      expect(resumed).toEqual(uninterrupted.slice(saveAfter));
      expect(restored.getLastLr()).toEqual(scheduler.getLastLr());
    },
  );

  it("holds every field but the optimizer, with an infinite best as a string", () => {
    const scheduler = new ReduceLROnPlateau(sgdWithGroups([0.1, 0.02]), options);
    expect(JSON.parse(JSON.stringify(scheduler.stateDict()))).toEqual({
      mode: "min",
      factor: 0.5,
      patience: 1,
      threshold: 0.01,
      thresholdMode: "abs",
      cooldown: 2,
      minLrs: [0.01, 0.001],
      eps: 1e-8,
      best: "Infinity",
      numBadEpochs: 0,
      cooldownCounter: 0,
      lastEpoch: 0,
      lastLr: [0.1, 0.02],
    });
  });

  it("names the missing key of an incomplete state dict", () => {
    const scheduler = new ReduceLROnPlateau(sgdWithGroups([0.1]));
    const { cooldownCounter: _, ...partial } = scheduler.stateDict();
    expect(() => scheduler.loadStateDict(partial)).toThrow(
      "ReduceLROnPlateau.loadStateDict: the state dict has no cooldownCounter",
    );
  });

  it("refuses a state dict with an unknown mode or the wrong number of minLrs", () => {
    const scheduler = new ReduceLROnPlateau(sgdWithGroups([0.1]));
    expect(() => scheduler.loadStateDict({ ...scheduler.stateDict(), mode: "mean" })).toThrow(
      'ReduceLROnPlateau.loadStateDict: unknown mode "mean" or thresholdMode "rel"',
    );
    expect(() => scheduler.loadStateDict({ ...scheduler.stateDict(), minLrs: [0, 0] })).toThrow(
      "ReduceLROnPlateau.loadStateDict: expected 1 minLrs and lastLr (one per parameter group), got 2 and 1",
    );
  });
});
