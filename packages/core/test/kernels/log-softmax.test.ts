// The log-softmax loops on their own: the [outer, n, inner] layout of a dim, and that a dim in
// the middle (inner > 1) gives what the same rows give laid out last.

import { describe, expect, it } from "vitest";
import {
  dimLayout,
  logSoftmaxBackwardRows,
  logSoftmaxRows,
} from "../../src/kernels/log-softmax.js";

describe("log-softmax kernels", () => {
  it("lay a dim out as outer × n × inner", () => {
    expect(dimLayout([2, 3, 4], 1)).toEqual({ outer: 2, n: 3, inner: 4 });
    expect(dimLayout([2, 3, 4], 2)).toEqual({ outer: 6, n: 4, inner: 1 });
    expect(dimLayout([], 0)).toEqual({ outer: 1, n: 1, inner: 1 });
  });

  it("compute a middle dim's rows as the same rows laid out last", () => {
    // x is [2, 3] read along dim 0 (inner = 3); rowsLast holds its columns as rows.
    const x = Float64Array.from([0.5, -2, 3, 1.5, 4, -1]);
    const rowsLast = Float64Array.from([0.5, 1.5, -2, 4, 3, -1]);
    const out = new Float64Array(6);
    const outLast = new Float64Array(6);
    logSoftmaxRows(x, out, { outer: 1, n: 2, inner: 3 });
    logSoftmaxRows(rowsLast, outLast, { outer: 3, n: 2, inner: 1 });
    expect([out[0], out[3], out[1], out[4], out[2], out[5]]).toEqual(Array.from(outLast));
    // A row of [0.5, 1.5]: log(e^0.5 + e^1.5) subtracted from each.
    const logSum = Math.log(Math.exp(0.5) + Math.exp(1.5));
    expect(outLast[0]).toBeCloseTo(0.5 - logSum, 15);

    const g = Float64Array.from([1, 0, 2, -1, 0.5, 0]);
    const gradX = new Float64Array(6);
    logSoftmaxBackwardRows(g, out, gradX, { outer: 1, n: 2, inner: 3 });
    // Column 0: g = [1, -1] sums to 0, so gradX = g.
    expect([gradX[0], gradX[3]]).toEqual([1, -1]);
    // Column 2: g = [2, 0] sums to 2: gradX = g - 2·softmax.
    expect(gradX[2]).toBeCloseTo(2 - 2 * Math.exp(out[2]), 15);
    expect(gradX[5]).toBeCloseTo(-2 * Math.exp(out[5]), 15);
  });
});
