import { describe, expect, it } from "vitest";
import {
  batchNormBackwardF32,
  batchNormForwardF32,
  wasmBatchNormAvailable,
} from "../../src/kernels/batch-norm-wasm.js";

// Channel 0 holds 0, 1, 5 (mean 2, deviations -2, -1, 3, biased variance 14/3); channel 1 holds
// 2, 2, 8 (mean 4, deviations -2, -2, 4, biased variance 8). Laid out [3, 2] (s = 1) and, with the
// same values per channel, as [1, 2, 3] (s = 3).
const LAYOUTS = [
  { name: "[3, 2]", x: [0, 2, 1, 2, 5, 8], n: 3, s: 1, at: (i: number, ch: number) => i * 2 + ch },
  {
    name: "[1, 2, 3]",
    x: [0, 1, 5, 2, 2, 8],
    n: 1,
    s: 3,
    at: (i: number, ch: number) => ch * 3 + i,
  },
];
const DEVIATIONS = [
  [-2, -1, 3],
  [-2, -2, 4],
];
const VARIANCE = [14 / 3, 8];

describe("wasmBatchNormAvailable", () => {
  it("reports the SIMD kernels as available in Node 20", () => {
    expect(wasmBatchNormAvailable()).toBe(true);
  });
});

describe.each(LAYOUTS)(
  "batchNormForwardF32 and batchNormBackwardF32 on $name",
  ({ x, n, s, at }) => {
    const eps = 1e-5;
    const invStd = VARIANCE.map((v) => 1 / Math.sqrt(v + eps));

    it("takes mean and biased variance, then writes (x - μ)·invStd·γ + β rounded to float32", () => {
      const padded = new Float32Array([99, 99, ...x]);
      const out = new Float32Array(6);
      const stats = batchNormForwardF32(padded, 2, out, n, 2, s, eps, [2, 1], [0, 10]);
      expect(Array.from(stats.mean)).toEqual([2, 4]);
      expect(stats.varBiased[0]).toBeCloseTo(14 / 3, 14);
      expect(stats.varBiased[1]).toBe(8);
      expect(stats.invStd[0]).toBeCloseTo(invStd[0], 14);
      for (let i = 0; i < 3; i++) {
        expect(out[at(i, 0)]).toBe(Math.fround(2 * DEVIATIONS[0][i] * invStd[0]));
        expect(out[at(i, 1)]).toBe(Math.fround(DEVIATIONS[1][i] * invStd[1] + 10));
      }
    });

    it("sums dy and dy·x̂ and forms dx = γ·invStd/m·(m·dy - Σdy - x̂·Σdy·x̂)", () => {
      const dy = new Float32Array(7);
      dy[1 + at(0, 0)] = 1; // only the first value of channel 0 gets an upstream gradient
      dy[1 + at(2, 1)] = -1; // and the last of channel 1
      const dx = new Float32Array(6);
      const mean = new Float64Array([2, 4]);
      const inv = Float64Array.from(invStd);
      const sums = batchNormBackwardF32(
        dy,
        1,
        new Float32Array(x),
        0,
        dx,
        n,
        2,
        s,
        mean,
        inv,
        [2, 1],
      );
      expect(Array.from(sums.sumDy)).toEqual([1, -1]);
      expect(sums.sumDyXHat[0]).toBeCloseTo(-2 * invStd[0], 14);
      expect(sums.sumDyXHat[1]).toBeCloseTo(-4 * invStd[1], 14);
      const xHat0 = DEVIATIONS[0].map((d) => d * invStd[0]);
      const dy0 = [1, 0, 0];
      for (let i = 0; i < 3; i++) {
        const expected = ((2 * invStd[0]) / 3) * (3 * dy0[i] - 1 - xHat0[i] * (-2 * invStd[0]));
        expect(dx[at(i, 0)]).toBeCloseTo(expected, 6);
      }
      expect(
        batchNormBackwardF32(dy, 1, new Float32Array(x), 0, null, n, 2, s, mean, inv, null)
          .sumDy[0],
      ).toBe(1);
    });
  },
);

