// The multi-threaded GEMM against the single-threaded WebAssembly kernel: with 2 threads every
// product (threshold lowered to 0) must come out bit for bit the same (odd sizes, transposed and
// strided operands, the Cᵀ path, both float dtypes), and the settings must validate.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  getKernelThreads,
  kernelThreadsAvailable,
  matmul,
  setKernelBackend,
  setKernelThreads,
  slice,
  Tensor,
} from "../../src/index.js";
import {
  setMainThreadClaims,
  setThreadsMinMultiplyAdds,
  THREADS_MIN_MULTIPLY_ADDS,
} from "../../src/internal.js";
import { threadedGemm } from "../../src/kernels/gemm-threads.js";
import { seededValues } from "./seeded-values.js";

type FloatDType = "float32" | "float64";
type Layout = "contiguous" | "transposed" | "strided";

/** An [rows, cols] tensor in the given memory layout. */
function matrix(rows: number, cols: number, layout: Layout, dtype: FloatDType, seed: number) {
  const Array_ = dtype === "float32" ? Float32Array : Float64Array;
  const flat = Array_.from(seededValues(rows * (2 * cols + 1), seed));
  if (layout === "contiguous")
    return Tensor.fromTypedArray(flat.slice(0, rows * cols), [rows, cols]);
  if (layout === "transposed") {
    return Tensor.fromTypedArray(flat.slice(0, rows * cols), [cols, rows]).t();
  }
  return slice(Tensor.fromTypedArray(flat, [rows, 2 * cols + 1]), 1, 1, null, 2);
}

/** The product with 1 and with 2 threads (wasm backend), as plain arrays. */
function bothWays(a: Tensor, b: Tensor): [number[], number[]] {
  setKernelBackend("wasm");
  setKernelThreads(1);
  const one = Array.from(matmul(a, b).toArray() as ArrayLike<number>);
  setKernelThreads(2);
  const two = Array.from(matmul(a, b).toArray() as ArrayLike<number>);
  return [one, two];
}

// The threshold is lowered to 0 below, so every product with m ≥ 8 runs on 2 threads.
const SIZES: [number, number, number][] = [
  [133, 127, 129], // m, n, k all odd: packed A and B, padded tiles; 7 chunks of 20 rows, then 16
  [9, 51, 49], // chunks of 8 rows and 4 (1 valid)
  [128, 128, 136], // read in place
  [36, 26, 300], // two K blocks
  [8, 8, 1], // a single chunk, k = 1
];
const LAYOUTS: [Layout, Layout][] = [
  ["contiguous", "contiguous"],
  ["contiguous", "transposed"],
  ["transposed", "contiguous"],
  ["strided", "strided"],
];

beforeEach(() => setThreadsMinMultiplyAdds(0));

afterEach(() => {
  setMainThreadClaims(true);
  setThreadsMinMultiplyAdds(THREADS_MIN_MULTIPLY_ADDS);
  setKernelThreads(1);
  setKernelBackend("auto");
});

describe.runIf(kernelThreadsAvailable())("matmul with 2 kernel threads", () => {
  // claims false: the worker must compute every chunk; true: both threads race for chunks.
  for (const [claims, who] of [
    [false, "worker only"],
    [true, "shared"],
  ] as const) {
    for (const dtype of ["float32", "float64"] as const) {
      for (const [m, n, k] of SIZES) {
        for (const [la, lb] of LAYOUTS) {
          it(`matches 1 thread bit for bit (${who}): ${dtype} [${m},${k}] (${la}) @ [${k},${n}] (${lb})`, () => {
            setMainThreadClaims(claims);
            const a = matrix(m, k, la, dtype, m * 31 + k);
            const b = matrix(k, n, lb, dtype, n * 17 + k + 1);
            const [one, two] = bothWays(a, b);
            expect(two).toEqual(one);
          });
        }
      }
    }
  }

  it("matches 1 thread on the Cᵀ path (x @ wᵀ with a wide w): [16,512] @ [512,640]ᵀ-view", () => {
    setMainThreadClaims(false);
    const x = matrix(16, 512, "contiguous", "float32", 5);
    const w = matrix(512, 640, "transposed", "float32", 6);
    const [one, two] = bothWays(x, w);
    expect(two).toEqual(one);
  });

  it("gives the same results on repeated calls of different sizes (workers are reused)", () => {
    const a = matrix(133, 129, "contiguous", "float32", 1);
    const b = matrix(129, 127, "contiguous", "float32", 2);
    const c = matrix(64, 200, "contiguous", "float32", 3);
    const d = matrix(200, 256, "transposed", "float32", 4);
    const [ab1] = bothWays(a, b);
    const [cd1] = bothWays(c, d);
    setKernelThreads(2);
    setMainThreadClaims(false);
    for (let round = 0; round < 3; round++) {
      expect(Array.from(matmul(a, b).toArray() as ArrayLike<number>)).toEqual(ab1);
      expect(Array.from(matmul(c, d).toArray() as ArrayLike<number>)).toEqual(cd1);
    }
  });

  it("computes on the same workers after switching to 1 thread and back (they only slept)", () => {
    const a = matrix(96, 70, "contiguous", "float32", 7);
    const b = matrix(70, 48, "contiguous", "float32", 8);
    const [one] = bothWays(a, b);
    setMainThreadClaims(false); // every chunk must come from a worker
    for (const n of [2, 1, 2, 1, 2]) {
      setKernelThreads(n);
      expect(Array.from(matmul(a, b).toArray() as ArrayLike<number>)).toEqual(one);
    }
  });
});

describe("setKernelThreads", () => {
  it("defaults to 1 and reports the value set", () => {
    expect(getKernelThreads()).toBe(1);
    if (kernelThreadsAvailable()) {
      setKernelThreads(3);
      expect(getKernelThreads()).toBe(3);
    }
  });

  it("rejects counts that are not integers in 1..64, naming the function", () => {
    expect(() => setKernelThreads(0)).toThrow(/setKernelThreads: expected an integer in 1\.\.64/);
    expect(() => setKernelThreads(1.5)).toThrow(/got 1\.5/);
    expect(() => setKernelThreads(65)).toThrow(RangeError);
    expect(getKernelThreads()).toBe(1);
  });
});

describe.runIf(kernelThreadsAvailable())("threadedGemm's memory check", () => {
  it("keeps products on one thread when their operands and the raw copy of B exceed 1 GiB", () => {
    setKernelThreads(2);
    // float64 [16, 8192]·[8192, 8192]: B alone is 512 MiB, and packing copies it once more.
    expect(threadedGemm(16, 8192, 8192)).toBeNull();
    expect(threadedGemm(64, 512, 512)).not.toBeNull();
  });
});
