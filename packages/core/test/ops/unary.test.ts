// Unary ops at the edges PyTorch defines: clamp with crossed bounds, softplus's linear side and
// its arguments, log1p and sin on integer input. Values and gradients at ordinary points are
// covered by the op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import { autogradGrad, clamp, log1p, sin, softplus, tensor } from "../../src/index.js";

describe("clamp", () => {
  it("sets every element to max when min > max, as torch.clamp does", () => {
    expect(Array.from(clamp(tensor([1, 2, 5]), 3, 1).toArray())).toEqual([1, 1, 1]);
  });

  it("lets NaN through", () => {
    expect(Number.isNaN(clamp(tensor([Number.NaN]), 0, 1).item())).toBe(true);
  });
});

describe("softplus", () => {
  it("returns x itself (gradient 1) where beta·x exceeds the threshold, and never overflows", () => {
    const x = tensor([1000, 21, -1000], { dtype: "float64", requiresGrad: true });
    const y = softplus(x);
    expect(Array.from(y.toArray())).toEqual([1000, 21, 0]);
    y.sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual([1, 1, 0]);
  });

  it("computes in float32 for integer input, as the other float ops do", () => {
    expect(softplus(tensor([0, 1], { dtype: "int32" })).dtype).toBe("float32");
    expect(log1p(tensor([0, 1], { dtype: "int32" })).dtype).toBe("float32");
    expect(sin(tensor([0], { dtype: "int32" })).item()).toBe(0);
  });

  it("refuses a zero or non-finite beta and a NaN threshold, naming the value", () => {
    const x = tensor([1, 2]);
    expect(() => softplus(x, 0)).toThrow("softplus: beta must be a finite nonzero number, got 0");
    expect(() => softplus(x, Number.POSITIVE_INFINITY)).toThrow(/beta .* got Infinity/);
    expect(() => softplus(x, 1, Number.NaN)).toThrow(
      "softplus: threshold must be a number, got NaN",
    );
  });
});

describe("square's gradient", () => {
  it("is 2x·g when g comes back broadcast from a reduction, and stays twice differentiable", () => {
    const x = tensor(
      [
        [1, -2, 3],
        [0.5, 4, -1],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    x.square()
      .sum(0)
      .mul(tensor([1, 10, 100], { dtype: "float64" }))
      .sum()
      .backward({ createGraph: true });
    expect(x.grad!.tolist()).toEqual([
      [2, -40, 600],
      [1, 80, -200],
    ]);
    const [gradOfGrad] = autogradGrad(x.grad!.sum(), [x]);
    expect(gradOfGrad?.tolist()).toEqual([
      [2, 20, 200],
      [2, 20, 200],
    ]);
  });
});
