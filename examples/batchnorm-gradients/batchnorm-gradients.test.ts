import { describe, expect, it } from "vitest";
import { diagnoseBuggyFormula } from "./diagnose.js";
import { batchNormFiniteDifferences } from "./finite-differences.js";
import { bugCaught, formatRatioTable } from "./main.js";
import { allWithinTolerance, runCase, standardCases } from "./three-ways.js";

/** Biased variance + ε of column c of a row-major [N, C] array, in plain JS. */
function sigmaSquared(values: ArrayLike<number>, n: number, c: number, col: number): number {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i * c + col];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i * c + col] - mean) ** 2;
  return v / n + 1e-5;
}

describe("three-way BatchNorm gradient check", () => {
  const small = standardCases().filter((c) => c.shape[0] <= 4);

  it("covers both dtypes, three ranks and the badly scaled input in its small cases", () => {
    expect(small).toHaveLength(12);
    expect(new Set(small.map((c) => c.shape.length))).toEqual(new Set([2, 3, 4]));
  });

  it("finds autograd, batchNormBackward and finite differences within tolerance", () => {
    const rows = small.flatMap((c) => runCase(c));
    expect(rows).toHaveLength(36);
    expect(allWithinTolerance(rows)).toBe(true);
    const f64 = rows.filter((r) => r.label.startsWith("float64") && !r.label.includes("mean"));
    for (const r of f64) expect(r.handVsAutograd.scaled).toBeLessThan(1e-12);
  });

  it("has finite differences that match a hand-computed gradient of a 2×1 batch", () => {
    // x = [0, 2] in one channel: μ = 1, σ² = 1, x̂ = [-1, 1]; with dout = [1, 0], γ = 1, β = 0 and
    // ε = 0: dγ = Σ dout·x̂ = -1, dβ = Σ dout = 1, dx = (1/m)(m·dout − Σdout − x̂·Σ dout·x̂) = [0, 0].
    const fd = batchNormFiniteDifferences({
      x: new Float64Array([0, 2]),
      n: 2,
      c: 1,
      s: 1,
      gamma: new Float64Array([1]),
      beta: new Float64Array([0]),
      dout: new Float64Array([1, 0]),
      eps: 0,
    });
    expect(fd.dgamma[0]).toBeCloseTo(-1, 8);
    expect(fd.dbeta[0]).toBeCloseTo(1, 8);
    expect(fd.dx[0]).toBeCloseTo(0, 8);
    expect(fd.dx[1]).toBeCloseTo(0, 8);
  });
});

describe("the published dvar bug", () => {
  const d = diagnoseBuggyFormula(16);

  it("is absent from the correct port, which matches autograd at every stage", () => {
    expect(d.correctRows.map((r) => r.ok)).toEqual([true, true, true, true, true, true]);
  });

  it("first shows at dvar and spoils dx, while dgamma and dbeta stay right", () => {
    expect(d.firstWrong).toBe("dvar");
    const ok = Object.fromEntries(d.buggyRows.map((r) => [r.name, r.ok]));
    expect(ok).toEqual({
      dxHat: true,
      dvar: false,
      dmean: true,
      dx: false,
      dgamma: true,
      dbeta: true,
    });
  });

  it("makes dvar exactly σ² = var + ε times too large in each feature", () => {
    const x = d.x.toArray();
    d.dvarRatio.forEach((ratio, c) => {
      const expected = sigmaSquared(x, 16, 4, c);
      expect(Math.abs(ratio - expected) / expected).toBeLessThan(1e-12);
    });
    expect(d.dxErrorUnexplained).toBeLessThan(1e-12);
    expect(bugCaught(d)).toBe(true);
    expect(formatRatioTable(d).split("\n")).toHaveLength(5);
  });
});
