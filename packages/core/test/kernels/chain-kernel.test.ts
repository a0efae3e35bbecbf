// The kernels chain-kernel.ts generates at run time: each op must give the bits its one-op loop
// in elementwise.wat gives (NaN, ±0, ±Inf and subnormals included), and plain arithmetic where
// JavaScript has it; kernels are made once per structure; a chain too long for one module is
// refused, and chainWasm then runs it op by op with the same results.

import { describe, expect, it } from "vitest";
import { chainKernel, type KernelStep } from "../../src/kernels/chain-kernel.js";
import { chainRuns, chainWasm } from "../../src/kernels/elementwise-chain.js";
import {
  binaryWasm,
  unaryWasm,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "../../src/kernels/elementwise-wasm.js";
import {
  ELEMENTWISE_BINARY_OPS,
  ELEMENTWISE_UNARY_OPS,
} from "../../src/kernels/elementwise-wasm-module.js";
import type { FloatArray } from "../../src/kernels/gemm-js.js";

type Dtype = "float32" | "float64";
const TYPES = { float32: Float32Array, float64: Float64Array } as const;

/** Values every op must get right: zeros and infinities of both signs, NaN, extremes, subnormals. */
function specials(dtype: Dtype): number[] {
  const tiny = dtype === "float32" ? 1e-45 : 5e-324;
  const huge = dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  return [0, -0, 1, -1, 0.5, -2.5, 3, Infinity, -Infinity, Number.NaN, tiny, -tiny, huge, -huge];
}

/** Every pair of specials, then deterministic values of both signs: a for the first operand, b for the second. */
function operands(dtype: Dtype): { a: FloatArray; b: FloatArray } {
  const s = specials(dtype);
  const n = s.length * s.length + 1003;
  const a = new TYPES[dtype](n);
  const b = new TYPES[dtype](n);
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      a[i * s.length + j] = s[i];
      b[i * s.length + j] = s[j];
    }
  }
  for (let i = s.length * s.length; i < n; i++) {
    a[i] = ((((i * 2654435761) >>> 0) % 20001) - 10000) / 997;
    b[i] = ((((i * 40503) >>> 0) % 20001) - 10000) / 313;
  }
  // A NaN with the sign bit set, as some ops make, and a signalling NaN of each sign: their bits
  // must come out as the loops leave them.
  if (dtype === "float32")
    new Uint32Array(a.buffer).set([0x7fa00000, 0xffa00001, 0xffc00000], n - 3);
  else {
    new BigUint64Array(a.buffer).set(
      [0x7ff4000000000000n, 0xfff4000000000001n, 0xfff8000000000000n],
      n - 3,
    );
  }
  return { a, b };
}

/** The first index where `x` and `y` differ in any bit, else -1. */
function firstDifference(x: FloatArray, y: FloatArray): number {
  const p = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const q = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return Math.floor(i / x.BYTES_PER_ELEMENT);
  return p.length === q.length ? -1 : 0;
}

/**
 * Runs one step through a generated kernel on a memory of its own: a at byte 0 region, b after
 * it, the result stored after both.
 */
function runKernel(dtype: Dtype, op: WasmBinaryOp | WasmUnaryOp, a: FloatArray, b?: FloatArray) {
  const bytes = a.byteLength;
  const region = (bytes + 15) & ~15;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((3 * region) / 65536) + 1 });
  const view = new TYPES[dtype](memory.buffer);
  const per = region / a.BYTES_PER_ELEMENT;
  view.set(a, 0);
  if (b !== undefined) view.set(b, per);
  const steps: KernelStep[] = [{ op, a: 0, b: b === undefined ? -1 : 1 }];
  const slots =
    b === undefined
      ? [{ at: 0, scalar: false }]
      : [
          { at: 0, scalar: false },
          { at: region, scalar: false },
        ];
  const result = slots.length;
  const kernel = chainKernel(memory, dtype, slots, steps, [{ slot: result, at: 2 * region }]);
  expect(kernel).not.toBeNull();
  kernel!(region);
  return view.slice(2 * per, 2 * per + a.length);
}

// Every loop the module has, so an op added there is checked here too.
const BINARY: readonly WasmBinaryOp[] = ELEMENTWISE_BINARY_OPS;
const UNARY: readonly WasmUnaryOp[] = ELEMENTWISE_UNARY_OPS;

