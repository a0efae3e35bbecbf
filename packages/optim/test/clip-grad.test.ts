import { compile, noGrad, type Tensor, TraceError, tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { clipGradNorm, clipGradValue } from "../src/index.js";
import { type ClipCase, decodeNumber, decodeTensor, fixtures } from "./helpers/fixtures.js";

function paramsWithGrads(c: ClipCase) {
  return c.grads.map((g) => {
    const p = zeros(g.shape, { dtype: "float64", requiresGrad: true });
    p.grad = decodeTensor(g);
    return p;
  });
}

const normCases = fixtures.clipping.filter((c) => c.fn === "clipGradNorm");
const valueCases = fixtures.clipping.filter((c) => c.fn === "clipGradValue");

describe("clipGradNorm matches torch.nn.utils.clip_grad_norm_", () => {
  it("has fixture cases for the L1, L2 and infinity norms", () => {
    const types = new Set(normCases.map((c) => decodeNumber(c.args.normType!)));
    expect(types).toEqual(new Set([1, 2, Number.POSITIVE_INFINITY]));
  });

  it.each(normCases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const params = paramsWithGrads(c);
    const total = clipGradNorm(params, c.args.maxNorm!, {
      normType: decodeNumber(c.args.normType!),
    });
    expect(total).toBeAllclose(decodeNumber(c.totalNorm!));
    params.forEach((p, i) => {
      expect(p.grad).toBeAllclose(decodeTensor(c.clippedGrads[i]));
    });
  });
});

describe("clipGradValue matches torch.nn.utils.clip_grad_value_", () => {
  it.each(valueCases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const params = paramsWithGrads(c);
    clipGradValue(params, c.args.clipValue!);
    params.forEach((p, i) => {
      expect(p.grad).toBeAllclose(decodeTensor(c.clippedGrads[i]), { atol: 0, rtol: 0 });
    });
  });
});

describe("clipGradNorm edge cases", () => {
  it("returns 0 and does nothing when no parameter has a gradient", () => {
    const total = clipGradNorm([zeros([2], { requiresGrad: true })], 1);
    expect(total.shape).toEqual([]);
    expect(total.dtype).toBe("float32");
    expect(total.item()).toBe(0);
  });

  it("accepts a single tensor and skips parameters without gradients", () => {
    const p = zeros([2], { dtype: "float64", requiresGrad: true });
    p.grad = tensor([3, 4], { dtype: "float64" });
    expect(clipGradNorm(p, 100).item()).toBe(5);
    expect(p.grad).toBeAllclose([3, 4], { atol: 0, rtol: 0 });
  });

  it("scales by a non-finite norm unless errorIfNonfinite is set", () => {
    const p = zeros([2], { dtype: "float64", requiresGrad: true });
    p.grad = tensor([Number.POSITIVE_INFINITY, 1], { dtype: "float64" });
    expect(() => clipGradNorm([p], 1, { errorIfNonfinite: true })).toThrow(
      "clipGradNorm: the total norm of order 2 for gradients from params is non-finite (Infinity), so it cannot be clipped",
    );
    expect(p.grad).toBeAllclose([Number.POSITIVE_INFINITY, 1], { atol: 0, rtol: 0 });
    expect(clipGradNorm([p], 1).item()).toBe(Number.POSITIVE_INFINITY);
    // 1 / (inf + 1e-6) = 0: inf·0 = NaN, 1·0 = 0, as in torch.
    expect(p.grad).toBeAllclose([Number.NaN, 0], { atol: 0, rtol: 0 });
  });

  it("rejects a negative normType", () => {
    expect(() => clipGradNorm([], 1, { normType: -2 })).toThrow(
      "clipGradNorm: normType must be a number >= 0 or ±Infinity, got -2",
    );
  });

  it("rounds the norm of float32 gradients to float32", () => {
    const p = zeros([2], { requiresGrad: true });
    p.grad = tensor([0.1, 0.2]);
    const total = clipGradNorm([p], 10);
    expect(total.dtype).toBe("float32");
    expect(total.item()).toBeCloseTo(Math.hypot(Math.fround(0.1), Math.fround(0.2)), 7);
  });

  it("takes the joint norm in float64 when any gradient is float64", () => {
    const p32 = zeros([2], { requiresGrad: true });
    p32.grad = tensor([3, 4]);
    const p64 = zeros([1], { dtype: "float64", requiresGrad: true });
    p64.grad = tensor([12], { dtype: "float64" });
    const total = clipGradNorm([p32, p64], 6.5);
    expect(total.dtype).toBe("float64");
    expect(total.item()).toBe(13);
    const coefficient = (1 / (13 + 1e-6)) * 6.5;
    expect(p32.grad.dtype).toBe("float32");
    expect(p32.grad.tolist()).toEqual([3, 4].map((g) => Math.fround(g * Math.fround(coefficient))));
    expect(p64.grad.tolist()).toEqual([12 * coefficient]);
  });

  it.each([
    [
      0,
      (g: number[]) => g.filter((v) => v !== 0).length,
      (n: number[]) => n.filter((v) => v !== 0).length,
    ],
    [
      3,
      (g: number[]) => g.reduce((a, v) => a + Math.abs(v) ** 3, 0) ** (1 / 3),
      (n: number[]) => n.reduce((a, v) => a + v ** 3, 0) ** (1 / 3),
    ],
    [
      Number.NEGATIVE_INFINITY,
      (g: number[]) => Math.min(...g.map(Math.abs)),
      (n: number[]) => Math.min(...n),
    ],
  ])("normType %s: the norm of the per-parameter norms", (normType, perParam, joint) => {
    const grads = [
      [0.5, -2, 0],
      [1.5, 3],
    ];
    const params = grads.map((g) => {
      const p = zeros([g.length], { dtype: "float64", requiresGrad: true });
      p.grad = tensor(g, { dtype: "float64" });
      return p;
    });
    const total = clipGradNorm(params, 1e9, { normType });
    expect(total.item()).toBeCloseTo(joint(grads.map(perParam)), 12);
  });
});

