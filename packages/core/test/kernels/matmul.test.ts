import { describe, expect, it } from "vitest";
import { gemm } from "../../src/kernels/matmul.js";

describe("gemm", () => {
  it("multiplies row blocks of four and the leftover rows alike", () => {
    // a = [[1],[2],[3],[4],[5]] (5×1), b = [[1, 10]] (1×2): out row i = [i+1, 10(i+1)]
    const out = new Float64Array(10).fill(Number.NaN);
    gemm(
      new Float64Array([1, 2, 3, 4, 5]),
      0,
      1,
      1,
      new Float64Array([1, 10]),
      0,
      2,
      out,
      0,
      5,
      2,
      1,
    );
    expect(Array.from(out)).toEqual([1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
  });

  it("reads a transposed a through its strides", () => {
    // a stored as aᵀ = [[1, 2, 3, 4], [5, 6, 7, 8]] (2×4); a = 4×2, b = [[1], [1]]: out = row sums of a
    const out = new Float32Array(4);
    gemm(
      new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
      0,
      1,
      4,
      new Float32Array([1, 1]),
      0,
      1,
      out,
      0,
      4,
      1,
      2,
    );
    expect(Array.from(out)).toEqual([6, 8, 10, 12]);
  });
});
