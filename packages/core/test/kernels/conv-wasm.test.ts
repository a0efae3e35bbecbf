// col2imWasm and addRowBiasWasm on small cases and their refusals: where they cannot run they
// write nothing, and conv.ts runs its JS loops (conv.test.ts compares the two paths bit for bit
// on every geometry); addRowBiasWasm's rules for ±0 and NaN against the JS loop's.

import { describe, expect, it } from "vitest";
import {
  addRowBiasWasm,
  channelsOutWasm,
  col2imWasm,
  type PatchGeometry,
} from "../../src/kernels/conv-wasm.js";
import type { FloatArray } from "../../src/kernels/gemm-js.js";

const geometry: PatchGeometry = {
  kh: 1,
  kw: 1,
  inH: 2,
  inW: 2,
  outH: 2,
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

describe("addRowBiasWasm", () => {
  // Rows of -0, +0, a value and NaNs (quiet and signalling, both signs, with payloads), and
  // biases of +0, -0, a value and NaNs: a ±0 bias is skipped (adding +0 would turn -0 into +0),
  // as in conv.ts's `out[e] += b`. NaN rows meet no NaN bias (which of two NaN payloads survives
  // is left open, and in JavaScript depends on how V8 compiled the loop). (Float64 gets the
  // float32 values widened.)
  const rowBits = [0x80000000, 0x00000000, 0x3f800000, 0x7fc00001, 0xff800002, 0x7f800003];
  const biasBits = [0x00000000, 0x80000000, 0x40000000, 0xffc00005, 0x7f800006];
  const fromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);

  /** conv.ts's loop (moveChannels), on one row. */
  function jsLoop(row: FloatArray, b: number): void {
    if (b !== 0) for (let e = 0; e < row.length; e++) row[e] += b;
  }

  it.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
  ] as const)("%s: the JS loop's bits", (_, View) => {
    const cols = rowBits.length + 3; // a vector part and a scalar tail
    const rows = biasBits.length;
    const stride = cols + 5; // rows padded, as the GEMM pads them
    const memory = new WebAssembly.Memory({ initial: 1 });
    const c: FloatArray = new View(memory.buffer, 64, rows * stride);
    const values = fromBits(rowBits);
    const bias: FloatArray = new View(fromBits(biasBits));
    for (let r = 0; r < rows; r++) {
      for (let e = 0; e < cols; e++) {
        const v = values[e % values.length];
        // Rows with a NaN bias hold no NaN.
        c[r * stride + e] = Number.isNaN(bias[r]) && Number.isNaN(v) ? 1 : v;
      }
    }
    const expected: FloatArray = new View(c);
    for (let r = 0; r < rows; r++)
      jsLoop(expected.subarray(r * stride, r * stride + cols), bias[r]);

    const view = addRowBiasWasm(
      { c, memory, rowStride: stride, colStride: 1 },
      rows,
      cols,
      bias,
      0,
    );
    expect(view).not.toBeNull();
    const bytes = (a: FloatArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    expect(Buffer.compare(bytes(view!), bytes(expected))).toBe(0);
  });

  it("refuses a transposed product and a memory that cannot grow, changing nothing", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const c = new Float32Array(memory.buffer, 0, 4).fill(1);
    const bias = new Float32Array(64).fill(2);
    expect(addRowBiasWasm({ c, memory, rowStride: 1, colStride: 4 }, 1, 4, bias, 0)).toBeNull();
    // Its 64 bias values would go past the memory's one page, which may not grow.
    const last = new Float32Array(memory.buffer, 65536 - 16, 4).fill(1);
    const product = { c: last, memory, rowStride: 4, colStride: 1 };
    expect(addRowBiasWasm(product, 64, 4, bias, 0)).toBeNull();
    expect([...c, ...last]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe("channelsOutWasm", () => {
  it("rearranges a product's channel rows into images, read where they lie also when the memory has to grow", () => {
    // 2 channels of 3 images of 4 positions, rows 16 values apart, at the end of a one-page
    // memory: the images are placed past it, so the memory grows (detaching the product's view).
    const [channels, count, positions, rowStride] = [2, 3, 4, 16];
    const memory = new WebAssembly.Memory({ initial: 1 });
    const at = 65536 - channels * rowStride * 4;
    const c = new Float32Array(memory.buffer, at, channels * rowStride);
    for (let ch = 0; ch < channels; ch++) {
      for (let e = 0; e < count * positions; e++) c[ch * rowStride + e] = 100 * ch + e;
    }
    const out = new Float32Array(2 + count * channels * positions).fill(-1);
    const product = { c, memory, rowStride, colStride: 1 };
    const image = channels * positions;
    expect(channelsOutWasm(product, channels, count, positions, out, 2, image)).toBe(true);
    expect(memory.buffer.byteLength).toBeGreaterThan(65536);
    const expected = [-1, -1];
    for (let i = 0; i < count; i++) {
      for (let ch = 0; ch < channels; ch++) {
        for (let e = 0; e < positions; e++) expected.push(100 * ch + i * positions + e);
      }
    }
    expect([...out]).toEqual(expected);
  });
});
