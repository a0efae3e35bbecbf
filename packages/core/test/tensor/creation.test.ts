// Creation functions: nested and typed arrays (ragged input is an error), ranges, identity, and
// random tensors that reproduce under manualSeed and explicit Generators.

import { describe, expect, it } from "vitest";
import {
  arange,
  eye,
  Generator,
  linspace,
  manualSeed,
  rand,
  randint,
  randn,
  tensor,
} from "../../src/index.js";

describe("tensor", () => {
  it("infers the shape from nested arrays and defaults to float32", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(t.tolist()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it("keeps a typed array's dtype and takes a shape for it", () => {
    const t = tensor(new Int32Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
    expect(t.dtype).toBe("int32");
    expect(t.shape).toEqual([3, 2]);
    expect(t.tolist()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it("copies its input instead of aliasing it", () => {
    const source = new Float64Array([1, 2]);
    const t = tensor(source);
    source[0] = 9;
    expect(t.tolist()).toEqual([1, 2]);
  });

  it("rejects ragged nested arrays, naming the depth and lengths", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested arrays/);
    expect(() => tensor([[1, 2], 3] as never)).toThrow(/ragged nested arrays/);
    expect(() =>
      tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    ).toThrow(/ragged/);
  });

  it("rejects non-integers for int32 and a shape that does not fit the data", () => {
    expect(() => tensor([1.5], { dtype: "int32" })).toThrow(/int32 data must be integers, got 1.5/);
    expect(() => tensor(new Float32Array(5), { shape: [2, 2] })).toThrow(
      /shape \[2, 2\] needs 4 values, got 5/,
    );
  });
});

describe("ranges and identity", () => {
  it("arange of integers is int32 and stops before the end", () => {
    const t = arange(2, 11, 3);
    expect(t.dtype).toBe("int32");
    expect(t.tolist()).toEqual([2, 5, 8]);
    expect(arange(4).tolist()).toEqual([0, 1, 2, 3]);
  });

  it("arange with a fractional step is float32", () => {
    const t = arange(0, 1, 0.25);
    expect(t.dtype).toBe("float32");
    expect(t).toBeAllclose([0, 0.25, 0.5, 0.75]);
  });

  it("linspace includes both ends exactly", () => {
    const t = linspace(-1, 1, 5, { dtype: "float64" });
    expect(t.tolist()).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(linspace(0, 0.3, 4, { dtype: "float64" }).toArray()[3]).toBe(0.3);
  });

  it("eye is the (possibly rectangular) identity", () => {
    expect(eye(2, 3).tolist()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
  });
});

describe("random tensors", () => {
  it("repeat after manualSeed with the same seed", () => {
    manualSeed(42);
    const first = [rand([3]).tolist(), randn([2]).tolist(), randint(0, 10, [4]).tolist()];
    manualSeed(42);
    const second = [rand([3]).tolist(), randn([2]).tolist(), randint(0, 10, [4]).tolist()];
    expect(second).toEqual(first);
    manualSeed(43);
    expect(rand([3]).tolist()).not.toEqual(first[0]);
  });

  it("draw from an explicit Generator independently of the default one", () => {
    const a = randn([5], { generator: new Generator(7) });
    rand([100]);
    const b = randn([5], { generator: new Generator(7) });
    expect(b.tolist()).toEqual(a.tolist());
  });

  it("stay in range: rand in [0, 1), randint in [low, high) as int32", () => {
    const u = rand([10_000], { generator: new Generator(1) }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const k = randint(-3, 2, [10_000], { generator: new Generator(1) });
    expect(k.dtype).toBe("int32");
    expect(new Set(k.toArray())).toEqual(new Set([-3, -2, -1, 0, 1]));
  });

  it("randn has mean ≈ 0 and standard deviation ≈ 1", () => {
    const z = randn([40_000], { dtype: "float64", generator: new Generator(3) });
    expect(Math.abs(z.mean().item())).toBeLessThan(0.02);
    expect(Math.abs(z.std().item() - 1)).toBeLessThan(0.02);
  });
});
