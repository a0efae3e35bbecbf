import { zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { LinearLR, SGD } from "../../src/index.js";
import { fixtureCases, replay } from "../helpers/schedulers.js";

const sgd = () => new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });

describe("LinearLR", () => {
  it.each(fixtureCases("LinearLR"))("matches torch: %s", (_, c) => {
    expect(replay(c).lrs).toBeAllclose(c.lrs);
  });

  it("sets lr to initialLr · startFactor as soon as it is constructed", () => {
    const optimizer = sgd();
    new LinearLR(optimizer, { startFactor: 0.25 });
    expect(optimizer.paramGroups[0].lr).toBe(0.25);
    expect(optimizer.paramGroups[0].initialLr).toBe(1);
  });

  it.each([
    [{ startFactor: 0 }, "LinearLR: startFactor must be greater than 0 and at most 1, got 0"],
    [{ endFactor: 1.5 }, "LinearLR: endFactor must be between 0 and 1, got 1.5"],
    [{ totalIters: 0 }, "LinearLR: totalIters must be a positive integer, got 0"],
  ])("rejects %o", (options, message) => {
    expect(() => new LinearLR(sgd(), options)).toThrow(message);
  });
});
