// The cache of large arrays the engine found dead: what it keeps, for which allocations, how
// much, and that emptyCache drops it.

import { afterEach, describe, expect, it } from "vitest";
import { emptyCache } from "../../src/index.js";
import { ArrayCache, arrayCache } from "../../src/tensor/array-cache.js";
import { allocate, allocateUnfilled, WATCH_MIN_BYTES } from "../../src/tensor/dtype.js";

const MB = 1024 * 1024;

afterEach(() => emptyCache());

describe("ArrayCache", () => {
  it("hands an array back only for the same dtype and length", () => {
    const cache = new ArrayCache(64 * MB, 8);
    const array = new Float32Array(MB / 4);
    cache.release(array);
    expect(cache.bytes).toBe(MB);
    expect(cache.take("float64", MB / 8)).toBeUndefined(); // same bytes, other dtype
    expect(cache.take("float32", MB / 4 + 1)).toBeUndefined();
    expect(cache.take("float32", MB / 4)).toBe(array);
    expect(cache.take("float32", MB / 4)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it("keeps no more than its byte limit, and at most eight arrays of one size", () => {
    const small = new ArrayCache(3 * MB, 8);
    for (let i = 0; i < 5; i++) small.release(new Float32Array(MB / 4));
    expect(small.bytes).toBe(3 * MB);
    const wide = new ArrayCache(64 * MB, 8);
    for (let i = 0; i < 10; i++) wide.release(new Float32Array(MB / 4));
    expect(wide.bytes).toBe(8 * MB);
  });

  it("drops the sizes released longest ago to make room for a new one", () => {
    const cache = new ArrayCache(3 * MB, 8);
    const old = new Float32Array(MB / 4);
    cache.release(old);
    cache.release(new Float32Array(MB / 2)); // 2 MB: full now
    const newest = new Float64Array(MB / 4); // 2 MB more: the oldest size goes
    cache.release(newest);
    expect(cache.take("float32", MB / 4)).toBeUndefined();
    expect(cache.bytes).toBe(2 * MB);
    expect(cache.take("float64", MB / 4)).toBe(newest);
  });

  it("drops everything on clear()", () => {
    const cache = new ArrayCache(64 * MB, 8);
    cache.release(new Float64Array(MB / 8));
    cache.clear();
    expect(cache.bytes).toBe(0);
    expect(cache.take("float64", MB / 8)).toBeUndefined();
  });
});

describe("allocations and the process-wide cache", () => {
  it("allocate takes a cached array and zero-fills it", () => {
    const array = new Float32Array(WATCH_MIN_BYTES / 4).fill(7);
    arrayCache.release(array);
    const got = allocate("float32", array.length);
    expect(got).toBe(array);
    expect(got.every((v) => v === 0)).toBe(true);
  });

  it("allocateUnfilled takes a cached array as it is", () => {
    const array = new Float64Array(WATCH_MIN_BYTES / 8);
    arrayCache.release(array);
    expect(allocateUnfilled("float64", array.length)).toBe(array);
  });

  it("leaves arrays below the watched size to the runtime", () => {
    const array = new Float32Array(WATCH_MIN_BYTES / 4 - 1);
    arrayCache.release(array);
    expect(allocate("float32", array.length)).not.toBe(array);
  });

  it("emptyCache gives the cached arrays up", () => {
    const array = new Float32Array(WATCH_MIN_BYTES / 4);
    arrayCache.release(array);
    emptyCache();
    expect(arrayCache.bytes).toBe(0);
    expect(allocate("float32", array.length)).not.toBe(array);
  });
});
