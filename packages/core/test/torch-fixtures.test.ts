// Every case of fixtures/torch-ops.json (PyTorch 1.13 reference values) replayed through Koubai:
// forward outputs, first-order gradients for the recorded gradOutputs, and, where present,
// second-order gradients. A failure here is a core bug, never a tolerance to loosen.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autogradGrad, type Tensor, zerosLike } from "../src/index.js";
import { setShapeChecks } from "../src/internal.js";
import {
  decode,
  type EncodedTensor,
  FIXTURE_OPS,
  type FixtureCase,
  loadFixtures,
} from "./fixture-ops.js";

const { torchVersion, cases } = loadFixtures();

// Every op call here also checks its output's shape against the op's shape rule.
beforeAll(() => setShapeChecks(true));
afterAll(() => setShapeChecks(false));

/**
 * float64 must agree to 1e-12; float32 results differ from PyTorch's by rounding order only, up
 * to the case's calibrated bound where the generator measured one (long sums).
 */
function tolerance(dtype: string, float32Atol = 0): { atol: number; rtol: number } {
  return dtype === "float32"
    ? { atol: Math.max(1e-6, float32Atol), rtol: 1e-5 }
    : { atol: 1e-12, rtol: 1e-12 };
}

function expectTensor(
  actual: Tensor | null,
  expected: EncodedTensor,
  what: string,
  float32Atol?: number,
): void {
  expect(actual, what).not.toBeNull();
  const t = actual as Tensor;
  expect(t.dtype, `${what} dtype`).toBe(expected.dtype);
  expect(t.shape, `${what} shape`).toEqual(expected.shape);
  expect(t, what).toBeAllclose(
    decode({ ...expected, requiresGrad: false }),
    tolerance(t.dtype, float32Atol),
  );
}

function run(c: FixtureCase): { inputs: Tensor[]; outputs: Tensor[] } {
  const call = FIXTURE_OPS[c.op];
  if (call === undefined) throw new Error(`no Koubai mapping for fixture op ${c.op}`);
  const inputs = c.inputs.map(decode);
  const result = call(inputs, c.args);
  return { inputs, outputs: Array.isArray(result) ? result : [result] };
}

/** Gradients of the outputs (seeded by the fixture's gradOutputs) for the inputs that require grad. */
function firstOrder(c: FixtureCase, inputs: Tensor[], outputs: Tensor[], createGraph: boolean) {
  const required = inputs.filter((t) => t.requiresGrad);
  const pairs = outputs
    .map((out, i) => ({ out, seed: c.gradOutputs[i] }))
    .filter((p) => p.seed !== null && p.out.requiresGrad);
  if (required.length === 0 || pairs.length === 0) return required.map((t) => zerosLike(t));
  const grads = autogradGrad(
    pairs.map((p) => p.out),
    required,
    {
      gradOutputs: pairs.map((p) => decode(p.seed as EncodedTensor)),
      createGraph,
      allowUnused: true,
    },
  );
  return grads.map((g, i) => g ?? zerosLike(required[i]));
}

describe(`PyTorch ${torchVersion} reference fixtures`, () => {
  it("cover every op that Koubai maps", () => {
    expect(cases.length).toBeGreaterThan(400);
    const ops = new Set(cases.map((c) => c.op));
    expect([...ops].filter((op) => !(op in FIXTURE_OPS))).toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const { inputs, outputs } = run(c);
    expect(outputs.length, "number of outputs").toBe(c.outputs.length);
    outputs.forEach((out, i) => {
      expectTensor(out, c.outputs[i], `output ${i}`, c.float32Atol);
    });

    const required = inputs.filter((t) => t.requiresGrad);
    const grads = firstOrder(c, inputs, outputs, c.secondOrder !== undefined);
    const expectedGrads = c.grads.filter((g): g is EncodedTensor => g !== null);
    expect(grads.length, "number of gradients").toBe(expectedGrads.length);
    grads.forEach((g, i) => {
      expectTensor(g, expectedGrads[i], `gradient of required input ${i}`, c.float32Atol);
    });

    if (c.secondOrder === undefined) return;
    const seeds = c.secondOrder.gradGradInputs.filter((g): g is EncodedTensor => g !== null);
    const selected = grads.map((g, i) => ({ g, seed: seeds[i] })).filter((p) => p.g.requiresGrad);
    const gradGrads = autogradGrad(
      selected.map((p) => p.g),
      required,
      { gradOutputs: selected.map((p) => decode(p.seed)), allowUnused: true },
    ).map((g, i) => g ?? zerosLike(required[i]));
    const expected = c.secondOrder.gradGrads.filter((g): g is EncodedTensor => g !== null);
    gradGrads.forEach((g, i) => {
      expectTensor(g, expected[i], `second-order gradient of required input ${i}`);
    });
  });
});
