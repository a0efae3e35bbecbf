// The chunked streaming of elementwise-wasm.ts, called directly: layouts, chunk boundaries and
// the values it must not touch. The drivers' dispatch is tested in elementwise.test.ts.

import { describe, expect, it, vi } from "vitest";
import {
  binaryWasm,
  unaryWasm,
  wasmElementwiseAvailable,
} from "../../src/kernels/elementwise-wasm.js";

describe("binaryWasm", () => {
  it("reports the SIMD loops as available in Node 20", () => {
    expect(wasmElementwiseAvailable()).toBe(true);
  });

  it("adds a [3] row to each row of [2, 3] and subtracts a [2, 1] column, at offsets", () => {
    const x = new Float32Array([9, 1, 2, 3, 4, 5, 6]);
    const row = new Float32Array([10, 20, 30]);
    const out = new Float32Array(6);
    const a = { data: x, offset: 1, layout: "flat" } as const;
    expect(binaryWasm("add", a, { data: row, offset: 0, layout: "row" }, out, 3)).toBe(true);
    expect(Array.from(out)).toEqual([11, 22, 33, 14, 25, 36]);
    const column = new Float64Array([0, 1, 2]);
    const out64 = new Float64Array(6);
    const x64 = { data: Float64Array.from(x), offset: 1, layout: "flat" } as const;
    binaryWasm("sub", x64, { data: column, offset: 1, layout: "column" }, out64, 3);
    expect(Array.from(out64)).toEqual([0, 1, 2, 2, 3, 4]);
  });

  it("divides a scalar by 20011 float32 values across chunk boundaries", () => {
    const n = 20011;
    const b = Float32Array.from({ length: n }, (_, i) => i + 1);
    const out = new Float32Array(n);
    const two = { data: new Float32Array([2]), offset: 0, layout: "scalar" } as const;
    binaryWasm("div", two, { data: b, offset: 0, layout: "flat" }, out, n);
    for (const i of [0, 1, 8191, 8192, 8193, 16383, 16384, n - 1]) {
      expect(out[i]).toBe(Math.fround(2 / (i + 1)));
    }
  });

  it("multiplies rows longer than a chunk by a broadcast row, segment by segment", () => {
    const inner = 10007;
    const x = Float64Array.from({ length: 2 * inner }, (_, i) => i);
    const row = Float64Array.from({ length: inner }, (_, j) => (j % 3) - 1);
    const out = new Float64Array(2 * inner);
    const rowOperand = { data: row, offset: 0, layout: "row" } as const;
    binaryWasm("mul", rowOperand, { data: x, offset: 0, layout: "flat" }, out, inner);
    for (const i of [0, 1, 2, 4095, 4096, 4097, inner - 1, inner, inner + 4096, 2 * inner - 1]) {
      expect(out[i]).toBe(x[i] * row[i % inner]);
    }
  });
});

describe("unaryWasm", () => {
  it("writes exactly out.length values and leaves the input unchanged", () => {
    const x = new Float32Array([-1, 4, 9, -16, 25]);
    const out = new Float32Array(6).fill(7);
    unaryWasm("sqrt", x, 1, out.subarray(0, 3));
    expect(Array.from(out)).toEqual([2, 3, Number.NaN, 7, 7, 7]);
    expect(Array.from(x)).toEqual([-1, 4, 9, -16, 25]);
  });

  it("squares 9001 float64 values past the first 4096-value chunk", () => {
    const x = Float64Array.from({ length: 9001 }, (_, i) => i - 4500.5);
    const out = new Float64Array(9001);
    unaryWasm("square", x, 0, out);
    for (const i of [0, 4095, 4096, 8191, 8192, 9000]) expect(out[i]).toBe((i - 4500.5) ** 2);
  });
});

describe("without WebAssembly SIMD", () => {
  it("reports the loops unavailable and returns false without writing", async () => {
    vi.resetModules();
    vi.stubGlobal("WebAssembly", {
      Module: class {
        constructor() {
          throw new Error("WebAssembly SIMD128 is not supported here");
        }
      },
    });
    try {
      const fresh = await import("../../src/kernels/elementwise-wasm.js");
      expect(fresh.wasmElementwiseAvailable()).toBe(false);
      const x = new Float32Array([1, 2, 3]);
      const out = new Float32Array(3).fill(7);
      const flat = { data: x, offset: 0, layout: "flat" } as const;
      expect(fresh.binaryWasm("add", flat, flat, out, 3)).toBe(false);
      expect(fresh.unaryWasm("neg", x, 0, out)).toBe(false);
      expect(Array.from(out)).toEqual([7, 7, 7]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
