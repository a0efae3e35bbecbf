// Replays a fixture optimizer case: fixed gradients in, parameters out after every step.

import { expect } from "vitest";
import { Adam, AdamW, type Optimizer, SGD } from "../../src/index.js";
import { decodeTensor, type OptimizerCase } from "./fixtures.js";

const CONSTRUCTORS = {
  SGD: (params: ReturnType<typeof decodeTensor>[], o: Record<string, unknown>) =>
    new SGD(params, o as never),
  Adam: (params: ReturnType<typeof decodeTensor>[], o: Record<string, unknown>) =>
    new Adam(params, o as never),
  AdamW: (params: ReturnType<typeof decodeTensor>[], o: Record<string, unknown>) =>
    new AdamW(params, o as never),
};

/** Runs every step of `c`, checking each parameter against torch after each step. */
export function expectTrajectoryMatches(c: OptimizerCase): Optimizer {
  const params = c.params.map((p) => decodeTensor(p, true));
  const optimizer = CONSTRUCTORS[c.optimizer](params, c.options);
  c.grads.forEach((grads, step) => {
    params.forEach((p, i) => {
      p.grad = decodeTensor(grads[i]);
    });
    optimizer.step();
    params.forEach((p, i) => {
      expect(p, `${c.name}, step ${step + 1}, param ${i}`).toBeAllclose(
        decodeTensor(c.trajectory[step][i]),
      );
    });
  });
  return optimizer;
}
