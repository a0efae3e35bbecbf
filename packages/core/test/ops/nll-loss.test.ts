// nllLoss at the edges: ignored targets, every target ignored, class weights (constants, as in
// PyTorch), float32 rounding, targets checked on every call of a compiled step, and bad input.
// Values and gradients (first and second order) at ordinary points are pinned by the op-sample
// table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import {
  autogradGrad,
  compile,
  crossEntropy,
  nllLoss,
  noGrad,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../../src/index.js";

const ints = (values: number[]) => tensor(values, { dtype: "int32" });

describe("nllLoss", () => {
  it("leaves ignored rows out of the loss, the mean's divisor and the gradient", () => {
    const logProbs = tensor(
      [
        [-0.5, -1.5, -2],
        [-0.25, -3, -1],
        [-4, -0.125, -2.5],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    const target = ints([2, -100, 1]);
    const loss = nllLoss(logProbs, target);
    expect(loss.item()).toBe((2 + 0.125) / 2);
    loss.backward();
    expect(logProbs.grad!.tolist()).toEqual([
      [0, 0, -0.5],
      [0, 0, 0],
      [0, -0.5, 0],
    ]);
    expect(nllLoss(logProbs, target, { reduction: "none" }).tolist()).toEqual([2, 0, 0.125]);
    expect(nllLoss(logProbs, target, { reduction: "sum" }).item()).toBe(2.125);
  });

  it("reads a batch's targets sliced from a longer array up to the batch's end only", () => {
    const logits = tensor(
      [
        [0.5, -1, 2],
        [1, 0.25, -0.5],
        [3, 1, 0],
        [-2, 0, 1],
      ],
      { dtype: "float64" },
    );
    const labels = ints([2, 0, 9, 1]); // 9 lies past the batch of two
    const batch = labels.narrow(0, 0, 2);
    const head = logits.narrow(0, 0, 2);
    for (const reduction of ["mean", "sum", "none"] as const) {
      expect(crossEntropy(head, batch, { reduction })).toBeAllclose(
        crossEntropy(head, batch.clone(), { reduction }),
        { atol: 0, rtol: 0 },
      );
    }
    expect(nllLoss(head, batch).item()).toBe((-2 - 1) / 2);
  });

  it("gives NaN for the mean of only ignored targets, with a zero gradient", () => {
    const logProbs = zeros([2, 3], { dtype: "float64" }).requiresGrad_(true);
    const loss = nllLoss(logProbs, ints([5, 5]), { ignoreIndex: 5 });
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(logProbs.grad!.tolist()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it("weights classes, dividing the mean by the summed weights of the rows' classes", () => {
    const logProbs = tensor([
      [-1, -2],
      [-3, -4],
      [-5, -6],
    ]).requiresGrad_(true);
    const weight = tensor([0.5, 2]);
    const loss = nllLoss(logProbs, ints([1, 0, 1]), { weight });
    // (2·2 + 0.5·3 + 2·6) / (2 + 0.5 + 2)
    expect(loss.item()).toBeCloseTo(17.5 / 4.5, 6);
    loss.backward();
    expect(logProbs.grad!).toBeAllclose(
      tensor([
        [0, -2 / 4.5],
        [-0.5 / 4.5, 0],
        [0, -2 / 4.5],
      ]),
      { atol: 1e-7, rtol: 0 },
    );
  });

  it("refuses a weight that requires grad while grad is on, as PyTorch has no gradient for it", () => {
    const logProbs = zeros([2, 3]).requiresGrad_(true);
    const weight = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => nllLoss(logProbs, ints([0, 1]), { weight })).toThrow(
      "nllLoss: weight requires grad, but the loss has no gradient for its class weights (as in PyTorch); pass weight.detach()",
    );
    expect(nllLoss(logProbs, ints([0, 1]), { weight: weight.detach() }).item()).toBe(0);
    expect(noGrad(() => nllLoss(logProbs, ints([0, 1]), { weight })).item()).toBe(0);
    expect(() => crossEntropy(logProbs, ints([0, 1]), { weight })).toThrow(
      "crossEntropy: weight requires grad, but the loss has no gradient for its class weights",
    );
  });

  it("gives each float32 loss as the float64 result rounded once", () => {
    const x64 = randn([50, 7], { dtype: "float64" }).mul(3);
    const x32 = x64.to("float32");
    const target = ints(Array.from({ length: 50 }, (_, i) => (i * 5) % 7));
    const weight = tensor([0.5, 1, 1.5, 2, 0.25, 3, 1]);
    for (const reduction of ["mean", "sum", "none"] as const) {
      const expected = nllLoss(x32.to("float64"), target, {
        reduction,
        weight: weight.to("float64"),
      });
      const actual = nllLoss(x32, target, { reduction, weight });
      expect(Array.from(actual.toArray())).toEqual(Array.from(expected.to("float32").toArray()));
    }
  });

  it("checks the targets on every call of a compiled step, not only while tracing", () => {
    const logits = randn([4, 3], { requiresGrad: true });
    const step = compile((x: Tensor, target: Tensor) => {
      x.grad = null;
      const loss = crossEntropy(x, target);
      loss.backward();
      return loss;
    });
    for (let i = 0; i < 3; i++) step(logits, ints([0, 1, 2, 1]));
    expect(step.replays).toBeGreaterThan(0);
    expect(() => step(logits, ints([0, 1, 7, 1]))).toThrow(
      "nllLoss: target[2] = 7 is out of range for 3 classes (expected 0..2 or ignoreIndex -100)",
    );
  });

  it("takes a target per position of [N, C, d1, ...] log-probabilities, as PyTorch", () => {
    // Per position (n, h, w): the same as the [N·H·W, C] rows of the moved-out classes.
    const logProbs = randn([2, 3, 2, 2], { dtype: "float64" }).requiresGrad_(true);
    const target = ints([0, 2, -100, 1, 1, 1, 0, 2]).reshape([2, 2, 2]);
    for (const reduction of ["mean", "sum", "none"] as const) {
      const rows = logProbs.permute([0, 2, 3, 1]).reshape([8, 3]);
      const perPosition = nllLoss(logProbs, target, { reduction });
      const asRows = nllLoss(rows, target.reshape([8]), { reduction });
      expect(perPosition.shape).toEqual(reduction === "none" ? [2, 2, 2] : []);
      expect(perPosition.reshape([-1])).toBeAllclose(asRows.reshape([-1]), { atol: 0, rtol: 0 });
      const [grad] = autogradGrad([perPosition.sum()], [logProbs]);
      const [gradRows] = autogradGrad([asRows.sum()], [logProbs]);
      expect(grad!).toBeAllclose(gradRows!, { atol: 0, rtol: 0 });
    }
    expect(() => nllLoss(logProbs, ints([0, 1, 2, 3, 0, 1, 2, 0]).reshape([2, 2, 2]))).toThrow(
      "nllLoss: target[0, 1, 1] = 3 is out of range for 3 classes",
    );
    expect(() => nllLoss(logProbs, zeros([2, 2, 3], { dtype: "int32" }))).toThrow(
      "got input [2, 3, 2, 2] and target [2, 2, 3]",
    );
  });

  it("refuses bad targets, weights and reductions, naming the op and the shapes", () => {
    const logProbs = zeros([2, 3]);
    expect(() => nllLoss(logProbs, ints([0, 3]))).toThrow(
      "nllLoss: target[1] = 3 is out of range for 3 classes",
    );
    expect(() => nllLoss(logProbs, tensor([0, 1]))).toThrow(
      "nllLoss: class targets must be an int32 tensor, got dtype float32",
    );
    expect(() => nllLoss(logProbs, ints([0, 1, 2]))).toThrow(
      "nllLoss: expected input [N, C] and target [N], or input [N, C, d1, ...] and target [N, d1, ...], got input [2, 3] and target [3]",
    );
    expect(() => nllLoss(logProbs, ints([0, 1]), { weight: tensor([1, 2]) })).toThrow(
      "nllLoss: weight must have shape [3], got [2]",
    );
    expect(() =>
      nllLoss(logProbs, ints([0, 1]), { reduction: "avg" as unknown as "mean" }),
    ).toThrow('nllLoss: reduction must be "mean", "sum" or "none", got "avg"');
  });
});
