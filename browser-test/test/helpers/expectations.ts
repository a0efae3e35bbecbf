// What every run of runChecks must show, wherever it ran. Reference values come from outside the
// code under test: hand-derived gradients, PyTorch 1.13 (fixtures/browser-fixture.json) and
// plain loops written here for matmul.

import { expect } from "vitest";
import fixture from "../../fixtures/browser-fixture.json" with { type: "json" };
import { MATMUL_SIZES, matmulOperand } from "../../src/matmul-checks.js";
import type { CheckResults } from "../../src/run-checks.js";
import { SAFETENSORS_METADATA } from "../../src/safetensors-checks.js";

export function expectClose(actual: number[], expected: number[], atol: number, rtol: number) {
  expect(actual).toHaveLength(expected.length);
  const worst = actual
    .map((a, i) => ({
      i,
      a,
      e: expected[i],
      excess: Math.abs(a - expected[i]) - (atol + rtol * Math.abs(expected[i])),
    }))
    .reduce((w, c) => (c.excess > w.excess ? c : w));
  expect(worst.excess, `worst element ${worst.i}: ${worst.a} vs ${worst.e}`).toBeLessThanOrEqual(0);
}

/** Row-major [M, N] product in the order p = 0..K-1, each step rounded by `round`. */
export function referenceProduct(round: (x: number) => number): number[] {
  const { m, k, n } = MATMUL_SIZES;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) {
        const product = round(round(matmulOperand("a", i, p)) * round(matmulOperand("b", p, j)));
        acc = round(acc + product);
      }
      out.push(acc);
    }
  }
  return out;
}

export function expectBackward(r: CheckResults): void {
  expect(r.backward).toEqual({ loss: 78, gradA: [8, 20, 36], gradB: [1, 4, 9] });
}

export function expectGradchecks(r: CheckResults): void {
  const byName = Object.fromEntries(r.gradchecks.map((g) => [g.name, g.error]));
  expect(byName["crossEntropy(linear(x, w, b), target)"]).toBeNull();
  expect(byName["logSoftmax(gelu(z), 1)"]).toBeNull();
  expect(byName["wrongSquare(z)"]).toMatch(/^gradcheck: /);
}

export function expectMlpMatchesTorch(r: CheckResults): void {
  for (const run of [r.mlp.composite, r.mlp.fused]) {
    expectClose(run.losses, fixture.losses, 1e-6, 1e-5);
    for (let s = 1; s < run.losses.length; s++)
      expect(run.losses[s]).toBeLessThan(run.losses[s - 1]);
    const torchFinal = fixture.final as Record<string, number[]>;
    expect(Object.keys(run.final).sort()).toEqual(Object.keys(torchFinal).sort());
    for (const [key, values] of Object.entries(run.final))
      expectClose(values, torchFinal[key], 1e-5, 1e-4);
  }
  expectClose(r.mlp.fused.losses, r.mlp.composite.losses, 1e-6, 1e-6);
  // compile() replays the same kernels: bit for bit the eager run.
  expect(r.mlp.compiled).toEqual(r.mlp.composite);
}

export function expectMatmul(r: CheckResults): void {
  const m = r.matmul;
  expect([m.backendBefore, m.backendDuringWasm, m.backendAfter]).toEqual(["auto", "wasm", "auto"]);
  expect(m.float64Wasm).toEqual(referenceProduct((x) => x));
  expect(m.float32Wasm).toEqual(referenceProduct(Math.fround));
  expectClose(
    m.float64Js,
    referenceProduct((x) => x),
    1e-13,
    1e-13,
  );
  expectClose(
    m.float32Js,
    referenceProduct((x) => x),
    1e-6,
    1e-6,
  );
  // The two float32 kernels round differently (wasm per step, JS once at the end): both ran.
  expect(m.float32Wasm).not.toEqual(m.float32Js);
}

export function expectSafetensors(r: CheckResults): void {
  const s = r.safetensors;
  expect(s.loaded).toEqual(s.saved);
  expect(s.metadata).toEqual(SAFETENSORS_METADATA);
  const header = JSON.parse(s.header);
  expect(header["1.num_batches_tracked"]).toEqual({
    dtype: "I64",
    shape: [],
    data_offsets: [expect.any(Number), expect.any(Number)],
  });
  expect(header["0.weight"].dtype).toBe("F32");
  const dataBytes = Object.values(s.saved).reduce(
    (sum, t) => sum + t.values.length * (t.dtype === "int32" ? 8 : 4),
    0,
  );
  expect(s.byteLength).toBe(8 + s.headerLength + dataBytes);
}

export function expectReadableErrors(r: CheckResults): void {
  expect(r.errors.matmulShapes).toMatch(/^matmul/);
  expect(r.errors.matmulShapes).toContain("[2, 3]");
  expect(r.errors.batchNormFeatures).toBe(
    "BatchNorm1d: numFeatures must be a positive integer, got 0",
  );
}
