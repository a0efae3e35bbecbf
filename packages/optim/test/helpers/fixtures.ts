// Loads torch-optim.json and torch-schedulers.json (written by real PyTorch 1.13, see the
// generate_torch_*.py scripts beside them) and turns their encoded tensors into Koubai tensors.

import { type Tensor, tensor } from "@koubai/core";
import { decodeNumber, decodeValues, type EncodedTensor, readJson } from "@koubai/test-utils";

export { decodeNumber, decodeValues, type EncodedTensor };

export interface OptimizerCase {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW";
  options: Record<string, unknown>;
  params: EncodedTensor[];
  grads: EncodedTensor[][];
  trajectory: EncodedTensor[][];
}

export interface SchedulerCase {
  name: string;
  scheduler: string;
  optimizer: { type: "SGD"; lr: number; momentum: number };
  options: Record<string, unknown>;
  lrs: number[];
  momentums?: number[];
}

export interface ClipCase {
  name: string;
  fn: "clipGradNorm" | "clipGradValue";
  args: { maxNorm?: number; normType?: number | string; clipValue?: number };
  grads: EncodedTensor[];
  clippedGrads: EncodedTensor[];
  totalNorm: number | string | null;
}

/** Float32 SGD on `n` LCG values (see lcgValues): torch's parameter after `steps` steps. */
export interface SgdFloat32Case {
  name: string;
  /** Parameter from lcgValues(n, seed); the gradient of step k from lcgValues(n, seed + 1 + k). */
  seed: number;
  n: number;
  steps: number;
  options: Record<string, unknown>;
  param: EncodedTensor;
  momentumBuffer: EncodedTensor | null;
}

interface Fixtures {
  torchVersion: string;
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
  clipping: ClipCase[];
  sgdFloat32: SgdFloat32Case[];
}

/**
 * float32 values in [-2, 2) from the LCG the fixture script also implements:
 * state = 1664525·state + 1013904223 (mod 2^32), value = state/2^32·4 - 2.
 */
export function lcgValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}

export const fixtures: Fixtures = readJson(
  new URL("../fixtures/torch-optim.json", import.meta.url),
);

/** A fresh tensor holding the fixture's values in its dtype. */
export function decodeTensor(t: EncodedTensor, requiresGrad = false): Tensor {
  return tensor(decodeValues(t), { shape: t.shape, dtype: t.dtype, requiresGrad });
}

/** LambdaLR / MultiplicativeLR on SGD with one group per `groupLrs` entry (torch-schedulers.json). */
export interface LambdaSchedulerCase {
  name: string;
  scheduler: "LambdaLR" | "MultiplicativeLR";
  groupLrs: number[];
  /** A name from `torchLambdas` for every group, or one name per group. */
  lrLambda: string | string[];
  /** Every group's lr after construction, then after each step. */
  lrs: number[][];
}

/** The ReduceLROnPlateau state torch reports after a step (index 0: after construction). */
export interface PlateauState {
  lrs: number[];
  best: number | string;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
}

/** ReduceLROnPlateau on SGD with one group per `groupLrs` entry, stepped with `metrics`. */
export interface PlateauCase {
  name: string;
  groupLrs: number[];
  options: Record<string, unknown>;
  metrics: Array<number | string>;
  states: PlateauState[];
}

interface SchedulerFixtures {
  torchVersion: string;
  lambdaSchedulers: LambdaSchedulerCase[];
  plateau: PlateauCase[];
}

/** torch-schedulers.json, written by PyTorch 1.13 (see fixtures/generate_torch_schedulers.py). */
export const schedulerFixtures: SchedulerFixtures = readJson(
  new URL("../fixtures/torch-schedulers.json", import.meta.url),
);
