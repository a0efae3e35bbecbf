// Linear against torch-layers.json (PyTorch 1.13).
import { noGrad, type Tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { ReLU } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss } from "../src/loss.js";
import type { Module } from "../src/module.js";
import { Sequential } from "../src/sequential.js";
import { decode, type Encoded, expectAllclose, loadFixture } from "./helpers.js";

interface LinearCase {
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  weight: Encoded;
  biasValue: Encoded | null;
  input: Encoded;
  output: Encoded;
  gradOutput: Encoded;
  gradInput: Encoded;
  gradWeight: Encoded;
  gradBias: Encoded | null;
}
interface LossCase {
  name: string;
  module: string;
  options: Record<string, unknown>;
  input: Encoded;
  target: Encoded;
  output: Encoded;
  gradOutput: Encoded;
  gradInput: Encoded;
}
interface MlpFixture {
  initialState: Record<string, Encoded>;
  input: Encoded;
  target: Encoded;
  steps: {
    loss: number;
    logits: Encoded;
    grads: Record<string, Encoded>;
    state: Record<string, Encoded>;
  }[];
  finalState: Record<string, Encoded>;
}
const fixture = loadFixture<{ linear: LinearCase[]; losses: LossCase[]; mlp: MlpFixture }>(
  "torch-layers.json",
);

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
