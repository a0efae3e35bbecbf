// customOp: a hand-written forward/backward pair behaves like a built-in op, including
// gradcheck, second order (when backward uses tensor ops) and saved-tensor bookkeeping.

import { describe, expect, it } from "vitest";
import {
  customOp,
  div,
  gradcheck,
  gradgradcheck,
  noGrad,
  randn,
  type Tensor,
  tensor,
} from "../../src/index.js";

const logistic = (x: Tensor): Tensor => div(1, x.neg().exp().add(1));

/**
 * σ(x) = 1/(1+e^-x); backward gradOut·σ(1-σ), recomputed from the saved input with tensor ops
 * so that it can itself be differentiated.
 */
const mySigmoid = customOp({
  name: "mySigmoid",
  forward: (ctx, x) => {
    ctx.saveForBackward(x);
    return logistic(x);
  },
  backward: (ctx, gradOut) => {
    const [x] = ctx.saved;
    const s = logistic(x);
    return [gradOut.mul(s.mul(s.neg().add(1)))];
  },
});

describe("customOp", () => {
  it("computes the forward without recording the ops inside it", () => {
    const x = tensor([0, 1], { dtype: "float64", requiresGrad: true });
    const y = mySigmoid(x);
    expect(y).toBeAllclose([0.5, 1 / (1 + Math.exp(-1))]);
    expect(y.gradFn?.op).toBe("mySigmoid");
    expect(y.gradFn?.inputs).toEqual([x]);
  });

  it("passes gradcheck", () => {
    const x = randn([2, 3], { dtype: "float64" }).requiresGrad_(true);
    expect(gradcheck(mySigmoid, [x])).toBe(true);
  });

  it("passes gradgradcheck when backward is written with tensor ops", () => {
    const x = randn([4], { dtype: "float64" }).requiresGrad_(true);
    expect(gradgradcheck(mySigmoid, [x])).toBe(true);
  });

  it("matches the built-in sigmoid gradient", () => {
    const x = tensor([-2, 0.5, 3], { dtype: "float64", requiresGrad: true });
    mySigmoid(x).sum().backward();
    const reference = tensor([-2, 0.5, 3], { dtype: "float64", requiresGrad: true });
    reference.sigmoid().sum().backward();
    expect(x.grad).toBeAllclose(reference.grad as Tensor, { atol: 1e-15, rtol: 1e-14 });
  });

  it("tells backward which inputs need a gradient", () => {
    const seen: boolean[][] = [];
    const scale = customOp({
      name: "scale",
      forward: (_ctx, x, w) => x.mul(w),
      backward: (ctx, gradOut) => {
        seen.push([...ctx.needsInputGrad]);
        return [null, gradOut.sum()];
      },
    });
    const w = tensor(2, { requiresGrad: true });
    scale(randn([3]), w)
      .sum()
      .backward();
    expect(seen).toEqual([[false, true]]);
    expect(w.grad).not.toBeNull();
  });

  it("never turns a captured leaf into a non-leaf when forward returns it", () => {
    const weight = tensor([1, 2], { requiresGrad: true });
    const passthrough = customOp({
      name: "returnWeight",
      forward: () => weight,
      backward: (_ctx, gradOut) => [gradOut],
    });
    const out = passthrough(tensor([0, 0], { requiresGrad: true }));
    expect(weight.isLeaf).toBe(true);
    expect(out).not.toBe(weight);
    expect(out.gradFn?.op).toBe("returnWeight");
  });

  it("catches an in-place change to a tensor saved on the context", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const y = mySigmoid(x).sum();
    noGrad(() => x.add_(1));
    expect(() => y.backward()).toThrow(/backward of mySigmoid: a tensor of shape \[2\] saved/);
  });
});

describe("customOp backward returning something other than tensors", () => {
  it("names the op and input when a gradient is a plain array", () => {
    const twice = customOp({
      name: "twice",
      forward: (_ctx, x) => x.mul(2),
      backward: () => [[2, 2, 2] as never],
    });
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => twice(x).sum().backward()).toThrow(
      "backward of twice: the gradient for input 0 is an array, expected a Tensor of shape [3] and dtype float32 (or null); wrap values with tensor(...)",
    );
    expect(x.grad).toBeNull();
  });

  it("names the op when backward returns no array at all", () => {
    const bad = customOp({
      name: "bad",
      forward: (_ctx, x) => x.mul(2),
      backward: (_ctx, gradOut) => gradOut as never,
    });
    expect(() =>
      bad(tensor([1], { requiresGrad: true }))
        .sum()
        .backward(),
    ).toThrow(/^bad: backward returned object gradients, expected 1/);
  });
});
