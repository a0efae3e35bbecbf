// The fused chains of elementwise-chain.ts, called directly: every value a chain writes must be
// the bits the one-op loops of elementwise-wasm.ts give, across chunk boundaries, for every
// operand layout, with scratch regions reused in place; unsupported layouts write nothing. Both
// ways a chain runs are checked: one generated kernel for all its steps, and the loops op by op.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ChainMemo,
  chainRuns,
  chainWasm,
  setChainKernels,
} from "../../src/kernels/elementwise-chain.js";
import { binaryWasm, type Operand, unaryWasm } from "../../src/kernels/elementwise-wasm.js";
import type { FloatArray } from "../../src/kernels/gemm-js.js";
import { reduce } from "../../src/kernels/reduce.js";

/** Deterministic values of both signs, some zero, from a small integer hash. */
function values(
  Type: Float32ArrayConstructor | Float64ArrayConstructor,
  n: number,
  seed: number,
): FloatArray {
  const out = new Type(n);
  for (let i = 0; i < n; i++) out[i] = ((((i + seed) * 2654435761) >>> 0) % 2001) / 97 - 10;
  return out;
}

/** The first index where `a` and `b` differ in any bit (NaN payloads and -0 included), else -1. */
function firstDifference(a: FloatArray, b: FloatArray): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return Math.floor(i / a.BYTES_PER_ELEMENT);
  return -1;
}
/** Σ over rows of [rows, cols] `data`, in float64 in row order: the plain definition. */
function columnSums(data: FloatArray, cols: number): Float64Array {
  const sums = new Float64Array(cols);
  for (let i = 0; i < data.length; i++) sums[i % cols] += data[i];
  return sums;
}

