// gradcheck and gradgradcheck must catch a wrong derivative, first or second order, and say where;
// every op's samples rely on them (test/op-samples.test.ts), so a check that cannot fail would
// prove nothing there.

import { describe, expect, it } from "vitest";
import { customOp, GradcheckError, gradcheck, gradgradcheck, tensor } from "../../src/index.js";

const x = () => tensor([0.3, -1.2, 2], { dtype: "float64", requiresGrad: true });

/** x³ with a chosen derivative: right (3x²) or off by a factor. */
const cube = (factor: number) =>
  customOp({
    name: "cube",
    forward: (ctx, input) => {
      ctx.saveForBackward(input);
      return input.pow(3);
    },
    backward: (ctx, gradOut) => [gradOut.mul(ctx.saved[0].square().mul(3 * factor))],
  });

describe("gradcheck", () => {
  it("accepts a correct backward", () => {
    expect(gradcheck(cube(1), [x()])).toBe(true);
  });

  it("throws GradcheckError naming the worst Jacobian entry of a wrong backward", () => {
    let error: unknown;
    try {
      gradcheck(cube(1.01), [x()]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradcheckError);
    const { inputIndex, elementIndex, outputIndex, analytic, numeric } = error as GradcheckError;
    expect([inputIndex, elementIndex, outputIndex]).toEqual([0, 2, 2]); // 3·2² is the largest
    expect(analytic).toBeCloseTo(12.12, 10);
    expect(numeric).toBeCloseTo(12, 6);
  });
});

describe("gradgradcheck", () => {
  it("catches a backward whose first derivative is right but not differentiable as written", () => {
    // d/dx x³ = 3x², but computed from a detached x: its own derivative is 0, not 6x.
    const detached = customOp({
      name: "cubeDetached",
      forward: (ctx, input) => {
        ctx.saveForBackward(input);
        return input.pow(3);
      },
      backward: (ctx, gradOut) => [gradOut.mul(ctx.saved[0].detach().square().mul(3))],
    });
    expect(gradcheck(detached, [x()])).toBe(true);
    expect(() => gradgradcheck(detached, [x()])).toThrow(GradcheckError);
    expect(gradgradcheck(cube(1), [x()])).toBe(true);
  });
});
