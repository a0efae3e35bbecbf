// Linear against torch-layers.json (PyTorch 1.13).
import { randn, type Tensor, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Linear } from "../src/linear.js";
import { decode, expectAllclose, layersFixture as fixture } from "./helpers.js";

describe("Linear against PyTorch", () => {
  it.each(fixture.linear.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const dtype = c.weight.dtype as "float32" | "float64";
    const fc = new Linear(c.inFeatures, c.outFeatures, { bias: c.bias, dtype });
    const state: Record<string, Tensor> = { weight: decode(c.weight) };
    if (c.biasValue !== null) state.bias = decode(c.biasValue);
    fc.loadStateDict(state);
    const x = decode(c.input).requiresGrad_(true);
    const y = fc.forward(x);
    y.backward(decode(c.gradOutput));
    const tol = dtype === "float64" ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-6, rtol: 1e-5 };
    expectAllclose(y, decode(c.output), { ...tol, what: "output" });
    expectAllclose(x.grad, decode(c.gradInput), { ...tol, what: "gradInput" });
    expectAllclose(fc.weight.grad, decode(c.gradWeight), { ...tol, what: "gradWeight" });
    if (c.gradBias !== null)
      expectAllclose(fc.bias!.grad, decode(c.gradBias), { ...tol, what: "gradBias" });
  });
});

describe("Linear with input it cannot use", () => {
  it("names the layer and says how to cast an int32 input (not matmul's message)", () => {
    const fc = new Linear(3, 2);
    expect(() => fc.forward(tensor([[1, 2, 3]], { dtype: "int32" }))).toThrow(
      'Linear(3, 2): input has dtype int32 but the layer\'s parameters are float32; cast the input with .to("float32") (layers compute in float32 or float64)',
    );
    expect(() => fc.forward(randn([1, 3], { dtype: "float64" }))).toThrow(
      /Linear\(3, 2\): input has dtype float64 .*call \.to\("float64"\) on the layer/,
    );
    expect(fc.forward(tensor([[1, 2, 3]], { dtype: "int32" }).float()).shape).toEqual([1, 2]);
  });

  it("names the layer when the last dim is not inFeatures", () => {
    expect(() => new Linear(3, 2).forward(randn([4, 5]))).toThrow(
      "Linear(3, 2): input of shape [4, 5] must end with 3 features (shape [..., 3])",
    );
  });

  it("names the layer, the shape and the bytes when its weight is too large to allocate", () => {
    expect(() => new Linear(1e6, 1e6)).toThrow(
      /^Linear\(1000000, 1000000\): cannot create the weight: zeros: cannot allocate a float32 tensor of shape \[1000000, 1000000\] \(4000000000000 bytes, 3\.6 TiB\)/,
    );
  });
});

describe("Linear's weight gradient", () => {
  it("is Σ over the batch of gradOutᵀ·x, in the weight's own contiguous layout", () => {
    const layer = new Linear(3, 2, { dtype: "float64" });
    const x = tensor(
      [
        [1, 2, 3],
        [-1, 0.5, 2],
      ],
      { dtype: "float64" },
    );
    const gradOut = tensor(
      [
        [1, -2],
        [3, 0.25],
      ],
      { dtype: "float64" },
    );
    layer.forward(x).backward(gradOut);
    const grad = layer.weight.grad!;
    expect(grad.isContiguous()).toBe(true);
    // dW[o][i] = Σ_n gradOut[n][o]·x[n][i]
    expect(grad.tolist()).toEqual([
      [1 * 1 + 3 * -1, 1 * 2 + 3 * 0.5, 1 * 3 + 3 * 2],
      [-2 * 1 + 0.25 * -1, -2 * 2 + 0.25 * 0.5, -2 * 3 + 0.25 * 2],
    ]);
  });
});
