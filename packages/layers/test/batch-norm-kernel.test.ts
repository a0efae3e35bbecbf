import { describe, expect, it } from "vitest";
import { channelGradSums, channelStats, inputGrad, normalize } from "../src/batch-norm-kernel.js";

// Channel 0 holds 0, 1, 5 (mean 2, deviations -2, -1, 3, biased variance 14/3); channel 1 holds
// 2, 2, 8 (mean 4, deviations -2, -2, 4, biased variance 8). Laid out [3, 2] (S = 1) and, with the
// same values per channel, as [1, 2, 3] (S = 3).
const NC = new Float64Array([0, 2, 1, 2, 5, 8]);
const NCS = new Float64Array([0, 1, 5, 2, 2, 8]);
const LAYOUTS = [
  { name: "[3, 2]", x: NC, n: 3, s: 1, at: (i: number, ch: number) => i * 2 + ch },
  { name: "[1, 2, 3]", x: NCS, n: 1, s: 3, at: (i: number, ch: number) => ch * 3 + i },
];

describe.each(LAYOUTS)("BatchNorm kernels on $name", ({ x, n, s, at }) => {
  const invStd = new Float64Array([1 / Math.sqrt(14 / 3), 1 / Math.sqrt(8)]);

  it("takes the mean and the biased variance of each channel", () => {
    const { mean, varBiased } = channelStats(x, 0, n, 2, s);
    expect(Array.from(mean)).toEqual([2, 4]);
    expect(varBiased[0]).toBeCloseTo(14 / 3, 14);
    expect(varBiased[1]).toBeCloseTo(8, 14);
  });

  it("reads from an offset into a larger array", () => {
    const padded = new Float64Array([99, 99, ...x]);
    expect(Array.from(channelStats(padded, 2, n, 2, s).mean)).toEqual([2, 4]);
  });

  it("normalises each channel and applies gamma and beta", () => {
    const out = new Float64Array(6);
    const mean = new Float64Array([2, 4]);
    normalize(x, 0, out, n, 2, s, mean, invStd, [2, 1], [0, 10]);
    const deviations = [
      [-2, -1, 3],
      [-2, -2, 4],
    ];
    for (let i = 0; i < 3; i++) {
      expect(out[at(i, 0)]).toBeCloseTo(2 * deviations[0][i] * invStd[0], 14);
      expect(out[at(i, 1)]).toBeCloseTo(deviations[1][i] * invStd[1] + 10, 14);
    }
  });

  it("sums dy and dy·x̂ per channel and forms dx = γ·invStd/m·(m·dy - Σdy - x̂·Σdy·x̂)", () => {
    const mean = new Float64Array([2, 4]);
    const dy = new Float64Array(6);
    dy[at(0, 0)] = 1; // only the first value of channel 0 gets an upstream gradient
    dy[at(2, 1)] = -1; // and the last of channel 1
    const sums = channelGradSums(dy, 0, x, 0, n, 2, s, mean, invStd);
    expect(sums.sumDy[0]).toBe(1);
    expect(sums.sumDy[1]).toBe(-1);
    expect(sums.sumDyXHat[0]).toBeCloseTo(-2 * invStd[0], 14);
    expect(sums.sumDyXHat[1]).toBeCloseTo(-4 * invStd[1], 14);
    const dx = new Float64Array(6);
    inputGrad(dy, 0, x, 0, dx, n, 2, s, mean, invStd, [2, 1], sums);
    const xHat0 = [-2, -1, 3].map((d) => d * invStd[0]);
    const dy0 = [1, 0, 0];
    for (let i = 0; i < 3; i++) {
      const expected = ((2 * invStd[0]) / 3) * (3 * dy0[i] - 1 - xHat0[i] * (-2 * invStd[0]));
      expect(dx[at(i, 0)]).toBeCloseTo(expected, 14);
    }
    const xHat1 = [-2, -2, 4].map((d) => d * invStd[1]);
    const dy1 = [0, 0, -1];
    for (let i = 0; i < 3; i++) {
      const expected = (invStd[1] / 3) * (3 * dy1[i] + 1 - xHat1[i] * (-4 * invStd[1]));
      expect(dx[at(i, 1)]).toBeCloseTo(expected, 14);
    }
  });
});

describe("outputs (the fused op allocates them unfilled, like torch.empty)", () => {
  it.each([
    [5, 3, 1],
    [9, 1024, 1],
    [2, 3, 7],
  ])("normalize and inputGrad write every element of out on [%i, %i, %i]", (n, c, s) => {
    for (const Type of [Float32Array, Float64Array]) {
      const total = n * c * s;
      const x = new Type(Array.from({ length: total }, (_, e) => Math.sin(e) + (e % 3)));
      const dy = new Type(Array.from({ length: total }, (_, e) => Math.cos(e * 0.7)));
      const stats = channelStats(x, 0, n, c, s);
      const invStd = stats.varBiased.map((v) => 1 / Math.sqrt(v + 1e-5));
      const y = new Type(total).fill(Number.NaN);
      normalize(x, 0, y, n, c, s, stats.mean, invStd, null, null);
      const sums = channelGradSums(dy, 0, x, 0, n, c, s, stats.mean, invStd);
      const dx = new Type(total).fill(Number.NaN);
      inputGrad(dy, 0, x, 0, dx, n, c, s, stats.mean, invStd, null, sums);
      expect(y.findIndex(Number.isNaN)).toBe(-1);
      expect(dx.findIndex(Number.isNaN)).toBe(-1);
    }
  });
});
