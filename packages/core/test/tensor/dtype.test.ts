// Storage allocation: zero-filled arrays, and the unfilled ones that outputs and `empty` use.

import { afterEach, describe, expect, it, vi } from "vitest";
import { empty, emptyLike, tensor } from "../../src/index.js";
import { setUnfilledPoison } from "../../src/internal.js";
import { allocate, allocateUnfilled } from "../../src/tensor/dtype.js";

afterEach(() => {
  setUnfilledPoison(null);
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("allocateUnfilled", () => {
  it.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
    ["int32", Int32Array],
    ["bool", Uint8Array],
  ] as const)("gives a %s array of the asked length on its own buffer", (dtype, Type) => {
    for (const length of [0, 3, 1 << 21]) {
      const a = allocateUnfilled(dtype, length);
      expect(a).toBeInstanceOf(Type);
      expect(a.length).toBe(length);
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(length * Type.BYTES_PER_ELEMENT);
    }
  });

  it("gives separate, writable memory each time (4 MB and up skips the zero fill in Node)", () => {
    const n = 1 << 21; // 8 MB of float32
    const a = allocateUnfilled("float32", n);
    const b = allocateUnfilled("float32", n);
    a.fill(1);
    b.fill(2);
    expect(a[n - 1]).toBe(1);
    expect(b[0]).toBe(2);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it("fills with the poison value from its size on, while a test sets one", () => {
    setUnfilledPoison({ value: Number.NaN, minBytes: 16 });
    expect(Array.from(allocateUnfilled("float32", 4))).toEqual([NaN, NaN, NaN, NaN]);
    expect(Array.from(allocateUnfilled("float32", 3))).toEqual([0, 0, 0]); // 12 bytes
    expect(Array.from(allocate("float32", 4))).toEqual([0, 0, 0, 0]); // never poisoned
    setUnfilledPoison(null);
    expect(Array.from(allocateUnfilled("float32", 4))).toEqual([0, 0, 0, 0]);
  });
});

describe("allocateUnfilled with another Buffer (browser polyfills, size limits)", () => {
  /**
   * dtype.ts as imported where globalThis.Buffer.allocUnsafeSlow is `allocUnsafeSlow` (it reads
   * it once, at import; the real Buffer is back before any assertion, which vitest needs).
   */
  async function withBuffer(allocUnsafeSlow: (size: number) => Uint8Array) {
    vi.stubGlobal("Buffer", { allocUnsafeSlow });
    vi.resetModules();
    try {
      return await import("../../src/tensor/dtype.js");
    } finally {
      vi.unstubAllGlobals();
    }
  }

  it("uses Buffer.allocUnsafeSlow from 4 MB, a plain typed array below", async () => {
    const sizes: number[] = [];
    const dtype = await withBuffer((size) => {
      sizes.push(size);
      return new Uint8Array(size).fill(255);
    });
    expect(dtype.allocateUnfilled("float32", 1 << 20)[0]).toBeNaN(); // the stub's bytes, not 0
    expect(dtype.allocateUnfilled("float32", (1 << 20) - 1)[0]).toBe(0);
    expect(sizes).toEqual([4 << 20]);
  });

  it("falls back to a plain typed array where Buffer refuses the size", async () => {
    const dtype = await withBuffer(() => {
      throw new RangeError("Attempt to allocate Buffer larger than maximum size");
    });
    const a = dtype.allocateUnfilled("float64", 1 << 20);
    expect(a).toBeInstanceOf(Float64Array);
    expect(a.length).toBe(1 << 20);
    expect(a[0]).toBe(0);
  });
});

describe("empty", () => {
  it("has the shape, dtype and requiresGrad asked for, like torch.empty", () => {
    const t = empty([2, 3], { dtype: "float64", requiresGrad: true });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float64");
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
    expect(empty([0, 4]).numel()).toBe(0);
    expect(empty([]).shape).toEqual([]);
  });

  it("emptyLike takes the shape and dtype of its argument, never its graph", () => {
    const x = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const e = emptyLike(x.mul(2));
    expect(e.shape).toEqual([3]);
    expect(e.dtype).toBe("float64");
    expect(e.requiresGrad).toBe(false);
    expect(emptyLike(x, { dtype: "int32" }).dtype).toBe("int32");
  });

  it("names the op and the bad argument", () => {
    expect(() => empty([2, -1])).toThrow(/^empty: .*-1/);
    expect(() => empty([2], { dtype: "float16" as never })).toThrow(/^empty: .*float16/);
  });
});