describe("chainKernel", () => {
  describe.each(["float32", "float64"] as const)("on %s", (dtype) => {
    const { a, b } = operands(dtype);
    const round = dtype === "float32" ? Math.fround : (v: number) => v;

    it.each(BINARY)("computes %s bit for bit as its one-op loop", (op) => {
      const expected = new TYPES[dtype](a.length);
      expect(
        binaryWasm(
          op,
          { data: a, offset: 0, layout: "flat" },
          { data: b, offset: 0, layout: "flat" },
          expected,
          a.length,
        ),
      ).toBe(true);
      expect(firstDifference(runKernel(dtype, op, a, b), expected)).toBe(-1);
    });

    it.each(UNARY)("computes %s bit for bit as its one-op loop", (op) => {
      const expected = new TYPES[dtype](a.length);
      expect(unaryWasm(op, a, 0, expected)).toBe(true);
      expect(firstDifference(runKernel(dtype, op, a), expected)).toBe(-1);
    });

    it("agrees with JavaScript's arithmetic, rounded to the dtype", () => {
      const sum = runKernel(dtype, "add", a, b);
      const quotient = runKernel(dtype, "div", a, b);
      const rsqrt = runKernel(dtype, "rsqrt", a);
      const max = runKernel(dtype, "maximum", a, b);
      const relu = runKernel(dtype, "relu", a);
      for (let i = 0; i < a.length; i++) {
        expect(sum[i]).toBe(round(a[i] + b[i]));
        expect(quotient[i]).toBe(round(a[i] / b[i]));
        expect(rsqrt[i]).toBe(round(1 / Math.sqrt(a[i])));
        // NaN if either is NaN; b when equal (so maximum(-0, +0) is +0 and (+0, -0) is -0).
        const m = Number.isNaN(a[i]) || Number.isNaN(b[i]) ? Number.NaN : a[i] > b[i] ? a[i] : b[i];
        expect(max[i]).toBe(m);
        expect(relu[i]).toBe(Number.isNaN(a[i]) ? Number.NaN : a[i] > 0 ? a[i] : 0);
      }
    });
  });

  it("makes one kernel per structure and reuses it", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const slots = [
      { at: 0, scalar: false },
      { at: 1024, scalar: true },
    ];
    const steps: KernelStep[] = [{ op: "mul", a: 0, b: 1 }];
    const first = chainKernel(memory, "float32", slots, steps, [{ slot: 2, at: 2048 }]);
    expect(first).not.toBeNull();
    expect(chainKernel(memory, "float32", slots, steps, [{ slot: 2, at: 2048 }])).toBe(first);
    expect(chainKernel(memory, "float32", slots, steps, [{ slot: 2, at: 4096 }])).not.toBe(first);
    expect(chainKernel(memory, "float64", slots, steps, [{ slot: 2, at: 2048 }])).not.toBe(first);
  });

  it("refuses a chain too long for one module, and chainWasm then runs it op by op", () => {
    // 600 alternating steps: the module would pass the 4 KB browsers compile synchronously.
    const steps: KernelStep[] = [];
    for (let j = 0; j < 600; j++) steps.push({ op: j % 2 === 0 ? "mul" : "add", a: j + 1, b: 0 });
    const memory = new WebAssembly.Memory({ initial: 2 });
    const slots = [
      { at: 0, scalar: true },
      { at: 1024, scalar: false },
    ];
    expect(chainKernel(memory, "float32", slots, steps, [{ slot: 601, at: 4096 }])).toBeNull();

    const n = 5000;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 7) / 8 - 0.4);
    const out = new Float32Array(n);
    const loopsBefore = chainRuns.loops;
    expect(
      chainWasm(
        [
          { data: new Float32Array([1.001]), offset: 0, layout: "scalar" },
          { data: x, offset: 0, layout: "flat" },
        ],
        steps,
        [{ slot: 601, out }],
        n,
        n,
      ),
    ).toBe(true);
    expect(chainRuns.loops).toBe(loopsBefore + 1);
    let expected = Float32Array.from(x);
    for (let j = 0; j < 600; j++) {
      expected = expected.map((v) =>
        j % 2 === 0 ? Math.fround(v * Math.fround(1.001)) : Math.fround(v + Math.fround(1.001)),
      );
    }
    expect(firstDifference(out, expected)).toBe(-1);
  });
});
