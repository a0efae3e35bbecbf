// Pooling's argument handling and the rules PyTorch defines at the edges: indices as int32 flat
// positions in each plane, the gradient of tied maxima going to the first, ceilMode's last window,
// adaptive sizes with null, and an error for every bad argument. Values and gradients are pinned
// by the op-sample table (gradcheck) and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  interpolate,
  maxPool1d,
  maxPool2d,
  randn,
  tensor,
} from "../../src/index.js";

describe("maxPool2d", () => {
  it("returns int32 indices into each input plane and routes a tie's gradient to the first", () => {
    const x = tensor(
      [
        [
          [
            [1, 3, 3, 0],
            [3, 2, 1, 1],
          ],
        ],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    const { values, indices } = maxPool2d(x, 2, { returnIndices: true });
    expect(values.tolist()).toEqual([[[[3, 3]]]]);
    expect(indices.dtype).toBe("int32");
    expect(indices.tolist()).toEqual([[[[1, 2]]]]);
    values.sum().backward();
    expect(x.grad!.tolist()).toEqual([
      [
        [
          [0, 1, 1, 0],
          [0, 0, 0, 0],
        ],
      ],
    ]);
  });

  it("accumulates the gradient of one element that wins overlapping windows", () => {
    const x = tensor(
      [
        [
          [
            [0, 0, 0],
            [0, 9, 0],
            [0, 0, 0],
          ],
        ],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    maxPool2d(x, 2, { stride: 1 }).sum().backward();
    expect(x.grad!.tolist()).toEqual([
      [
        [
          [0, 0, 0],
          [0, 4, 0],
          [0, 0, 0],
        ],
      ],
    ]);
  });

  it("adds a last partial window with ceilMode, never one that starts in the right padding", () => {
    const x = randn([1, 1, 5, 5], { dtype: "float64" });
    expect(maxPool2d(x, 2).shape).toEqual([1, 1, 2, 2]);
    expect(maxPool2d(x, 2, { ceilMode: true }).shape).toEqual([1, 1, 3, 3]);
    expect(maxPool2d(randn([1, 1, 4, 4]), 2, { padding: 1, ceilMode: true }).shape).toEqual([
      1, 1, 3, 3,
    ]);
  });

  it("refuses bad windows and inputs, naming the values", () => {
    const x = randn([1, 1, 4, 4]);
    expect(() => maxPool2d(x, 0)).toThrow(
      "maxPool2d: kernelSize must be an integer or 2 integers, each at least 1; got 0",
    );
    expect(() => maxPool2d(x, 2, { padding: 2 })).toThrow(
      "maxPool2d: padding should be at most half of the kernel size, got padding 2 for kernel size 2",
    );
    expect(() => maxPool2d(x, 5)).toThrow(
      "maxPool2d: the output would be [0, 0] for input [1, 1, 4, 4] and kernel [5, 5]: the window is larger than the padded input",
    );
    expect(() => maxPool2d(randn([4, 4]), 2)).toThrow(
      "maxPool2d: expected a [N, C, H, W] or [C, H, W] input, got shape [4, 4]",
    );
    expect(() => maxPool2d(tensor([[[1]]], { dtype: "int32" }), 1)).toThrow(
      "maxPool2d: expected a float32 or float64 input, got dtype int32 (shape [1, 1, 1])",
    );
    expect(() => maxPool2d(x, 2, { ceilMode: 1 as unknown as boolean })).toThrow(
      "maxPool2d: ceilMode must be a boolean, got number",
    );
  });
});

describe("maxPool1d", () => {
  it("returns positions along L as indices", () => {
    const { values, indices } = maxPool1d(tensor([[1, 5, 2, 7, 7, 0]]), 2, { returnIndices: true });
    expect(values.tolist()).toEqual([[5, 7, 7]]);
    expect(indices.tolist()).toEqual([[1, 3, 4]]);
    expect(() => maxPool1d(tensor([[1, 2]]), [2, 2])).toThrow(
      "maxPool1d: kernelSize must be an integer",
    );
  });
});

describe("avgPool2d and avgPool1d", () => {
  it("counts the padding in the divisor unless countIncludePad is false", () => {
    const x = tensor(
      [
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      ],
      { dtype: "float64" },
    );
    expect(avgPool2d(x, 2, { stride: 1, padding: 1 }).select(2, 0).tolist()).toEqual([
      [[0.25, 0.75, 0.5]],
    ]);
    expect(
      avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false }).select(2, 0).tolist(),
    ).toEqual([[[1, 1.5, 2]]]);
    expect(avgPool2d(x, 2, { divisorOverride: 2 }).tolist()).toEqual([[[[5]]]]);
  });

  it("refuses a zero divisorOverride, divisorOverride in 1-D, and a non-boolean countIncludePad", () => {
    const x = randn([1, 2, 4, 4]);
    expect(() => avgPool2d(x, 2, { divisorOverride: 0 })).toThrow(
      "avgPool2d: divisorOverride must be a nonzero integer, got 0",
    );
    expect(() => avgPool1d(randn([1, 4]), 2, { divisorOverride: 2 })).toThrow(
      "avgPool1d: divisorOverride is an option of avgPool2d only",
    );
    expect(() => avgPool2d(x, 2, { countIncludePad: "yes" as unknown as boolean })).toThrow(
      "avgPool2d: countIncludePad must be a boolean, got string",
    );
  });
});

describe("adaptiveAvgPool2d and adaptiveAvgPool1d", () => {
  it("keeps a dim given as null and averages globally with 1", () => {
    const x = randn([2, 3, 5, 7], { dtype: "float64" });
    expect(adaptiveAvgPool2d(x, [null, 2]).shape).toEqual([2, 3, 5, 2]);
    expect(adaptiveAvgPool2d(x, 1)).toBeAllclose(x.mean([2, 3], true), { atol: 1e-15, rtol: 0 });
    expect(adaptiveAvgPool1d(tensor([[1, 2, 3, 4, 5]]), 2).tolist()).toEqual([[2, 4]]);
  });

  it("refuses bad output sizes and empty inputs", () => {
    expect(() => adaptiveAvgPool2d(randn([1, 2, 3, 3]), [0, 1])).toThrow(
      "adaptiveAvgPool2d: outputSize must be a positive integer or 2 of them (null keeps the input's size), got [0,1]",
    );
    expect(() => adaptiveAvgPool2d(randn([1, 2, 0, 3]), 1)).toThrow(
      "adaptiveAvgPool2d: input [1, 2, 0, 3] has an empty spatial dim",
    );
  });
});

describe("interpolate", () => {
  it("needs exactly one of size and scaleFactor, positive, on a 3-D or 4-D input", () => {
    const x = randn([1, 1, 4, 4]);
    expect(interpolate(x, { scaleFactor: 2 }).shape).toEqual([1, 1, 8, 8]);
    expect(() => interpolate(x, {})).toThrow(
      "interpolate: give exactly one of size and scaleFactor",
    );
    expect(() => interpolate(x, { size: 2, scaleFactor: 2 })).toThrow(
      "interpolate: give exactly one of size and scaleFactor",
    );
    expect(() => interpolate(x, { size: [2, 0] })).toThrow(
      "interpolate: size must be a positive number or 2 of them, got [2,0]",
    );
    expect(() => interpolate(x, { scaleFactor: 0.1 })).toThrow(
      "interpolate: the output size 0 of spatial dim 0 is not a positive integer",
    );
    expect(() => interpolate(randn([4, 4]), { size: 2 })).toThrow(
      "interpolate: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got shape [4, 4]",
    );
    expect(() => interpolate(x, { size: 2, mode: "bilinear" as "nearest" })).toThrow(
      'interpolate: only mode "nearest" is supported, got "bilinear"',
    );
  });
});