/** Float64 reference: the textbook formulas, one channel at a time. */
function reference(x: Float32Array, dy: Float32Array, n: number, c: number, s: number) {
  const m = n * s;
  const index = (i: number, ch: number, k: number) => (i * c + ch) * s + k;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  for (let ch = 0; ch < c; ch++) {
    const values: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) values.push(x[index(i, ch, k)]);
    const mu = values.reduce((a, b) => a + b, 0) / m;
    const variance = values.reduce((a, v) => a + (v - mu) ** 2, 0) / m;
    const inv = 1 / Math.sqrt(variance + 1e-5);
    let sumDy = 0;
    let sumDyXHat = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < s; k++) {
        sumDy += dy[index(i, ch, k)];
        sumDyXHat += dy[index(i, ch, k)] * (x[index(i, ch, k)] - mu) * inv;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < s; k++) {
        const e = index(i, ch, k);
        const xHat = (x[e] - mu) * inv;
        y[e] = xHat;
        dx[e] = (inv / m) * (m * dy[e] - sumDy - xHat * sumDyXHat);
      }
    }
  }
  return { y, dx };
}

describe("the SIMD loops and their scalar tails", () => {
  // c = 7 (one group of four channels and a tail of three) for s = 1; s = 6 (a group of four
  // values and a tail of two) for s > 1.
  it.each([
    [5, 7, 1],
    [3, 2, 6],
    [2, 3, 1],
  ])("agree with the float64 formulas on [%i, %i, %i]", (n, c, s) => {
    const total = n * c * s;
    const x = Float32Array.from({ length: total }, (_, e) => Math.sin(e * 1.7) * 3 + (e % 5));
    const dy = Float32Array.from({ length: total }, (_, e) => Math.cos(e * 0.9));
    const expected = reference(x, dy, n, c, s);
    const y = new Float32Array(total);
    const stats = batchNormForwardF32(x, 0, y, n, c, s, 1e-5, null, null);
    const dx = new Float32Array(total);
    batchNormBackwardF32(dy, 0, x, 0, dx, n, c, s, stats.mean, stats.invStd, null);
    for (let e = 0; e < total; e++) {
      expect(y[e]).toBeCloseTo(expected.y[e], 5);
      expect(dx[e]).toBeCloseTo(expected.dx[e], 5);
    }
  });
});

describe("the backward's reuse of the forward's copy of x", () => {
  const [n, c] = [4, 8];
  const total = n * c;
  const make = (seed: number) =>
    Float32Array.from({ length: total }, (_, e) => Math.sin(e * seed) * 2 + (e % 3));
  const dy = Float32Array.from({ length: total }, (_, e) => Math.cos(e * 0.7));
  const forward = (x: Float32Array, version?: number) =>
    batchNormForwardF32(x, 0, new Float32Array(total), n, c, 1, 1e-5, null, null, version);

  /** μ and 1/√(σ² + eps) per channel of an [n, c] array, in float64 loops written here. */
  function statsOf(x: Float32Array) {
    const mean = new Float64Array(c);
    const invStd = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i * c + ch];
      mean[ch] = sum / n;
      let squares = 0;
      for (let i = 0; i < n; i++) squares += (x[i * c + ch] - mean[ch]) ** 2;
      invStd[ch] = 1 / Math.sqrt(squares / n + 1e-5);
    }
    return { mean, invStd };
  }

  function expectGradient(x: Float32Array, version: number) {
    const { mean, invStd } = statsOf(x);
    const dx = new Float32Array(total);
    batchNormBackwardF32(dy, 0, x, 0, dx, n, c, 1, mean, invStd, null, version);
    const expected = reference(x, dy, n, c, 1).dx;
    for (let e = 0; e < total; e++) expect(dx[e]).toBeCloseTo(expected[e], 5);
  }

  it("reuses it for the same array and version", () => {
    const x = make(1.3);
    forward(x, 3);
    expectGradient(x, 3);
  });

  it("reads the new values of an x changed in place since the forward (version bumped)", () => {
    const x = make(1.3);
    forward(x, 0);
    x.set(make(2.9));
    expectGradient(x, 1);
  });

  it("copies x again when another forward ran in between", () => {
    const x = make(1.3);
    forward(x, 7);
    forward(make(0.4), 7);
    expectGradient(x, 7);
  });
});

describe("memory held by the kernels", () => {
  it("keeps at most the last input alive across a synchronous loop of forwards", () => {
    const total = 1 << 20; // 4 MB of float32 per batch, 100 batches
    const out = new Float32Array(total);
    const before = process.memoryUsage().arrayBuffers;
    for (let step = 0; step < 100; step++) {
      const x = new Float32Array(total).fill(step);
      batchNormForwardF32(x, 0, out, 1024, 1024, 1, 1e-5, null, null, 0);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(200 * 2 ** 20);
  });
});
