// The nll-loss loops on their own: the per-row coefficients and columns forward leaves for
// backward, for each reduction, and the backward's scatter into a zero gradient.

import { describe, expect, it } from "vitest";
import { nllLossBackwardRows, nllLossRows } from "../../src/kernels/nll-loss.js";

const logProbs = Float64Array.from([-1, -2, -3, -4, -5, -6]); // [3, 2]
const target = Int32Array.from([1, -100, 0]);
const weight = Float64Array.from([0.5, 2]);

function run(reduction: "mean" | "sum" | "none") {
  const out = new Float64Array(reduction === "none" ? 3 : 1);
  const rows = { coefficients: new Float64Array(3), columns: new Int32Array(3) };
  nllLossRows(logProbs, target, weight, -100, { classes: 2, spatial: 1 }, reduction, out, rows);
  return { out: Array.from(out), ...rows };
}

describe("nll-loss kernels", () => {
  it("leave -w[t] per row (÷ Σw for the mean), 0 and column 0 for ignored rows", () => {
    const none = run("none");
    expect(none.out).toEqual([4, 0, 2.5]); // -2·-2, ignored, -0.5·-5
    expect(Array.from(none.coefficients)).toEqual([-2, 0, -0.5]);
    expect(Array.from(none.columns)).toEqual([1, 0, 0]);
    expect(run("sum").out).toEqual([6.5]);
    const mean = run("mean");
    expect(mean.out).toEqual([6.5 / 2.5]);
    expect(Array.from(mean.coefficients)).toEqual([-2 / 2.5, 0, -0.5 / 2.5]);
  });

  it("scatter coefficient × gradient into each row's column", () => {
    const rows = {
      coefficients: Float64Array.from([-2, 0, -0.5]),
      columns: Int32Array.from([1, 0, 0]),
    };
    const reduced = new Float64Array(6);
    nllLossBackwardRows(Float64Array.of(3), false, rows, { classes: 2, spatial: 1 }, reduced);
    expect(Array.from(reduced)).toEqual([0, -6, 0, 0, -1.5, 0]);
    const perRow = new Float64Array(6);
    nllLossBackwardRows(Float64Array.of(1, 7, 2), true, rows, { classes: 2, spatial: 1 }, perRow);
    expect(Array.from(perRow)).toEqual([0, -2, 0, 0, -1, 0]);
  });

  it("find a position's class C·S apart from its neighbour's with S spatial elements", () => {
    // logProbs [1, 2, 3] (N, C, S): class c of position s at c·3 + s; targets [1, 3].
    const spatialLogProbs = Float64Array.from([-1, -2, -3, -4, -5, -6]);
    const out = new Float64Array(3);
    const rows = { coefficients: new Float64Array(3), columns: new Int32Array(3) };
    const layout = { classes: 2, spatial: 3 };
    nllLossRows(spatialLogProbs, Int32Array.from([1, 0, 1]), null, -100, layout, "none", out, rows);
    expect(Array.from(out)).toEqual([4, 2, 6]);
    const grad = new Float64Array(6);
    nllLossBackwardRows(Float64Array.of(1, 2, 3), true, rows, layout, grad);
    expect(Array.from(grad)).toEqual([0, -2, 0, -1, 0, -3]);
  });
});
