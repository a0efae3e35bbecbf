// The elementwise drivers hand float work to the WebAssembly loops (elementwise-wasm.ts) and must
// give what the JS rows give, bit for bit, in every layout they accept; everything else must still
// reach the JS rows. The wasm module is wrapped in spies so a silent fallback cannot pass as wasm;
// the kernels are imported afresh after the mock, since the setup file has loaded them already.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { View } from "../../src/kernels/strided.js";

vi.mock("../../src/kernels/elementwise-wasm.js", async (original) => {
  const actual = await original<typeof import("../../src/kernels/elementwise-wasm.js")>();
  return { ...actual, binaryWasm: vi.fn(actual.binaryWasm), unaryWasm: vi.fn(actual.unaryWasm) };
});
vi.mock("../../src/kernels/elementwise-chain.js", async (original) => {
  const actual = await original<typeof import("../../src/kernels/elementwise-chain.js")>();
  return { ...actual, chainWasm: vi.fn(actual.chainWasm) };
});
vi.resetModules();
const { setKernelBackend } = await import("../../src/kernels/backend.js");
const k = await import("../../src/kernels/elementwise.js");
const wasm = await import("../../src/kernels/elementwise-wasm.js");
const chain = await import("../../src/kernels/elementwise-chain.js");

afterEach(() => {
  setKernelBackend("auto");
  vi.mocked(wasm.binaryWasm).mockClear();
  vi.mocked(wasm.unaryWasm).mockClear();
  vi.mocked(chain.chainWasm).mockClear();
});

type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;
const DTYPES: [string, FloatCtor][] = [
  ["float32", Float32Array],
  ["float64", Float64Array],
];
const SPECIAL = [Number.NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-310, 1, -1, 3.5];

/** Deterministic values in [-4, 4) with the special values sprinkled in. */
function values(Ctor: FloatCtor, count: number, seed: number): Float32Array | Float64Array {
  let state = seed >>> 0;
  const out = new Ctor(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = i % 7 === 3 ? SPECIAL[state % SPECIAL.length] : (state / 2 ** 32) * 8 - 4;
  }
  return out;
}

/** The values as strings that tell -0 from 0 (NaN payloads are not compared). */
const exact = (xs: ArrayLike<number>) => Array.from(xs, (v) => (Object.is(v, -0) ? "-0" : `${v}`));

type BinaryRow = import("../../src/kernels/elementwise.js").BinaryRow;
type UnaryRow = import("../../src/kernels/elementwise.js").UnaryRow;

const BINARY: [string, BinaryRow][] = [
  ["add", k.addRow],
  ["sub", k.subRow],
  ["mul", k.mulRow],
  ["div", k.divRow],
  ["maximum", k.maximumRow],
  ["minimum", k.minimumRow],
  ["reluBackward", k.reluBackwardRow],
];
const UNARY: [string, UnaryRow][] = [
  ["neg", k.negRow],
  ["abs", k.absRow],
  ["square", k.squareRow],
  ["sqrt", k.sqrtRow],
  ["rsqrt", k.rsqrtRow],
  ["relu", k.reluRow],
];

/** [rows, cols]: odd sizes, many short rows, and rows longer than a float64 / float32 chunk. */
const SHAPES: [number, number][] = [
  [1, 1],
  [1, 3],
  [1, 17],
  [3, 43],
  [17, 59],
  [3001, 7],
  [3, 5003],
  [2, 9001],
];

/** Strides of an operand of `shape` [R, C] broadcast to the output, and how many values it holds. */
const LAYOUTS: Record<string, (r: number, c: number) => [number[], number]> = {
  contiguous: (r, c) => [[c, 1], r * c],
  scalar: () => [[0, 0], 1],
  row: (_, c) => [[0, 1], c],
  column: (r) => [[1, 0], r],
  transposed: (r, c) => [[1, r], r * c],
};
const PAIRS = [
  ["contiguous", "contiguous"],
  ["contiguous", "scalar"],
  ["scalar", "contiguous"],
  ["contiguous", "row"],
  ["row", "contiguous"],
  ["contiguous", "column"],
  ["column", "contiguous"],
  ["row", "column"],
  ["scalar", "scalar"],
];