describe.each([
  ["with one generated kernel per chain", true],
  ["with the loops op by op", false],
])("%s", (_, generated) => {
  let previous = true;
  let kernelRuns = 0;
  beforeAll(() => {
    previous = setChainKernels(generated);
  });
  afterAll(() => {
    setChainKernels(previous);
    // The cases below do run chains with steps, so a kernel that is never made shows here.
    if (generated) expect(kernelRuns).toBeGreaterThan(0);
  });
  // Every chain with steps ran the way this block asks for (none fell back unnoticed).
  let before = { kernel: 0, loops: 0 };
  beforeEach(() => {
    before = { ...chainRuns };
  });
  afterEach(() => {
    const ran = { kernel: chainRuns.kernel - before.kernel, loops: chainRuns.loops - before.loops };
    kernelRuns += ran.kernel;
    expect(generated ? ran.loops : ran.kernel).toBe(0);
  });

  describe("chainWasm", () => {
    it.each([
      ["float32", Float32Array, 20000, 100],
      ["float64", Float64Array, 12000, 1000],
    ] as const)(
      "runs mul by a row, add of a column, relu and sub of a scalar on %s as the one-op loops do",
      (_, Type, n, inner) => {
        const x: Operand = { data: values(Type, n + 3, 1), offset: 3, layout: "flat" };
        const row: Operand = { data: values(Type, inner, 2), offset: 0, layout: "row" };
        const column: Operand = {
          data: values(Type, n / inner + 1, 3),
          offset: 1,
          layout: "column",
        };
        const scalar: Operand = { data: new Type([0.1]), offset: 0, layout: "scalar" };
        // slots: 0 x, 1 row, 2 column, 3 scalar; steps make 4 (x·row), 5 (+column), 6 relu, 7 (6 - 0.1), 8 (7 · x)
        const steps = [
          { op: "mul", a: 0, b: 1 },
          { op: "add", a: 4, b: 2 },
          { op: "relu", a: 5, b: -1 },
          { op: "sub", a: 6, b: 3 },
          { op: "mul", a: 7, b: 0 },
        ] as const;
        const relu = new Type(n);
        const last = new Type(n);
        const written = [
          { slot: 6, out: relu },
          { slot: 8, out: last },
        ];
        expect(chainWasm([x, row, column, scalar], steps, written, n, inner)).toBe(true);

        const product = new Type(n);
        const sum = new Type(n);
        const expectRelu = new Type(n);
        const shifted = new Type(n);
        const expectLast = new Type(n);
        binaryWasm("mul", x, row, product, inner);
        binaryWasm("add", { data: product, offset: 0, layout: "flat" }, column, sum, inner);
        unaryWasm("relu", sum, 0, expectRelu);
        binaryWasm("sub", { data: expectRelu, offset: 0, layout: "flat" }, scalar, shifted, inner);
        binaryWasm("mul", { data: shifted, offset: 0, layout: "flat" }, x, expectLast, inner);
        expect(firstDifference(relu, expectRelu)).toBe(-1);
        expect(firstDifference(last, expectLast)).toBe(-1);
        // Spot checks against plain arithmetic, so the one-op loops are not the only witness.
        for (const i of [0, 1, inner - 1, inner, 4095, 4096, n - 1]) {
          const r = Type === Float32Array ? Math.fround : (v: number) => v;
          const s = r(
            r(x.data[3 + i] * row.data[i % inner]) + column.data[1 + Math.floor(i / inner)],
          );
          expect(relu[i]).toBe(Math.max(s, 0));
        }
      },
    );

    it("reuses a call's schedule through a memo for the same layouts, and works it out again for others", () => {
      const n = 6000;
      const inner = 200;
      const steps = [
        { op: "mul", a: 0, b: 1 },
        { op: "relu", a: 2, b: -1 },
      ] as const;
      const memo = new ChainMemo();
      /** x · y then relu, with a memo and without one; both must give the one-op loops' bits. */
      const run = (y: Operand, seed: number) => {
        const x: Operand = { data: values(Float32Array, n, seed), offset: 0, layout: "flat" };
        const withMemo = new Float32Array(n);
        const sums = [{ slot: 3, cols: inner, sums: new Float64Array(inner) }];
        expect(chainWasm([x, y], steps, [{ slot: 3, out: withMemo }], n, inner, sums, memo)).toBe(
          true,
        );
        const product = new Float32Array(n);
        const expected = new Float32Array(n);
        binaryWasm("mul", x, y, product, inner);
        unaryWasm("relu", product, 0, expected);
        expect(firstDifference(withMemo, expected)).toBe(-1);
        expect(firstDifference(sums[0].sums, columnSums(expected, inner))).toBe(-1);
      };
      const flat = (seed: number): Operand => ({
        data: values(Float32Array, n + 1, seed),
        offset: 1,
        layout: "flat",
      });
      const row = (seed: number): Operand => ({
        data: values(Float32Array, inner, seed),
        offset: 0,
        layout: "row",
      });
      run(flat(2), 1);
      const first = memo.prepared;
      expect(first).not.toBeNull();
      run(flat(3), 4); // other arrays, same layouts: the same schedule
      expect(memo.prepared).toBe(first);
      run(row(5), 6); // a row operand instead: worked out again (a flat schedule reads it wrong)
      expect(memo.prepared).not.toBe(first);
      run(flat(7), 8);
    });

    it("runs unary ops on a scalar and on a row operand, which stay for the next chunk", () => {
      const n = 9000;
      const inner = 300;
      const row: Operand = { data: values(Float32Array, inner, 4), offset: 0, layout: "row" };
      const scalar: Operand = { data: new Float32Array([-2.5]), offset: 0, layout: "scalar" };
      const steps = [
        { op: "abs", a: 0, b: -1 },
        { op: "neg", a: 1, b: -1 },
        { op: "mul", a: 2, b: 3 },
        { op: "square", a: 0, b: -1 },
        { op: "add", a: 4, b: 5 },
      ] as const;
      const out = new Float32Array(n);
      expect(chainWasm([scalar, row], steps, [{ slot: 6, out }], n, inner)).toBe(true);
      for (const i of [0, 1, inner, 4499, 4500, n - 1]) {
        const v = row.data[i % inner];
        expect(out[i]).toBe(Math.fround(Math.fround(2.5 * -v) + 6.25));
      }
    });

    it("reads per-channel operands of [N, C, H, W] as rows of W, across chunks", () => {
      const [nb, c, h, w] = [6, 16, 28, 28];
      const n = nb * c * h * w;
      const x = values(Float32Array, n, 6);
      const scale = values(Float32Array, 2 * c, 7); // every other value: channel stride 2
      const shift = values(Float32Array, c + 1, 8); // channel stride 1, offset 1
      const operands = [
        { data: x, offset: 0, layout: "flat" },
        { data: scale, offset: 0, layout: "channel", repeat: h, period: c, stride: 2 },
        { data: shift, offset: 1, layout: "channel", repeat: h, period: c, stride: 1 },
      ] as const;
      const steps = [
        { op: "mul", a: 0, b: 1 },
        { op: "add", a: 3, b: 2 },
      ] as const;
      const out = new Float32Array(n);
      expect(chainWasm(operands, steps, [{ slot: 4, out }], n, w)).toBe(true);
      for (const i of [0, 1, w, h * w - 1, h * w, 4095, 4096, 5000, n - h * w, n - 1]) {
        const channel = Math.floor(i / (h * w)) % c;
        const scaled = Math.fround(x[i] * scale[2 * channel]);
        expect(out[i]).toBe(Math.fround(scaled + shift[1 + channel]));
      }
    });

    // With the generated kernel, chunks are whole repeats of the per-channel operands' pattern
    // where it fits one (lcm of their repeat·period rows), and their regions are filled once per
    // call; where it does not fit, row by row per chunk. Every value, against plain arithmetic.
    it.each([
      ["one image's pattern fits a chunk", [5, 8, 12, 28], 1],
      ["two operands whose patterns differ (lcm)", [6, 6, 4, 20], 3],
      ["a pattern larger than a chunk", [2, 64, 28, 28], 1],
    ] as const)("per-channel operands, %s: every value", (_, [nb, c, h, w], otherPeriod) => {
      const n = nb * c * h * w;
      const x = values(Float32Array, n, 9);
      const scale = values(Float32Array, c, 10);
      const shift = values(Float32Array, otherPeriod, 11);
      const operands = [
        { data: x, offset: 0, layout: "flat" },
        { data: scale, offset: 0, layout: "channel", repeat: h, period: c, stride: 1 },
        // Rows cycle through otherPeriod values (1: one value for all).
        { data: shift, offset: 0, layout: "channel", repeat: 1, period: otherPeriod, stride: 1 },
      ] as const;
      const steps = [
        { op: "mul", a: 0, b: 1 },
        { op: "add", a: 3, b: 2 },
      ] as const;
      const out = new Float32Array(n);
      expect(chainWasm(operands, steps, [{ slot: 4, out }], n, w)).toBe(true);
      let wrong = 0;
      for (let i = 0; i < n; i++) {
        const row = Math.floor(i / w);
        const scaled = Math.fround(x[i] * scale[Math.floor(row / h) % c]);
        if (out[i] !== Math.fround(scaled + shift[row % otherPeriod])) wrong++;
      }
      expect(wrong).toBe(0);
    });

    it("writes nothing and returns false for row operands longer than a chunk", () => {
      const inner = 20000;
      const x: Operand = { data: new Float32Array(2 * inner), offset: 0, layout: "flat" };
      const row: Operand = { data: new Float32Array(inner).fill(1), offset: 0, layout: "row" };
      const out = new Float32Array(2 * inner).fill(7);
      const steps = [
        { op: "add", a: 0, b: 1 },
        { op: "neg", a: 2, b: -1 },
      ] as const;
      expect(chainWasm([x, row], steps, [{ slot: 3, out }], 2 * inner, inner)).toBe(false);
      expect(out.every((v) => v === 7)).toBe(true);
    });

    it("keeps a value read by two later steps until its last reader", () => {
      const n = 5000;
      const x: Operand = { data: values(Float64Array, n, 5), offset: 0, layout: "flat" };
      const steps = [
        { op: "sqrt", a: 0, b: -1 },
        { op: "rsqrt", a: 0, b: -1 },
        { op: "div", a: 1, b: 2 },
        { op: "maximum", a: 3, b: 1 },
      ] as const;
      const out = new Float64Array(n);
      expect(chainWasm([x], steps, [{ slot: 4, out }], n, n)).toBe(true);
      for (const i of [0, 1, 2047, 2048, n - 1]) {
        const v = x.data[i];
        const root = Math.sqrt(v);
        const q = root / (1 / Math.sqrt(v));
        expect(
          Object.is(out[i], Number.isNaN(q) || Number.isNaN(root) ? Number.NaN : Math.max(q, root)),
        ).toBe(true);
      }
    });

    it("ignores an operand no step reads, and refuses an output naming an operand", () => {
      const n = 3000;
      const x: Operand = { data: values(Float32Array, n, 6), offset: 0, layout: "flat" };
      const unused: Operand = { data: values(Float32Array, n, 7), offset: 0, layout: "flat" };
      const out = new Float32Array(n);
      expect(chainWasm([unused, x], [{ op: "neg", a: 1, b: -1 }], [{ slot: 2, out }], n, n)).toBe(
        true,
      );
      for (const i of [0, 1, 2999]) expect(out[i]).toBe(-x.data[i]);
      const untouched = new Float32Array(n);
      expect(
        chainWasm([x], [{ op: "neg", a: 0, b: -1 }], [{ slot: 0, out: untouched }], n, n),
      ).toBe(false);
      expect(chainWasm([x], [], [{ slot: 0, out: untouched }], n, n)).toBe(false);
      expect(untouched.every((v) => v === 0)).toBe(true);
    });
  });

  describe("chainWasm column sums", () => {
    it.each([
      ["float32", Float32Array, 30000, 300, 60],
      ["float64", Float64Array, 21000, 700, 7],
    ] as const)(
      "sums a %s step and an operand over rows (cols %#) as the one-op loops and plain float64 sums do, across chunks",
      (_, Type, n, cols, inner) => {
        const x: Operand = { data: values(Type, n + 2, 4), offset: 2, layout: "flat" };
        const y: Operand = { data: values(Type, n, 5), offset: 0, layout: "flat" };
        // slots: 0 x, 1 y; step 2 = x·y, summed; step 3 = neg(2), written; x summed too.
        const steps = [
          { op: "mul", a: 0, b: 1 },
          { op: "neg", a: 2, b: -1 },
        ] as const;
        const negated = new Type(n);
        const productSums = new Float64Array(cols);
        const xSums = new Float64Array(cols);
        const reductions = [
          { slot: 2, cols, sums: productSums },
          { slot: 0, cols, sums: xSums },
        ];
        expect(chainWasm([x, y], steps, [{ slot: 3, out: negated }], n, inner, reductions)).toBe(
          true,
        );
        const product = new Type(n);
        binaryWasm("mul", x, y, product, inner);
        const expectNegated = new Type(n);
        unaryWasm("neg", product, 0, expectNegated);
        expect(firstDifference(negated, expectNegated)).toBe(-1);
        // Bit for bit the column sums reduce("sum") makes of the materialised product, and those
        // of a plain float64 loop (which add in the same order).
        const view = (data: FloatArray, offset: number) => ({
          data,
          offset,
          shape: [n / cols, cols],
          strides: [cols, 1],
        });
        const expected = new Float64Array(cols);
        reduce("sum", view(product, 0), [0], expected);
        expect(firstDifference(productSums, expected)).toBe(-1);
        expect(firstDifference(productSums, columnSums(product, cols))).toBe(-1);
        reduce("sum", view(x.data, 2), [0], expected);
        expect(firstDifference(xSums, expected)).toBe(-1);
      },
    );

    it("returns false, having written nothing, for rows that do not fit a chunk, partial rows or a broadcast operand", () => {
      const x: Operand = { data: values(Float32Array, 40000, 6), offset: 0, layout: "flat" };
      const row: Operand = { data: new Float32Array(20000), offset: 0, layout: "row" };
      const square = [{ op: "square", a: 0, b: -1 }] as const;
      const out = new Float32Array(40000).fill(7);
      const sums = new Float64Array(20000).fill(3);
      const sumOf = (slot: number, cols: number) => [{ slot, cols, sums: sums.subarray(0, cols) }];
      // 20000 float32 columns do not fit one 64 KB region.
      expect(chainWasm([x], square, [{ slot: 1, out }], 40000, 20000, sumOf(1, 20000))).toBe(false);
      // 40000 values are not whole rows of 300.
      expect(chainWasm([x], square, [{ slot: 1, out }], 40000, 100, sumOf(1, 300))).toBe(false);
      // cols must be whole rows of the chain's inner length.
      expect(chainWasm([x], square, [{ slot: 1, out }], 40000, 300, sumOf(1, 400))).toBe(false);
      // Only flat operands are summed.
      expect(chainWasm([x, row], square, [{ slot: 2, out }], 40000, 100, sumOf(1, 100))).toBe(
        false,
      );
      expect(out.every((v) => v === 7)).toBe(true);
      expect(sums.every((v) => v === 3)).toBe(true);
    });
  });

  describe("chainWasm plane sums", () => {
    it.each([
      ["float32", Float32Array, [9, 5, 40, 41]],
      ["float64", Float64Array, [6, 13, 4, 30]],
    ] as const)(
      "sums %s [N, C, H, W] over N, H, W per channel as reduce(sum) does, across chunks",
      (_, Type, shape) => {
        const [n, c, h, w] = shape;
        const total = n * c * h * w;
        const x: Operand = { data: values(Type, total + 1, 8), offset: 1, layout: "flat" };
        // Square each value, sum its planes per channel, and write the squares out too.
        const squares = new Type(total);
        const sums = new Float64Array(c);
        const reduction = [{ slot: 1, cols: h * w, period: c, sums }];
        const step = [{ op: "square", a: 0, b: -1 }] as const;
        expect(chainWasm([x], step, [{ slot: 1, out: squares }], total, h * w, reduction)).toBe(
          true,
        );
        const expected = new Float64Array(c);
        const strides = [c * h * w, h * w, w, 1];
        reduce(
          "sum",
          { data: squares, offset: 0, shape: [...shape], strides },
          [0, 2, 3],
          expected,
        );
        expect(firstDifference(sums, expected)).toBe(-1);
      },
    );
  });
});

