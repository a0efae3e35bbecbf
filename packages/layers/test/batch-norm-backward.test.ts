import { Generator, gradcheck, gradgradcheck, randn, type Tensor, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { BatchNorm1d, BatchNorm2d } from "../src/batch-norm.js";
import { batchNormBackward, fusedBatchNorm } from "../src/batch-norm-backward.js";
import { Parameter } from "../src/parameter.js";
import { maxRelativeDifference } from "./helpers.js";

const SHAPES: [string, number[]][] = [
  ["[N, C]", [6, 3]],
  ["[N, C, L]", [4, 3, 5]],
  ["[N, C, H, W]", [3, 2, 3, 4]],
];

function layers(shape: number[], fused: boolean) {
  const c = shape[1];
  const Layer = shape.length === 4 ? BatchNorm2d : BatchNorm1d;
  const bn = new Layer(c, { dtype: "float64", fused });
  const generator = new Generator(7);
  bn.weight = new Parameter(randn([c], { dtype: "float64", generator }).add(1.5));
  bn.bias = new Parameter(randn([c], { dtype: "float64", generator }));
  return bn;
}

describe("composite and fused BatchNorm agree in float64", () => {
  it.each(SHAPES)("%s: forward, gradients and running statistics within 1e-12", (_, shape) => {
    const results = [false, true].map((fused) => {
      const bn = layers(shape, fused);
      const out: Tensor[] = [];
      for (let step = 0; step < 3; step++) {
        const x = randn(shape, { dtype: "float64", generator: new Generator(step) })
          .mul(2)
          .add(3);
        x.requiresGrad_(true);
        const gradOut = randn(shape, { dtype: "float64", generator: new Generator(100 + step) });
        bn.zeroGrad();
        const y = bn.forward(x);
        y.backward(gradOut);
        out.push(y, x.grad!, bn.weight!.grad!, bn.bias!.grad!, bn.runningMean!, bn.runningVar!);
      }
      return out.map((t) => t.clone());
    });
    for (let i = 0; i < results[0].length; i++) {
      const diff = maxRelativeDifference(results[1][i], results[0][i]);
      if (process.env.KOUBAI_REPORT) console.log(shape, i % 6, diff);
      expect(diff).toBeLessThan(1e-12);
    }
  });

  it("agree on a mean of 1e4 with a spread of 0.1", () => {
    const x = randn([8, 3], { dtype: "float64", generator: new Generator(3) })
      .mul(0.1)
      .add(1e4);
    const [a, b] = [false, true].map((fused) => layers([8, 3], fused).forward(x));
    expect(maxRelativeDifference(b, a)).toBeLessThan(1e-10);
  });
});

describe("fusedBatchNorm and batchNormBackward", () => {
  it.each(SHAPES)("%s: pass gradcheck and gradgradcheck (float64)", (_, shape) => {
    const g = new Generator(5);
    const c = shape[1];
    const x = randn(shape, { dtype: "float64", generator: g, requiresGrad: true });
    const w = randn([c], { dtype: "float64", generator: g }).add(1).requiresGrad_(true);
    const b = randn([c], { dtype: "float64", generator: g, requiresGrad: true });
    const fn = (xi: Tensor, wi: Tensor, bi: Tensor) => fusedBatchNorm(xi, wi, bi, 1e-5).out;
    expect(gradcheck(fn, [x, w, b])).toBe(true);
    expect(gradgradcheck(fn, [x, w, b])).toBe(true);
  });

  it("passes gradcheck and gradgradcheck without an affine transform", () => {
    const x = randn([4, 2, 3], {
      dtype: "float64",
      generator: new Generator(9),
      requiresGrad: true,
    });
    const fn = (xi: Tensor) => fusedBatchNorm(xi, null, null, 1e-3).out;
    expect(gradcheck(fn, [x])).toBe(true);
    expect(gradgradcheck(fn, [x])).toBe(true);
  });

  it.each([false, true])(
    "BatchNorm2d module (fused %s) passes gradcheck and gradgradcheck",
    (fused) => {
      const bn = layers([2, 2, 2, 3], fused);
      const x = randn([2, 2, 2, 3], {
        dtype: "float64",
        generator: new Generator(4),
        requiresGrad: true,
      });
      const fn = (xi: Tensor) => bn.forward(xi);
      expect(gradcheck(fn, [x])).toBe(true);
      expect(gradgradcheck(fn, [x])).toBe(true);
    },
  );

  it("computes the closed form on a hand-checked example", () => {
    // One channel, m = 2: the output is ±γ + β whatever x is, so dx = 0 for any dy.
    // xHat = [-1, 1], invStd = 0.5, γ = 2, dy = [1, 3]: Σdy = 4, Σ(dy·x̂) = 2,
    // dx = (2·0.5/2)·([2, 6] - 4 - [-2, 2]) = [0, 0], dγ = 2, dβ = 4.
    const xHat = tensor([[-1], [1]], { dtype: "float64" });
    const saved = {
      xHat,
      invStd: tensor([0.5], { dtype: "float64" }),
      weight: tensor([2], { dtype: "float64" }),
    };
    const g1 = batchNormBackward(tensor([[1], [3]], { dtype: "float64" }), saved);
    expect(Array.from(g1.gradInput.toArray())).toEqual([0, 0]);
    expect(Array.from(g1.gradWeight!.toArray())).toEqual([2]);
    expect(Array.from(g1.gradBias!.toArray())).toEqual([4]);
    // A dy that is not a combination of 1 and xHat: three values.
    const xHat3 = tensor([[-1.224744871391589], [0], [1.224744871391589]], { dtype: "float64" });
    const g3 = batchNormBackward(tensor([[0], [1], [0]], { dtype: "float64" }), {
      xHat: xHat3,
      invStd: tensor([1], { dtype: "float64" }),
      weight: null,
    });
    // (1/3)·(3·[0, 1, 0] - 1 - xHat·0) = [-1/3, 2/3, -1/3]
    const dx = Array.from(g3.gradInput.toArray());
    for (const [i, v] of [-1 / 3, 2 / 3, -1 / 3].entries()) expect(dx[i]).toBeCloseTo(v, 14);
    expect(g3.gradWeight).toBeNull();
  });

  it("names the mismatch when gradOut and xHat differ in shape", () => {
    const xHat = tensor([[1], [-1]], { dtype: "float64" });
    expect(() =>
      batchNormBackward(tensor([1, 2], { dtype: "float64" }), {
        xHat,
        invStd: tensor([1]),
        weight: null,
      }),
    ).toThrow(/batchNormBackward: gradOut \[2\] and xHat \[2, 1\]/);
  });
});
