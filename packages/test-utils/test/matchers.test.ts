// The toBeAllclose matcher itself: it must fail on shape mismatches, on differences beyond the
// tolerances and on NaN against a number, or every test that relies on it proves nothing.
// Tensors are stood in for by objects with `shape` and `toArray()`, which is all it reads.

import { describe, expect, it } from "vitest";

/** A row-major stand-in for a tensor of `shape`. */
function fakeTensor(values: number[], shape: number[]) {
  return { shape, toArray: () => Float64Array.from(values) };
}

describe("toBeAllclose", () => {
  it("passes within atol + rtol·|expected| and compares tensors with arrays and numbers", () => {
    expect(fakeTensor([1, 2], [2])).toBeAllclose([1 + 1e-13, 2]);
    expect(fakeTensor([3], [])).toBeAllclose(3);
    expect(1.05).toBeAllclose(1, { atol: 0, rtol: 0.1 });
    expect(fakeTensor([1, 2, 3, 4], [2, 2])).toBeAllclose([
      [1, 2],
      [3, 4],
    ]);
    expect(new Float32Array([0.5])).toBeAllclose([0.5]);
  });

  it("fails beyond the tolerance and names the worst element", () => {
    expect(() => expect(fakeTensor([1, 2], [2])).toBeAllclose([1, 2.001])).toThrow(
      /1 of 2 elements differ.*flat index 1: received 2, expected 2.001/,
    );
  });

  it("fails on a shape mismatch even when the values agree", () => {
    expect(() => expect(fakeTensor([1, 2], [1, 2])).toBeAllclose([1, 2])).toThrow(
      /expected shape \[2\] but received shape \[1, 2\]/,
    );
    expect(() => expect(fakeTensor([1], [1])).toBeAllclose(1)).toThrow(/expected shape \[\]/);
  });

  it("matches NaN only with NaN and infinities only with the same infinity", () => {
    expect([Number.NaN, Infinity]).toBeAllclose([Number.NaN, Infinity]);
    expect(() => expect([Number.NaN]).toBeAllclose([0])).toThrow(/differ/);
    expect(() => expect([Infinity]).toBeAllclose([-Infinity])).toThrow(/differ/);
  });

  it("refuses values it cannot read as numbers", () => {
    expect(() => expect("1").toBeAllclose(1)).toThrow(/cannot compare string/);
  });
});
