// traceBackward: one step per node whose backward runs, with what went in and out, and the
// previous listener back afterwards (nested traces, and after an error).

import { describe, expect, it } from "vitest";
import { type BackwardStep, tensor, traceBackward } from "../../src/index.js";

describe("traceBackward", () => {
  it("reports each backward step, outputs first, with its gradients and rule", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const steps: BackwardStep[] = [];
    traceBackward(
      () => x.exp().sum().backward(),
      (step) => steps.push(step),
    );
    expect(steps.map((s) => s.node.op)).toEqual(["sum", "exp"]);
    expect(steps[1].gradOut).toBeAllclose([1, 1]);
    expect(steps[1].inputGrads[0]).toBeAllclose([Math.E, Math.exp(2)]);
    expect(steps[1].rule.toString()).toContain("gradOut.mul(out)");
  });

  it("restores the outer listener after an inner trace, even when the inner one throws", () => {
    const outer: string[] = [];
    const inner: string[] = [];
    const x = tensor([1], { dtype: "float64", requiresGrad: true });
    traceBackward(
      () => {
        expect(() =>
          traceBackward(
            () => {
              x.neg().sum().backward();
              throw new Error("inner failure");
            },
            (s) => inner.push(s.node.op),
          ),
        ).toThrow("inner failure");
        x.square().sum().backward();
      },
      (s) => outer.push(s.node.op),
    );
    expect(inner).toEqual(["sum", "neg"]);
    expect(outer).toEqual(["sum", "square"]);
  });
});
