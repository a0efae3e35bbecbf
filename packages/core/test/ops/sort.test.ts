// sort, argsort and topk: stability, NaN placement, index dtype, k at its bounds, and errors.
// Values and gradients are pinned by the op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import { argsort, sort, tensor, topk } from "../../src/index.js";

describe("sort and argsort", () => {
  it("keep equal values in their order and put NaN last (first when descending)", () => {
    const x = tensor([2, Number.NaN, 1, 2, 1]);
    const { values, indices } = sort(x);
    expect(indices.dtype).toBe("int32");
    expect(indices.tolist()).toEqual([2, 4, 0, 3, 1]);
    expect(Number.isNaN(values.tolist<number[]>()[4])).toBe(true);
    expect(argsort(x, 0, true).tolist()).toEqual([1, 0, 3, 2, 4]);
    expect(x.sort(0, { descending: true }).indices.tolist()).toEqual([1, 0, 3, 2, 4]);
  });
});

describe("topk", () => {
  it("takes the earlier of equal values and allows k = 0 and k = size", () => {
    const x = tensor([[1, 3, 3, 0]]);
    expect(topk(x, 2).indices.tolist()).toEqual([[1, 2]]);
    expect(topk(x, 0).values.shape).toEqual([1, 0]);
    expect(x.topk(4, 1, { largest: false }).values.tolist()).toEqual([[0, 1, 3, 3]]);
    expect(() => topk(x, 5)).toThrow(
      "topk: k must be an integer in [0, 4] (dim 1 of shape [1, 4]), got 5",
    );
  });
});
