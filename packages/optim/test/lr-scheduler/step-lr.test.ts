import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { ExponentialLR, MultiStepLR, SGD, StepLR } from "../../src/index.js";
import type { SchedulerCase } from "../helpers/fixtures.js";
import { fixtureCases, replay } from "../helpers/schedulers.js";

const sgd = () => new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });

function expectTorchRates(_: string, c: SchedulerCase): void {
  expect(replay(c).lrs).toBeAllclose(c.lrs);
}

describe("StepLR", () => {
  it.each(fixtureCases("StepLR"))("matches torch: %s", expectTorchRates);

  it("rejects a stepSize that is not a positive integer", () => {
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow(
      "StepLR: stepSize must be a positive integer, got 0",
    );
  });
});

describe("MultiStepLR", () => {
  it.each(fixtureCases("MultiStepLR"))("matches torch: %s", expectTorchRates);

  it("sorts the milestones it is given", () => {
    const scheduler = new MultiStepLR(sgd(), { milestones: [4, 1], gamma: 0.5 });
    scheduler.step();
    expect(scheduler.getLastLr()).toEqual([0.5]);
  });

  it("rejects negative or fractional milestones", () => {
    expect(() => new MultiStepLR(sgd(), { milestones: [1.5] })).toThrow(
      "MultiStepLR: milestones must be integers >= 0, got 1.5",
    );
  });
});

describe("ExponentialLR", () => {
  it.each(fixtureCases("ExponentialLR"))("matches torch: %s", expectTorchRates);

  it("requires gamma", () => {
    expect(() => new ExponentialLR(sgd(), {} as never)).toThrow("ExponentialLR: gamma");
  });
});
