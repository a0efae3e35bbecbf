import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { CosineAnnealingLR, SGD, StepLR } from "../../src/index.js";

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