describe("chainWasm and a memory that grows", () => {
  it("copies its results out of the memory as it is now, after another chain grew it", () => {
    const n = 600;
    const memo = new ChainMemo();
    const x: Operand = { data: values(Float32Array, n, 11), offset: 0, layout: "flat" };
    const expected = new Float32Array(n);
    unaryWasm("neg", x.data, 0, expected);
    const negate = () => {
      const out = new Float32Array(n);
      expect(chainWasm([x], [{ op: "neg", a: 0, b: -1 }], [{ slot: 1, out }], n, n, [], memo)).toBe(
        true,
      );
      expect(firstDifference(out, expected)).toBe(-1);
    };
    negate();
    negate(); // the schedule, and its window on the memory, from the call before
    // 100 values alive at once, each in a region of its own: the memory must grow for them.
    const live = 100;
    const big = 4096;
    const y: Operand = { data: values(Float32Array, big, 12), offset: 0, layout: "flat" };
    const many = [
      ...Array.from({ length: live }, () => ({ op: "neg", a: 0, b: -1 }) as const),
      ...Array.from(
        { length: live - 1 },
        (_, j) => ({ op: "add", a: j === 0 ? 1 : live + j, b: j + 2 }) as const,
      ),
    ];
    const total = new Float32Array(big);
    // The loops op by op: a generated kernel of 199 steps would be too large a module.
    const previous = setChainKernels(false);
    try {
      expect(chainWasm([y], many, [{ slot: many.length, out: total }], big, big, [])).toBe(true);
    } finally {
      setChainKernels(previous);
    }
    negate();
  });
});
