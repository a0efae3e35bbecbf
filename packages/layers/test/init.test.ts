import { Generator, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import * as init from "../src/init.js";
import { Linear } from "../src/linear.js";

function stats(values: ArrayLike<number>) {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i] / values.length;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += (values[i] - mean) ** 2 / values.length;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  return { mean, std: Math.sqrt(variance), maxAbs };
}

describe("init", () => {
  it("computes PyTorch's fans and gains", () => {
    expect(init.calculateFanInAndFanOut(zeros([8, 4, 3, 3]))).toEqual({ fanIn: 36, fanOut: 72 });
    expect(init.calculateGain("relu")).toBe(Math.SQRT2);
    expect(init.calculateGain("tanh")).toBe(5 / 3);
    expect(init.calculateGain("leakyRelu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain("selu")).toBe(0.75);
    expect(() => init.calculateFanInAndFanOut(zeros([3]))).toThrow(/fewer than 2 dimensions/);
  });

  it("kaimingUniform fills U(-b, b) with b = √(6 / fanIn) for ReLU", () => {
    const w = init.kaimingUniform(zeros([400, 250], { dtype: "float64" }), {
      generator: new Generator(1),
      nonlinearity: "relu",
    });
    const bound = Math.sqrt(6 / 250);
    const s = stats(w.toArray());
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
    expect(s.maxAbs).toBeGreaterThan(0.99 * bound);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 3);
  });

  it("kaimingNormal, xavierUniform and xavierNormal have the documented spread", () => {
    const g = new Generator(2);
    const kn = stats(
      init
        .kaimingNormal(zeros([500, 200], { dtype: "float64" }), { generator: g, mode: "fanOut" })
        .toArray(),
    );
    expect(kn.std / (Math.SQRT2 / Math.sqrt(500))).toBeCloseTo(1, 2);
    const xu = stats(
      init
        .xavierUniform(zeros([300, 200], { dtype: "float64" }), { generator: g, gain: 2 })
        .toArray(),
    );
    expect(xu.maxAbs).toBeLessThanOrEqual(2 * Math.sqrt(6 / 500));
    expect(xu.std / (2 * Math.sqrt(2 / 500))).toBeCloseTo(1, 2);
    const xn = stats(
      init.xavierNormal(zeros([300, 200], { dtype: "float64" }), { generator: g }).toArray(),
    );
    expect(xn.std / Math.sqrt(2 / 500)).toBeCloseTo(1, 2);
    expect(Math.abs(xn.mean)).toBeLessThan(0.002);
  });

  it("uniform, normal, constant, zeros and ones fill in place and return the tensor", () => {
    const t = zeros([20000], { dtype: "float64" });
    expect(init.uniform(t, 2, 4, { generator: new Generator(3) })).toBe(t);
    const u = stats(t.toArray());
    expect(u.mean).toBeCloseTo(3, 1);
    const n = stats(init.normal(t, -1, 0.5, { generator: new Generator(4) }).toArray());
    expect(n.mean).toBeCloseTo(-1, 1);
    expect(n.std).toBeCloseTo(0.5, 1);
    expect(Array.from(init.constant(zeros([2]), 7).toArray())).toEqual([7, 7]);
    expect(Array.from(init.ones(zeros([2])).toArray())).toEqual([1, 1]);
  });

  it("is reproducible with a seeded generator", () => {
    const a = new Linear(5, 3, { generator: new Generator(42) });
    const b = new Linear(5, 3, { generator: new Generator(42) });
    expect(Array.from(a.weight.toArray())).toEqual(Array.from(b.weight.toArray()));
    expect(Array.from(a.bias!.toArray())).toEqual(Array.from(b.bias!.toArray()));
  });

  it("initialises Linear as PyTorch: weight and bias within ±1/√inFeatures", () => {
    const fc = new Linear(400, 300, { dtype: "float64", generator: new Generator(6) });
    const bound = 1 / Math.sqrt(400);
    const w = stats(fc.weight.toArray());
    expect(w.maxAbs).toBeLessThanOrEqual(bound);
    expect(w.std / (bound / Math.sqrt(3))).toBeCloseTo(1, 2);
    expect(stats(fc.bias!.toArray()).maxAbs).toBeLessThanOrEqual(bound);
  });
});
