// col2imWasm's refusals: where it cannot run it returns false and writes nothing, and convInput
// then runs the JS col2im (conv.test.ts compares the two paths bit for bit where it runs).

import { describe, expect, it } from "vitest";
import { type Col2imGeometry, col2imWasm } from "../../src/kernels/conv-wasm.js";

const geometry: Col2imGeometry = {
  kh: 1,
  kw: 1,
  inH: 2,
  inW: 2,
  outW: 2,
  strideH: 1,
  strideW: 1,
};
/** One kernel row and column, both valid over the whole 2×2 output: a 1×1 convolution. */
const table = Int32Array.from([0, 2, 0, 0, 2, 0]);

function columnsOn(memory: WebAssembly.Memory, colStride = 1) {
  const c = new Float32Array(memory.buffer, 0, 4).fill(1);
  return { c, memory, rowStride: 4, colStride };
}

describe("col2imWasm", () => {
  it("scatters a 1×1 convolution's columns onto the planes", () => {
    const dx = new Float32Array(8).fill(Number.NaN);
    const memory = new WebAssembly.Memory({ initial: 1 });
    new Float32Array(memory.buffer, 0, 4).set([1, 2, 3, 4]);
    const columns = {
      c: new Float32Array(memory.buffer, 0, 4),
      memory,
      rowStride: 4,
      colStride: 1,
    };
    expect(col2imWasm(columns, 4, 1, 1, geometry, table, dx, 4, 4)).toBe(true);
    expect([...dx]).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN, 1, 2, 3, 4]);
  });

  it("refuses a product it would read transposed", () => {
    const dx = new Float32Array(4).fill(7);
    const memory = new WebAssembly.Memory({ initial: 1 });
    expect(col2imWasm(columnsOn(memory, 4), 4, 1, 1, geometry, table, dx, 0, 4)).toBe(false);
    expect([...dx]).toEqual([7, 7, 7, 7]);
  });

  it("refuses a shared memory (the threaded GEMM's), which the module cannot import", () => {
    const dx = new Float32Array(4).fill(7);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    expect(col2imWasm(columnsOn(memory), 4, 1, 1, geometry, table, dx, 0, 4)).toBe(false);
    expect([...dx]).toEqual([7, 7, 7, 7]);
  });

  it("refuses when the memory cannot grow to hold the planes", () => {
    const big = { ...geometry, inH: 256, inW: 256 };
    const dx = new Float32Array(4).fill(7);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    expect(col2imWasm(columnsOn(memory), 4, 1, 1, big, table, dx, 0, 4)).toBe(false);
    expect([...dx]).toEqual([7, 7, 7, 7]);
  });
});
