import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { ReleasedInput } from "../../src/autograd/node.js";
import { autogradGrad, graphListing, randn, type Tensor, tensor } from "../../src/index.js";

// The garbage collector, to see what stays reachable (Node exposes it on request).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** For each ref, true when nothing keeps its tensor any more (after the job that made them ends). */
async function collected(refs: WeakRef<Tensor>[]): Promise<boolean[]> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  return refs.map((r) => r.deref() === undefined);
}

describe("a node released by backward", () => {
  it("lets go of the intermediate tensors and the constant input of a loss kept after backward", async () => {
    const w = randn([16, 8], { requiresGrad: true });
    const kept: Tensor[] = [];
    const refs: WeakRef<Tensor>[] = [];
    (() => {
      for (let step = 0; step < 3; step++) {
        const batch = randn([4, 16]); // a new batch each step, as a data loader makes
        // Intermediates the graph reaches (as inputs of the nodes that read them, and saved
        // for their backward) until backward releases it.
        const hidden = batch.matmul(w);
        const active = hidden.relu();
        const loss = active.square().sum();
        loss.backward();
        kept.push(loss); // what a loss curve does
        refs.push(new WeakRef(batch), new WeakRef(hidden), new WeakRef(active));
      }
    })();
    expect(await collected(refs)).toEqual(Array(9).fill(true));
    // The parameter stays (it is the user's), and so does each loss's graph structure.
    expect(kept[2].gradFn!.op).toBe("sum");
    expect(w.grad!.shape).toEqual([16, 8]);
  });

  it("lets go of a retainGrad() intermediate, which has its gradient by then", async () => {
    const w = randn([4, 4], { requiresGrad: true });
    const kept: Tensor[] = [];
    const refs: WeakRef<Tensor>[] = [];
    let hGrad: number[] = [];
    (() => {
      const h = randn([2, 4]).matmul(w);
      h.retainGrad();
      const loss = h.exp().sum();
      loss.backward();
      hGrad = Array.from(h.grad!.toArray());
      kept.push(loss);
      refs.push(new WeakRef(h));
    })();
    expect(hGrad).toHaveLength(8);
    expect(await collected(refs)).toEqual([true]);
  });

  it("keeps every value while the graph is retained", async () => {
    const w = randn([4, 4], { requiresGrad: true });
    const refs: WeakRef<Tensor>[] = [];
    const kept: Tensor[] = [];
    (() => {
      const x = randn([2, 4]);
      const hidden = x.matmul(w);
      const loss = hidden.exp().sum();
      loss.backward({ retainGraph: true });
      kept.push(loss);
      refs.push(new WeakRef(x), new WeakRef(hidden));
    })();
    expect(await collected(refs)).toEqual([false, false]);
    // ...which a second backward then uses, releasing them.
    kept[0].backward();
    expect(await collected(refs)).toEqual([true, true]);
  });

  it("keeps parameters as tensors and describes every other input", () => {
    const w = randn([3, 2], { requiresGrad: true });
    w.name = "w";
    const x = randn([4, 3]);
    x.name = "x";
    const h = x.matmul(w);
    const loss = h.mul(h).sum();
    const mulNode = loss.gradFn!.inputs[0].gradFn!;
    const matmulNode = h.gradFn!;
    loss.backward();
    expect(matmulNode.inputs[1]).toBe(w);
    const released = matmulNode.inputs[0];
    expect(released).toBeInstanceOf(ReleasedInput);
    expect(released).toMatchObject({ shape: [4, 3], dtype: "float32", requiresGrad: false });
    expect(released.name).toBe("x");
    expect(released.gradFn).toBeNull();
    // An input a node made is known by that node.
    expect(mulNode.inputs.map((input) => input.gradFn)).toEqual([matmulNode, matmulNode]);
    expect(() => matmulNode.tensorInputs()).toThrow("matmul #");
    expect(() => matmulNode.tensorInputs()).toThrow("its inputs were released by backward");
  });

  it("still refuses a second backward, also for gradients of an input the released node read", () => {
    const w = randn([3], { requiresGrad: true });
    const h = w.mul(2);
    const r = h.exp();
    const a = r.sum();
    const b = r.mul(3).sum();
    a.backward();
    expect(() => a.backward()).toThrow(/backward through sum a second time/);
    // exp's node was released; its input h is found by the node that made it.
    expect(() => autogradGrad(b, [h])).toThrow(/backward through exp a second time/);
  });

  it("leaves gradients of a branch the released nodes do not lead to computable", () => {
    const x = randn([2, 3]);
    const w1 = randn([3, 3], { requiresGrad: true });
    const w2 = randn([3], { requiresGrad: true });
    const w3 = randn([3], { requiresGrad: true });
    const trunk = x.matmul(w1).tanh();
    const a = trunk.mul(w2).sum();
    const b = trunk.mul(w3).sum();
    a.backward(); // releases the trunk's nodes
    const [g3] = autogradGrad(b, [w3]);
    expect(Array.from(g3!.toArray())).toEqual(Array.from(trunk.sum(0).toArray()));
  });

  it("draws the graph after backward with its structure, the constants once and without their values", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    const c = tensor([3, 4]);
    c.name = "c";
    const loss = w.mul(c).add(c).sum(); // c read by two ops
    const before = graphListing(loss, { values: true });
    loss.backward();
    const after = graphListing(loss, { values: true, grads: true });
    expect(before.split("\n")).toHaveLength(5); // w, c, mul, add, sum
    expect(after.split("\n")).toEqual([
      "w = parameter [2] float32 = [1, 2], grad [3, 4]",
      "c = constant [2] float32 = (freed by backward)",
      expect.stringMatching(/^%\d+ = mul\(w, c\) -> \[2\] float32$/),
      expect.stringMatching(/^%\d+ = add\(%\d+, c\) -> \[2\] float32$/),
      expect.stringMatching(/^%\d+ = sum\(%\d+\) -> \[\] float32$/),
    ]);
  });

  it("draws a constant once when one of the nodes reading it was released and another not", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const c = tensor([3, 4]);
    const h = w.mul(c);
    const y2 = h.add(c).sum();
    h.sum().backward(); // releases mul (and the first sum), not add
    const lines = graphListing(y2, { values: true }).split("\n");
    expect(lines.filter((l) => l.includes("constant"))).toEqual([
      "leaf1 = constant [2] float32 = [3, 4]",
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^%\d+ = mul\(leaf0, leaf1\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^%\d+ = add\(%\d+, leaf1\)/));
  });
});
