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

describe("async functions", () => {
  it("noGrad refuses an async function before running any of it, saying why and what to do", () => {
    let ran = false;
    const body = async () => {
      ran = true;
      await Promise.resolve();
      return randn([2]).requiresGrad_(true).mul(2);
    };
    expect(() => noGrad(body)).toThrow(
      /^noGrad: fn is async \(it returns a Promise\), but grad mode is switched back when fn returns, at its first await.*call noGrad around the synchronous tensor code instead/,
    );
    expect(ran).toBe(false);
    expect(isGradEnabled()).toBe(true);
  });

  it("refuses a plain function that returns a Promise, after restoring the mode", async () => {
    const rejecting = () => Promise.reject(new Error("later"));
    expect(() => enableGrad(rejecting)).toThrow(/^enableGrad: fn is async/);
    expect(() => noGrad(() => Promise.resolve(1))).toThrow(/^noGrad: fn is async/);
    expect(isGradEnabled()).toBe(true);
    // The refused promise's rejection is handled, so it cannot crash the process later.
    await new Promise((resolve) => setTimeout(resolve, 0));
  });

  it("refuses something that is not a function", () => {
    expect(() => noGrad(3 as never)).toThrow("noGrad: expected a function, got number");
  });
});
