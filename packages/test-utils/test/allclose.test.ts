// closeEnough and compareValues: torch.allclose's rule per element, and the worst element.

import { describe, expect, it } from "vitest";
import { closeEnough, compareValues } from "../src/index.js";

describe("closeEnough", () => {
  it("accepts |a - e| ≤ atol + rtol·|e| and nothing beyond", () => {
    expect(closeEnough(1.05, 1, 0, 0.1)).toBe(true);
    expect(closeEnough(1.11, 1, 0, 0.1)).toBe(false);
    expect(closeEnough(1e-13, 0, 1e-12, 0)).toBe(true);
  });

  it("matches NaN with NaN only, and an infinity with the same infinity only", () => {
    expect(closeEnough(Number.NaN, Number.NaN, 0, 0)).toBe(true);
    expect(closeEnough(Number.NaN, 1, 1, 1)).toBe(false);
    expect(closeEnough(Infinity, Infinity, 0, 0)).toBe(true);
    expect(closeEnough(Infinity, -Infinity, 1, 1)).toBe(false);
    expect(closeEnough(1e308, Infinity, 1, 1)).toBe(false);
  });
});

describe("compareValues", () => {
  it("counts the elements outside the tolerance and finds the worst", () => {
    const result = compareValues([1, 2.5, 3, Number.NaN], [1, 2, 3.1, 4], { atol: 0.2, rtol: 0 });
    expect(result.failures).toBe(2);
    expect(result.worst).toBe(3); // NaN against a number is infinitely far
    expect(compareValues([1, 2], [1, 2])).toEqual({ failures: 0, worst: -1, worstExcess: 0 });
  });

  it("refuses lists of different lengths", () => {
    expect(() => compareValues([1], [1, 2])).toThrow(/1 values against 2 expected/);
  });
});
