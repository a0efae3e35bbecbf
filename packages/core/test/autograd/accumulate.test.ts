// How the engine adds gradients up: per-node sums (in place only into sums it allocated itself),
// autogradGrad's result slots, and a leaf's .grad (adopted, added in place, or added out of
// place), each checked for the values and for which buffers are reused.

import { describe, expect, it } from "vitest";
import {
  accumulateLeaf,
  deliverToLeaf,
  GradientResults,
  GradientSums,
  isFresh,
  isUnshared,
} from "../../src/autograd/accumulate.js";
import { Node } from "../../src/autograd/node.js";
import { ones, type Tensor, tensor, zeros } from "../../src/index.js";
import { Storage } from "../../src/tensor/storage.js";

const f64 = (values: number[]) => tensor(values, { dtype: "float64" });

/** A node whose backward is never run: the functions under test only read its flags. */
function nodeOf(freshGradients = true): Node {
  const node = new Node("test", [], () => [], [2], "float64", null);
  node.freshGradients = freshGradients;
  return node;
}

describe("GradientSums", () => {
  it("keeps a node's only gradient as is and hands it out once", () => {
    const sums = new GradientSums(false);
    const node = nodeOf();
    const g = f64([1, 2]);
    sums.add(node, g);
    expect(sums.take(node)).toBe(g);
    expect(sums.take(node)).toBeUndefined();
  });

  it("adds a second gradient out of place and later ones into that sum in place", () => {
    const sums = new GradientSums(false);
    const node = nodeOf();
    const first = f64([1, 2]);
    const second = f64([10, 20]);
    sums.add(node, first);
    sums.add(node, second);
    sums.add(node, f64([100, 200]));
    sums.add(node, f64([1000, 2000]));
    const total = sums.take(node) as Tensor;
    expect(total).toBeAllclose([1111, 2222]);
    expect(total).not.toBe(first);
    expect(first).toBeAllclose([1, 2]);
    expect(second).toBeAllclose([10, 20]);
    expect(total.storage.version).toBe(2); // two in-place adds into the sum it allocated
  });

  it("never adds in place under createGraph, where every sum is a graph node", () => {
    const sums = new GradientSums(true);
    const node = nodeOf();
    const a = f64([1, 2]).requiresGrad_(true);
    sums.add(node, a);
    sums.add(node, f64([1, 1]));
    sums.add(node, f64([1, 1]));
    const total = sums.take(node) as Tensor;
    expect(total).toBeAllclose([3, 4]);
    expect(total.storage.version).toBe(0);
    expect(total.gradFn?.op).toBe("add");
  });

  it("says a sum is unshared when it allocated it or its only gradient came unshared", () => {
    const sums = new GradientSums(false);
    const [a, b, c] = [nodeOf(), nodeOf(), nodeOf()];
    sums.add(a, f64([1, 2]), true);
    sums.add(b, f64([1, 2]));
    sums.add(c, f64([1, 2]), true);
    sums.add(c, f64([3, 4])); // the sum it allocates is its own
    expect([a, b, c].map((n) => sums.isUnshared(n))).toEqual([true, false, true]);
    sums.take(a);
    expect(sums.isUnshared(a)).toBe(false); // nothing waits any more
    const seeded = nodeOf();
    sums.seed(seeded, f64([1, 1])); // the caller's
    expect(sums.isUnshared(seeded)).toBe(false);
    const graph = new GradientSums(true); // gradients are graph values: never unshared
    graph.add(a, f64([1, 2]), true);
    expect(graph.isUnshared(a)).toBe(false);
  });

  it("adds seeds out of place, so a seed the caller holds is never written", () => {
    const sums = new GradientSums(false);
    const node = nodeOf();
    const seed = f64([1, 1]);
    sums.seed(node, seed);
    sums.seed(node, f64([2, 2]));
    sums.add(node, f64([3, 3]));
    expect(sums.take(node)).toBeAllclose([6, 6]);
    expect(seed).toBeAllclose([1, 1]);
  });

  it("does not write into a sum after handing it out", () => {
    const sums = new GradientSums(false);
    const node = nodeOf();
    sums.add(node, f64([1, 1]));
    sums.add(node, f64([1, 1]));
    const handed = sums.take(node) as Tensor;
    sums.add(node, f64([5, 5]));
    sums.add(node, f64([5, 5]));
    expect(handed).toBeAllclose([2, 2]);
    expect(sums.take(node)).toBeAllclose([10, 10]);
  });
});

