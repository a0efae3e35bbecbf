// trace(): the graph of op calls a function makes, with composites holding their calls,
// captured tensors named, and reads of tensor values refused while tracing.

import { describe, expect, it } from "vitest";
import {
  customOp,
  embedding,
  linear,
  noGrad,
  randn,
  type Tensor,
  TracedValue,
  TraceError,
  tensor,
  trace,
} from "../../src/index.js";

describe("trace", () => {
  it("records primitive calls in order with values for tensors and other arguments as given", () => {
    const w = tensor([
      [1, 2],
      [3, 4],
    ]);
    const x = tensor([[1, -1]]);
    const { graph, result } = trace((x) => x.matmul(w).relu().sum(1, true), [x], {
      names: new Map([[w, "w"]]),
      inputNames: ["x"],
    });
    expect(graph.nodes.map((n) => n.op)).toEqual(["matmul", "relu", "sum"]);
    const [matmul, relu, sum] = graph.nodes;
    expect(matmul.args).toEqual([graph.inputs[0], graph.values.find((v) => v.name === "w")]);
    expect(relu.args).toEqual([matmul.outputs[0]]);
    expect(sum.args.slice(1)).toEqual([1, true]);
    expect(graph.outputs).toEqual(sum.outputs);
    expect(graph.outputs[0].shape).toEqual([1, 1]);
    expect(result.tolist()).toEqual([[0]]); // relu([-2, -2]) summed: the function really ran
    expect(matmul.outputs[0].producer).toBe(matmul);
    expect(graph.values.find((v) => v.name === "w")?.source).toBe("captured");
    expect(graph.values.find((v) => v.name === "w")?.tensor).toBe(w);
    expect(graph.toString()).toContain("= matmul(x, w)");
  });

  it("keeps composites whole with their calls as children, and primitives() opens them", () => {
    const w = randn([3, 2]);
    const b = randn([3]);
    const { graph } = trace((x) => linear(x, w, b).logsumexp(1), [randn([4, 2])]);
    expect(graph.nodes.map((n) => [n.op, n.kind])).toEqual([
      ["linear", "composite"],
      ["logsumexp", "composite"],
    ]);
    const [lin] = graph.nodes;
    expect(lin.children.map((n) => n.op)).toEqual(["t", "matmul", "add"]);
    expect(lin.children[0].parent).toBe(lin);
    // The composite's output is the value its last call made.
    expect(lin.outputs[0]).toBe(lin.children[2].outputs[0]);
    const ops = graph.primitives().map((n) => n.op);
    expect(ops.slice(0, 3)).toEqual(["transpose", "matmul", "add"]);
    expect(ops).not.toContain("logsumexp");
    expect(ops).toContain("exp");
  });

  it("records detach() as a call, so what depends on the input is never a constant", () => {
    const { graph } = trace((x) => x.logsumexp(0), [randn([3])]);
    expect(graph.values.filter((v) => v.source === "captured")).toEqual([]);
    expect(graph.allNodes.some((n) => n.op === "detach")).toBe(true);
  });

  it("takes custom ops whole and records in-place updates", () => {
    const double = customOp({
      name: "double",
      forward: (_ctx, x) => x.mul(2),
      backward: (_ctx, g) => [g.mul(2)],
    });
    const buffer = tensor([0, 0]);
    const { graph } = trace(
      (x) => {
        const y = double(x);
        noGrad(() => buffer.add_(y));
        return y;
      },
      [tensor([1, 2])],
      { names: new Map([[buffer, "buffer"]]) },
    );
    expect(graph.nodes.map((n) => [n.op, n.kind])).toEqual([
      ["double", "custom"],
      ["add_", "inplace"],
    ]);
    expect(graph.primitives().map((n) => n.op)).toEqual(["double", "add_"]);
    expect(graph.nodes[1].inputs.map((v) => v.label)).toEqual(["buffer", graph.outputs[0].label]);
    expect(buffer.tolist()).toEqual([2, 4]);
  });

  it("refuses item(), tolist() and toArray() in the traced function, naming the op and the line", () => {
    const branchy = (x: Tensor) => (x.sum().item() > 0 ? x : x.neg());
    let error: unknown;
    try {
      trace(branchy, [tensor([1, 2])]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TraceError);
    expect(String(error)).toContain("item() reads the output of sum (shape [])");
    expect(String(error)).toContain("where(condition, a, b)");
    expect(String(error)).toContain("trace.test.ts"); // the line of branchy
    expect(() => trace((x) => tensor(x.tolist() as number[]), [tensor([1])])).toThrow(
      "tolist() reads input0 (shape [1])",
    );
    expect(() => trace((x) => x.toArray(), [tensor([1])])).toThrow("toArray() reads input0");
  });

  it("lets ops read their own inputs and leaves reads alone once tracing is over", () => {
    // embedding checks its indices by reading them: not the traced function's decision.
    const weight = randn([5, 2]);
    const { graph } = trace((i) => embedding(i, weight), [tensor([0, 4], { dtype: "int32" })]);
    expect(graph.nodes.map((n) => n.op)).toEqual(["embedding"]);
    expect(tensor([3]).item()).toBe(3);
  });

  it("forgets a call that threw and stops tracing", () => {
    expect(() => trace((x) => x.matmul(randn([5, 5])), [randn([2, 3])])).toThrow("matmul");
    expect(tensor([1]).item()).toBe(1);
    const { graph } = trace(
      (x) => {
        try {
          x.matmul(randn([5, 5]));
        } catch {
          // the failed call leaves no node behind
        }
        return x.neg();
      },
      [randn([2, 3])],
    );
    // randn succeeded (a creation call), matmul threw and left nothing.
    expect(graph.nodes.map((n) => [n.op, n.kind])).toEqual([
      ["randn", "creation"],
      ["neg", "elementwise"],
    ]);
  });

  it("refuses bad arguments and asynchronous functions", () => {
    const x = tensor([1]);
    expect(() => trace(42 as never, [x])).toThrow("trace: expected a function, got number");
    expect(() => trace((a) => a, [1 as never])).toThrow(
      "trace: inputs must be an array of tensors",
    );
    expect(() => trace((a, b) => a.add(b), [x, x])).toThrow(
      "trace: input 1 is the same tensor as an earlier input",
    );
    expect(() => trace(async (a) => a, [x])).toThrow("returned a Promise");
  });

  it("describes every value with shape, dtype and source", () => {
    const { graph } = trace((x) => x.double().mul(2), [tensor([1, 2])]);
    for (const v of graph.values) expect(v).toBeInstanceOf(TracedValue);
    expect(graph.outputs[0].dtype).toBe("float64");
    expect(graph.inputs[0].source).toBe("input");
    expect(graph.outputs[0].source).toBe("op");
    expect(graph.outputs[0].tensor).toBeNull();
  });
});
