import { describe, expect, it } from "vitest";
import { reduce, sumSquaredDeviations } from "../../src/kernels/reduce.js";

/** A contiguous view over `data` with the given shape. */
function view(data: Float64Array, shape: number[]) {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { data, shape, strides, offset: 0 };
}

describe("reduce over leading dims of a contiguous view", () => {
  it("sums dims 0 and 1 of [2, 2, 3] into the 3 trailing columns", () => {
    const x = view(
      Float64Array.from({ length: 12 }, (_, i) => i),
      [2, 2, 3],
    );
    const out = new Float64Array(3);
    reduce("sum", x, [0, 1], out);
    expect(Array.from(out)).toEqual([0 + 3 + 6 + 9, 1 + 4 + 7 + 10, 2 + 5 + 8 + 11]);
  });

  it("adds each column's rows in order 0..n-1, as the column walk does", () => {
    // Column 0 holds 1e16, 1, -1e16: (1e16 + 1) - 1e16 is 0 in float64, (1e16 - 1e16) + 1 is 1.
    const x = view(new Float64Array([1e16, 2, 1, 1, -1e16, 0]), [3, 2]);
    const out = new Float64Array(2);
    reduce("sum", x, [0], out);
    expect(Array.from(out)).toEqual([0, 3]);
  });

  it("multiplies dim 0 of [3, 2] column by column", () => {
    const x = view(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    const out = new Float64Array(2);
    reduce("prod", x, [0], out);
    expect(Array.from(out)).toEqual([15, 48]);
  });
});

describe("sumSquaredDeviations", () => {
  // [2, 3]: rows 1, 2, 3 and 3, 6, 9.
  const x = view(new Float64Array([1, 2, 3, 3, 6, 9]), [2, 3]);

  it("sums (x - mean)² down the columns when the leading dim is reduced", () => {
    const out = new Float64Array(3);
    sumSquaredDeviations(x, [0], new Float64Array([2, 4, 6]), out);
    expect(Array.from(out)).toEqual([2, 8, 18]);
  });

  it("sums (x - mean)² along the rows when the trailing dim is reduced", () => {
    const out = new Float64Array(2);
    sumSquaredDeviations(x, [1], new Float64Array([2, 6]), out);
    expect(Array.from(out)).toEqual([2, 18]);
  });
});