function operand(Ctor: FloatCtor, layout: string, shape: [number, number], seed: number): View {
  const [strides, count] = LAYOUTS[layout](...shape);
  // Start 2 values in, so offsets are exercised and the scratch alignment is not the array's.
  return { data: values(Ctor, count + 2, seed), shape, strides, offset: 2 };
}

/** Runs `row` through mapBinary on both backends; returns [js, wasm] results. */
function bothBinary(row: BinaryRow, a: View, b: View, shape: [number, number], Ctor: FloatCtor) {
  const [js, wa] = [new Ctor(shape[0] * shape[1]), new Ctor(shape[0] * shape[1])];
  setKernelBackend("js");
  k.mapBinary(row, a, b, shape, js);
  setKernelBackend("wasm");
  k.mapBinary(row, a, b, shape, wa);
  return [exact(js), exact(wa)];
}

describe("mapBinary on the wasm backend", () => {
  for (const [dtype, Ctor] of DTYPES) {
    for (const [aLayout, bLayout] of PAIRS) {
      it(`matches the JS rows bit for bit for ${dtype} ${aLayout} op ${bLayout} operands`, () => {
        for (const shape of SHAPES) {
          for (const [name, row] of BINARY) {
            const a = operand(Ctor, aLayout, shape, 1);
            const b = operand(Ctor, bLayout, shape, 2);
            const [js, wa] = bothBinary(row, a, b, shape, Ctor);
            expect(wa, `${name} ${shape}`).toEqual(js);
          }
        }
        expect(wasm.binaryWasm).toHaveBeenCalledTimes(SHAPES.length * BINARY.length);
      });
    }
  }

  it("gives the JS special values: NaN-propagating maximum/minimum, -0 from reluBackward", () => {
    setKernelBackend("wasm");
    const a = new Float32Array([Number.NaN, 1, 0, -0, -2, Infinity, 5]);
    const b = new Float32Array([1, Number.NaN, -0, 0, 0, -1, 5]);
    const run = (row: BinaryRow) => {
      const out = new Float32Array(7);
      const view = (data: Float32Array) => ({ data, shape: [7], strides: [1], offset: 0 });
      k.mapBinary(row, view(a), view(b), [7], out);
      return exact(out);
    };
    expect(run(k.maximumRow)).toEqual(["NaN", "NaN", "-0", "0", "0", "Infinity", "5"]);
    expect(run(k.minimumRow)).toEqual(["NaN", "NaN", "-0", "0", "-2", "-1", "5"]);
    expect(run(k.reluBackwardRow)).toEqual(["NaN", "0", "0", "-0", "-0", "NaN", "5"]);
    expect(run(k.divRow)).toEqual(["NaN", "NaN", "NaN", "NaN", "-Infinity", "-Infinity", "1"]);
  });

  it("leaves general strided operands and mixed dtypes to the JS rows, with the same results", () => {
    setKernelBackend("wasm");
    const shape: [number, number] = [3, 43];
    const a = operand(Float32Array, "transposed", shape, 1);
    const b = operand(Float32Array, "contiguous", shape, 2);
    const [js, wa] = bothBinary(k.addRow, a, b, shape, Float32Array);
    expect(wa).toEqual(js);
    const c = operand(Float64Array, "contiguous", shape, 3);
    const [js2, wa2] = bothBinary(k.mulRow, b, c, shape, Float64Array);
    expect(wa2).toEqual(js2);
    expect(wasm.binaryWasm).not.toHaveBeenCalled();
  });

  it("falls back to the JS rows when the wasm loops cannot run", () => {
    setKernelBackend("wasm");
    vi.mocked(wasm.binaryWasm).mockReturnValueOnce(false);
    const shape: [number, number] = [17, 59];
    const a = operand(Float64Array, "contiguous", shape, 1);
    const b = operand(Float64Array, "row", shape, 2);
    const out = new Float64Array(17 * 59);
    k.mapBinary(k.subRow, a, b, shape, out);
    const expected = Array.from(out, (_, i) => a.data[2 + i] - b.data[2 + (i % 59)]);
    expect(exact(out)).toEqual(exact(expected));
    expect(wasm.binaryWasm).toHaveBeenCalledOnce();
  });

  it("stays on the JS rows under the js backend and, on auto, for fewer than 128 elements", () => {
    const a = operand(Float32Array, "contiguous", [1, 127], 1);
    setKernelBackend("auto");
    k.mapBinary(k.addRow, a, a, [1, 127], new Float32Array(127));
    setKernelBackend("js");
    const big = operand(Float32Array, "contiguous", [1, 4096], 1);
    k.mapBinary(k.addRow, big, big, [1, 4096], new Float32Array(4096));
    expect(wasm.binaryWasm).not.toHaveBeenCalled();
    setKernelBackend("auto");
    k.mapBinary(k.addRow, big, big, [1, 4096], new Float32Array(4096));
    expect(wasm.binaryWasm).toHaveBeenCalledOnce();
  });
});

