// The convolution layers against torch-conv-layers.json (PyTorch 1.13): PyTorch's state dict
// loaded under the same keys, then the output and every gradient; the default initialisation's
// range; and the errors that name the layer.

import { randn, type Tensor, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d } from "../src/conv.js";
import type { Module } from "../src/module.js";
import { convFixture, decode, expectAllclose } from "./helpers.js";

type ConvClass = new (
  inChannels: number,
  outChannels: number,
  kernelSize: number | number[],
  options?: Record<string, unknown>,
) => Module & { weight: Tensor; bias: Tensor | null };

const CLASSES: Record<string, ConvClass> = { Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d };

function tolerance(dtype: string) {
  return dtype === "float64" ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-5, rtol: 1e-5 };
}

describe("convolution layers against PyTorch", () => {
  it.each(convFixture.conv.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const dtype = c.input.dtype as "float32" | "float64";
    const [inC, outC, k] = c.args as [number, number, number | number[]];
    const layer = new CLASSES[c.module](inC, outC, k, { ...c.options, dtype });
    expect(Object.keys(layer.stateDict()).sort()).toEqual(Object.keys(c.state).sort());
    layer.loadStateDict(
      Object.fromEntries(Object.entries(c.state).map(([key, v]) => [key, decode(v)])),
    );
    const x = decode(c.input).requiresGrad_(true);
    const y = layer.forward(x);
    y.backward(decode(c.gradOutput));
    const tol = tolerance(dtype);
    expectAllclose(y, decode(c.output), { ...tol, what: "output" });
    expectAllclose(x.grad, decode(c.gradInput), { ...tol, what: "gradInput" });
    for (const [name, p] of layer.namedParameters()) {
      expectAllclose(p.grad, decode(c.gradParams[name]), { ...tol, what: `grad of ${name}` });
    }
  });
});

describe("convolution layers' default initialisation", () => {
  it.each(convFixture.init.map((c) => [`${c.module}(${c.args.join(", ")})`, c] as const))(
    "%s draws weight and bias from U(-1/√fanIn, 1/√fanIn), as PyTorch's reach",
    (_, c) => {
      const layer = new CLASSES[c.module](...c.args);
      expect(layer.weight.shape).toEqual(c.weightShape);
      const maxWeight = layer.weight.abs().max().item();
      const maxBias = layer.bias!.abs().max().item();
      expect(maxWeight).toBeLessThanOrEqual(c.bound);
      expect(maxBias).toBeLessThanOrEqual(c.bound);
      // PyTorch's largest |weight| over 20 draws is close to the bound; one draw of ours is too
      expect(c.maxAbsWeight).toBeLessThanOrEqual(c.bound);
      expect(maxWeight).toBeGreaterThan(0.9 * c.maxAbsWeight);
    },
  );
});

describe("convolution layers with input or arguments they cannot use", () => {
  it("name the layer and what the input should be", () => {
    const conv = new Conv2d(3, 8, 3);
    expect(() => conv.forward(randn([2, 4, 8, 8]))).toThrow(
      "Conv2d(3, 8, [3,3]): input of shape [2, 4, 8, 8] must be [N, 3, H, W] or [3, H, W]",
    );
    expect(() => conv.forward(randn([2, 3, 8, 8], { dtype: "float64" }))).toThrow(
      /^Conv2d\(3, 8, \[3,3\]\): input has dtype float64 but the layer's parameters are float32/,
    );
    expect(() => new Conv1d(3, 8, 3).forward(tensor([[1, 2, 3]]))).toThrow(
      "Conv1d(3, 8, 3): input of shape [1, 3] must be [N, 3, L] or [3, L]",
    );
  });

  it("refuse channel counts that do not split into groups, bad kernel sizes, and strided same padding", () => {
    expect(() => new Conv2d(3, 8, 3, { groups: 2 })).toThrow(
      "Conv2d(3, 8, 3): inChannels (3) must be divisible by groups (2)",
    );
    expect(() => new ConvTranspose2d(4, 6, 3, { groups: 4 })).toThrow(
      "ConvTranspose2d(4, 6, 3): outChannels (6) must be divisible by groups (4)",
    );
    expect(() => new Conv2d(3, 8, [3, 0])).toThrow(
      "Conv2d(3, 8, [3,0]): kernelSize must be a positive integer or 2 of them, got [3,0]",
    );
    expect(() => new Conv1d(0, 8, 3)).toThrow(
      "Conv1d(0, 8, 3): inChannels must be a positive integer, got 0",
    );
    expect(() => new Conv2d(3, 8, 3, { padding: "same", stride: 2 })).toThrow(
      'Conv2d(3, 8, [3,3]): padding "same" is not supported with a stride other than 1 (got stride 2)',
    );
  });

  it("keep PyTorch's weight layouts: [out, in/groups, k...] and transposed [in, out/groups, k...]", () => {
    expect(new Conv2d(4, 6, [2, 3], { groups: 2 }).weight.shape).toEqual([6, 2, 2, 3]);
    expect(new ConvTranspose2d(4, 6, 3, { groups: 2 }).weight.shape).toEqual([4, 3, 3, 3]);
    expect(new Conv1d(2, 5, 4, { bias: false }).bias).toBeNull();
  });
});
