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

/**
 * The kernels' arithmetic written out for one channel's values in memory order: float64 sums
 * (for s > 1 each run of s values summed four lanes at a time, lanes 0+1 and 2+3 joined, then
 * the tail in order, as batch-norm.wat documents; for s = 1 one value per row, in order), one
 * rounding per output element.
 */
function exactReference(x: Float32Array, dy: Float32Array, n: number, c: number, s: number) {
  const m = n * s;
  const runSum = (term: (e: number) => number, start: number) => {
    if (s === 1) return term(start);
    const lanes = [0, 0, 0, 0];
    const quads = s - (s % 4);
    for (let k = 0; k < quads; k += 4) for (let l = 0; l < 4; l++) lanes[l] += term(start + k + l);
    let t = lanes[0] + lanes[1] + (lanes[2] + lanes[3]);
    for (let k = quads; k < s; k++) t += term(start + k);
    return t;
  };
  const y = new Float32Array(x.length);
  const dx = new Float32Array(x.length);
  const sums = {
    mean: [] as number[],
    sq: [] as number[],
    dy: [] as number[],
    dyXc: [] as number[],
  };
  for (let ch = 0; ch < c; ch++) {
    const starts = Array.from({ length: n }, (_, i) => (i * c + ch) * s);
    let sum = 0;
    for (const st of starts) sum += runSum((e) => x[e], st);
    const mu = sum / m;
    let sq = 0;
    for (const st of starts) sq += runSum((e) => (x[e] - mu) * (x[e] - mu), st);
    const inv = 1 / Math.sqrt(sq / m + 1e-5);
    let sumDy = 0;
    let sumDyXc = 0;
    for (const st of starts) {
      sumDy += runSum((e) => dy[e], st);
      sumDyXc += runSum((e) => dy[e] * (x[e] - mu), st);
    }
    const sumDyXHat = sumDyXc * inv;
    const a = inv;
    const shift = (a * sumDy) / m;
    const slope = (a * inv * sumDyXHat) / m;
    for (const st of starts) {
      for (let e = st; e < st + s; e++) {
        y[e] = (x[e] - mu) * inv + 0;
        dx[e] = a * dy[e] - shift - slope * (x[e] - mu);
      }
    }
    sums.mean.push(mu);
    sums.sq.push(sq / m);
    sums.dy.push(sumDy);
    sums.dyXc.push(sumDyXHat);
  }
  return { y, dx, ...sums };
}

describe("streaming the data through the module in chunks", () => {
  // [N, C]: row counts that leave a partial group of 8 rows and a partial chunk, c not a
  // multiple of 4, c = 1024 (4 KB rows), rows longer than a chunk (one row per chunk); and
  // [N, C, S] with runs that do not divide a chunk, so channels wrap inside one.
  it.each([
    [300, 64, 1],
    [13, 1024, 1],
    [9, 3, 1],
    [8, 4, 1],
    [2, 20001, 1],
    [1000, 17, 1],
    [41, 1029, 1],
    [17, 1024, 1],
    [3, 300, 1],
    [2, 3, 3001],
    [5, 7, 129],
    [1, 2, 20000],
  ])("matches the kernels' float64 arithmetic bit for bit on [%i, %i, %i]", (n, c, s) => {
    const total = n * c * s;
    const x = Float32Array.from({ length: total }, (_, e) => Math.sin(e * 1.7) * 3 + (e % 5));
    const dy = Float32Array.from({ length: total }, (_, e) => Math.cos(e * 0.9));
    x[0] = -0;
    dy[total - 1] = -0;
    const expected = exactReference(x, dy, n, c, s);
    const y = new Float32Array(total);
    const stats = batchNormForwardF32(x, 0, y, n, c, s, 1e-5, null, null);
    const dx = new Float32Array(total);
    const sums = batchNormBackwardF32(dy, 0, x, 0, dx, n, c, s, stats.mean, stats.invStd, null);
    expect(Array.from(stats.mean)).toEqual(expected.mean);
    expect(Array.from(stats.varBiased)).toEqual(expected.sq);
    expect(Array.from(sums.sumDy)).toEqual(expected.dy);
    expect(Array.from(sums.sumDyXHat)).toEqual(expected.dyXc);
    const mismatch = (a: Float32Array, b: Float32Array) =>
      a.findIndex((v, e) => !Object.is(v, b[e]));
    expect(mismatch(y, expected.y)).toBe(-1);
    expect(mismatch(dx, expected.dx)).toBe(-1);
  });

  it("reads x and dy from their offsets and writes out from 0 across chunk boundaries", () => {
    const [n, c] = [70, 300];
    const total = n * c;
    const x = Float32Array.from({ length: total }, (_, e) => (e * 7) % 11);
    const dy = Float32Array.from({ length: total }, (_, e) => (e % 3) - 1);
    const padded = (a: Float32Array, before: number) => {
      const p = new Float32Array(before + a.length + 5).fill(Number.NaN);
      p.set(a, before);
      return p;
    };
    const [y, yAt] = [new Float32Array(total), new Float32Array(total)];
    const stats = batchNormForwardF32(x, 0, y, n, c, 1, 1e-5, null, null);
    batchNormForwardF32(padded(x, 9), 9, yAt, n, c, 1, 1e-5, null, null);
    expect(yAt).toEqual(y);
    const [dx, dxAt] = [new Float32Array(total), new Float32Array(total)];
    const { mean, invStd } = stats;
    batchNormBackwardF32(dy, 0, x, 0, dx, n, c, 1, mean, invStd, null);
    batchNormBackwardF32(padded(dy, 3), 3, padded(x, 6), 6, dxAt, n, c, 1, mean, invStd, null);
    expect(dxAt).toEqual(dx);
    expect(dx.some(Number.isNaN)).toBe(false);
  });
});

describe("memory held by the kernels", () => {
  it("keeps at most the last input alive across a synchronous loop of forwards", () => {
    const total = 1 << 20; // 4 MB of float32 per batch, 100 batches
    const out = new Float32Array(total);
    const before = process.memoryUsage().arrayBuffers;
    for (let step = 0; step < 100; step++) {
      const x = new Float32Array(total).fill(step);
      batchNormForwardF32(x, 0, out, 1024, 1024, 1, 1e-5, null, null);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(200 * 2 ** 20);
  });
});

describe("outputs (the fused op allocates them unfilled, like torch.empty)", () => {
  it.each([
    [5, 3, 1],
    [9, 1024, 1],
    [17, 20001, 1],
    [2, 3, 7],
    [1, 2, 20000],
  ])("the forward and the input gradient write every element of out on [%i, %i, %i]", (n, c, s) => {
    const total = n * c * s;
    const x = Float32Array.from({ length: total }, (_, e) => Math.sin(e) + (e % 3));
    const dy = Float32Array.from({ length: total }, (_, e) => Math.cos(e * 0.7));
    const y = new Float32Array(total).fill(Number.NaN);
    const stats = batchNormForwardF32(x, 0, y, n, c, s, 1e-5, null, null);
    const dx = new Float32Array(total).fill(Number.NaN);
    batchNormBackwardF32(dy, 0, x, 0, dx, n, c, s, stats.mean, stats.invStd, null);
    expect(y.findIndex(Number.isNaN)).toBe(-1);
    expect(dx.findIndex(Number.isNaN)).toBe(-1);
  });
});
