// The pieces of array reuse: the pool hands back arrays by type and length, and liveness says
// after which step a value dies, keeping what escapes (results, what effects receive) alive.

import { describe, expect, it } from "vitest";
import { liveness, ReplayPool, stepValues } from "../../src/compile/memory.js";
import { type Tensor, tensor, trace, zeros } from "../../src/index.js";

describe("ReplayPool", () => {
  it("hands back a released array for the same dtype and length only, once", () => {
    const pool = new ReplayPool();
    const array = new Float32Array(8);
    pool.release(array);
    expect(pool.bytes).toBe(32);
    expect(pool.take("float64", 8)).toBeUndefined();
    expect(pool.take("float32", 7)).toBeUndefined();
    expect(pool.take("float32", 8)).toBe(array);
    expect(pool.take("float32", 8)).toBeUndefined();
    expect(pool.bytes).toBe(0);
    expect(pool.reused).toBe(1);
  });
});

describe("liveness", () => {
  it("lets a large value die after its last read and keeps results and effect arguments", () => {
    const w = zeros([1024, 256]).requiresGrad_(); // 1 MiB per value: large enough to reuse
    const { graph } = trace(
      (x: Tensor) => {
        const a = x.mul(2); // read by the next call only
        const b = a.add(1); // the result
        w.grad = b.mul(3); // handed to an effect: escapes
        return b;
      },
      [tensor(new Float32Array(1024 * 256), { shape: [1024, 256] })],
    );
    const units = graph.nodes.filter((n) => n.kind !== "composite");
    const steps = units.map((u) => stepValues([u]));
    const { dies, escaping } = liveness(steps, graph.outputs);
    const [mul, add, mul3] = units;
    expect(dies[units.indexOf(add)]).toEqual([mul.outputs[0]]); // a dies once b is made
    expect(escaping.has(add.outputs[0])).toBe(true); // b is the result
    expect(escaping.has(mul3.outputs[0])).toBe(true); // assigned to .grad
    expect(dies.flat()).not.toContain(mul3.outputs[0]);
  });
});
