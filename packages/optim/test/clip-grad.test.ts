import { compile, type Tensor, TraceError, tensor, zeros } from "@koubai/core";
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
    expect(clipGradNorm([zeros([2], { requiresGrad: true })], 1)).toBe(0);
  });

  it("accepts a single tensor and skips parameters without gradients", () => {
    const p = zeros([2], { dtype: "float64", requiresGrad: true });
    p.grad = tensor([3, 4], { dtype: "float64" });
    expect(clipGradNorm(p, 100)).toBe(5);
    expect(p.grad).toBeAllclose([3, 4], { atol: 0, rtol: 0 });
  });

  it("scales by a non-finite norm unless errorIfNonfinite is set", () => {
    const p = zeros([2], { dtype: "float64", requiresGrad: true });
    p.grad = tensor([Number.POSITIVE_INFINITY, 1], { dtype: "float64" });
    expect(() => clipGradNorm([p], 1, { errorIfNonfinite: true })).toThrow(
      "clipGradNorm: the total norm of order 2 for gradients from params is non-finite (Infinity), so it cannot be clipped",
    );
    expect(p.grad).toBeAllclose([Number.POSITIVE_INFINITY, 1], { atol: 0, rtol: 0 });
    expect(clipGradNorm([p], 1)).toBe(Number.POSITIVE_INFINITY);
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
    expect(total).toBe(Math.fround(total));
    expect(total).toBeAllclose(Math.hypot(Math.fround(0.1), Math.fround(0.2)), { rtol: 1e-7 });
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
  it("is a TraceError naming the caller's line: the norm is read in JavaScript, which a replay would not repeat", () => {
    const w = tensor([1, 2, 3, 4], { shape: [2, 2] }).requiresGrad_();
    const step = compile((x: Tensor) => {
      w.grad = null;
      x.matmul(w).sum().backward();
      clipGradNorm([w], 0.5);
      return w.grad!;
    });
    expect(() => step(tensor([1, 1, 1, 1], { shape: [2, 2] }))).toThrow(TraceError);
    expect(() => step(tensor([1, 1, 1, 1], { shape: [2, 2] }))).toThrow(
      /clipGradNorm\(\) reads .* while the function is traced at .*clip-grad\.test\.ts/,
    );
  });
});
