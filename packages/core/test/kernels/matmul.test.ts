// Both matmul kernels (blocked JS, WebAssembly SIMD) against plain triple loops written here:
// odd sizes that exercise every tile edge, transposed and strided operands, batches, both float
// dtypes. The references fix the summation order (p = 0..k-1, in groups of 64 for the float32
// WebAssembly kernel), so the comparisons are exact.

import { afterEach, describe, expect, it } from "vitest";
import { matmul, setKernelBackend, slice, Tensor, zeros } from "../../src/index.js";
import { sharedGemmMemoryBytes } from "../../src/kernels/gemm-wasm.js";
import { setWasmMaxScratchBytes } from "../../src/kernels/matmul.js";
import { seededValues } from "./seeded-values.js";

type FloatDType = "float32" | "float64";
type Layout = "contiguous" | "transposed" | "strided";

/** An [rows, cols] tensor in the given memory layout, with its logical values as nested rows. */
function matrix(rows: number, cols: number, layout: Layout, dtype: FloatDType, seed: number) {
  const Array_ = dtype === "float32" ? Float32Array : Float64Array;
  const flat = Array_.from(seededValues(rows * cols * 2 + 3, seed));
  let t: Tensor;
  let at: (i: number, j: number) => number;
  if (layout === "contiguous") {
    t = Tensor.fromTypedArray(flat.slice(0, rows * cols), [rows, cols]);
    at = (i, j) => flat[i * cols + j];
  } else if (layout === "transposed") {
    t = Tensor.fromTypedArray(flat.slice(0, rows * cols), [cols, rows]).t();
    at = (i, j) => flat[j * rows + i];
  } else {
    // Every other column of a [rows, 2*cols + 1] matrix, starting at column 1.
    const wide = Tensor.fromTypedArray(flat.slice(0, rows * (2 * cols + 1)), [rows, 2 * cols + 1]);
    t = slice(wide, 1, 1, null, 2);
    at = (i, j) => flat[i * (2 * cols + 1) + 1 + 2 * j];
  }
  return { t, at };
}

/**
 * Σ_p a(i,p)·b(p,j) in p order, rounding like the kernel under test. With `roundEachStep` (the
 * float32 WebAssembly kernel) every product and sum is rounded, and the products are summed in
 * groups of 64 consecutive p from +0, each group's sum then added to the running total.
 */
function reference(
  a: (i: number, j: number) => number,
  b: (i: number, j: number) => number,
  [m, n, k]: [number, number, number],
  round: (x: number) => number,
  roundEachStep: boolean,
): number[] {
  const group = roundEachStep ? 64 : k;
  const out: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let g = 0; g < k; g += group) {
        let run = 0;
        for (let p = g; p < Math.min(g + group, k); p++) {
          run = roundEachStep ? round(run + round(a(i, p) * b(p, j))) : run + a(i, p) * b(p, j);
        }
        acc = g === 0 ? run : round(acc + run);
      }
      out.push(round(acc));
    }
  }
  return out;
}

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 3],
  [17, 3, 129],
  [129, 17, 17],
  [5, 129, 260],
  // Sizes the wasm tiles read in place (m % 4 == 0, n % 8 == 0), across two K blocks and two M
  // blocks; [4, 40, 20] with a transposed B runs as Cᵀ = Bᵀ·Aᵀ.
  [8, 16, 300],
  [132, 24, 7],
  [4, 40, 20],
];
const LAYOUTS: [Layout, Layout][] = [
  ["contiguous", "contiguous"],
  ["contiguous", "transposed"],
  ["transposed", "contiguous"],
  ["strided", "strided"],
];

afterEach(() => setKernelBackend("auto"));

