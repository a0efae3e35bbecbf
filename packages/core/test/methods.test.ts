// The Tensor methods attached by methods.ts: defined like class methods, each calling its op
// (same result, same recorded op), and the methods with argument forms of their own.

import { describe, expect, it } from "vitest";
import { add, softplus, sum, type Tensor, tensor } from "../src/index.js";

const x = () =>
  tensor(
    [
      [1, -2, 3],
      [4, 5, -6],
    ],
    { dtype: "float64", requiresGrad: true },
  );

describe("Tensor methods", () => {
  it("are non-enumerable prototype members, like class methods", () => {
    const t = tensor([1]);
    expect(Object.keys(t)).not.toContain("add");
    const descriptor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(t), "add");
    expect(descriptor?.enumerable).toBe(false);
    expect(typeof descriptor?.value).toBe("function");
  });

  it("pass the tensor as the op's first argument and the rest through", () => {
    const a = x();
    expect(a.add(a, 2)).toBeAllclose(add(a, a, 2));
    expect(a.softplus(2, 1)).toBeAllclose(softplus(a, 2, 1));
    expect(a.sum(1, true)).toBeAllclose(sum(a, 1, true));
    expect(a.add(1).gradFn?.op).toBe("add");
    expect(a.var().gradFn?.op).toBe("var");
    expect(a.to("float32").dtype).toBe("float32");
    const { values, indices } = a.max(1);
    expect(values).toBeAllclose([3, 5]);
    expect(indices.tolist()).toEqual([2, 1]);
    expect(a.max().item()).toBe(5);
  });

  it("take shapes as separate numbers or as one list", () => {
    const a = x();
    expect(a.reshape(3, 2).shape).toEqual([3, 2]);
    expect(a.reshape([3, 2]).shape).toEqual([3, 2]);
    expect(a.view(-1).shape).toEqual([6]);
    expect(a.permute(1, 0).shape).toEqual([3, 2]);
    expect(a.unsqueeze(0).expand(4, 2, 3).shape).toEqual([4, 2, 3]);
    expect(tensor([1, 2, 3]).expandAs(a).shape).toEqual([2, 3]);
  });

  it("run backward from a tensor, with or without a gradient and options", () => {
    const a = x();
    const y: Tensor = a.square().sum();
    y.backward({ retainGraph: true });
    y.backward();
    expect(a.grad).toBeAllclose([
      [4, -8, 12],
      [16, 20, -24],
    ]);
  });

  it("update in place and name themselves in errors", () => {
    const t = tensor([1, 2, 3]);
    t.sub_(tensor([1, 1, 1]), 2)
      .mul_(2)
      .clamp_(-1, 1);
    expect(t).toBeAllclose([-1, 0, 1]);
    expect(t.zero_()).toBe(t);
    expect(() => t.sub_(tensor([1, 2]))).toThrow(/^sub_:/);
    expect(() => t.fill_(Number.NaN).copy_([1, 2, 3] as never)).toThrow(
      /^copy_: expected a Tensor/,
    );
  });
});
