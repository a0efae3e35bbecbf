// Property tests for broadcasting binary ops: random compatible shapes, compared with a naive
// broadcast loop (forward) and with central differences (gradcheck, float64).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add,
  div,
  gradcheck,
  maximum,
  minimum,
  mul,
  sub,
  type Tensor,
  tensor,
} from "../../src/index.js";
import { broadcastShape, broadcastSource, indices, numel } from "./strided-reference.js";

/** Two shapes that broadcast together: a common shape with some dims set to 1 or dropped. */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 4 })
  .chain((base) =>
    fc.tuple(
      fc.constant(base),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }),
      fc.integer({ min: 0, max: base.length }),
    ),
  )
  .map(([base, onesA, onesB, drop]) => {
    const a = base.map((s, d) => (onesA[d] ? 1 : s));
    const b = base.map((s, d) => (onesB[d] ? 1 : s)).slice(drop);
    return [a, b] as const;
  });

/** Values in ±[0.5, 2): away from 0 (div) and, at random, from each other (max/min ties). */
function values(shape: readonly number[], seed: number): number[] {
  return Array.from({ length: numel(shape) }, (_, i) => {
    const v = Math.sin(seed * 7.1 + i * 1.37) * 1.5;
    return v >= 0 ? v + 0.5 : v - 0.5;
  });
}

const OPS: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
  ["add", add, (x, y) => x + y],
  ["sub", sub, (x, y) => x - y],
  ["mul", mul, (x, y) => x * y],
  ["div", div, (x, y) => x / y],
  ["maximum", maximum, (x, y) => Math.max(x, y)],
  ["minimum", minimum, (x, y) => Math.min(x, y)],
];

describe.each(OPS)("%s under broadcasting", (_, op, scalarOp) => {
  it("matches a naive broadcast loop for random shapes", () => {
    fc.assert(
      fc.property(broadcastPair, fc.integer({ min: 0, max: 1000 }), ([sa, sb], seed) => {
        const va = values(sa, seed);
        const vb = values(sb, seed + 1);
        const out = op(
          tensor(va, { dtype: "float64", shape: sa }),
          tensor(vb, { dtype: "float64", shape: sb }),
        );
        const shape = broadcastShape(sa, sb);
        expect(out.shape).toEqual(shape);
        const expected = [...indices(shape)].map((index) =>
          scalarOp(va[broadcastSource(index, sa)], vb[broadcastSource(index, sb)]),
        );
        expect(out).toBeAllclose(tensor(expected, { dtype: "float64", shape }), {
          atol: 0,
          rtol: 0,
        });
      }),
      { numRuns: 40 },
    );
  });

  it("has gradients that agree with central differences for random shapes", () => {
    fc.assert(
      fc.property(broadcastPair, fc.integer({ min: 0, max: 1000 }), ([sa, sb], seed) => {
        const a = tensor(values(sa, seed), { dtype: "float64", shape: sa, requiresGrad: true });
        const b = tensor(values(sb, seed + 2), { dtype: "float64", shape: sb, requiresGrad: true });
        expect(gradcheck(op, [a, b])).toBe(true);
      }),
      { numRuns: 15 },
    );
  });
});

describe("type promotion and bool arithmetic (PyTorch's rules)", () => {
  it("lets a 0-d tensor decide the dtype only when it is of a higher category", () => {
    const f32 = tensor([1, 2]);
    expect(add(f32, tensor(1, { dtype: "float64" })).dtype).toBe("float32");
    expect(add(tensor([1, 2], { dtype: "int32" }), tensor(1.5, { dtype: "float64" })).dtype).toBe(
      "float64",
    );
    expect(add(tensor([1, 2], { dtype: "bool" }), tensor(1, { dtype: "int32" })).dtype).toBe(
      "int32",
    );
    expect(add(tensor(1), tensor(1, { dtype: "float64" })).dtype).toBe("float64");
    expect(add(f32, tensor([1, 1], { dtype: "float64" })).dtype).toBe("float64");
  });

  it("adds bool tensors as a logical or and refuses an alpha", () => {
    const t = tensor([1, 1, 0], { dtype: "bool" });
    const sum = add(t, t);
    expect(sum.dtype).toBe("bool");
    expect(Array.from(sum.toArray())).toEqual([1, 1, 0]);
    expect(() => add(t, t, 3)).toThrow(/add: alpha 3 is not allowed when both operands are bool/);
  });
});

describe("pow follows C's pow at the special values", () => {
  it("gives 1 for a base of 1 with any exponent and for (-1)^±inf", () => {
    expect(
      Array.from(
        tensor([1, -1, -1])
          .pow(tensor([Number.NaN, Infinity, -Infinity]))
          .toArray(),
      ),
    ).toEqual([1, 1, 1]);
    expect(Array.from(tensor([1, -1]).pow(Infinity).toArray())).toEqual([1, 1]);
  });
});