describe("mapBinary with a per-channel operand", () => {
  for (const [dtype, Ctor] of DTYPES) {
    it(`runs ${dtype} [N, C, H, W] op [1, C, 1, 1] as a one-step wasm chain with the JS rows' bits`, () => {
      const shape = [3, 5, 7, 11];
      const full = {
        data: values(Ctor, 3 * 5 * 7 * 11 + 2, 1),
        shape,
        strides: [385, 77, 11, 1],
        offset: 2,
      };
      const channel = { data: values(Ctor, 5 + 2, 2), shape, strides: [0, 1, 0, 0], offset: 2 };
      for (const [name, row] of BINARY) {
        for (const [a, b] of [
          [full, channel],
          [channel, full],
        ]) {
          const [js, wa] = [new Ctor(1155), new Ctor(1155)];
          setKernelBackend("js");
          k.mapBinary(row, a, b, shape, js);
          setKernelBackend("wasm");
          k.mapBinary(row, a, b, shape, wa);
          expect(exact(wa), name).toEqual(exact(js));
        }
      }
      expect(chain.chainWasm).toHaveBeenCalledTimes(2 * BINARY.length);
    });
  }
});

describe("mapUnary on the wasm backend", () => {
  for (const [dtype, Ctor] of DTYPES) {
    it(`matches the JS rows bit for bit for contiguous ${dtype} input at an offset`, () => {
      for (const n of [1, 3, 17, 129, 1003, 20011]) {
        const x = { data: values(Ctor, n + 2, n), shape: [n], strides: [1], offset: 2 };
        for (const [name, row] of UNARY) {
          const [js, wa] = [new Ctor(n), new Ctor(n)];
          setKernelBackend("js");
          k.mapUnary(row, x, js);
          setKernelBackend("wasm");
          k.mapUnary(row, x, wa);
          expect(exact(wa), `${name} ${n}`).toEqual(exact(js));
        }
      }
      expect(wasm.unaryWasm).toHaveBeenCalledTimes(6 * UNARY.length);
    });
  }

  it("gives the JS rows' bits for signalling NaNs: float32 ones come out quiet, float64 ones as JS leaves them", () => {
    /** The bits of elements 3 and 4, where the signalling NaNs are. */
    const bitsAt = (a: Float32Array | Float64Array): string[] =>
      a instanceof Float32Array
        ? Array.from(new Uint32Array(a.buffer, 12, 2), (b) => b.toString(16))
        : Array.from(new BigUint64Array(a.buffer, 24, 2), (b) => b.toString(16));
    const x32 = new Float32Array(1024).fill(1.5);
    new Uint32Array(x32.buffer).set([0x7fa00000, 0xffa00001], 3);
    const x64 = new Float64Array(1024).fill(1.5);
    new BigUint64Array(x64.buffer).set([0x7ff4000000000000n, 0xfff4000000000001n], 3);
    for (const x of [x32, x64]) {
      for (const [name, row] of UNARY) {
        const Ctor = x instanceof Float32Array ? Float32Array : Float64Array;
        const [js, wa] = [new Ctor(1024), new Ctor(1024)];
        setKernelBackend("js");
        k.mapUnary(row, { data: x, shape: [1024], strides: [1], offset: 0 }, js);
        setKernelBackend("wasm");
        k.mapUnary(row, { data: x, shape: [1024], strides: [1], offset: 0 }, wa);
        expect(bitsAt(wa), `${name} ${Ctor.name}`).toEqual(bitsAt(js));
      }
    }
    // The float32 ones really are made quiet (the JS rows read them into float64).
    setKernelBackend("wasm");
    const out = new Float32Array(1024);
    k.mapUnary(k.negRow, { data: x32, shape: [1024], strides: [1], offset: 0 }, out);
    expect(new Uint32Array(out.buffer)[3]).toBe(0xffe00000);
  });

  it("gives relu(-0) = 0, relu(NaN) = NaN and float32 rsqrt rounded once from float64", () => {
    setKernelBackend("wasm");
    const x = new Float32Array([-0, Number.NaN, -1, 4, 0, Infinity, 2]);
    const run = (row: UnaryRow) => {
      const out = new Float32Array(7);
      k.mapUnary(row, { data: x, shape: [7], strides: [1], offset: 0 }, out);
      return exact(out);
    };
    expect(run(k.reluRow)).toEqual(["0", "NaN", "0", "4", "0", "Infinity", "2"]);
    expect(run(k.rsqrtRow)).toEqual([
      "-Infinity",
      "NaN",
      "NaN",
      "0.5",
      "Infinity",
      "0",
      `${Math.fround(Math.SQRT1_2)}`,
    ]);
  });

  it("leaves strided input and ops without a wasm loop to the JS rows", () => {
    setKernelBackend("wasm");
    const data = values(Float32Array, 400, 5);
    const out = new Float32Array(200);
    k.mapUnary(k.negRow, { data, shape: [200], strides: [2], offset: 0 }, out);
    expect(exact(out)).toEqual(exact(Array.from({ length: 200 }, (_, i) => -data[2 * i])));
    k.mapUnary(k.expRow, { data, shape: [400], strides: [1], offset: 0 }, new Float32Array(400));
    expect(wasm.unaryWasm).not.toHaveBeenCalled();
  });
});

