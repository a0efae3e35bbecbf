import { describe, expect, it } from "vitest";
import { sgdMomentumF32, wasmSgdAvailable } from "../../src/kernels/sgd-wasm.js";

/** Deterministic float32 values in [-2, 2). */
function values(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}

describe("sgdMomentumF32", () => {
  it("reports the SIMD kernel as available in Node 20", () => {
    expect(wasmSgdAvailable()).toBe(true);
  });

  it("updates buf = buf·momentum + keep·g, then p += step·buf, rounding each store to float32", () => {
    const p = new Float32Array([1, 2, 3, 4, 5]);
    const g = new Float32Array([0.5, -1, 0, 2, 4]);
    const buf = new Float32Array([1, 1, 1, 1, 0]);
    sgdMomentumF32(p, 0, g, 0, buf, 5, 0.5, 1, -0.25);
    // buf: 1·0.5 + g = [1, -0.5, 0.5, 2.5, 4]; p: p - 0.25·buf.
    expect(Array.from(buf)).toEqual([1, -0.5, 0.5, 2.5, 4]);
    expect(Array.from(p)).toEqual([0.75, 2.125, 2.875, 3.375, 4]);
  });

  // 1003: one chunk with a SIMD tail; 65541: two full 32768-element chunks and a partial third.
  // keep = 1 takes the float32x4 add (two vectors at a time, then one, then single values: 1007
  // has all three), any other keep the float64 one. Offsets 2 and 1 read parts of p and g;
  // offset 0 (the last two) reads whole arrays, with no view made of them.
  it.each([
    [1003, 1, 2, 1],
    [1007, 1, 2, 1],
    [1003, 0.7, 2, 1],
    [65541, 1, 2, 1],
    [65541, 0.7, 2, 1],
    [1003, 1, 0, 0],
    [65541, 0.7, 0, 0],
  ])(
    "matches torch's float32 expressions, written as a JS loop, bit for bit on %i values with keep %d (offsets %i, %i)",
    (n, keepValue, pAt, gAt) => {
      const p = values(n + pAt, 1);
      const g = values(n + gAt, 2);
      const buf = values(n, 3);
      const [pRef, bufRef] = [p.slice(), buf.slice()];
      // torch casts its scalars to float32; products of two float32 values are exact doubles.
      const [m, keep, step] = [Math.fround(0.9), Math.fround(keepValue), Math.fround(-0.01)];
      for (let i = 0; i < n; i++) {
        bufRef[i] = Math.fround(Math.fround(bufRef[i] * m) + keep * g[gAt + i]);
        pRef[pAt + i] = Math.fround(pRef[pAt + i] + step * bufRef[i]);
      }
      sgdMomentumF32(p, pAt, g, gAt, buf, n, 0.9, keepValue, -0.01);
      // Counts of differing elements: a short message on failure, where 65,541 values are not.
      const differing = (a: Float32Array, b: Float32Array) =>
        a.reduce((count, v, i) => count + (Object.is(v, b[i]) ? 0 : 1), 0);
      expect(differing(buf, bufRef)).toBe(0);
      expect(differing(p, pRef)).toBe(0);
    },
  );

  it("steps the same arrays again through the views it kept, also after the memory grew", () => {
    // The reference: the same expressions as above, as a JS loop.
    const reference = (p: Float32Array, g: Float32Array, buf: Float32Array, at: number) => {
      for (let i = 0; i < buf.length; i++) {
        buf[i] = Math.fround(Math.fround(buf[i] * Math.fround(0.9)) + g[at + i]);
        p[at + i] = Math.fround(p[at + i] + Math.fround(-0.01) * buf[i]);
      }
    };
    const arrays = (n: number, seed: number) => ({
      p: values(n + 1, seed),
      g: values(n + 1, seed + 1),
      buf: values(n, seed + 2),
    });
    // A small step first (a small memory), then two large ones (it grows: new views), then the
    // small and the large arrays again: every view made before the growth is stale by then.
    const small = arrays(1003, 10);
    const large = arrays(70000, 20);
    const expected = [small, large].map(({ p, g, buf }) => ({
      p: p.slice(),
      g,
      buf: buf.slice(),
    }));
    for (const which of [0, 1, 1, 0, 1, 0]) {
      const a = [small, large][which];
      const e = expected[which];
      sgdMomentumF32(a.p, 1, a.g, 1, a.buf, a.buf.length, 0.9, 1, -0.01);
      reference(e.p, e.g, e.buf, 1);
      expect(a.p).toEqual(e.p);
      expect(a.buf).toEqual(e.buf);
    }
  });
});
