// Creation functions: nested and typed arrays (ragged input is an error), ranges, identity, and
// random tensors that reproduce under manualSeed and explicit Generators.

import { describe, expect, it } from "vitest";
import {
  arange,
  eye,
  full,
  Generator,
  linspace,
  manualSeed,
  onesLike,
  rand,
  randint,
  randn,
  tensor,
  zeros,
  zerosLike,
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

  it("continue a Generator's stream in the copy cloneState() makes, independently", () => {
    const g = new Generator(9);
    g.normal(); // one normal of a pair drawn: the copy keeps the spare one too
    const copy = g.cloneState();
    const fromCopy = [copy.normal(), copy.uniform(), copy.nextUint32()];
    expect([g.normal(), g.uniform(), g.nextUint32()]).toEqual(fromCopy);
    copy.uniform();
    expect(g.cloneState().uniform()).toBe(g.uniform());
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

describe("tensor from every typed-array kind", () => {
  it("reads small integer arrays as int32 with their values kept exactly", () => {
    const cases: [ArrayLike<number>, number[]][] = [
      [new Int8Array([1, -2, 127, -128]), [1, -2, 127, -128]],
      [new Int16Array([1, 2, -3]), [1, 2, -3]],
      [new Uint16Array([0, 2, 65535]), [0, 2, 65535]],
      [new Uint8ClampedArray([0, 2, 255]), [0, 2, 255]],
      [new Uint32Array([0, 7, 2 ** 31 - 1]), [0, 7, 2 ** 31 - 1]],
    ];
    for (const [data, values] of cases) {
      const t = tensor(data as never);
      expect(t.dtype, data.constructor.name).toBe("int32");
      expect(t.tolist(), data.constructor.name).toEqual(values);
    }
  });

  it("reads BigInt64Array and BigUint64Array as int32, and refuses values outside its range", () => {
    expect(tensor(new BigInt64Array([1n, -2n, 3n]) as never).tolist()).toEqual([1, -2, 3]);
    expect(tensor(new BigUint64Array([5n]) as never).tolist()).toEqual([5]);
    expect(() => tensor(new BigInt64Array([2n ** 40n]) as never)).toThrow(
      /tensor: the value at position 0 \(of the BigInt64Array\) is 1099511627776, outside the int32 range/,
    );
    expect(tensor(new BigInt64Array([2n ** 40n]) as never, { dtype: "float64" }).item()).toBe(
      2 ** 40,
    );
  });

  it("refuses a Uint32Array value above the int32 range, and keeps it with dtype float64", () => {
    const data = new Uint32Array([1, 2 ** 32 - 1]);
    expect(() => tensor(data as never)).toThrow(
      /tensor: the value at position 1 \(of the Uint32Array\) is 4294967295, outside the int32 range .*float64/,
    );
    expect(tensor(data as never, { dtype: "float64" }).tolist()).toEqual([1, 2 ** 32 - 1]);
  });

  it("reads a Uint8Array as bool, refusing bytes other than 0 and 1 unless a dtype is given", () => {
    expect(tensor(new Uint8Array([0, 1, 1])).dtype).toBe("bool");
    expect(() => tensor(new Uint8Array([0, 2, 255]))).toThrow(
      'tensor: a Uint8Array is read as bool (0 or 1), but element 1 is 2; pass { dtype: "int32" } to keep byte values',
    );
    expect(tensor(new Uint8Array([0, 2, 255]), { dtype: "int32" }).tolist()).toEqual([0, 2, 255]);
    expect(tensor(new Uint8Array([0, 2, 255]), { dtype: "bool" }).tolist()).toEqual([0, 1, 1]);
  });

  it("refuses a DataView, naming it and saying what to pass instead", () => {
    expect(() => tensor(new DataView(new ArrayBuffer(8)) as never)).toThrow(
      /tensor: cannot read a DataView: it has no element type .*new Float32Array\(view.buffer/,
    );
  });

  it("converts to bool as PyTorch does: any nonzero value, NaN included, is true", () => {
    expect(tensor([0, -0, 2, Number.NaN], { dtype: "bool" }).tolist()).toEqual([0, 0, 1, 1]);
    expect(tensor([true, false] as never, { dtype: "bool" }).tolist()).toEqual([1, 0]);
    expect(full([2], Number.NaN, { dtype: "bool" }).tolist()).toEqual([1, 1]);
  });
});

describe("int32 range", () => {
  it("refuses values that int32 would wrap instead of storing -2147483648", () => {
    expect(() => tensor([2 ** 31], { dtype: "int32" })).toThrow(
      /tensor: the value at position 0 is 2147483648, outside the int32 range \[-2147483648, 2147483647\]/,
    );
    expect(tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: "int32" }).tolist()).toEqual([
      2 ** 31 - 1,
      -(2 ** 31),
    ]);
    expect(() => full([2], 2 ** 31, { dtype: "int32" })).toThrow(
      /full: fill value is 2147483648, outside the int32 range/,
    );
    expect(() => arange(2 ** 31 - 1, 2 ** 31 + 1)).toThrow(
      /arange: last value is 2147483648, outside the int32 range/,
    );
    expect(() => linspace(0, 2 ** 32, 3, { dtype: "int32" })).toThrow(
      /linspace: end is 4294967296, outside the int32 range/,
    );
  });

  it("refuses randint bounds outside its dtype instead of returning negatives", () => {
    expect(() => randint(0, 2 ** 40, [5])).toThrow(
      /randint: high - 1 \(the largest value drawn\) is 1099511627775, outside the int32 range/,
    );
    expect(() => randint(-(2 ** 31) - 1, 0, [5])).toThrow(/randint: low is -2147483649/);
    const wide = randint(0, 2 ** 40, [50], { dtype: "float64", generator: new Generator(3) });
    const values = wide.tolist() as number[];
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 40)).toBe(true);
    expect(Math.max(...values)).toBeGreaterThan(2 ** 32); // not wrapped into 32 bits
    expect(() => randint(0, 3, [2], { dtype: "bool" })).toThrow(/randint: bool values are 0 or 1/);
  });
});

