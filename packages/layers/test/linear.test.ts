// Linear against torch-layers.json (PyTorch 1.13).
import type { Tensor } from "@koubai/core";
import { describe, it } from "vitest";
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
