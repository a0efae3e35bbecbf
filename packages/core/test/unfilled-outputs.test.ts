// Op outputs live in unfilled storage (allocateUnfilled: kernels write every element). Poisoning
// that storage with two different values must not change any result: an element a kernel leaves
// unwritten would show the poison. Run over every op sample, forward and backward, and over the
// layouts and sizes that take the WebAssembly paths (from 128 elements) in float32.

import { afterEach, describe, expect, it } from "vitest";
import {
  add,
  matmul,
  maximum,
  mul,
  onesLike,
  randn,
  setKernelBackend,
  sub,
  type Tensor,
} from "../src/index.js";
import { setUnfilledPoison } from "../src/internal.js";
import { DIFFERENTIABLE_OPS, OP_SAMPLES, type Sample } from "./op-samples.js";

afterEach(() => {
  setUnfilledPoison(null);
  setKernelBackend("auto");
});

const POISONS = [Number.NaN, 7.25];

/** Every output and every input gradient of one run, as plain arrays. */
function run(fn: () => Tensor | readonly Tensor[], leaves: Tensor[]): number[][] {
  for (const leaf of leaves) leaf.grad = null;
  const result = fn();
  const outputs = Array.isArray(result) ? [...result] : [result as Tensor];
  const differentiable = outputs.filter((o) => o.requiresGrad);
  for (const o of differentiable) o.backward(onesLike(o), { retainGraph: true });
  return [
    ...outputs.map((o) => Array.from(o.toArray() as ArrayLike<number>)),
    ...leaves.map((l) =>
      l.grad === null ? [] : Array.from(l.grad.toArray() as ArrayLike<number>),
    ),
  ];
}

function underEachPoison(fn: () => Tensor | readonly Tensor[], leaves: Tensor[]): number[][][] {
  return POISONS.map((value) => {
    setUnfilledPoison({ value, minBytes: 0 });
    return run(fn, leaves);
  });
}

const rows = DIFFERENTIABLE_OPS.flatMap((op) =>
  OP_SAMPLES[op].map((sample) => [`${op} ${sample.description}`, sample] as const),
);

describe.each(rows)("%s", (_, sample: Sample) => {
  it("gives the same outputs and gradients whatever unfilled storage held", () => {
    const leaves = sample.inputs.filter((t) => t.requiresGrad);
    const [first, second] = underEachPoison(() => sample.fn(...sample.inputs), leaves);
    expect(second).toEqual(first);
  });
});

describe("float32 layouts on the WebAssembly and JS kernels", () => {
  const x = randn([300, 130]).requiresGrad_(true);
  const y = randn([300, 130]).requiresGrad_(true);
  const row = randn([130]).requiresGrad_(true);
  const column = randn([300, 1]).requiresGrad_(true);
  const leaves = [x, y, row, column];
  const cases: [string, () => Tensor][] = [
    ["same shape", () => mul(x, y)],
    ["row broadcast", () => add(x, row)],
    ["column broadcast", () => sub(x, column)],
    ["scalar", () => mul(x, 3)],
    ["transposed operand", () => maximum(x, y.t().contiguous().t())],
    ["strided view", () => x.slice(1, 0, 130, 2).exp()],
    ["unary chain", () => x.relu().add(1).sqrt().neg()],
    ["cast and copy", () => x.t().contiguous().to("float64")],
    ["matmul, transposed operand", () => matmul(x, y.t())],
    ["matmul, empty inner size", () => matmul(x.slice(1, 0, 0), y.slice(0, 0, 0))],
  ];
  for (const backend of ["wasm", "js"] as const) {
    it.each(cases)(`%s (${backend})`, (_, fn) => {
      setKernelBackend(backend);
      const [first, second] = underEachPoison(fn, leaves);
      expect(second).toEqual(first);
      expect(first.flat().some(Number.isNaN)).toBe(false);
    });
  }
});