for (const backend of ["js", "wasm"] as const) {
  for (const dtype of ["float32", "float64"] as const) {
    // float32: wasm rounds every step to float32; JS accumulates in float64 and rounds once.
    const round = dtype === "float32" ? Math.fround : (x: number) => x;
    const roundEachStep = dtype === "float32" && backend === "wasm";
    describe(`${backend} kernel, ${dtype}`, () => {
      for (const [m, n, k] of SIZES) {
        for (const [la, lb] of LAYOUTS) {
          it(`multiplies [${m},${k}] (${la}) by [${k},${n}] (${lb}) exactly like the p-ordered loop`, () => {
            setKernelBackend(backend);
            const a = matrix(m, k, la, dtype, m * 31 + k);
            const b = matrix(k, n, lb, dtype, n * 17 + k + 1);
            const out = matmul(a.t, b.t);
            expect(out.shape).toEqual([m, n]);
            expect(out.dtype).toBe(dtype);
            expect(Array.from(out.toArray())).toEqual(
              reference(a.at, b.at, [m, n, k], round, roundEachStep),
            );
          });
        }
      }

      it("multiplies a broadcast batch: [2,3,5,7] @ [3,7,4] (B transposed per batch)", () => {
        setKernelBackend(backend);
        const Array_ = dtype === "float32" ? Float32Array : Float64Array;
        const aFlat = Array_.from(seededValues(2 * 3 * 5 * 7, 7));
        const bFlat = Array_.from(seededValues(3 * 4 * 7, 8));
        const a = Tensor.fromTypedArray(aFlat, [2, 3, 5, 7]);
        const b = Tensor.fromTypedArray(bFlat, [3, 4, 7]).transpose(-1, -2);
        const out = matmul(a, b);
        expect(out.shape).toEqual([2, 3, 5, 4]);
        const expected: number[] = [];
        for (let x = 0; x < 2; x++) {
          for (let y = 0; y < 3; y++) {
            const at = (i: number, p: number) => aFlat[((x * 3 + y) * 5 + i) * 7 + p];
            const bt = (p: number, j: number) => bFlat[(y * 4 + j) * 7 + p];
            expected.push(...reference(at, bt, [5, 4, 7], round, roundEachStep));
          }
        }
        expect(Array.from(out.toArray())).toEqual(expected);
      });

      it("multiplies every batch by a shared B: [2,3,5,7] @ [7,4], with A's batches in either order", () => {
        setKernelBackend(backend);
        const Array_ = dtype === "float32" ? Float32Array : Float64Array;
        const aFlat = Array_.from(seededValues(2 * 3 * 5 * 7, 9));
        const bFlat = Array_.from(seededValues(7 * 4, 10));
        const b = Tensor.fromTypedArray(bFlat, [7, 4]);
        const bt = (p: number, j: number) => bFlat[p * 4 + j];
        // Row-major batches (one [30, 7] @ [7, 4] product) and permuted batches (one per batch).
        const layouts = [
          {
            a: Tensor.fromTypedArray(aFlat, [2, 3, 5, 7]),
            at: (x: number, y: number) => x * 3 + y,
          },
          {
            a: Tensor.fromTypedArray(aFlat, [3, 2, 5, 7]).transpose(0, 1),
            at: (x: number, y: number) => y * 2 + x,
          },
        ];
        for (const { a, at: batchOf } of layouts) {
          const expected: number[] = [];
          for (let x = 0; x < 2; x++) {
            for (let y = 0; y < 3; y++) {
              const at = (i: number, p: number) => aFlat[(batchOf(x, y) * 5 + i) * 7 + p];
              expected.push(...reference(at, bt, [5, 4, 7], round, roundEachStep));
            }
          }
          expect(Array.from(matmul(a, b).toArray())).toEqual(expected);
        }
      });

      it("returns zeros when the inner size is 0", () => {
        setKernelBackend(backend);
        const out = matmul(zeros([3, 0], { dtype }), zeros([0, 2], { dtype }));
        expect(Array.from(out.toArray())).toEqual([0, 0, 0, 0, 0, 0]);
      });
    });
  }
}

describe("auto backend", () => {
  it("gives float64 results identical to the JS kernel for sizes above the wasm threshold", () => {
    const a = matrix(40, 33, "transposed", "float64", 1).t;
    const b = matrix(33, 50, "contiguous", "float64", 2).t;
    const auto = matmul(a, b).toArray();
    setKernelBackend("js");
    expect(Array.from(auto)).toEqual(Array.from(matmul(a, b).toArray()));
  });

  it("keeps int32 matmul on the exact integer loop", () => {
    const a = Tensor.fromTypedArray(Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = Tensor.fromTypedArray(Int32Array.from([7, 8, 9, 10, 11, 12]), [3, 2]);
    const out = matmul(a, b);
    expect(out.dtype).toBe("int32");
    expect(Array.from(out.toArray())).toEqual([58, 64, 139, 154]);
  });
});

describe("large and skinny products", () => {
  afterEach(() => setWasmMaxScratchBytes(null));

  /** [1, k] @ [k, 1] with seeded float32 values, and the kernel results to compare against. */
  function skinny(k: number) {
    const a = matrix(1, k, "contiguous", "float32", 5);
    const b = matrix(k, 1, "contiguous", "float32", 6);
    const js = reference(a.at, b.at, [1, 1, k], Math.fround, false)[0];
    const wasm = reference(a.at, b.at, [1, 1, k], Math.fround, true)[0];
    return { a: a.t, b: b.t, js, wasm };
  }

  it("run a matrix-vector product on the JS kernel under auto, where padding would blow it up", () => {
    const { a, b, js, wasm } = skinny(1 << 20);
    expect(js).not.toBe(wasm); // the two kernels round differently, so the result tells which ran
    expect(matmul(a, b).item()).toBe(js);
  });

  it("compute on the JS kernel when WebAssembly scratch would pass its limit, even under wasm", () => {
    setKernelBackend("wasm");
    setWasmMaxScratchBytes(1 << 20);
    const { a, b, js } = skinny(1 << 17); // 6.5 MiB of padded scratch
    expect(matmul(a, b).item()).toBe(js);
  });

  it("run a product needing more than 64 MiB of scratch on memory of its own, not the shared one", () => {
    setKernelBackend("wasm");
    const small = matrix(8, 8, "contiguous", "float32", 1).t;
    matmul(small, small); // the shared instance exists
    const before = sharedGemmMemoryBytes();
    const { a, b, wasm } = skinny(1 << 21); // 104 MiB of padded scratch
    expect(matmul(a, b).item()).toBe(wasm);
    expect(sharedGemmMemoryBytes()).toBe(before);
    expect(before).toBeLessThan(64 << 20);
  });
});
