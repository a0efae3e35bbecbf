import { Generator, gradcheck, randn, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { LayerNorm } from "../src/layer-norm.js";

describe("LayerNorm", () => {
  it("normalises the last dims with the biased variance", () => {
    // Row [1, 3]: mean 2, biased var 1 → [-1, 1]/√(1 + eps).
    const ln = new LayerNorm(2, { dtype: "float64", eps: 0 });
    expect(Array.from(ln.forward(tensor([[1, 3]], { dtype: "float64" })).toArray())).toEqual([
      -1, 1,
    ]);
    expect(ln.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
  });

  it("has no parameters without elementwiseAffine and checks the trailing shape", () => {
    const ln = new LayerNorm([2, 3], { elementwiseAffine: false });
    expect(ln.parameters()).toHaveLength(0);
    expect(ln.forward(randn([4, 2, 3])).shape).toEqual([4, 2, 3]);
    expect(() => ln.forward(randn([4, 3, 2]))).toThrow(
      /does not end with normalizedShape \[2, 3\]/,
    );
  });

  it("refuses an input whose dtype differs from its parameters instead of widening silently", () => {
    const ln = new LayerNorm(2);
    expect(() => ln.forward(tensor([[1, 3]], { dtype: "float64" }))).toThrow(
      /LayerNorm: input has dtype float64 but the layer's parameters are float32/,
    );
  });

  it("passes gradcheck in float64", () => {
    const ln = new LayerNorm(3, { dtype: "float64" });
    const x = randn([2, 3], { dtype: "float64", generator: new Generator(1), requiresGrad: true });
    expect(gradcheck((xi) => ln.forward(xi), [x])).toBe(true);
  });
});
