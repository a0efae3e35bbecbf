// batchNorm's running statistics and arguments, and groupNorm's errors. Values and gradients are
// pinned by the op-sample table (gradcheck) and the PyTorch fixtures (including the running
// statistics after a call, and the mean-1e4 case against a float64 reference).

import { describe, expect, it } from "vitest";
import { batchNorm, groupNorm, ones, randn, tensor, zeros } from "../../src/index.js";

describe("batchNorm", () => {
  it.each([
    ["a number", () => 0.5],
    [
      "a 0-d float tensor (a cumulative average's 1/count)",
      () => tensor(0.5, { dtype: "float64" }),
    ],
  ])(
    "updates the running statistics in training: momentum (%s) weights the batch, variance unbiased",
    (_, momentum) => {
      const x = tensor(
        [
          [1, 10],
          [3, 30],
        ],
        { dtype: "float64" },
      );
      const mean = zeros([2], { dtype: "float64" });
      const variance = ones([2], { dtype: "float64" });
      batchNorm(x, mean, variance, null, null, true, momentum());
      expect(mean.tolist()).toEqual([1, 10]); // 0.5·0 + 0.5·[2, 20]
      expect(variance.tolist()).toEqual([1.5, 100.5]); // 0.5·1 + 0.5·[2, 200] (unbiased)
    },
  );

  it("refuses a momentum tensor that is not a 0-d float tensor", () => {
    const [mean, variance] = [zeros([2]), ones([2])];
    expect(() =>
      batchNorm(randn([2, 2]), mean, variance, null, null, true, tensor([0.5, 0.5])),
    ).toThrow("batchNorm: a momentum tensor must be a 0-d float tensor, got float32 of shape [2]");
    // Refused before anything ran: the running statistics are as they were.
    expect([mean.tolist(), variance.tolist()]).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it("normalises with the running statistics, unchanged, when not training", () => {
    const mean = tensor([1, 2], { dtype: "float64" });
    const variance = tensor([4, 9], { dtype: "float64" });
    const y = batchNorm(
      tensor([[3, 8]], { dtype: "float64" }),
      mean,
      variance,
      null,
      null,
      false,
      0.1,
      0,
    );
    expect(y.tolist()).toEqual([[1, 2]]);
    expect(mean.tolist()).toEqual([1, 2]);
  });

  it("refuses what PyTorch refuses, naming it", () => {
    const x = randn([4, 3]);
    expect(() => batchNorm(x, null, null)).toThrow(
      "batchNorm: running mean and variance are needed when not training (training: false)",
    );
    expect(() => batchNorm(randn([1, 3]), null, null, null, null, true)).toThrow(
      "batchNorm: expected more than 1 value per channel when training, got input of shape [1, 3]",
    );
    expect(() => batchNorm(x, zeros([2]), ones([3]), null, null, true)).toThrow(
      "batchNorm: runningMean must be a float32 tensor of shape [3] (one per channel of input [4, 3]), got float32 of shape [2]",
    );
    expect(() => batchNorm(x, null, null, null, null, true, 1.5)).toThrow(
      "batchNorm: momentum must be in [0, 1], got 1.5",
    );
    expect(() => batchNorm(randn([3]), null, null, null, null, true)).toThrow(
      "batchNorm: expected an input with a channel dim, [N, C, ...], got shape [3]",
    );
  });
});

describe("groupNorm", () => {
  it("refuses channels that do not split into the groups", () => {
    expect(() => groupNorm(randn([2, 6, 3]), 4)).toThrow(
      "groupNorm: the 6 channels of input [2, 6, 3] must split into numGroups groups, got numGroups 4",
    );
  });
});
