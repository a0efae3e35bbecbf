// sumProductsOverRows (kernels/reduce.ts) against its definition: the column sums, over rows in
// order, of the product materialised by the elementwise loops. Bit for bit, on sizes that span
// one chunk, several chunks and rows longer than a chunk, for both dtypes and both backends.

import { afterEach, describe, expect, it } from "vitest";
import { setKernelBackend } from "../../src/kernels/backend.js";
import { mapBinary, mulRow } from "../../src/kernels/elementwise.js";
import { reduce } from "../../src/kernels/reduce.js";
import { sumProductsOverRows } from "../../src/kernels/reduce-products.js";

/** Deterministic values in [-2, 2), with a few exact zeros, -0, NaN and ±Infinity mixed in. */
function values(count: number, seed: number, special: boolean): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, (_, i) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    if (special && i % 97 === 5) return [0, -0, Number.NaN, Number.POSITIVE_INFINITY][i % 4];
    return (state / 2 ** 32) * 4 - 2;
  });
}

afterEach(() => setKernelBackend("auto"));

const SHAPES: [number, number][] = [
  [1, 1],
  [2, 3],
  [17, 129],
  [129, 300],
  [3, 20000],
];

for (const backend of ["js", "wasm"] as const) {
  for (const dtype of ["float32", "float64"] as const) {
    describe(`sumProductsOverRows, ${dtype}, ${backend} backend`, () => {
      it.each(SHAPES)(
        "equals reduce(sum, dim 0) of the materialised [%i, %i] product",
        (rows, cols) => {
          setKernelBackend(backend);
          const Type = dtype === "float32" ? Float32Array : Float64Array;
          // Offsets 3 and 5 into larger arrays, as views of bigger tensors would have.
          const a = Type.from(values(rows * cols + 3, rows + cols, true));
          const b = Type.from(values(rows * cols + 5, rows * 7 + 1, rows > 2));
          const shape = [rows, cols];
          const strides = [cols, 1];
          const product = new Type(rows * cols);
          mapBinary(
            mulRow,
            { data: a, offset: 3, shape, strides },
            { data: b, offset: 5, shape, strides },
            shape,
            product,
          );
          const expected = new Float64Array(cols);
          reduce("sum", { data: product, offset: 0, shape, strides }, [0], expected);
          const got = new Float64Array(cols).fill(123); // overwritten, not added to
          sumProductsOverRows(a, 3, b, 5, rows, cols, got);
          expect(Array.from(got)).toEqual(Array.from(expected));
        },
      );
    });
  }
}
