// detectAnomaly: the first NaN/Inf in a forward result or a backward gradient throws an
// AnomalyError naming the op and the pass; outside it, NaN flows through silently as in PyTorch.

import { describe, expect, it } from "vitest";
import { AnomalyError, detectAnomaly, tensor } from "../../src/index.js";

describe("detectAnomaly", () => {
  it("names log when its forward produces NaN from a negative input", () => {
    const x = tensor([1, -1], { requiresGrad: true });
    expect(() => detectAnomaly(() => x.log())).toThrow(AnomalyError);
    expect(() => detectAnomaly(() => x.log())).toThrow(/forward of log produced NaN \(element 1/);
  });

  it("names sqrt when its backward at 0 produces Inf", () => {
    const x = tensor([0, 4], { requiresGrad: true });
    expect(() => detectAnomaly(() => x.sqrt().sum().backward())).toThrow(
      /backward of sqrt \(gradient of input 0\) produced Inf \(element 0/,
    );
  });

  it("reports where the failing op was created", () => {
    const x = tensor([0], { requiresGrad: true });
    let message = "";
    try {
      detectAnomaly(() => x.sqrt().sum().backward());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/The op was created at:\n.*anomaly\.test\.ts/);
  });

  it("lets NaN through when off", () => {
    const x = tensor([-1], { requiresGrad: true });
    expect(Number.isNaN(x.log().item())).toBe(true);
  });
});