describe("GradientResults", () => {
  it("sums the gradients of each requested input and fills every slot of a repeated one", () => {
    const x = f64([1, 2]);
    const y = f64([3]);
    const results = new GradientResults([x, y, x]);
    expect(results.has(x)).toBe(true);
    expect(results.has(f64([1, 2]))).toBe(false);
    results.add(x, f64([1, 1]));
    results.add(x, f64([2, 2]));
    results.add(f64([0]), f64([9])); // not requested: ignored
    expect(results.values[0]).toBeAllclose([3, 3]);
    expect(results.values[1]).toBeNull();
    expect(results.values[2]).toBeAllclose([3, 3]);
  });
});

describe("isUnshared", () => {
  it("accepts any view of a buffer made during the step or passed on, when no other gradient shares it", () => {
    const gradOut = tensor([1, 2, 3, 4, 5, 6], { dtype: "float64", shape: [2, 3] });
    const first = Storage.nextSerial();
    const made = tensor([1, 2, 3, 4, 5, 6], { dtype: "float64", shape: [2, 3] });
    // Transposed or partial: only who else holds the buffer matters here.
    for (const g of [made.t(), made.select(0, 1)]) {
      expect(isUnshared(nodeOf(), g, 0, [g], first)).toBe(true);
    }
    expect(isUnshared(nodeOf(), gradOut.t(), 0, [gradOut.t()], first)).toBe(false);
    expect(isUnshared(nodeOf(), gradOut.t(), 0, [gradOut.t()], first, gradOut.storage)).toBe(true);
    // Two views of one buffer for two inputs (a split's backward): neither is unshared.
    const [a, b] = [made.select(0, 0), made.select(0, 1)];
    expect(isUnshared(nodeOf(), a, 0, [a, b], first)).toBe(false);
    expect(isUnshared(nodeOf(false), made, 0, [made], first)).toBe(false);
  });
});

describe("isFresh", () => {
  it("accepts a whole contiguous buffer allocated during the step", () => {
    const first = Storage.nextSerial();
    const g = f64([1, 2]);
    expect(isFresh(nodeOf(), g, 0, [g], first)).toBe(true);
  });

  it("refuses a buffer allocated before the step, or from an op that keeps references", () => {
    const old = f64([1, 2]);
    const first = Storage.nextSerial();
    expect(isFresh(nodeOf(), old, 0, [old], first)).toBe(false);
    const g = f64([1, 2]);
    expect(isFresh(nodeOf(false), g, 0, [g], first)).toBe(false);
  });

  it("refuses views (offset, part of a buffer, strided) and a buffer two gradients share", () => {
    const first = Storage.nextSerial();
    const base = tensor([1, 2, 3, 4], { dtype: "float64", shape: [2, 2] });
    for (const view of [base.select(0, 1), base.select(0, 0), base.t()]) {
      expect(isFresh(nodeOf(), view, 0, [view], first)).toBe(false);
    }
    const g = f64([1, 2]);
    expect(isFresh(nodeOf(), g, 0, [g, g], first)).toBe(false);
    expect(isFresh(nodeOf(), g, 0, [g, null], first)).toBe(true);
  });

  it("accepts a view covering the passed-on buffer (an unshared gradOut's), and only that one", () => {
    const gradOut = tensor([1, 2, 3, 4, 5, 6], { dtype: "float64", shape: [2, 3] });
    const other = tensor([1, 2, 3, 4, 5, 6], { dtype: "float64", shape: [2, 3] });
    const first = Storage.nextSerial(); // both made before the node's backward
    const view = gradOut.t().t(); // contiguous, all of the buffer
    expect(isFresh(nodeOf(), view, 0, [view], first, gradOut.storage)).toBe(true);
    // Even from an op that does not promise fresh gradients: the buffer is the gradOut's.
    expect(isFresh(nodeOf(false), view, 0, [view], first, gradOut.storage)).toBe(true);
    expect(isFresh(nodeOf(), other, 0, [other], first, gradOut.storage)).toBe(false);
    expect(isFresh(nodeOf(), view, 0, [view], first, null)).toBe(false);
    // Still whole and contiguous only, and not when another gradient of the call shares it.
    const t = gradOut.t();
    expect(isFresh(nodeOf(), t, 0, [t], first, gradOut.storage)).toBe(false);
    expect(isFresh(nodeOf(), view, 0, [view, gradOut], first, gradOut.storage)).toBe(false);
  });
});

