// The softmax loops on their own: the [outer, n, inner] layout of a dim, and that a dim in the
// middle (inner > 1) gives what the same rows give laid out last, for both ops and backwards.

import { describe, expect, it } from "vitest";
import { dimLayout, softmaxBackwardRows, softmaxRows } from "../../src/kernels/softmax.js";

// x is [2, 3] read along dim 0 (inner = 3); rowsLast holds its columns as rows.
const x = Float64Array.from([0.5, -2, 3, 1.5, 4, -1]);
const rowsLast = Float64Array.from([0.5, 1.5, -2, 4, 3, -1]);
const g = Float64Array.from([1, 0, 2, -1, 0.5, 0]);
const gLast = Float64Array.from([1, -1, 0, 0.5, 2, 0]);
const middle = { outer: 1, n: 2, inner: 3 };
const last = { outer: 3, n: 2, inner: 1 };
/** Element (k, i) of the middle layout is element (i, k) of the last. */
const asLast = (a: Float64Array) => [a[0], a[3], a[1], a[4], a[2], a[5]];

describe("softmax kernels", () => {
  it("lay a dim out as outer × n × inner", () => {
    expect(dimLayout([2, 3, 4], 1)).toEqual({ outer: 2, n: 3, inner: 4 });
    expect(dimLayout([2, 3, 4], 2)).toEqual({ outer: 6, n: 4, inner: 1 });
    expect(dimLayout([], 0)).toEqual({ outer: 1, n: 1, inner: 1 });
  });

  for (const log of [true, false]) {
    const name = log ? "log-softmax" : "softmax";
    it(`compute ${name} along a middle dim as along the last, forward and backward`, () => {
      const out = new Float64Array(6);
      const outLast = new Float64Array(6);
      softmaxRows(x, out, middle, log);
      softmaxRows(rowsLast, outLast, last, log);
      expect(asLast(out)).toEqual(Array.from(outLast));
      // A row of [0.5, 1.5]: log(e^0.5 + e^1.5) subtracted from each (then exponentiated).
      const logSum = Math.log(Math.exp(0.5) + Math.exp(1.5));
      expect(outLast[0]).toBeCloseTo(log ? 0.5 - logSum : Math.exp(0.5) / Math.exp(logSum), 15);

      const gradX = new Float64Array(6);
      const gradLast = new Float64Array(6);
      softmaxBackwardRows(g, out, gradX, middle, log);
      softmaxBackwardRows(gLast, outLast, gradLast, last, log);
      expect(asLast(gradX)).toEqual(Array.from(gradLast));
      // Row [0.5, 1.5] with g = [1, -1]: log-softmax gives g - p·Σg = g; softmax y·(g - Σ g·y).
      const p0 = Math.exp(0.5 - logSum);
      const p1 = 1 - p0;
      const s = p0 - p1;
      expect(gradLast[0]).toBeCloseTo(log ? 1 : p0 * (1 - s), 15);
      expect(gradLast[1]).toBeCloseTo(log ? -1 : p1 * (-1 - s), 15);
    });
  }
});
