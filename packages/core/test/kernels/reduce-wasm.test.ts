import { afterEach, describe, expect, it } from "vitest";
import { setKernelBackend } from "../../src/kernels/backend.js";
import { reduce, sumSquaredDeviations } from "../../src/kernels/reduce.js";
import {
  columnSumsWasm,
  rowReduceWasm,
  wasmReduceAvailable,
} from "../../src/kernels/reduce-wasm.js";

type FloatArray = Float32Array | Float64Array;
type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/** Deterministic values in [-2, 2) with NaN, ±Inf and ±0 sprinkled in when `specials` is set. */
function numbers(count: number, seed: number, specials = false): number[] {
  let state = seed >>> 0;
  const pick = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0];
  return Array.from({ length: count }, (_, i) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    if (specials && i % 97 === 13) return pick[state % pick.length];
    return (state / 2 ** 32) * 4 - 2;
  });
}

function values(Kind: FloatArrayConstructor, count: number, seed: number, specials = false) {
  return new Kind(numbers(count, seed, specials));
}

/** A contiguous view of `shape` over `data` starting at `offset`. */
function view(data: FloatArray, shape: number[], offset = 0) {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { data, shape, strides, offset };
}

/** Runs `f` under the JS and the wasm backend and returns both outputs. */
function bothBackends(f: () => ArrayLike<number>): [number[], number[]] {
  setKernelBackend("js");
  const js = Array.from(f());
  setKernelBackend("wasm");
  const wasm = Array.from(f());
  return [js, wasm];
}

/** Element-wise Object.is, so NaN matches NaN and -0 does not match +0. */
function expectSameBits(actual: number[], expected: number[]) {
  expect(actual.length).toBe(expected.length);
  const differing = actual.findIndex((v, i) => !Object.is(v, expected[i]));
  expect(differing, `first difference at ${differing}`).toBe(-1);
}

const shapes: [number, number][] = [
  [1, 1],
  [3, 1],
  [1, 17],
  [17, 3],
  [129, 17],
  [3, 1000],
  [129, 300],
  [1030, 33],
  [3, 8200],
  [5, 40000],
];

afterEach(() => setKernelBackend("auto"));

describe("wasm reductions", () => {
  it("are available in Node 20", () => {
    expect(wasmReduceAvailable()).toBe(true);
  });

  it("sum each column over the rows in order (1e16 + 1 - 1e16 is 0, not 1)", () => {
    const data = new Float64Array([1e16, 2, 1, 1, -1e16, 0]);
    const out = new Float64Array(2);
    columnSumsWasm(data, 0, 3, 2, null, out);
    expect(Array.from(out)).toEqual([0, 3]);
  });

  it("sum squared deviations from each column's mean", () => {
    const data = new Float32Array([1, 2, 3, 3, 6, 9]);
    const out = new Float64Array(3);
    columnSumsWasm(data, 0, 2, 3, new Float64Array([2, 4, 6]), out);
    expect(Array.from(out)).toEqual([2, 8, 18]);
  });

  for (const Kind of [Float32Array, Float64Array]) {
    const dtype = Kind.name;
    it(`give column sums of ${dtype} data bit-identical to the JS kernel, at offsets`, () => {
      for (const [rows, cols] of shapes) {
        const offset = rows % 5;
        const data = values(Kind, offset + rows * cols + 2, rows * cols, true);
        const x = view(data, [rows, cols], offset);
        const [js, wasm] = bothBackends(() => {
          const out = new Float64Array(cols);
          reduce("sum", x, [0], out);
          return out;
        });
        expectSameBits(wasm, js);
      }
    });

    it(`give squared deviations of ${dtype} data bit-identical to the JS kernel`, () => {
      for (const [rows, cols] of shapes) {
        const data = values(Kind, 1 + rows * cols, cols, rows === 17);
        const x = view(data, [rows, cols], 1);
        const mean = new Float64Array(numbers(cols, 5));
        const [js, wasm] = bothBackends(() => {
          const out = new Float64Array(cols);
          sumSquaredDeviations(x, [0], mean, out);
          return out;
        });
        expectSameBits(wasm, js);
      }
    });

    for (const kind of ["sum", "max"] as const) {
      const what = kind === "sum" ? "sums" : "maxima";
      it(`give row ${what} of ${dtype} data bit-identical to the JS kernel, at offsets`, () => {
        for (const [rows, cols] of shapes) {
          const offset = cols % 3;
          const data = values(Kind, offset + rows * cols, rows + cols, true);
          const x = view(data, [rows, cols], offset);
          const [js, wasm] = bothBackends(() => {
            const out = new Kind(rows);
            reduce(kind, x, [1], out);
            return out;
          });
          expectSameBits(wasm, js);
        }
      });
    }
  }

  it("sum each row in order (1e16 + 1 - 1e16 is 0) from +0 (a row of -0 sums to +0)", () => {
    const data = new Float64Array([9, 1e16, 1, -1e16, -0, -0, -0, 1, 2, 3, 4, 5, 6]);
    const out = new Float64Array(4);
    rowReduceWasm("sum", data, 1, 4, 3, out);
    expect(Array.from(out)).toEqual([0, 0, 6, 15]);
    expect(Object.is(out[1], 0)).toBe(true);
  });

  it("take row maxima as the JS loop: the first of tied zeros, NaN anywhere wins", () => {
    const rows = [
      [-0, 0, -1],
      [0, -0, -1],
      [1, Number.NaN, 2],
      [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
      [Number.NaN, 3, 4],
    ];
    for (const Kind of [Float32Array, Float64Array]) {
      const out = new Kind(5);
      rowReduceWasm("max", new Kind(rows.flat()), 0, 5, 3, out);
      expectSameBits(Array.from(out), [-0, 0, Number.NaN, Number.NEGATIVE_INFINITY, Number.NaN]);
    }
  });

  it("reduce several leading dims of a 3-d float32 view as one block of rows", () => {
    const data = values(Float32Array, 7 * 5 * 9, 3);
    const x = view(data, [7, 5, 9]);
    const [js, wasm] = bothBackends(() => {
      const out = new Float64Array(9);
      reduce("sum", x, [0, 1], out);
      return out;
    });
    expectSameBits(wasm, js);
  });

  it("reduce several trailing dims of a 3-d float64 view as one row each", () => {
    const x = view(values(Float64Array, 7 * 5 * 9, 4), [7, 5, 9]);
    for (const kind of ["sum", "max"] as const) {
      const [js, wasm] = bothBackends(() => {
        const out = new Float64Array(7);
        reduce(kind, x, [1, 2], out);
        return out;
      });
      expectSameBits(wasm, js);
    }
  });
});
