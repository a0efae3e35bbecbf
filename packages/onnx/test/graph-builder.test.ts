import { describe, expect, it } from "vitest";
import { GraphBuilder, rawBytes } from "../src/graph-builder.js";

describe("rawBytes", () => {
  it("writes each element type little-endian, whatever the platform's byte order", () => {
    expect(Array.from(rawBytes([1], "float32"))).toEqual([0, 0, 0x80, 0x3f]);
    expect(Array.from(rawBytes([-2], "int32"))).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(Array.from(rawBytes([258], "int64"))).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(rawBytes([1], "float64"))).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    expect(Array.from(rawBytes([true, false, 1], "bool"))).toEqual([1, 0, 1]);
  });
});

describe("GraphBuilder", () => {
  it("makes fresh names that avoid reserved ones", () => {
    const g = new GraphBuilder();
    g.reserve("Relu", "a graph input");
    expect([g.fresh("Relu"), g.fresh("Relu"), g.fresh("x"), g.fresh("x")]).toEqual([
      "Relu_1",
      "Relu_2",
      "x",
      "x_1",
    ]);
  });

  it("refuses a name reserved twice, naming what it was for", () => {
    const g = new GraphBuilder();
    g.reserve("input0", "a graph input");
    expect(() => g.reserve("input0", "a graph output")).toThrow(
      'exportOnnx: the name "input0" of a graph output is used twice in the graph',
    );
  });

  it("stores one initializer per distinct constant", () => {
    const g = new GraphBuilder();
    const a = g.scalar(0.5, "float32");
    expect(g.scalar(0.5, "float32")).toBe(a);
    expect(g.scalar(0.5, "float64")).not.toBe(a);
    expect(g.int64s([0, 2])).not.toBe(g.int64s([0, 3]));
    expect(g.initializers.map((t) => [t.dims, t.data_type])).toEqual([
      [[], 1],
      [[], 11],
      [[2], 7],
      [[2], 7],
    ]);
  });

  it("adds nodes with typed attributes and fresh output names", () => {
    const g = new GraphBuilder();
    const [y] = g.node("Gemm", ["x", "w"], { transB: { i: 1 }, alpha: { f: 0.5 } });
    g.node("Transpose", [y], { perm: { ints: [1, 0] } }, ["out"]);
    expect(g.nodes).toEqual([
      {
        name: "Gemm",
        op_type: "Gemm",
        input: ["x", "w"],
        output: ["Gemm_out"],
        attribute: [
          { name: "transB", type: "INT", i: 1 },
          { name: "alpha", type: "FLOAT", f: 0.5 },
        ],
      },
      {
        name: "Transpose",
        op_type: "Transpose",
        input: ["Gemm_out"],
        output: ["out"],
        attribute: [{ name: "perm", type: "INTS", ints: [1, 0] }],
      },
    ]);
  });
});
