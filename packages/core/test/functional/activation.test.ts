// softmax and logSoftmax on empty tensors (an empty result, as in PyTorch, not a reduction
// error), and the arguments of the newer activations. Values and gradients are pinned by the
// op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import {
  atan2,
  elu,
  hardtanh,
  hypot,
  logSoftmax,
  mish,
  selu,
  silu,
  softmax,
  tensor,
  zeros,
} from "../../src/index.js";

describe("softmax over an empty dim", () => {
  it("returns an empty tensor of the same shape", () => {
    expect(softmax(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([0, 3]), 1).shape).toEqual([0, 3]);
  });
});

describe("elu, hardtanh, silu", () => {
  it("refuse arguments PyTorch refuses and float-only input, naming them", () => {
    expect(() => elu(tensor([1]), Number.NaN)).toThrow(
      "elu: alpha must be a finite number, got NaN",
    );
    expect(() => hardtanh(tensor([1]), 2, 1)).toThrow(
      "hardtanh: minVal cannot be greater than maxVal, got minVal 2 and maxVal 1",
    );
    expect(() => silu(tensor([1], { dtype: "int32" }))).toThrow(
      "silu: expected a float32 or float64 tensor, got dtype int32 (shape [1])",
    );
  });

  it("have finite gradients far beyond where eˣ overflows", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const fn of [elu, selu, silu, mish]) {
        const x = tensor([-800, -100, 0, 100, 800], { dtype, requiresGrad: true });
        fn(x).sum().backward();
        const grads = x.grad!.tolist() as number[];
        expect(grads.every(Number.isFinite), `${fn.name} ${dtype}: ${grads}`).toBe(true);
        const seluScale =
          dtype === "float32" ? Math.fround(1.0507009873554805) : 1.0507009873554805;
        expect(grads[4]).toBe(fn === selu ? seluScale : 1);
      }
    }
  });

  it("atan2 and hypot compute integer input in float32", () => {
    const y = tensor([1, -1], { dtype: "int32" });
    const x = tensor([0, 0], { dtype: "int32" });
    expect(atan2(y, x).dtype).toBe("float32");
    expect(atan2(y, x).tolist()).toEqual([Math.fround(Math.PI / 2), Math.fround(-Math.PI / 2)]);
    expect(hypot(tensor([3], { dtype: "int32" }), 4).tolist()).toEqual([5]);
  });
});
