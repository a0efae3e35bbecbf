// The toBeAllclose matcher itself: it must fail on shape mismatches, on differences beyond the
// tolerances and on NaN against a number, or every test that relies on it proves nothing.

import { describe, expect, it } from "vitest";
import { tensor } from "../src/index.js";

describe("toBeAllclose", () => {
  it("passes within atol + rtol·|expected| and compares tensors with arrays and numbers", () => {
    expect(tensor([1, 2], { dtype: "float64" })).toBeAllclose([1 + 1e-13, 2]);
    expect(tensor(3, { dtype: "float64" })).toBeAllclose(3);
    expect(1.05).toBeAllclose(1, { atol: 0, rtol: 0.1 });
  });

  it("fails beyond the tolerance and names the worst element", () => {
    expect(() => expect(tensor([1, 2], { dtype: "float64" })).toBeAllclose([1, 2.001])).toThrow(
      /1 of 2 elements differ.*flat index 1: received 2, expected 2.001/,
    );
  });

  it("fails on a shape mismatch even when the values agree", () => {
    expect(() => expect(tensor([[1, 2]])).toBeAllclose([1, 2])).toThrow(
      /expected shape \[2\] but received shape \[1, 2\]/,
    );
  });

  it("matches NaN only with NaN and infinities only with the same infinity", () => {
    expect([Number.NaN, Infinity]).toBeAllclose([Number.NaN, Infinity]);
    expect(() => expect([Number.NaN]).toBeAllclose([0])).toThrow(/differ/);
    expect(() => expect([Infinity]).toBeAllclose([-Infinity])).toThrow(/differ/);
  });
});
