import { tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Adam } from "../src/index.js";
import { fixtures } from "./helpers/fixtures.js";
import { expectTrajectoryMatches } from "./helpers/trajectory.js";

const cases = fixtures.optimizers.filter((c) => c.optimizer === "Adam");

describe("Adam matches torch.optim.Adam 1.13", () => {
  it("has fixture cases to check", () => {
    expect(cases.length).toBeGreaterThanOrEqual(7);
  });
  it.each(cases.map((c) => [c.name, c] as const))("follows torch's trajectory: %s", (_, c) => {
    expectTrajectoryMatches(c);
  });
});

describe("Adam update rule", () => {
  it("moves each parameter by about lr on the first step (bias correction)", () => {
    const p = tensor([1, -1], { dtype: "float64", requiresGrad: true });
    const optimizer = new Adam([p], { lr: 0.01, eps: 0 });
    p.grad = tensor([3, -0.002], { dtype: "float64" });
    optimizer.step();
    // m̂ = g and v̂ = g² after bias correction, so the step is lr·sign(g).
    expect(p).toBeAllclose([0.99, -0.99]);
    expect(optimizer.state.get(p)?.step).toBe(1);
  });

  it("keeps the running maximum of the second moment with amsgrad", () => {
    const p = tensor([0], { dtype: "float64", requiresGrad: true });
    const optimizer = new Adam([p], { lr: 0.1, amsgrad: true });
    p.grad = tensor([10], { dtype: "float64" });
    optimizer.step();
    p.grad = tensor([0], { dtype: "float64" });
    optimizer.step();
    const s = optimizer.state.get(p)!;
    // v1 = 0.001·100 = 0.1; v2 = 0.999·0.1 < v1, so the max stays at v1.
    expect(s.expAvgSq).toBeAllclose([0.0999]);
    expect(s.maxExpAvgSq).toBeAllclose([0.1]);
  });
});

describe("Adam rejects invalid settings like PyTorch", () => {
  const p = () => zeros([1], { requiresGrad: true });
  it.each([
    [{ lr: -1 }, /Adam: invalid lr -1/],
    [{ eps: -1e-8 }, /Adam: invalid eps -1e-8/],
    [{ betas: [1, 0.999] }, /Adam: invalid betas\[0\] 1; expected 0 <= betas\[0\] < 1/],
    [{ betas: [0.9, -0.1] }, /Adam: invalid betas\[1\] -0.1/],
    [{ weightDecay: -0.1 }, /Adam: invalid weightDecay -0.1/],
  ])("throws for %o", (options, message) => {
    expect(() => new Adam([p()], options as never)).toThrow(message);
  });
});
