// Grad mode: noGrad turns recording off, enableGrad turns it back on, and both restore the
// previous state even when the callback throws.

import { describe, expect, it } from "vitest";
import { enableGrad, isGradEnabled, noGrad, randn } from "../../src/index.js";

describe("grad mode", () => {
  it("is on by default", () => {
    expect(isGradEnabled()).toBe(true);
  });

  it("records nothing inside noGrad", () => {
    const x = randn([2]).requiresGrad_(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it("records again inside enableGrad nested in noGrad", () => {
    const x = randn([2]).requiresGrad_(true);
    const y = noGrad(() => enableGrad(() => x.mul(2)));
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.op).toBe("mul");
    expect(isGradEnabled()).toBe(true);
  });

  it("restores the previous mode when the callback throws", () => {
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });
});
