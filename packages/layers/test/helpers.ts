// Test helpers: fixtures as Koubai tensors (decoding and toBeAllclose come from
// @koubai/test-utils) and the closeness measures of the BatchNorm tests.

import { type Tensor, tensor } from "@koubai/core";
import { decodeValues, type EncodedTensor, readJson } from "@koubai/test-utils";
import { expect } from "vitest";

/** A tensor as written by the fixture generators: flat row-major data, NaN/inf as strings. */
export type Encoded = EncodedTensor;

export function decode(e: Encoded): Tensor {
  return tensor(decodeValues(e), { shape: e.shape, dtype: e.dtype });
}

export function loadFixture<T>(name: string): T {
  return readJson<T>(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Largest |a - b| / (atol + rtol·|b|) over the elements; ≤ 1 means close. */
export function closeness(actual: Tensor, expected: Tensor, atol: number, rtol: number): number {
  const a = actual.toArray();
  const b = expected.toArray();
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const ratio = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    worst = Number.isNaN(ratio) ? Infinity : Math.max(worst, ratio);
  }
  return worst;
}

/** Asserts same shape and |a - b| ≤ atol + rtol·|b| elementwise (toBeAllclose, rtol 1e-10 here). */
export function expectAllclose(
  actual: Tensor | null,
  expected: Tensor,
  { atol = 1e-12, rtol = 1e-10, what = "tensor" } = {},
): void {
  expect(actual, `${what} is missing`).not.toBeNull();
  expect(actual as Tensor, what).toBeAllclose(expected, { atol, rtol });
}

/** max|a - b| / max|b|: the normwise relative difference. */
export function maxRelativeDifference(a: Tensor, b: Tensor): number {
  const x = a.toArray();
  const y = b.toArray();
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export interface LinearCase {
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
export interface LossCase {
  name: string;
  module: string;
  options: Record<string, unknown>;
  input: Encoded;
  target: Encoded;
  output: Encoded;
  gradOutput: Encoded;
  gradInput: Encoded;
}
export interface MlpFixture {
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
/** torch-layers.json (PyTorch 1.13): the Linear, loss and MLP cases. */
export const layersFixture = loadFixture<{
  linear: LinearCase[];
  losses: LossCase[];
  mlp: MlpFixture;
}>("torch-layers.json");

export interface ModuleCase {
  name: string;
  module: string;
  args: unknown[];
  options: Record<string, unknown>;
  state: Record<string, Encoded>;
  input: Encoded;
  output: Encoded;
  indices: Encoded | null;
  gradOutput: Encoded;
  gradInput: Encoded;
  gradParams: Record<string, Encoded>;
}

export interface InitCase {
  module: string;
  args: [number, number, number];
  weightShape: number[];
  bound: number;
  maxAbsWeight: number;
  maxAbsBias: number;
}

/** torch-conv-layers.json (PyTorch 1.13): the convolution and pooling layer cases. */
export interface EmbeddingCase {
  state: Record<string, Encoded>;
  paddingIdx: number;
  indices: Encoded;
  output: Encoded;
  gradOutput: Encoded;
  gradWeight: Encoded;
  paddingRowInitial: Encoded;
}
export const convFixture = loadFixture<{
  conv: ModuleCase[];
  pool: ModuleCase[];
  init: InitCase[];
  groupNorm: ModuleCase[];
  embedding: EmbeddingCase;
}>("torch-conv-layers.json");
