// One test per error path users hit most often: each asserts the error type and that the message
// names the function, what was wrong (shapes, dtypes, the offending value) and what was expected.
// These paths live in many source files, so they are gathered here rather than mirrored.

import { describe, expect, it } from "vitest";
import {
  add,
  arange,
  argmax,
  autogradGrad,
  crossEntropy,
  customOp,
  gather,
  grad,
  indexSelect,
  matmul,
  narrow,
  nllLoss,
  noGrad,
  ones,
  randn,
  select,
  sum,
  tensor,
  zeros,
} from "../src/index.js";

describe("error messages", () => {
  it("broadcasting mismatch names the op and both shapes", () => {
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(
      /add: shapes \[2, 3\] and \[4\] cannot be broadcast together.*3 vs 4/,
    );
  });

  it("matmul mismatch names both shapes and the inner sizes", () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      /matmul: shapes \[2, 3\] and \[4, 5\] cannot be multiplied \(inner sizes 3 and 4 differ\)/,
    );
  });

  it("a bad dim names the op, the dim, the shape and the valid range", () => {
    expect(() => sum(zeros([2, 3]), 2)).toThrow(
      /sum: dim 2 is out of range for a tensor of shape \[2, 3\] \(expected an integer in \[-2, 1\]\)/,
    );
  });

  it("gather with an out-of-range index names the index, dim and size", () => {
    expect(() => gather(zeros([2, 3]), 1, tensor([[0, 3]], { dtype: "int32" }))).toThrow(
      /gather: index 3 is out of range for dim 1 of size 3 \(shape \[2, 3\]\)/,
    );
  });

  it("indexSelect with an out-of-range index names the index, dim and size", () => {
    expect(() => indexSelect(zeros([4, 2]), 0, tensor([1, -5], { dtype: "int32" }))).toThrow(
      /indexSelect: index -5 is out of range for dim 0 of size 4/,
    );
  });

  it("select with an out-of-range index names the index, dim and size", () => {
    expect(() => select(zeros([2, 3]), 1, 3)).toThrow(
      /select: index 3 is out of range for dim 1 of size 3 \(shape \[2, 3\]\)/,
    );
  });

  it("narrow past the end names start, length and the dim size", () => {
    expect(() => narrow(zeros([2, 5]), 1, 3, 3)).toThrow(
      /narrow: start 3 and length 3 are out of range for dim 1 of size 5/,
    );
  });

  it("a negative or non-integer shape is rejected with the shape in the message", () => {
    expect(() => zeros([2, -1])).toThrow(/zeros: shape \[2, -1\] must hold non-negative integers/);
    expect(() => ones([1.5])).toThrow(/ones: shape \[1.5\] must hold non-negative integers/);
  });

  it("float class targets are rejected, naming the dtype that was expected", () => {
    expect(() => nllLoss(zeros([2, 3]), tensor([0, 1]))).toThrow(
      /nllLoss: class targets must be an int32 tensor, got dtype float32/,
    );
  });

  it("float indices are rejected, naming the dtype that was expected", () => {
    expect(() => gather(zeros([2, 3]), 1, zeros([2, 1]))).toThrow(
      /gather: index must be an int32 tensor, got dtype float32 \(shape \[2, 1\]\)/,
    );
  });

  it("backward on a non-scalar without a gradient asks for one of the output's shape", () => {
    const x = randn([2, 3]).requiresGrad_(true);
    expect(() => x.mul(2).backward()).toThrow(
      /backward: a gradient is needed for a non-scalar output of shape \[2, 3\]/,
    );
  });

  it("a second backward through a freed graph names the op and suggests retainGraph", () => {
    const x = randn([3]).requiresGrad_(true);
    const loss = x.exp().sum();
    loss.backward();
    expect(() => loss.backward()).toThrow(/backward through sum a second time.*retainGraph: true/);
  });

  it("a customOp backward returning the wrong number of gradients is named with the input shapes", () => {
    const broken = customOp({
      name: "brokenAdd",
      forward: (_ctx, a, b) => add(a, b),
      backward: (_ctx, gradOut) => [gradOut],
    });
    const a = randn([2]).requiresGrad_(true);
    const b = randn([2]).requiresGrad_(true);
    expect(() => broken(a, b).sum().backward()).toThrow(
      /brokenAdd: backward returned 1 gradients, expected 2 \(one per input: \[2\], \[2\]\)/,
    );
  });

  it("a customOp backward returning a wrongly shaped gradient names the op, input and shapes", () => {
    const broken = customOp({
      name: "brokenDouble",
      forward: (_ctx, x) => x.mul(2),
      backward: (_ctx, gradOut) => [gradOut.sum()],
    });
    const x = randn([2, 3]).requiresGrad_(true);
    expect(() => broken(x).sum().backward()).toThrow(
      /backward of brokenDouble: the gradient for input 0 has shape \[\] and dtype float32, but the input has shape \[2, 3\]/,
    );
  });

  it("changing a saved tensor in place before backward is caught, naming the op", () => {
    const w = randn([3]).requiresGrad_(true);
    const a = randn([3]);
    const out = w.mul(a).sum();
    noGrad(() => a.add_(1));
    expect(() => out.backward()).toThrow(
      /backward of mul: a tensor of shape \[3\] saved for the gradient was modified in place/,
    );
  });

  it("requiresGrad on an int32 tensor is refused, naming the dtype", () => {
    expect(() => tensor([1, 2], { dtype: "int32", requiresGrad: true })).toThrow(
      /only float32\/float64 tensors can require gradients, this one is int32/,
    );
    expect(() => {
      zeros([2], { dtype: "bool" }).requiresGrad = true;
    }).toThrow(TypeError);
  });

  it("a gradient that is not a tensor is named as such, not a JS property error", () => {
    const x = ones([2]).requiresGrad_(true);
    const y = x.mul(2);
    expect(() => y.backward([1, 1] as never)).toThrow(
      /backward: gradient must be a Tensor or a number, got an array/,
    );
    expect(() => autogradGrad(y, x, { gradOutputs: [[1, 1] as never] })).toThrow(
      /autogradGrad: gradOutputs\[0\] must be a Tensor, got an array/,
    );
  });

  it("grad with argnums beyond the arguments names the argnums and the call", () => {
    expect(() => grad((a) => a.sum(), 1)(ones([2]))).toThrow(
      /grad: argnums \[1\] names argument 1, but the function was called with 1 argument\(s\)/,
    );
  });

  it("an unknown dtype in arange is refused, listing the valid ones", () => {
    expect(() => arange(3, undefined, 1, { dtype: "float16" as never })).toThrow(
      /arange: unknown dtype "float16"; expected one of float32, float64, int32, bool/,
    );
  });

  it("argmax of an empty tensor is an error, not index 0", () => {
    expect(() => argmax(zeros([0]))).toThrow(/argmax: cannot reduce/);
  });

  it("float class indices in crossEntropy are named as a dtype problem", () => {
    expect(() => crossEntropy(zeros([3, 4]), tensor([0, 1, 2]))).toThrow(
      /crossEntropy: target of shape \[3\] looks like class indices but has dtype float32; class indices must be an int32 tensor/,
    );
  });

  it("matmul of bool tensors is refused, naming both shapes", () => {
    expect(() =>
      matmul(zeros([2, 2], { dtype: "bool" }), zeros([2, 2], { dtype: "bool" })),
    ).toThrow(/matmul: bool tensors are not supported \(shapes \[2, 2\] and \[2, 2\]\)/);
  });
});
