// Loss modules against torch-layers.json (PyTorch 1.13).
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

function lossModule(c: LossCase): Module {
  const o = c.options;
  const reduction = o.reduction as "mean" | "sum" | "none";
  const common = { reduction, ignoreIndex: o.ignoreIndex as number | undefined };
  switch (c.module) {
    case "MSELoss":
      return new MSELoss({ reduction });
    case "L1Loss":
      return new L1Loss({ reduction });
    case "CrossEntropyLoss":
      return new CrossEntropyLoss({
        ...common,
        labelSmoothing: o.labelSmoothing as number | undefined,
      });
    case "NLLLoss":
      return new NLLLoss(common);
    case "BCEWithLogitsLoss":
      return new BCEWithLogitsLoss({
        reduction,
        posWeight: o.posWeight ? decode(o.posWeight as Encoded) : null,
      });
  }
  throw new Error(`unknown loss ${c.module}`);
}

describe("loss modules against PyTorch", () => {
  it.each(fixture.losses.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const x = decode(c.input).requiresGrad_(true);
    const y = lossModule(c).forward(x, decode(c.target));
    y.backward(decode(c.gradOutput));
    expectAllclose(y, decode(c.output), { what: "loss" });
    expectAllclose(x.grad, decode(c.gradInput), { what: "gradInput" });
  });
});
