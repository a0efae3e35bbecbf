// cumsum and cumprod at the edges: integer input, 0-d tensors, empty dims, the gradient of
// cumprod at zeros, and bad dims. Values and gradients at ordinary points are pinned by the
// op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import { cumprod, cumsum, tensor, zeros } from "../../src/index.js";

describe("cumsum and cumprod", () => {
  it("accumulate integer input in float32 and accept 0-d and empty tensors", () => {
    const ints = tensor([1, 2, 3], { dtype: "int32" });
    expect(cumsum(ints, 0).dtype).toBe("float32");
    expect(cumsum(ints, 0).tolist()).toEqual([1, 3, 6]);
    expect(cumprod(ints, 0).tolist()).toEqual([1, 2, 6]);
    expect(cumsum(tensor(4), 0).item()).toBe(4);
    expect(cumprod(zeros([2, 0]), 1).shape).toEqual([2, 0]);
  });

  it("give cumprod's exact gradient where an input is zero", () => {
    const x = tensor([2, 0, 3], { dtype: "float64", requiresGrad: true });
    cumprod(x, 0).sum().backward();
    // out = [x0, x0·x1, x0·x1·x2]: d/dx0 = 1 + x1 + x1·x2 = 1, d/dx1 = x0 + x0·x2 = 8, d/dx2 = x0·x1 = 0
    expect(x.grad!.tolist()).toEqual([1, 8, 0]);
  });

  it("refuse a dim out of range", () => {
    expect(() => cumsum(zeros([2, 3]), 2)).toThrow("cumsum: dim 2 is out of range");
    expect(() => cumprod(zeros([2]), -2)).toThrow("cumprod: dim -2 is out of range");
  });
});