describe("nested arrays", () => {
  it("refuses a number and a list side by side, as PyTorch does", () => {
    expect(() => tensor([1, [2]] as never)).toThrow(
      "tensor: ragged nested arrays: a list at depth 1 (flat position 1) where the first path has a number",
    );
    expect(() => tensor([[1], 2] as never)).toThrow(
      "tensor: ragged nested arrays: found number 2 at depth 1 where the first path has a list of length 1",
    );
  });

  it("refuses 10,000 levels of nesting with a message, not a stack overflow", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(() => tensor(deep as never)).toThrow(
      "tensor: nested arrays deeper than 64 levels; a tensor has at most 64 dims",
    );
    let ok: unknown = 1;
    for (let i = 0; i < 64; i++) ok = [ok];
    expect(tensor(ok as never).ndim).toBe(64);
  });
});

describe("shapes and sizes in messages", () => {
  it("prints a NaN size as NaN, not null", () => {
    expect(() => zeros([Number.NaN])).toThrow(
      "zeros: shape [NaN] must hold non-negative integers (got NaN)",
    );
  });

  it("names the function, the shape and the bytes when an array is too large to allocate", () => {
    expect(() => zeros([1e6, 1e6])).toThrow(
      /^zeros: cannot allocate a float32 tensor of shape \[1000000, 1000000\] \(4000000000000 bytes, 3\.6 TiB\): the runtime refused/,
    );
    expect(() => linspace(0, 1, 1e12)).toThrow(
      /^linspace: cannot allocate a float32 tensor of shape \[1000000000000\] \(4000000000000 bytes, 3\.6 TiB\)/,
    );
    expect(() => randn([1e6, 1e6], { dtype: "float64" })).toThrow(
      /^randn: cannot allocate a float64 tensor of shape \[1000000, 1000000\] \(8000000000000 bytes/,
    );
  });
});

describe("the ...Like functions and eye", () => {
  it("name themselves in their errors", () => {
    expect(() => zerosLike(null as never)).toThrow("zerosLike: expected a Tensor, got null");
    expect(() => onesLike([1, 2] as never)).toThrow(/^onesLike: expected a Tensor, got an array/);
    expect(() => eye(-1)).toThrow(/^eye: shape \[-1, -1\] must hold non-negative integers/);
  });
});
