// softmax and logSoftmax at the edges: PyTorch's results on rows with infinities and NaN,
// rounding of float32 output, strided input, empty and 0-d tensors, and what their backwards
// record. Values and gradients (first and second order) at ordinary points are pinned by the
// op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import {
  autogradGrad,
  logSoftmax,
  randn,
  softmax,
  type Tensor,
  tensor,
  zeros,
} from "../../src/index.js";

const inf = Number.POSITIVE_INFINITY;
/** Rows with infinities and NaN; along dim 1, torch 1.13 gives NaN for rows 0, 1, 2 and 4. */
const EDGE_ROWS = [
  [-inf, -inf],
  [inf, 0],
  [inf, inf],
  [-inf, 0],
  [Number.NaN, 0],
  [1000, -1000],
];

describe.each([
  // What torch.nn.functional.log_softmax / softmax give for rows 3 and 5 of EDGE_ROWS and for a
  // 0-d input (torch 1.13); `probabilities` turns an output into probabilities.
  {
    op: logSoftmax,
    name: "logSoftmax",
    finiteRows: [
      [-inf, 0],
      [0, -2000],
    ],
    scalar: 0,
    probabilities: (out: Tensor) => out.exp(),
  },
  {
    op: softmax,
    name: "softmax",
    finiteRows: [
      [0, 1],
      [1, 0],
    ],
    scalar: 1,
    probabilities: (out: Tensor) => out,
  },
])("$name", ({ op, name, finiteRows, scalar, probabilities }) => {
  it("gives NaN for rows holding +∞ or NaN or only -∞, as PyTorch", () => {
    const rows = op(tensor(EDGE_ROWS), 1).tolist<number[][]>();
    expect([rows[3], rows[5]]).toEqual(finiteRows);
    for (const i of [0, 1, 2, 4]) expect(rows[i].every(Number.isNaN)).toBe(true);
  });

  it("gives each float32 value as the float64 result rounded once, along any dim", () => {
    // x32's values are exactly representable in float64, so the float64 op sees the same numbers.
    const x32 = randn([6, 9, 5], { dtype: "float64" }).mul(10).to("float32");
    for (const dim of [0, 1, 2]) {
      const expected = op(x32.to("float64"), dim).to("float32");
      expect(Array.from(op(x32, dim).toArray())).toEqual(Array.from(expected.toArray()));
    }
  });

  it("reads strided views, and its probabilities sum to 1 along the dim", () => {
    const x = randn([4, 3, 5], { dtype: "float64" });
    const viaTranspose = op(x.transpose(0, 2), 1).transpose(0, 2);
    expect(viaTranspose).toBeAllclose(op(x, 1), { atol: 0, rtol: 0 });
    const sums = probabilities(op(x, 0)).sum(0);
    expect(sums).toBeAllclose(zeros([3, 5], { dtype: "float64" }).add(1), {
      atol: 1e-15,
      rtol: 0,
    });
  });

  it("gives the same bits along a middle dim as along the last, forward and backward", () => {
    const base = randn([3, 5, 4], { dtype: "float32" });
    const seed = randn([3, 5, 4], { dtype: "float32" });
    const middle = base.clone().requiresGrad_(true);
    const last = base.transpose(1, 2).contiguous().requiresGrad_(true);
    const outMiddle = op(middle, 1);
    const outLast = op(last, 2);
    expect(outMiddle).toBeAllclose(outLast.transpose(1, 2), { atol: 0, rtol: 0 });
    outMiddle.mul(seed).sum().backward();
    outLast.mul(seed.transpose(1, 2)).sum().backward();
    expect(middle.grad!).toBeAllclose(last.grad!.transpose(1, 2), { atol: 0, rtol: 0 });
  });

  it("accepts empty and 0-d tensors", () => {
    expect(op(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(op(zeros([0, 3]), 1).shape).toEqual([0, 3]);
    expect(op(tensor(3.5), 0).item()).toBe(scalar);
  });

  it("records one backward op, whose own backward gives the second derivative", () => {
    const x = tensor([[0.2, -1, 3]], { dtype: "float64", requiresGrad: true });
    const out = op(x, 1);
    expect(out.gradFn?.op).toBe(name);
    const g = tensor([[1, 0, 0]], { dtype: "float64" });
    const [gradX] = autogradGrad([out], [x], { gradOutputs: [g], createGraph: true });
    expect(gradX!.gradFn?.op).toBe(`${name}Backward`);
  });

  it("refuses integer input and a bad dim, naming the op", () => {
    expect(() => op(tensor([1, 2], { dtype: "int32" }), 0)).toThrow(new RegExp(name));
    expect(() => op(zeros([2, 3]), 2)).toThrow(`${name}: dim 2 is out of range`);
  });
});
