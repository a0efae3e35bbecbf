// The MLP 784-256-BN-ReLU-256-BN-ReLU-10 (or the same without BatchNorm), as a Sequential so the
// state dict uses PyTorch's names (0.weight, 1.running_mean, ...).

import { BatchNorm1d, Linear, type Module, ReLU, Sequential } from "@koubai/layers";

export interface Mlp {
  model: Sequential;
  /** Index in the Sequential of the second hidden layer's ReLU: its input is the probed pre-activation. */
  probeIndex: number;
}

export function buildMlp(batchNorm: boolean, hidden = 256): Mlp {
  const block = (inFeatures: number): Module[] =>
    batchNorm
      ? [new Linear(inFeatures, hidden), new BatchNorm1d(hidden, { fused: true }), new ReLU()]
      : [new Linear(inFeatures, hidden), new ReLU()];
  const layers = [...block(784), ...block(hidden), new Linear(hidden, 10)];
  return { model: new Sequential(...layers), probeIndex: batchNorm ? 5 : 3 };
}
