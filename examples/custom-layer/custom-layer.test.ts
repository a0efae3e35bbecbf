import {
  compareGradients,
  customOp,
  Generator,
  GradcheckError,
  gradcheck,
  gradgradcheck,
  randn,
  type Tensor,
  tensor,
} from "@koubai/core";
import { describe, expect, it } from "vitest";
import { runCustomLayer } from "./main.js";
import { RMSNorm, rmsNorm, rmsNormFused } from "./rms-norm.js";

const generator = new Generator(3);
const input = () => randn([3, 4], { dtype: "float64", generator }).requiresGrad_();
const weight = () => randn([4], { dtype: "float64", generator }).requiresGrad_();

describe("RMSNorm", () => {
  it("divides by the root mean square of the last dim and scales by the weight", () => {
    // x = [3, 4]: mean(x²) = 12.5, so y = [3, 4] / √12.5 ⊙ [1, 2] = [0.848528…, 2.262741…]
    const y = rmsNormFused(
      tensor([[3, 4]], { dtype: "float64" }),
      tensor([1, 2], { dtype: "float64" }),
    );
    const expected = [3 / Math.sqrt(12.5 + 1e-6), (2 * 4) / Math.sqrt(12.5 + 1e-6)];
    expect(Array.from(y.toArray())).toEqual(expected.map((v) => expect.closeTo(v, 12)));
  });

  it("has a hand-written backward that passes gradcheck for x and weight", () => {
    expect(gradcheck(rmsNormFused, [input(), weight()])).toBe(true);
  });

  it("has a backward that is itself differentiable (gradgradcheck)", () => {
    expect(gradgradcheck(rmsNormFused, [input(), weight()])).toBe(true);
  });

  it("agrees with the composite to float64 rounding on a 3-d input", () => {
    const x = randn([2, 3, 5], { dtype: "float64", generator });
    const w = randn([5], { dtype: "float64", generator });
    const grads = (f: (a: Tensor, b: Tensor) => Tensor) => {
      const xs = x.clone().requiresGrad_();
      const ws = w.clone().requiresGrad_();
      f(xs, ws).pow(2).sum().backward();
      return [xs.grad!, ws.grad!] as const;
    };
    const [dxFused, dwFused] = grads(rmsNormFused);
    const [dxComposite, dwComposite] = grads(rmsNorm);
    const rows = compareGradients(
      { dx: [dxFused, dxComposite], dw: [dwFused, dwComposite] },
      { atol: 1e-12, rtol: 1e-10 },
    );
    expect(rows.map((r) => r.ok)).toEqual([true, true]);
  });

  it("would be caught by gradcheck if the r³ term were dropped from dL/dx", () => {
    const broken = customOp({
      name: "rmsNormBroken",
      forward(ctx, x, w) {
        const r = x.square().mean(-1, true).add(1e-6).rsqrt();
        ctx.saveForBackward(x, w, r);
        return x.mul(r).mul(w);
      },
      backward(ctx, gradOut) {
        const [x, w, r] = ctx.saved;
        return [gradOut.mul(w).mul(r), gradOut.mul(x.mul(r)).sum(0)];
      },
    });
    expect(() => gradcheck(broken, [input(), weight()])).toThrow(GradcheckError);
  });
});

describe("RMSNorm module", () => {
  it("registers its weight (ones) and gives the same output fused or composed", () => {
    const composed = new RMSNorm(4, { dtype: "float64" });
    const fused = new RMSNorm(4, { dtype: "float64", fused: true });
    expect(composed.namedParameters().map(([n]) => n)).toEqual(["weight"]);
    expect(Array.from(composed.stateDict().weight.toArray())).toEqual([1, 1, 1, 1]);
    const x = randn([2, 4], { dtype: "float64", generator });
    const a = composed.forward(x).toArray();
    const b = fused.forward(x).toArray();
    a.forEach((v, i) => {
      expect(b[i]).toBeCloseTo(v, 14);
    });
  });
});

describe("custom-layer example", () => {
  it("reports agreement, a passing gradcheck and one graph node for the customOp", () => {
    const report = runCustomLayer(4, 6);
    expect(report.allOk).toBe(true);
    expect(report.gradcheckPassed).toBe(true);
    expect(report.fusedNodes).toBe(1);
    expect(report.compositeNodes).toBeGreaterThan(4);
    expect(report.table).toMatch(/^dx\s+\[4, 6\]/m);
  });
});
