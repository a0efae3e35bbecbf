import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { CosineAnnealingLR, SGD } from "../../src/index.js";
import { fixtureCases, replay } from "../helpers/schedulers.js";

describe("CosineAnnealingLR", () => {
  it.each(fixtureCases("CosineAnnealingLR"))("matches torch: %s", (_, c) => {
    expect(replay(c).lrs).toBeAllclose(c.lrs);
  });

  it("rises again past tMax instead of restarting", () => {
    const optimizer = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: 2 });
    const lrs = [scheduler.getLastLr()[0]];
    for (let i = 0; i < 4; i++) {
      scheduler.step();
      lrs.push(scheduler.getLastLr()[0]);
    }
    // (1 + cos(π·t/2)) / 2 for t = 0..4: 1, 0.5, 0, 0.5, 1
    expect(lrs).toBeAllclose([1, 0.5, 0, 0.5, 1], { atol: 1e-15 });
  });

  it("rejects a tMax that is not positive", () => {
    const optimizer = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
    expect(() => new CosineAnnealingLR(optimizer, { tMax: 0 })).toThrow(
      "CosineAnnealingLR: tMax (steps of the half period) must be a number > 0, got 0",
    );
  });
});
