// traceBackward: one step per node whose backward runs, with what went in and out, and the
// previous listener back afterwards (nested traces, and after an error).

import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { type BackwardStep, customOp, tensor, traceBackward } from "../../src/index.js";

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
    expect(steps[1].rule).toBe("d/dx = g·eˣ");
  });

  it("prints each step readably: op, rule, the gradient in and what each input receives", () => {
    const w = tensor([2, -1], { dtype: "float64", requiresGrad: true });
    w.name = "w";
    const steps: BackwardStep[] = [];
    traceBackward(
      () => w.mul(3).tanh().sum().backward(),
      (step) => steps.push(step),
    );
    const mul = steps.find((s) => s.node.op === "mul");
    const fmt = (v: number) => Number(v.toPrecision(4)).toString();
    const gIn = [2, -1].map((v) => 1 - Math.tanh(3 * v) ** 2);
    expect(String(mul)).toBe(
      [
        `mul #${mul?.node.id} -> [2] float64`,
        "  rule: d/da = g·b, d/db = g·a",
        `  gradient in: [${gIn.map(fmt).join(", ")}]`,
        `  to w: [${gIn.map((g) => fmt(3 * g)).join(", ")}]`,
        "  to input 1: none (not needed)",
      ].join("\n"),
    );
    expect(inspect(mul)).toBe(String(mul));
    expect(inspect(mul?.node)).toMatch(/^Node\(mul #\d+ -> \[2\] float64\)$/);
    expect(String(steps[0])).toContain("to tanh #");
  });

  it("shows a custom op's rule, and says when it has none", () => {
    const x = tensor([2], { dtype: "float64", requiresGrad: true });
    const cube = customOp({
      name: "cube",
      rule: "d/dx = 3x²·g",
      forward: (ctx, t) => {
        ctx.saveForBackward(t);
        return t.pow(3);
      },
      backward: (ctx, g) => [g.mul(ctx.saved[0].square().mul(3))],
    });
    const plain = customOp({
      name: "plain",
      forward: (_ctx, t) => t.mul(2),
      backward: (_ctx, g) => [g.mul(2)],
    });
    const rules: string[] = [];
    traceBackward(
      () => plain(cube(x)).sum().backward(),
      (step) => rules.push(step.rule),
    );
    expect(rules).toEqual([
      "d/dx = g, broadcast back over the summed dims",
      "(a backward without a written rule)",
      "d/dx = 3x²·g",
    ]);
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