describe("deliverToLeaf", () => {
  it("adopts a fresh gradient as a leaf's first .grad, and copies it when not fresh or recording", () => {
    for (const [fresh, createGraph, adopted] of [
      [true, false, true],
      [false, false, false],
      [true, true, false],
    ] as const) {
      const leaf = zeros([2], { dtype: "float64", requiresGrad: true });
      const g = f64([1, 2]);
      deliverToLeaf(leaf, g, fresh, createGraph);
      expect(leaf.grad === g).toBe(adopted);
      expect(leaf.grad).toBeAllclose([1, 2]);
    }
  });

  it("adds into an existing .grad", () => {
    const leaf = zeros([2], { dtype: "float64", requiresGrad: true });
    leaf.grad = f64([1, 1]);
    const g = f64([1, 2]);
    deliverToLeaf(leaf, g, true, false);
    expect(leaf.grad).toBeAllclose([2, 3]);
  });
});

describe("accumulateLeaf", () => {
  it("gives a leaf a private contiguous copy first, then adds in place", () => {
    const leaf = zeros([2, 2], { dtype: "float64", requiresGrad: true });
    const g = f64([1, 2]).expand([2, 2]);
    accumulateLeaf(leaf, g, false);
    const grad = leaf.grad as Tensor;
    expect(grad.storage).not.toBe(g.storage);
    expect(grad.isContiguous()).toBe(true);
    accumulateLeaf(leaf, g, false);
    expect(leaf.grad).toBe(grad);
    expect(grad).toBeAllclose([
      [2, 4],
      [2, 4],
    ]);
  });

  it("adds out of place when .grad is not contiguous, shares memory, or is retained", () => {
    const leaf = zeros([2, 2], { dtype: "float64", requiresGrad: true });
    const transposed = tensor([1, 2, 3, 4], { dtype: "float64", shape: [2, 2] }).t();
    leaf.grad = transposed;
    accumulateLeaf(leaf, tensor([1, 1, 1, 1], { dtype: "float64", shape: [2, 2] }), false);
    expect(leaf.grad).not.toBe(transposed);
    expect(leaf.grad).toBeAllclose([
      [2, 4],
      [3, 5],
    ]);

    const shared = f64([1, 2]);
    const other = zeros([2], { dtype: "float64", requiresGrad: true });
    other.grad = shared;
    accumulateLeaf(other, shared, false);
    expect(other.grad).not.toBe(shared);
    expect(shared).toBeAllclose([1, 2]);

    const x = ones([2], { dtype: "float64", requiresGrad: true });
    const hidden = x.mul(2); // a non-leaf that asked for retainGrad
    const kept = f64([1, 1]);
    hidden.grad = kept;
    accumulateLeaf(hidden, f64([1, 1]), false);
    expect(hidden.grad).not.toBe(kept);
    expect(kept).toBeAllclose([1, 1]);
  });

  it("records a differentiable clone and sum under createGraph", () => {
    const leaf = zeros([2], { dtype: "float64", requiresGrad: true });
    const g = f64([1, 2]).requiresGrad_(true);
    accumulateLeaf(leaf, g, true);
    expect(leaf.grad?.gradFn?.op).toBe("clone");
    accumulateLeaf(leaf, g, true);
    expect(leaf.grad?.gradFn?.op).toBe("add");
    expect(leaf.grad).toBeAllclose([2, 4]);
  });
});
