import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setKernelBackend } from "../../src/kernels/backend.js";
import { reduce, sumSquaredDeviations } from "../../src/kernels/reduce.js";

/** A contiguous view over `data` with the given shape. */
function view(data: Float64Array, shape: number[]) {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { data, shape, strides, offset: 0 };
}

for (const backend of ["js", "wasm"] as const) {
  describe(`the ${backend} backend`, () => {
    beforeEach(() => setKernelBackend(backend));
    afterEach(() => setKernelBackend("auto"));

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
  });
}

describe("reduce with the wasm backend forced", () => {
  afterEach(() => setKernelBackend("auto"));

  it("still walks a transposed (non-contiguous) view column by column", () => {
    // x is the [2, 3] transpose of [[1, 2], [3, 4], [5, 6]].
    const x = {
      data: new Float32Array([1, 2, 3, 4, 5, 6]),
      shape: [2, 3],
      strides: [1, 2],
      offset: 0,
    };
    setKernelBackend("wasm");
    const columns = new Float32Array(3);
    reduce("sum", x, [0], columns);
    const rows = new Float32Array(2);
    reduce("max", x, [1], rows);
    expect(Array.from(columns)).toEqual([3, 7, 11]);
    expect(Array.from(rows)).toEqual([5, 6]);
  });

  it("sums every element of a float32 tensor in order: (1e20 + 1) - 1e20 + 4 is 4", () => {
    const x = {
      data: new Float32Array([1e20, 1, -1e20, 4]),
      shape: [2, 2],
      strides: [2, 1],
      offset: 0,
    };
    setKernelBackend("wasm");
    const out = new Float64Array(1);
    reduce("sum", x, [0, 1], out);
    expect(out[0]).toBe(4);
  });
});

describe("reduce over the dims around one kept block (BatchNorm2d's channel sums)", () => {
  afterEach(() => setKernelBackend("auto"));

  /** Σ over n, then h·w, for each channel of [N, C, HW] values, in float64, as written. */
  function channelSums(data: ArrayLike<number>, n: number, c: number, hw: number): number[] {
    return Array.from({ length: c }, (_, ch) => {
      let total = 0;
      for (let i = 0; i < n; i++) for (let k = 0; k < hw; k++) total += data[(i * c + ch) * hw + k];
      return total;
    });
  }

  it.each([
    ["float32", [8, 16, 28, 28], [0, 2, 3]],
    ["float64", [5, 7, 3, 11], [0, 2, 3]],
    ["float32", [3, 4, 5, 6, 7], [0, 1, 4]],
    ["float32", [2, 3, 40000], [0, 2]],
  ] as const)(
    "sums %s %j over %j in wasm with the bits of the JS walk and of the plain definition",
    (dtype, shape, dims) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const Type = dtype === "float32" ? Float32Array : Float64Array;
      // Offset 3 into a larger array; large and small magnitudes so the order shows.
      const data: Float32Array | Float64Array = new Type(n + 3);
      for (let i = 0; i < n + 3; i++) data[i] = i % 7 === 3 ? 1e8 : Math.sin(i) * 10;
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const x = { data, shape: [...shape], strides, offset: 3 };
      const kept = shape.filter((_, d) => !(dims as readonly number[]).includes(d));
      const size = kept.reduce((a, b) => a * b, 1);
      const run = (backend: "js" | "wasm") => {
        setKernelBackend(backend);
        const out = new Type(size);
        reduce("sum", x, dims, out);
        return out;
      };
      const wasm = run("wasm");
      expect(Array.from(wasm)).toEqual(Array.from(run("js")));
      const first = dims.findIndex((d, i) => d !== i);
      const outer = shape.slice(0, first).reduce((a, b) => a * b, 1);
      const inner = n / outer / size;
      expect(Array.from(wasm)).toEqual(
        channelSums(data.subarray(3), outer, size, inner).map((v) =>
          Type === Float32Array ? Math.fround(v) : v,
        ),
      );
    },
  );
});
