// Generic checks driven by the op-sample table: for every sample of every differentiable op of the
// registry, first- and second-order gradcheck in float64, gradients with the inputs' shapes and
// dtypes, and (with shape checks on) every op's output shape against its shape rule.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autogradGrad, gradcheck, gradgradcheck, onesLike, Tensor } from "../src/index.js";
import { setShapeChecks } from "../src/internal.js";
import { DIFFERENTIABLE_OPS, OP_SAMPLES, type Sample } from "./op-samples.js";

beforeAll(() => setShapeChecks(true));
afterAll(() => setShapeChecks(false));

function outputsOf(sample: Sample): Tensor[] {
  const result = sample.fn(...sample.inputs);
  return result instanceof Tensor ? [result] : [...result];
}

const rows = DIFFERENTIABLE_OPS.flatMap((op) =>
  OP_SAMPLES[op].map((sample) => [`${op} ${sample.description}`, sample] as const),
);

describe("the op-sample table", () => {
  it("has a row for every differentiable op of the registry and no other", () => {
    expect(Object.keys(OP_SAMPLES).sort()).toEqual([...DIFFERENTIABLE_OPS].sort());
    expect(DIFFERENTIABLE_OPS.length).toBeGreaterThan(60);
  });

  it("has at least one sample per op, all inputs float64 or integer/bool constants", () => {
    for (const op of DIFFERENTIABLE_OPS) {
      expect(OP_SAMPLES[op].length, op).toBeGreaterThan(0);
      for (const sample of OP_SAMPLES[op]) {
        for (const input of sample.inputs) {
          if (input.requiresGrad)
            expect(input.dtype, `${op} ${sample.description}`).toBe("float64");
        }
        expect(sample.inputs.some((t) => t.requiresGrad)).toBe(true);
      }
    }
  });
});

describe.each(rows)("%s", (_, sample) => {
  it("passes gradcheck (first order)", () => {
    expect(gradcheck(sample.fn, sample.inputs, sample.options)).toBe(true);
  });

  it("passes gradgradcheck (second order)", () => {
    expect(gradgradcheck(sample.fn, sample.inputs, sample.options)).toBe(true);
  });

  it("gives each input a gradient of its own shape and dtype", () => {
    const outputs = outputsOf(sample).filter((o) => o.requiresGrad);
    const inputs = sample.inputs.filter((t) => t.requiresGrad);
    const grads = autogradGrad(outputs, inputs, {
      gradOutputs: outputs.map((o) => onesLike(o)),
      allowUnused: true,
    });
    grads.forEach((g, i) => {
      if (g === null) return;
      expect(g.shape).toEqual(inputs[i].shape);
      expect(g.dtype).toBe(inputs[i].dtype);
    });
    expect(grads.some((g) => g !== null)).toBe(true);
  });
});
