import { describe, it } from "vitest";
import { BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss } from "../src/loss.js";
import type { Module } from "../src/module.js";
import {
  decode,
  type Encoded,
  expectAllclose,
  layersFixture as fixture,
  type LossCase,
} from "./helpers.js";

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
