import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { ExponentialLR, LinearLR, SequentialLR, SGD } from "../../src/index.js";
import { fixtureCases, replay } from "../helpers/schedulers.js";

const sgd = () => new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });

describe("SequentialLR", () => {
  it.each(fixtureCases("SequentialLR"))("matches torch: %s", (_, c) => {
    expect(replay(c).lrs).toBeAllclose(c.lrs);
  });

  it("restarts the next scheduler from the initial lr at its milestone", () => {
    const optimizer = sgd();
    const warmUp = new LinearLR(optimizer, { startFactor: 0.5, totalIters: 2 });
    const decay = new ExponentialLR(optimizer, { gamma: 0.5 });
    const scheduler = new SequentialLR(optimizer, { schedulers: [warmUp, decay], milestones: [2] });
    const lrs = [scheduler.getLastLr()[0]];
    for (let i = 0; i < 4; i++) {
      scheduler.step();
      lrs.push(scheduler.getLastLr()[0]);
    }
    expect(lrs).toBeAllclose([0.5, 0.75, 1, 0.5, 0.25]);
  });

  it("requires one milestone fewer than schedulers", () => {
    const optimizer = sgd();
    const a = new ExponentialLR(optimizer, { gamma: 0.5 });
    expect(() => new SequentialLR(optimizer, { schedulers: [a], milestones: [3] })).toThrow(
      "SequentialLR: expects one milestone fewer than schedulers, but got 1 schedulers and 1 milestones",
    );
  });

  it("requires every scheduler to drive the same optimizer", () => {
    const a = new ExponentialLR(sgd(), { gamma: 0.5 });
    expect(() => new SequentialLR(sgd(), { schedulers: [a], milestones: [] })).toThrow(
      "the scheduler at index 0 does not belong to the one passed in",
    );
  });
});
