import { tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/index.js";
import { fixtures } from "./helpers/fixtures.js";
import { expectTrajectoryMatches } from "./helpers/trajectory.js";

const cases = fixtures.optimizers.filter((c) => c.optimizer === "AdamW");

describe("AdamW matches torch.optim.AdamW 1.13", () => {
  it("has fixture cases to check", () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });
  it.each(cases.map((c) => [c.name, c] as const))("follows torch's trajectory: %s", (_, c) => {
    expectTrajectoryMatches(c);
  });
});

describe("AdamW update rule", () => {
  it("defaults to weightDecay 0.01, applied to the parameter rather than the gradient", () => {
    const p = tensor([2], { dtype: "float64", requiresGrad: true });
    const optimizer = new AdamW([p], { lr: 0.1 });
    expect(optimizer.paramGroups[0].weightDecay).toBe(0.01);
    p.grad = tensor([0], { dtype: "float64" });
    optimizer.step();
    // A zero gradient leaves only the decay: p·(1 − 0.1·0.01).
    expect(p).toBeAllclose([2 * 0.999]);
  });

  it("rejects invalid settings", () => {
    expect(() => new AdamW([zeros([1])], { betas: [0.9, 1] })).toThrow(
      "AdamW: invalid betas[1] 1; expected 0 <= betas[1] < 1",
    );
  });
});