describe("clipping bounds that would flip gradients", () => {
  it("clipGradNorm refuses a negative maxNorm (torch multiplies by a negative factor)", () => {
    const p = tensor([1, 1], { requiresGrad: true });
    p.grad = tensor([3, 4]);
    expect(() => clipGradNorm([p], -1)).toThrow(
      "clipGradNorm: maxNorm must be >= 0, got -1 (a negative one would flip the gradients' sign)",
    );
    expect(p.grad.tolist()).toEqual([3, 4]);
    clipGradNorm([p], 0);
    expect(p.grad.tolist()).toEqual([0, 0]);
  });

  it("clipGradValue refuses a negative clipValue (torch sets every gradient to it)", () => {
    const p = tensor([1, 1, 1], { requiresGrad: true });
    p.grad = tensor([-3, 0.5, 2]);
    expect(() => clipGradValue([p], -1)).toThrow("clipGradValue: clipValue must be >= 0, got -1");
    expect(p.grad.tolist()).toEqual([-3, 0.5, 2]);
  });
});

describe("clipGradNorm inside compile()", () => {
  /** A least-squares step that clips its gradient, returning the loss and the norm. */
  function clippedStep() {
    const w = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).requiresGrad_();
    const step = (x: Tensor, y: Tensor) => {
      w.grad = null;
      const loss = x.matmul(w).sub(y).square().mean();
      loss.backward();
      const norm = clipGradNorm([w], 0.5);
      noGrad(() => w.sub_(w.grad!.mul(0.1)));
      return [loss, norm];
    };
    return { w, step };
  }

  it("replays, bit for bit the eager steps: the norm is made of tensor ops, with no branch on it", () => {
    const eager = clippedStep();
    const traced = clippedStep();
    const step = compile(traced.step);
    for (let i = 0; i < 5; i++) {
      const x = tensor([1, -1, 2, 0.5, 3, -2, i, 1, 0.25], { shape: [3, 3] });
      const y = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] });
      const [lossC, normC] = step(x, y);
      const [lossE, normE] = eager.step(x, y);
      expect(lossC.item()).toBe(lossE.item());
      expect(normC.item()).toBe(normE.item());
      expect(normC.item()).toBeGreaterThan(0.5); // clipped: the factor is below 1
    }
    expect(step.traces).toBe(2); // the second call, on new input tensors, traced to check them
    expect(step.replays).toBe(3);
    expect(Array.from(traced.w.toArray())).toEqual(Array.from(eager.w.toArray()));
  });

  it("with errorIfNonfinite, which reads the norm, is a TraceError naming the caller's line", () => {
    const w = tensor([1, 2, 3, 4], { shape: [2, 2] }).requiresGrad_();
    const step = compile((x: Tensor) => {
      w.grad = null;
      x.matmul(w).sum().backward();
      return clipGradNorm([w], 0.5, { errorIfNonfinite: true });
    });
    expect(() => step(tensor([1, 1, 1, 1], { shape: [2, 2] }))).toThrow(TraceError);
    expect(() => step(tensor([1, 1, 1, 1], { shape: [2, 2] }))).toThrow(
      /clipGradNorm\(\) reads .* while the function is traced at .*clip-grad\.test\.ts/,
    );
  });
});
