import { describe, expect, it } from "vitest";
import { compareGradients, firstDisagreement, formatComparison, tensor } from "../../src/index.js";

describe("compareGradients", () => {
  it("reports the largest absolute and relative differences against the expected side", () => {
    const [row] = compareGradients({
      dx: [tensor([1, 2.5, -4], { dtype: "float64" }), tensor([1, 2, -5], { dtype: "float64" })],
    });
    expect(row.name).toBe("dx");
    expect(row.shape).toEqual([3]);
    // |2.5 - 2| = 0.5 (rel 0.25); |-4 - -5| = 1 (rel 0.2)
    expect(row.maxAbsDiff).toBe(1);
    expect(row.maxRelDiff).toBe(0.25);
    expect(row.ok).toBe(false);
  });

  it("accepts differences within atol + rtol·|expected| elementwise, like allclose", () => {
    const expected = tensor([100, 0], { dtype: "float64" });
    const within = tensor([100.0005, 1e-7], { dtype: "float64" });
    const outside = tensor([100.002, 1e-7], { dtype: "float64" });
    const rows = compareGradients(
      { within: [within, expected], outside: [outside, expected] },
      { atol: 1e-6, rtol: 1e-5 },
    );
    // bound for element 0: 1e-6 + 1e-5 * 100 = 1.001e-3
    expect(rows.map((r) => r.ok)).toEqual([true, false]);
    expect(rows[0].maxRelDiff).toBe(Number.POSITIVE_INFINITY);
  });

  it("gives the scale factor when one gradient is a multiple of the other", () => {
    const [row] = compareGradients({
      dvar: [tensor([3, -6, 9], { dtype: "float64" }), tensor([1, -2, 3], { dtype: "float64" })],
    });
    expect(row.ratio).toBeCloseTo(3, 12);
    expect(row.ok).toBe(false);
  });

  it("leaves the ratio undefined when the expected gradient is all zeros", () => {
    const [row] = compareGradients({ z: [tensor([0, 1]), tensor([0, 0])] });
    expect(row.ratio).toBeUndefined();
  });

  it("compares a float32 gradient against a float64 reference", () => {
    const [row] = compareGradients(
      { g: [tensor([0.1], { dtype: "float32" }), tensor([0.1], { dtype: "float64" })] },
      { atol: 1e-7, rtol: 1e-6 },
    );
    expect(row.ok).toBe(true);
    expect(row.maxAbsDiff).toBeGreaterThan(0);
  });

  it("treats a NaN on either side as a mismatch", () => {
    const [row] = compareGradients({ g: [tensor([Number.NaN, 1]), tensor([0, 1])] });
    expect(row.ok).toBe(false);
    expect(row.maxAbsDiff).toBeNaN();
  });

  it("names the gradient and both shapes when the shapes differ", () => {
    expect(() => compareGradients({ dgamma: [tensor([1, 2]), tensor([[1, 2]])] })).toThrow(
      /"dgamma" has shape \[2\] but its reference has shape \[1, 2\]/,
    );
  });
});

describe("firstDisagreement", () => {
  it("returns the first row that is not ok, in the order given", () => {
    const same = tensor([1, 2]);
    const other = tensor([1, 3]);
    const rows = compareGradients({
      dxHat: [same, same],
      dvar: [other, same],
      dmean: [same, same],
      dx: [other, same],
    });
    expect(firstDisagreement(rows)?.name).toBe("dvar");
    expect(firstDisagreement(rows.filter((r) => r.ok))).toBeUndefined();
  });
});

describe("formatComparison", () => {
  it("prints one line per gradient with its verdict", () => {
    const same = tensor([1, 2]);
    const text = formatComparison(
      compareGradients({ dbeta: [same, same], dx: [tensor([2, 4]), same] }),
    );
    const lines = text.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^dbeta\s+\[2\]\s+0\.00e\+0\s+0\.00e\+0\s+1\.00000\s+ok$/);
    expect(lines[2]).toMatch(/^dx .*2\.00000\s+MISMATCH$/);
  });
});