describe("coalesce", () => {
  it("merges dims that step alike in both operands and drops dims of size 1", () => {
    // [N, C, H, W] contiguous with a per-channel [1, C, 1, 1] operand: H and W run as one row.
    expect(k.coalesce([4, 3, 5, 6], [90, 30, 6, 1], [0, 1, 0, 0])).toEqual({
      shape: [4, 3, 30],
      aStrides: [90, 30, 1],
      bStrides: [0, 1, 0],
    });
    expect(k.coalesce([2, 1, 3], [3, 3, 1], [3, 7, 1])).toEqual({
      shape: [6],
      aStrides: [1],
      bStrides: [1],
    });
    // a transposed operand keeps its dims apart
    expect(k.coalesce([2, 3], [1, 2], [3, 1])).toBeNull();
  });

  it("gives per-channel broadcasts the results of the unmerged rows", () => {
    for (const backend of ["js", "wasm"] as const) {
      setKernelBackend(backend);
      const a = values(Float64Array, 4 * 3 * 30, 7);
      const b = values(Float64Array, 3, 8);
      const out = new Float64Array(a.length);
      k.mapBinary(
        k.subRow,
        { data: a, shape: [4, 3, 5, 6], strides: [90, 30, 6, 1], offset: 0 },
        { data: b, shape: [4, 3, 5, 6], strides: [0, 1, 0, 0], offset: 0 },
        [4, 3, 5, 6],
        out,
      );
      expect(Array.from(out)).toEqual(Array.from(a, (v, i) => v - b[Math.floor(i / 30) % 3]));
    }
  });
});
