import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import {
  CosineAnnealingLR,
  LinearLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
} from "../../src/index.js";

const sgd = (lr = 1) => new SGD([zeros([1], { requiresGrad: true })], { lr });

describe("LRScheduler", () => {
  it("records initialLr in each group once, and uses it as the base rate", () => {
    const optimizer = sgd(0.5);
    const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    scheduler.step();
    const second = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    expect(optimizer.paramGroups[0].initialLr).toBe(0.5);
    expect(second.baseLrs).toEqual([0.5]);
    expect(scheduler.lastEpoch).toBe(1);
  });

  it("returns a copy from getLastLr", () => {
    const scheduler = new StepLR(sgd(), { stepSize: 1 });
    scheduler.getLastLr()[0] = 123;
    expect(scheduler.getLastLr()).toEqual([1]);
  });

  it("resumes from a JSON round trip of its state dict", () => {
    const a = sgd();
    const original = new CosineAnnealingLR(a, { tMax: 7, etaMin: 0.01 });
    for (let i = 0; i < 3; i++) original.step();
    const saved = JSON.parse(JSON.stringify(original.stateDict()));
    const savedGroups = JSON.parse(JSON.stringify(a.stateDict()));

    const b = sgd();
    const restored = new CosineAnnealingLR(b, { tMax: 1 });
    b.loadStateDict(savedGroups);
    restored.loadStateDict(saved);
    expect(restored.tMax).toBe(7);
    for (let i = 0; i < 9; i++) {
      original.step();
      restored.step();
      expect(restored.getLastLr()).toEqual(original.getLastLr());
    }
  });

  it("names the missing key of an incomplete state dict", () => {
    const scheduler = new StepLR(sgd(), { stepSize: 1 });
    const { gamma: _, ...partial } = scheduler.stateDict();
    expect(() => scheduler.loadStateDict(partial)).toThrow(
      "StepLR.loadStateDict: the state dict has no gamma",
    );
  });
});

describe("LRScheduler.typeName", () => {
  it("names a built-in scheduler after minification renamed its class (the static typeName is kept)", () => {
    class Kj extends StepLR {}
    const scheduler = new Kj(sgd(), { stepSize: 1 });
    expect(scheduler.typeName()).toBe("StepLR");
    expect(() => scheduler.loadStateDict({})).toThrow(
      "StepLR.loadStateDict: the state dict has no lastEpoch",
    );
  });
});

describe("LRScheduler.loadStateDict refuses and changes nothing", () => {
  it.each([
    [
      "a string lastEpoch",
      { lastEpoch: "3" },
      /StepLR.loadStateDict: lastEpoch: expected a number, got "3"/,
    ],
    ["a fractional stepCount", { stepCount: 1.5 }, /stepCount must be an integer >= 0, got 1.5/],
    ["baseLrs as a string", { baseLrs: "abc" }, /baseLrs: expected an array, got "abc"/],
    ["a baseLrs entry per group missing", { baseLrs: [] }, /baseLrs must hold 1 rates >= 0/],
    ["a NaN gamma", { gamma: Number.NaN }, /gamma: expected a finite number, got NaN/],
  ])("%s", (_, change, message) => {
    const scheduler = new StepLR(sgd(), { stepSize: 2, gamma: 0.5 });
    scheduler.step();
    const before = JSON.stringify(scheduler.stateDict());
    expect(() => scheduler.loadStateDict({ ...scheduler.stateDict(), ...change })).toThrow(message);
    expect(JSON.stringify(scheduler.stateDict())).toBe(before);
  });

  it("SequentialLR checks every inner state before loading any of them", () => {
    const optimizer = sgd();
    const scheduler = new SequentialLR(optimizer, {
      schedulers: [
        new LinearLR(optimizer, { totalIters: 2 }),
        new StepLR(optimizer, { stepSize: 1 }),
      ],
      milestones: [2],
    });
    scheduler.step();
    const before = JSON.stringify(scheduler.stateDict());
    const saved = JSON.parse(before);
    saved.lastEpoch = 7;
    saved.schedulers[1].gamma = "0.1";
    expect(() => scheduler.loadStateDict(saved)).toThrow(
      'SequentialLR.loadStateDict (schedulers[1]): gamma: expected a number, got "0.1"',
    );
    expect(JSON.stringify(scheduler.stateDict())).toBe(before);
  });

  it("OneCycleLR refuses a phase that reads a group key other than its own five", () => {
    const optimizer = sgd();
    const scheduler = new OneCycleLR(optimizer, { maxLr: 1, totalSteps: 10 });
    const saved = JSON.parse(JSON.stringify(scheduler.stateDict()));
    saved.phases[0].startLr = "__proto__";
    expect(() => scheduler.loadStateDict(saved)).toThrow(
      /OneCycleLR.loadStateDict: a phase refers to the group key "__proto__"; expected one of initialLr, maxLr, minLr, maxMomentum, baseMomentum/,
    );
    scheduler.step();
    expect(Number.isFinite(optimizer.paramGroups[0].lr)).toBe(true);
  });

  it("ReduceLROnPlateau checks every field before assigning any", () => {
    const scheduler = new ReduceLROnPlateau(sgd(), { patience: 1 });
    scheduler.step(1);
    const before = JSON.stringify(scheduler.stateDict());
    const saved = JSON.parse(before);
    saved.patience = 0;
    saved.numBadEpochs = -1;
    expect(() => scheduler.loadStateDict(saved)).toThrow(
      "ReduceLROnPlateau.loadStateDict: numBadEpochs must be an integer >= 0, got -1",
    );
    expect(JSON.stringify(scheduler.stateDict())).toBe(before);
  });

  it("looks only at the state dict's own keys, not inherited ones", () => {
    const scheduler = new StepLR(sgd(), { stepSize: 1 });
    const { gamma, ...rest } = scheduler.stateDict();
    const inherited = Object.assign(Object.create({ gamma }), rest);
    expect(() => scheduler.loadStateDict(inherited)).toThrow(
      "StepLR.loadStateDict: the state dict has no gamma",
    );
  });
});
