// Generic checks driven by the op-sample registry: for every sample of every differentiable op,
// first- and second-order gradcheck in float64, and gradients with the inputs' shapes and dtypes.

import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import { autogradGrad, gradcheck, gradgradcheck, onesLike, Tensor } from "../src/index.js";
import { DIFFERENTIABLE_OPS, OP_SAMPLES, type Sample } from "./op-samples.js";

/** Exported functions that are deliberately not differentiable ops (creation, transforms, tools). */
const NOT_OPS = new Set([
  "AnomalyError",
  "detectAnomaly",
  "customOp",
  "getKernelBackend",
  "setKernelBackend",
  "getKernelThreads",
  "kernelThreadsAvailable",
  "setKernelThreads",
  "OpContext",
  "topologicalOrder",
  "traceBackward",
  "autogradGrad",
  "grad",
  "valueAndGrad",
  "vjp",
  "enableGrad",
  "isGradEnabled",
  "noGrad",
  "Node",
  "record",
  "GradcheckError",
  "gradcheck",
  "gradgradcheck",
  "compareGradients",
  "compareTensors",
  "firstDisagreement",
  "formatComparison",
  "graphListing",
  "toDot",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "argmax",
  "argmin",
  "arange",
  "eye",
  "full",
  "fullLike",
  "linspace",
  "empty",
  "emptyLike",
  "ones",
  "onesLike",
  "rand",
  "randint",
  "randn",
  "tensor",
  "zeros",
  "zerosLike",
  "promoteTypes",
  "Generator",
  "Storage",
  "manualSeed",
  "Tensor",
]);

function outputsOf(sample: Sample): Tensor[] {
  const result = sample.fn(...sample.inputs);
  return result instanceof Tensor ? [result] : [...result];
}

const rows = DIFFERENTIABLE_OPS.flatMap((op) =>
  OP_SAMPLES[op].map((sample) => [`${op} ${sample.description}`, sample] as const),
);

describe("the op-sample registry", () => {
  it("lists every differentiable function that core exports", () => {
    const exported = Object.entries(core)
      .filter(([, value]) => typeof value === "function")
      .map(([name]) => name);
    const listed = new Set<string>(DIFFERENTIABLE_OPS);
    expect(exported.filter((name) => !listed.has(name) && !NOT_OPS.has(name))).toEqual([]);
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
