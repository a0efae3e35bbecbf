// Reading tensors out (tolist, toArray, item, toString) and the autograd flags on Tensor.

import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { arange, tensor, zeros } from "../../src/index.js";

describe("reading values", () => {
  it("tolist follows the logical order of a non-contiguous view", () => {
    const t = arange(6).reshape(2, 3).t();
    expect(t.tolist()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(Array.from(t.toArray())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it("toArray returns a copy of the tensor's dtype", () => {
    const t = tensor([1, 2], { dtype: "float64" });
    const values = t.toArray();
    expect(values).toBeInstanceOf(Float64Array);
    values[0] = 7;
    expect(t.tolist()).toEqual([1, 2]);
  });

  it("tolist of a 0-d tensor is a number, and item reads any one-element tensor", () => {
    expect(tensor(2.5).tolist()).toBe(2.5);
    expect(tensor([[4]]).item()).toBe(4);
    expect(() => zeros([2]).item()).toThrow(
      /item: expected a tensor with one element, got shape \[2\]/,
    );
  });

  it("item reads the right element of a view with an offset", () => {
    expect(arange(5).slice(0, 3, 4).item()).toBe(3);
  });

  it("toString shows the values, shape, dtype and grad state", () => {
    expect(tensor([[1, 2.5]]).toString()).toBe(
      "tensor([[1.0000, 2.5000]], shape=[1, 2], dtype=float32)",
    );
    expect(tensor([1, 0], { dtype: "bool" }).toString()).toContain("[true, false]");
    const x = tensor([1], { requiresGrad: true });
    expect(x.toString()).toContain("requiresGrad=true");
    expect(x.mul(2).toString()).toContain("gradFn=mul");
  });

  it("util.inspect and console.log print the toString text, not the object's fields", () => {
    const x = tensor([[1, 2.5]], { requiresGrad: true });
    expect(inspect(x)).toBe(
      "tensor([[1.0000, 2.5000]], shape=[1, 2], dtype=float32, requiresGrad=true)",
    );
    expect(inspect({ weight: x })).toContain("weight: tensor([[1.0000, 2.5000]]");
    expect(inspect(x)).not.toMatch(/storage|strides|offset/);
  });

  it("tolist takes the nested array type to expect, so the result indexes without casts", () => {
    const rows = tensor([
      [1, 2],
      [3, 4],
    ]).tolist<number[][]>();
    expect(rows[1][0]).toBe(3);
    const flat: number[] = arange(3).tolist<number[]>();
    expect(flat).toEqual([0, 1, 2]);
  });

  it("toString elides the middle of large tensors", () => {
    const text = arange(2000).toString();
    expect(text).toContain("[0, 1, 2, ..., 1997, 1998, 1999]");
  });
});

describe("autograd flags", () => {
  it("only float tensors can require grad", () => {
    expect(tensor([1], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => arange(3).requiresGrad_()).toThrow(TypeError);
  });

  it("results of recorded ops are non-leaves that require grad", () => {
    const x = tensor([1], { requiresGrad: true });
    const y = x.exp();
    expect(x.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
    expect(() => y.requiresGrad_(false)).toThrow(/use detach\(\) instead/);
  });
});

describe("assigning .grad", () => {
  it("accepts a tensor of the same shape and dtype (any strides) and null", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.grad = tensor([1]).expand(3);
    expect(x.grad.tolist()).toEqual([1, 1, 1]);
    x.grad = null;
    expect(x.grad).toBeNull();
  });

  it("refuses another shape, another dtype, a plain array and the tensor itself, as PyTorch does", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => {
      x.grad = zeros([2]);
    }).toThrow("grad: the gradient has shape [2] but the tensor has shape [3]; they must match");
    expect(() => {
      x.grad = zeros([3], { dtype: "float64" });
    }).toThrow(
      'grad: the gradient has dtype float64 but the tensor is float32; cast it with .to("float32")',
    );
    expect(() => {
      x.grad = [1, 2, 3] as never;
    }).toThrow(
      "grad: expected a Tensor or null, got an array (wrap it with tensor(..., { dtype }))",
    );
    expect(() => {
      x.grad = x;
    }).toThrow(/grad: a tensor cannot be its own gradient/);
    expect(x.grad).toBeNull();
  });
});
