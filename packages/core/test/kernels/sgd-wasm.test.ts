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

  // 1003: one chunk with a SIMD tail; 8197: two full 4096-element chunks and a partial third.
  it.each([1003, 8197])(
    "matches the float64-then-round loop bit for bit on %i values at offsets (SIMD, tail, chunks)",
    (n) => {
      const p = values(n + 2, 1);
      const g = values(n + 1, 2);
      const buf = values(n, 3);
      const [pRef, bufRef] = [p.slice(), buf.slice()];
      for (let i = 0; i < n; i++) {
        bufRef[i] = Math.fround(bufRef[i] * 0.9 + 0.7 * g[1 + i]);
        pRef[2 + i] = Math.fround(pRef[2 + i] + -0.01 * bufRef[i]);
      }
      sgdMomentumF32(p, 2, g, 1, buf, n, 0.9, 0.7, -0.01);
      expect(Array.from(buf)).toEqual(Array.from(bufRef));
      expect(Array.from(p)).toEqual(Array.from(pRef));
    },
  );
});
