// Graph export: DOT output that names ops, shapes and dtypes and is structurally valid, and the
// text listing in topological order (inputs before the ops that use them).

import { describe, expect, it } from "vitest";
import { graphListing, type Tensor, tensor, toDot } from "../../src/index.js";

function smallGraph(): { loss: Tensor; w: Tensor } {
  const w = tensor([[1, 2, 3]], { requiresGrad: true });
  w.name = "w";
  const x = tensor([[0.5], [1], [-1]]);
  x.name = "x";
  const loss = w.matmul(x).tanh().sum();
  return { loss, w };
}

describe("toDot", () => {
  it("labels every op with its name, output shape and dtype, and leaves with their names", () => {
    const dot = toDot(smallGraph().loss);
    expect(dot).toMatch(/label="matmul\\n\[1, 1\] float32"/);
    expect(dot).toMatch(/label="tanh\\n\[1, 1\] float32"/);
    expect(dot).toMatch(/label="sum\\n\[\] float32"/);
    expect(dot).toMatch(/label="w \(parameter\)\\n\[1, 3\] float32"/);
    expect(dot).toMatch(/label="x \(constant\)\\n\[3, 1\] float32"/);
  });

  it("lays the graph out left to right unless asked for top to bottom", () => {
    expect(toDot(smallGraph().loss)).toContain('rankdir="LR"');
    expect(toDot(smallGraph().loss, { direction: "TB" })).toContain('rankdir="TB"');
  });

  it("is structurally valid: balanced braces and every edge between declared nodes", () => {
    const dot = toDot(smallGraph().loss, { values: true, grads: true });
    expect(dot.startsWith("digraph")).toBe(true);
    expect(dot.split("{").length).toBe(dot.split("}").length);
    const declared = new Set(
      [...dot.matchAll(/^\s+(\w+) \[shape=/gm)].map((match) => match[1] as string),
    );
    const edges = [...dot.matchAll(/^\s+(\w+) -> (\w+);$/gm)];
    expect(declared.size).toBe(5);
    expect(edges.length).toBe(4);
    for (const [, from, to] of edges) {
      expect(declared.has(from as string), from).toBe(true);
      expect(declared.has(to as string), to).toBe(true);
    }
  });

  it("shows values and gradients when asked", () => {
    const { loss, w } = smallGraph();
    loss.backward(undefined, { retainGraph: true });
    const dot = toDot(loss, { values: true, grads: true });
    expect(dot).toContain("value [1, 2, 3]");
    expect(w.grad).not.toBeNull();
    expect(dot).toMatch(/w \(parameter\)\\n\[1, 3\] float32\\nvalue \[1, 2, 3\]\\ngrad \[/);
  });
});

describe("graphListing", () => {
  it("lists leaves first, then each op after the ops it reads", () => {
    const lines = graphListing(smallGraph().loss).split("\n");
    expect(lines[0]).toBe("w = parameter [1, 3] float32");
    expect(lines[1]).toBe("x = constant [3, 1] float32");
    expect(lines[2]).toMatch(/^%(\d+) = matmul\(w, x\) -> \[1, 1\] float32$/);
    const matmulId = (lines[2] as string).match(/^%(\d+)/)?.[1];
    expect(lines[3]).toMatch(
      new RegExp(`^%(\\d+) = tanh\\(%${matmulId}\\) -> \\[1, 1\\] float32$`),
    );
    expect(lines[4]).toMatch(/^%\d+ = sum\(%\d+\) -> \[\] float32$/);
    expect(lines).toHaveLength(5);
  });
});

describe("graphListing with values and gradients, and unnamed leaves", () => {
  it("names unnamed leaves leaf0, leaf1, ... in creation order, whatever order the graph reads them in", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const lines = graphListing(b.mul(a).sum()).split("\n");
    expect(lines[0]).toBe("leaf0 = parameter [2] float32");
    expect(lines[1]).toBe("leaf1 = parameter [2] float32");
    expect(lines[2]).toMatch(/^%\d+ = mul\(leaf1, leaf0\) -> \[2\] float32$/);
  });

  it("shows values, and gradients of leaves and retained outputs, when asked", () => {
    const w = tensor([1, -2], { requiresGrad: true });
    w.name = "w";
    const h = w.mul(3);
    h.retainGrad();
    const loss = h.square().sum();
    loss.backward({ retainGraph: true });
    const lines = graphListing(loss, { values: true, grads: true }).split("\n");
    expect(lines[0]).toBe("w = parameter [2] float32 = [1, -2], grad [18, -36]");
    expect(lines[1]).toBe("leaf0 = constant [] float32 = [3]"); // the number 3, made after w
    expect(lines[2]).toMatch(
      /^%\d+ = mul\(w, leaf0\) -> \[2\] float32 = \[3, -6\], grad \[6, -12\]$/,
    );
    expect(graphListing(loss).split("\n")[0]).toBe("w = parameter [2] float32");
  });
});
