// The backward engine: accumulation into leaves, retained non-leaf gradients, detach, retained
// graphs, and deep graphs walked without recursion.

import { describe, expect, it } from "vitest";
import {
  autogradGrad,
  customOp,
  Generator,
  ones,
  randn,
  record,
  type Tensor,
  tensor,
  zeros,
} from "../../src/index.js";
import { watchAllocations } from "../../src/tensor/dtype.js";

/** A loss of `w` ([64, 96] as [96, 64] seen through a transpose) through a matmul. */
function x_matmul(wt: Tensor): Tensor {
  return randn([8, 96], { generator: new Generator(3) })
    .matmul(wt)
    .relu()
    .sum();
}

describe("backward", () => {
  it("adds into a leaf's .grad across backward calls instead of overwriting it", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad).toBeAllclose([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(x.grad).toBeAllclose([5, 7, 9]);
  });

  it("accumulates into the existing .grad tensor in place, as torch 1.13 does (x.grad is g)", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    x.mul(2).sum().backward();
    const first = x.grad;
    x.mul(3).sum().backward();
    expect(x.grad).toBe(first);
    expect(first).toBeAllclose([5, 5]);
  });

  it("adds out of place when the new gradient shares memory with .grad (x.t().backward(x.grad))", () => {
    const x = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64", requiresGrad: true });
    x.mul(tensor([1, 2, 3, 4], { shape: [2, 2], dtype: "float64" }))
      .sum()
      .backward();
    const first = x.grad as Tensor;
    x.t().backward(first);
    // [[1, 2], [3, 4]] + its transpose, from the values before the sum.
    expect(x.grad).toBeAllclose([
      [2, 5],
      [5, 8],
    ]);
    expect(first).toBeAllclose([
      [1, 2],
      [3, 4],
    ]);
  });

  it("adds into a .grad the user set (any strides) as into its own", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.grad = tensor([1]).expand([3]);
    x.mul(0.25).sum().backward();
    expect(x.grad).toBeAllclose([1.25, 1.25, 1.25]);
  });

  it("adds a retained non-leaf gradient out of place, as torch's retain_grad hook does", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const h = x.mul(2).retainGrad();
    const y = h.mul(h).sum();
    y.backward(undefined, { retainGraph: true });
    const snapshot = h.grad as Tensor;
    y.backward();
    expect(snapshot).toBeAllclose([4, 8, 12]);
    expect(h.grad).toBeAllclose([8, 16, 24]);
  });

  it("sums the gradients of a tensor used twice in one graph", () => {
    const x = tensor([0.5, -1], { dtype: "float64", requiresGrad: true });
    x.mul(2).add(x.square()).sum().backward();
    expect(x.grad).toBeAllclose([3, 0]);
  });

  it("sums three or more incoming gradients of one tensor, also when an add fans one gradient out", () => {
    // a = 2x, b = 3x, q = a + b, w = q + q, z = Σ(a·b + w) = Σ(6x² + 10x), dz/dx = 12x + 10.
    // q's gradient is a sum of two; q's backward hands that one tensor to both a and b, and a
    // receives a second gradient afterwards: adding it must not change what b received.
    const x = tensor([0.5, -2, 3], { dtype: "float64", requiresGrad: true });
    const a = x.mul(2);
    const b = x.mul(3);
    const q = a.add(b).retainGrad();
    const w = q.add(q);
    a.mul(b).add(w).sum().backward();
    expect(q.grad).toBeAllclose([2, 2, 2]);
    expect(x.grad).toBeAllclose([16, -14, 46]);
    const [g] = autogradGrad(x.mul(x).add(x.mul(x)).add(x.mul(x)).sum(), [x]);
    expect(g).toBeAllclose([3, -12, 18]);
  });

  it("leaves .grad null on non-leaves unless retainGrad() was called", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const hidden = x.mul(3);
    const kept = x.mul(4).retainGrad();
    hidden.add(kept.square()).sum().backward();
    expect(hidden.grad).toBeNull();
    expect(kept.grad).toBeAllclose([8, 16]);
    expect(x.grad).toBeAllclose([3 + 32, 3 + 64]);
  });

  it("stops gradients at detach(), which shares storage with the original", () => {
    const x = tensor([2, 3], { dtype: "float64", requiresGrad: true });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.data).toBe(x.data);
    x.mul(d).sum().backward();
    expect(x.grad).toBeAllclose([2, 3]);
  });

  it("runs a second time through a graph kept with retainGraph", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const loss = x.exp().sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(x.grad).toBeAllclose([2 * Math.E, 2 * Math.exp(2)]);
  });

  it("takes the options object as its only argument: backward({ retainGraph: true })", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const loss = x.exp().sum();
    loss.backward({ retainGraph: true });
    loss.backward();
    expect(x.grad).toBeAllclose([2 * Math.E, 2 * Math.exp(2)]);
  });

  it("follows its own advice: the freed-graph error's backward({ retainGraph: true }) works", () => {
    const x = tensor([0.5, -1], { dtype: "float64", requiresGrad: true });
    const freed = x.exp().sum();
    freed.backward();
    let advice = "";
    try {
      freed.backward();
    } catch (error) {
      advice = (error as Error).message;
    }
    expect(advice).toContain("backward({ retainGraph: true })");
    x.grad = null;
    const kept = x.exp().sum();
    kept.backward({ retainGraph: true });
    expect(() => kept.backward()).not.toThrow();
    expect(x.grad).toBeAllclose([2 * Math.exp(0.5), 2 * Math.exp(-1)]);
  });

  it("records the backward pass with backward({ createGraph: true }) for a second derivative", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    x.pow(3).sum().backward({ createGraph: true });
    const firstGrad = x.grad as Tensor; // 3x², a function of x
    expect(firstGrad.requiresGrad).toBe(true);
    x.grad = null;
    firstGrad.sum().backward();
    expect(x.grad).toBeAllclose([6, 12]); // d/dx Σ 3x² = 6x
  });

  it("takes a gradient and options together: backward(gradient, options)", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const y = x.square();
    y.backward(tensor([1, 0, -1], { dtype: "float64" }), { retainGraph: true });
    y.backward(tensor([1, 1, 1], { dtype: "float64" }));
    expect(x.grad).toBeAllclose([4, 4, 0]);
  });

  it("refuses a misspelt, non-boolean or doubled option, naming it", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const loss = x.exp().sum();
    // @ts-expect-error: the options type rejects a misspelt name at compile time too
    expect(() => loss.backward({ retainGrph: true })).toThrow(
      /backward: unknown option "retainGrph"; the options are retainGraph and createGraph/,
    );
    // @ts-expect-error: options are booleans
    expect(() => loss.backward({ retainGraph: "yes" })).toThrow(
      /backward: option retainGraph must be true or false, got string/,
    );
    // @ts-expect-error: one options object, in last place
    expect(() => loss.backward({ retainGraph: true }, { createGraph: true })).toThrow(
      /backward: got two options objects/,
    );
    // @ts-expect-error: options must be an object
    expect(() => loss.backward(undefined, 5)).toThrow(/backward: options must be an object/);
    expect(x.grad).toBeNull(); // nothing ran
  });

  it("accepts an explicit gradient for a non-scalar output", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    x.square().backward(tensor([1, 0, -1], { dtype: "float64" }));
    expect(x.grad).toBeAllclose([2, 0, -6]);
  });

  it("walks a chain of 100,000 ops without overflowing the stack", () => {
    const x = tensor(1, { dtype: "float64", requiresGrad: true });
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.add(1);
    y.backward();
    expect(x.grad?.item()).toBe(1);
  });

  it("gives .grad a private copy that later in-place changes do not leak into", () => {
    const x = zeros([2], { dtype: "float64", requiresGrad: true });
    const seed = ones([2], { dtype: "float64" });
    x.mul(1).backward(seed);
    seed.fill_(5);
    expect(x.grad).toBeAllclose([1, 1]);
  });

  it("lets every leaf own its .grad when add hands the same gradient to both inputs", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    a.add(b)
      .mul(tensor([3, 4]))
      .sum()
      .backward();
    expect(a.grad).not.toBe(b.grad);
    a.grad!.mul_(10);
    expect(Array.from(a.grad!.toArray())).toEqual([30, 40]);
    expect(Array.from(b.grad!.toArray())).toEqual([3, 4]);
  });

  it("adopts a custom op's gradient as .grad only when the op declares freshGradients", () => {
    for (const freshGradients of [true, false]) {
      let returned: Tensor | null = null;
      const op = customOp({
        name: "double",
        freshGradients,
        forward: (_ctx, x) => x.mul(2),
        backward: (_ctx, gradOut) => {
          returned = gradOut.mul(2);
          return [returned];
        },
      });
      const x = tensor([1, 2], { requiresGrad: true });
      op(x).sum().backward();
      expect(x.grad === returned).toBe(freshGradients);
      expect(Array.from(x.grad!.toArray())).toEqual([2, 2]);
    }
  });

  describe("a gradient a transpose or reshape hands on", () => {
    /** Arrays of `length` elements allocated while `fn` runs. */
    const arraysOfLength = (length: number, fn: () => void): number => {
      let count = 0;
      const previous = watchAllocations((array) => {
        if (array.length === length) count++;
      });
      try {
        fn();
      } finally {
        watchAllocations(previous);
      }
      return count;
    };

    it("becomes a Linear weight's .grad without a copy, as PyTorch steals an unshared gradient", () => {
      // 512 × 600 float32 values: large enough for the allocation watcher (1 MiB and up).
      const w = randn([512, 600], { requiresGrad: true });
      const x = randn([4, 600]);
      const loss = x.matmul(w.t()).relu().sum();
      // matmul's backward makes the weight's gradient (in w's layout, transposed), t's backward
      // transposes it back: one array, the .grad itself.
      expect(arraysOfLength(w.numel(), () => loss.backward())).toBe(1);
      expect(w.grad!.isContiguous()).toBe(true);
      const expected = x.t().matmul(x.matmul(w.t()).gt(0).to("float32")).t();
      expect(w.grad).toBeAllclose(expected.detach());
    });

    it("is still copied when something else holds it: a retained gradient stays intact", () => {
      const w = randn([64, 96], { requiresGrad: true });
      const wt = w.t();
      wt.retainGrad();
      x_matmul(wt).backward();
      expect(wt.grad).not.toBeNull();
      const kept = Array.from(wt.grad!.toArray());
      w.grad!.mul_(10);
      expect(Array.from(wt.grad!.toArray())).toEqual(kept);
    });

    it("goes to one leaf only when add hands one gradient to two views", () => {
      const a = randn([64, 96], { requiresGrad: true });
      const b = randn([64, 96], { requiresGrad: true });
      x_matmul(a.t().add(b.t())).backward();
      expect(a.grad!.storage).not.toBe(b.grad!.storage);
      const kept = Array.from(b.grad!.toArray());
      a.grad!.mul_(10);
      expect(Array.from(b.grad!.toArray())).toEqual(kept);
    });

    it("is copied into the leaf when autogradGrad also returns it", () => {
      const w = randn([64, 96], { requiresGrad: true });
      const wt = w.t();
      const [gwt, gw] = autogradGrad(x_matmul(wt), [wt, w]);
      expect(gw!.storage).toBe(gwt!.storage); // autogradGrad returns views as they come
      expect(w.grad).toBeNull();
      // backward on the same graph copies: the .grad owns its buffer.
      const w2 = randn([64, 96], { requiresGrad: true });
      const wt2 = w2.t();
      const loss = x_matmul(wt2);
      const [g2] = autogradGrad(loss, [wt2], { retainGraph: true });
      loss.backward();
      expect(w2.grad!.storage).not.toBe(g2!.storage);
    });
  });

  it("never adopts what a record() backward returns, directly or through a view: user code may keep it", () => {
    for (const throughView of [false, true]) {
      const kept: Tensor[] = [];
      const w = tensor([1, 2, 3, 4, 5, 6], { dtype: "float64", shape: [2, 3], requiresGrad: true });
      const input = throughView ? w.reshape([6]) : w;
      const out = input.mul(1).detach();
      record("keeps", out, [input], (g) => {
        const mine = zeros(input.shape, { dtype: "float64" }).add(g);
        kept.push(mine);
        return [mine];
      });
      out.sum().backward();
      expect(w.grad!.storage).not.toBe(kept[0].storage);
      kept[0].fill_(42);
      expect(Array.from(w.grad!.toArray())).toEqual([1, 1, 1, 1, 1, 1]);
    }
  });

  it("copies a fresh gradient that backward returns for two inputs, so each leaf owns its own", () => {
    const op = customOp({
      name: "sumOfTwo",
      freshGradients: true,
      forward: (_ctx, x, y) => x.add(y),
      backward: (_ctx, gradOut) => {
        const g = gradOut.mul(1);
        return [g, g];
      },
    });
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    op(a, b).sum().backward();
    a.grad!.mul_(10);
    expect(Array.from(b.grad!.toArray())).toEqual([1, 1]);
  });

  it("refuses backward from a tensor that does not require grad", () => {
    expect(() => randn([1]).sum().backward()).toThrow(/does not require grad/);
  });
});

describe("gradients under createGraph", () => {
  it("gives each leaf its own writable .grad even when backward hands both the same tensor", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    a.add(b)
      .mul(tensor([3, 4]))
      .sum()
      .backward(undefined, { createGraph: true });
    expect(a.grad).not.toBe(b.grad);
    a.grad!.detach().mul_(10);
    expect(Array.from(a.grad!.toArray())).toEqual([30, 40]);
    expect(Array.from(b.grad!.toArray())).toEqual([3, 4]);
  });

  it("returns the seed as the gradient of an output with respect to itself", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2).sum();
    const [g] = autogradGrad(y, y);
    expect(g!.item()).toBe(1);
  });
});
