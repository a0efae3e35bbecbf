// A Sequential MLP trained 5 steps against torch-layers.json (PyTorch 1.13).
import { noGrad, type Tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { ReLU } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { CrossEntropyLoss } from "../src/loss.js";
import { Sequential } from "../src/sequential.js";
import { decode, type Encoded, expectAllclose, layersFixture as fixture } from "./helpers.js";

describe("Linear-BatchNorm1d-ReLU-Linear trained 5 SGD steps matches PyTorch", () => {
  it("has the same losses, logits, gradients and state (running stats included) at every step", () => {
    const model = new Sequential(
      new Linear(4, 8),
      new BatchNorm1d(8),
      new ReLU(),
      new Linear(8, 3),
    ).double();
    const decodeState = (s: Record<string, Encoded>) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, decode(v)]));
    model.loadStateDict(decodeState(fixture.mlp.initialState));
    const criterion = new CrossEntropyLoss();
    const x = decode(fixture.mlp.input);
    const target = decode(fixture.mlp.target);
    // torch.optim.SGD with momentum 0.9, dampening 0: b ← 0.9·b + g (b = g on the first step); p ← p - 0.1·b.
    const velocity = new Map<Tensor, Tensor>();
    model.train();
    for (const step of fixture.mlp.steps) {
      model.zeroGrad();
      const logits = model.forward(x);
      const loss = criterion.forward(logits, target);
      loss.backward();
      expect(loss.item()).toBeCloseTo(step.loss, 12);
      expectAllclose(logits, decode(step.logits), { what: "logits" });
      for (const [name, p] of model.namedParameters())
        expectAllclose(p.grad, decode(step.grads[name]), { what: `grad ${name}` });
      noGrad(() => {
        for (const p of model.parameters()) {
          const g = p.grad!;
          const b = velocity.get(p);
          const next = b === undefined ? g.clone() : b.mul(0.9).add(g);
          velocity.set(p, next);
          p.sub_(next, 0.1);
        }
      });
      const state = model.stateDict();
      expect(Object.keys(state)).toEqual(Object.keys(step.state));
      for (const [key, value] of Object.entries(step.state))
        expectAllclose(state[key], decode(value), { what: `state ${key}` });
    }
  });
});
