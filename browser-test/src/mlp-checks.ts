// The 4-8-BatchNorm1d-ReLU-3 MLP of fixtures/browser-fixture.json, started from PyTorch's initial
// weights and trained 5 SGD steps (lr 0.1, momentum 0.9) on the fixture's batch, once with the
// composite BatchNorm1d and once with the fused one (hand-derived backward); and the composite
// once more with the step under compile() (traced on the first step, replayed after).

import { compile, crossEntropy, type Tensor, tensor } from "@koubai/core";
import { BatchNorm1d, Linear, ReLU, Sequential } from "@koubai/layers";
import { SGD } from "@koubai/optim";
import fixture from "../fixtures/browser-fixture.json" with { type: "json" };

/** Losses per step and the final state dict, each tensor flattened. */
export interface TrainingResult {
  losses: number[];
  final: Record<string, number[]>;
}

export const SGD_STEPS = 5;

function flatState(state: Record<string, Tensor>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, t] of Object.entries(state)) out[key] = [...t.toArray()];
  return out;
}

export function trainMlp(fused: boolean, compiled = false): TrainingResult {
  const model = new Sequential(
    new Linear(4, 8),
    new BatchNorm1d(8, { fused }),
    new ReLU(),
    new Linear(8, 3),
  );
  const initial: Record<string, Tensor> = {};
  const fromTorch = fixture.initial as Record<string, number[]>;
  for (const [key, target] of Object.entries(model.stateDict())) {
    initial[key] = tensor(fromTorch[key], { dtype: target.dtype, shape: target.shape });
  }
  model.loadStateDict(initial);
  const x = tensor(fixture.x);
  const y = tensor(fixture.y, { dtype: "int32" });
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const losses: number[] = [];
  const trainStep = (input: Tensor, target: Tensor): Tensor => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(input), target);
    loss.backward();
    optimizer.step();
    return loss;
  };
  const run = compiled ? compile(trainStep) : trainStep;
  for (let step = 0; step < SGD_STEPS; step++) losses.push(run(x, y).item());
  return { losses, final: flatState(model.stateDict()) };
}
