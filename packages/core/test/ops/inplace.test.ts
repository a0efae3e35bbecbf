// In-place updates on their contiguous fast paths (same-shape or single-element sources) and on
// the general strided walk (broadcast rows, transposed targets): both must give the elementwise
// formula computed here on plain arrays.

import { afterEach, describe, expect, it } from "vitest";
import { setKernelBackend, type Tensor, tensor, zeros } from "../../src/index.js";

const base = [1, -2, 3.5, 4, 0.25, -6];
const x = [0.5, 2, -1, 3, 8, -0.5];
const y = [2, -4, 0.5, 1, 16, 0.25];

/** [2, 3] float64 targets laid out contiguously or as the transpose of a [3, 2] tensor. */
function target(values: number[], layout: "contiguous" | "transposed"): Tensor {
  if (layout === "contiguous")
    return tensor([values.slice(0, 3), values.slice(3)], { dtype: "float64" });
  const rows = [0, 1, 2].map((j) => [values[j], values[3 + j]]);
  return tensor(rows, { dtype: "float64" }).t();
}

function flat(t: Tensor): number[] {
  return (t.tolist() as number[][]).flat();
}

const pair = (values: number[]) =>
  tensor([values.slice(0, 3), values.slice(3)], { dtype: "float64" });

for (const layout of ["contiguous", "transposed"] as const) {
  describe(`in-place ops on a ${layout} [2,3] target`, () => {
    it("add_ adds alpha times a same-shape tensor, a number, or a one-element tensor", () => {
      expect(flat(target(base, layout).add_(pair(x), 2))).toEqual(base.map((v, i) => v + 2 * x[i]));
      expect(flat(target(base, layout).add_(3, -1))).toEqual(base.map((v) => v - 3));
      expect(flat(target(base, layout).add_(tensor([1.5], { dtype: "float64" })))).toEqual(
        base.map((v) => v + 1.5),
      );
    });

    it("add_ broadcasts a row over the target", () => {
      const row = tensor([10, 20, 30], { dtype: "float64" });
      expect(flat(target(base, layout).add_(row))).toEqual(
        base.map((v, i) => v + [10, 20, 30][i % 3]),
      );
    });

    it("mul_ multiplies by a same-shape tensor, a number, or a broadcast row", () => {
      expect(flat(target(base, layout).mul_(pair(x)))).toEqual(base.map((v, i) => v * x[i]));
      expect(flat(target(base, layout).mul_(-0.5))).toEqual(base.map((v) => v * -0.5));
      const row = tensor([1, 2, 3], { dtype: "float64" });
      expect(flat(target(base, layout).mul_(row))).toEqual(base.map((v, i) => v * (1 + (i % 3))));
    });

    it("addcmul_ adds value·a·b and addcdiv_ adds value·a/b", () => {
      expect(flat(target(base, layout).addcmul_(pair(x), pair(y), 0.5))).toEqual(
        base.map((v, i) => v + 0.5 * x[i] * y[i]),
      );
      expect(flat(target(base, layout).addcdiv_(pair(x), pair(y), -3))).toEqual(
        base.map((v, i) => v + (-3 * x[i]) / y[i]),
      );
      const one = tensor(4, { dtype: "float64" });
      expect(flat(target(base, layout).addcmul_(pair(x), one))).toEqual(
        base.map((v, i) => v + x[i] * 4),
      );
    });

    it("bumps the storage version once per update", () => {
      const t = target(base, layout);
      const before = t.storage.version;
      t.add_(pair(x)).mul_(2).addcmul_(pair(x), pair(y)).addcdiv_(pair(x), pair(y));
      expect(t.storage.version).toBe(before + 4);
    });
  });
}

describe.each(["js", "wasm"] as const)(
  "add_ and mul_ on large float32 targets (%s kernels)",
  (backend) => {
    afterEach(() => setKernelBackend("auto"));
    const rows = 37;
    const cols = 129;
    const values = (count: number, seed: number) =>
      Array.from({ length: count }, (_, i) => Math.sin(i * seed + 1) * 10);
    /** A [rows, cols] view starting one row into a [rows + 1, cols] tensor (offset cols). */
    function offsetTarget(): Tensor {
      return tensor(values((rows + 1) * cols, 3), { shape: [rows + 1, cols] }).slice(0, 1);
    }
    const start = Float32Array.from(values((rows + 1) * cols, 3)).subarray(cols);

    it("add_ of a broadcast row, a same-shape tensor and a number rounds like float32 adds", () => {
      setKernelBackend(backend);
      const row = Float32Array.from(values(cols, 5));
      const same = Float32Array.from(values(rows * cols, 7));
      const t = offsetTarget();
      t.add_(tensor(row))
        .add_(tensor(same, { shape: [rows, cols] }))
        .add_(0.1);
      const expected = start.map((v, i) =>
        Math.fround(Math.fround(Math.fround(v + row[i % cols]) + same[i]) + Math.fround(0.1)),
      );
      expect(Array.from(t.contiguous().toArray())).toEqual(Array.from(expected));
    });

    it("mul_ of a broadcast row leaves the elements before the view untouched", () => {
      setKernelBackend(backend);
      const row = Float32Array.from(values(cols, 11));
      const base = tensor(values((rows + 1) * cols, 3), { shape: [rows + 1, cols] });
      base.slice(0, 1).mul_(tensor(row));
      const all = base.toArray();
      const head = Float32Array.from(values(cols, 3));
      expect(Array.from(all.subarray(0, cols))).toEqual(Array.from(head));
      expect(Array.from(all.subarray(cols))).toEqual(
        Array.from(start.map((v, i) => Math.fround(v * row[i % cols]))),
      );
    });
  },
);

describe("in-place shape checks", () => {
  it("rejects a one-element source with more dims than the target", () => {
    const scalar = tensor(1, { dtype: "float64" });
    expect(() => scalar.add_(tensor([[2]], { dtype: "float64" }))).toThrow(
      /add_: source of shape \[1, 1\]/,
    );
    expect(() => scalar.mul_(tensor([[2]], { dtype: "float64" }))).toThrow(
      /mul_: source of shape \[1, 1\]/,
    );
  });

  it("rounds float32 targets on every store", () => {
    const t = tensor([1], { dtype: "float32" });
    t.addcdiv_(tensor([1], { dtype: "float32" }), tensor([3], { dtype: "float32" }));
    expect(t.item()).toBe(Math.fround(1 + Math.fround(1) / Math.fround(3)));
  });
});

describe("copy_, fill_ and zero_", () => {
  it("copy a same-shaped contiguous source, converting dtype, and bump the version", () => {
    const target = zeros([2, 3]);
    const before = target.storage.version;
    target.copy_(
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: "float64" },
      ),
    );
    expect(Array.from(target.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(target.storage.version).toBe(before + 1);
  });

  it("copy into a strided view and from a broadcast source without touching other elements", () => {
    const base = zeros([3, 3]);
    base.slice(1, 0, 3, 2).copy_(tensor([7, 8]));
    expect(Array.from(base.toArray())).toEqual([7, 0, 8, 7, 0, 8, 7, 0, 8]);
    const window = zeros([4]).narrow(0, 1, 2);
    window.fill_(5);
    expect(Array.from(window.storage.data)).toEqual([0, 5, 5, 0]);
    window.zero_();
    expect(Array.from(window.storage.data)).toEqual([0, 0, 0, 0]);
  });

  it("copy into a bool tensor as 0/1", () => {
    const flags = zeros([3], { dtype: "bool" });
    flags.copy_(tensor([0, 2.5, -1]));
    expect(Array.from(flags.toArray())).toEqual([0, 1, 1]);
  });
});

describe("in-place updates whose source shares the target's memory (PyTorch's overlap rule)", () => {
  const grid = () => tensor([0, 1, 2, 3, 4, 5, 6, 7], { shape: [2, 4], dtype: "float32" });

  it("refuses a source at other positions of the same storage, naming both views", () => {
    const x = tensor(
      Array.from({ length: 300 }, (_, i) => i),
      { dtype: "float32" },
    );
    expect(() => x.narrow(0, 1, 299).add_(x.narrow(0, 0, 299))).toThrow(
      /add_: the source \(shape \[299\], offset 0\) shares memory with the target \(shape \[299\], offset 1\) at other positions; clone\(\) the source first/,
    );
    const g = grid();
    expect(() => g.add_(g.select(0, 0))).toThrow(/add_: the source \(shape \[4\], offset 0\)/);
    const square = tensor([1, 2, 3, 4], { shape: [2, 2] });
    expect(() => square.mul_(square.t())).toThrow(/mul_: the source/);
    expect(() => g.addcmul_(g.select(0, 1), tensor([1, 1, 1, 1]))).toThrow(/addcmul_: the source/);
    // Nothing was written by the refused calls.
    expect(Array.from(g.toArray())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("allows the identical view and disjoint parts of one storage, as torch does", () => {
    const g = grid();
    g.add_(g);
    expect(Array.from(g.toArray())).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    g.select(0, 0).add_(g.select(0, 1));
    expect(Array.from(g.toArray())).toEqual([8, 12, 16, 20, 8, 10, 12, 14]);
    g.select(0, 1).mul_(g.select(0, 0).clone());
    expect(Array.from(g.toArray())).toEqual([8, 12, 16, 20, 64, 120, 192, 280]);
  });
});

describe("in-place writes into tensors with no elements", () => {
  it("are allowed even though contiguous [2, 0] has a stride of 0 (nothing is written twice)", () => {
    const empty = zeros([2, 0]);
    expect(empty.strides).toEqual([0, 1]);
    expect(empty.mul_(2).shape).toEqual([2, 0]);
    expect(empty.add_(zeros([0])).shape).toEqual([2, 0]);
  });

  it("still refuse a broadcast view that has elements", () => {
    expect(() => zeros([1, 3]).expand([2, 3]).mul_(2)).toThrow(/expanded \(broadcast\) view/);
  });
});

describe("copy_ from a source that overlaps the target", () => {
  it("copies x.t() into x as if from separate memory (PyTorch refuses; the result is exact here)", () => {
    const x = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8], { shape: [3, 3] });
    x.copy_(x.t());
    expect(x.tolist()).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5, 8],
    ]);
  });

  it("handles shifted and strided overlaps on the fast and the strided paths", () => {
    const v = tensor([0, 1, 2, 3, 4, 5], { dtype: "float64" });
    v.narrow(0, 1, 5).copy_(v.narrow(0, 0, 5)); // contiguous, shifted by one
    expect(v.tolist()).toEqual([0, 0, 1, 2, 3, 4]);
    const w = tensor([0, 1, 2, 3, 4, 5, 6, 7], { shape: [2, 4] });
    w.t().copy_(w.reshape(4, 2)); // strided target
    expect(w.tolist()).toEqual([
      [0, 2, 4, 6],
      [1, 3, 5, 7],
    ]);
    const flags = tensor([1, 0, 0, 1], { dtype: "bool" });
    flags.narrow(0, 0, 3).copy_(flags.narrow(0, 1, 3));
    expect(flags.tolist()).toEqual([0, 0, 1, 1]);
  });
});

describe("add_ and sub_ of a number on an integer tensor", () => {
  it("give what the number as a 0-d tensor of the target's dtype gives, contiguous or not", () => {
    const cases: [number, number | undefined, "add_" | "sub_"][] = [
      [3, undefined, "add_"],
      [-2.7, undefined, "add_"], // its 0-d int32 tensor holds -2, as an Int32Array stores it
      [4, undefined, "sub_"],
      [2, 3, "add_"],
      [5, -2, "sub_"],
    ];
    for (const [n, alpha, method] of cases) {
      const start = () =>
        tensor(
          [
            [1, -7, 40],
            [2 ** 30, 0, -3],
          ],
          { dtype: "int32" },
        );
      const byNumber = start();
      const byTensor = start();
      byNumber[method](n, alpha);
      byTensor[method](tensor(Math.trunc(n), { dtype: "int32" }), alpha);
      expect(byNumber.tolist()).toEqual(byTensor.tolist());
      // A transposed target takes the elementwise path for both.
      const t1 = start().t();
      const t2 = start().t();
      t1[method](n, alpha);
      t2[method](tensor(Math.trunc(n), { dtype: "int32" }), alpha);
      expect(t1.tolist()).toEqual(t2.tolist());
    }
    const counter = zeros([], { dtype: "int32" });
    const version = counter.storage.version;
    counter.add_(1);
    expect(counter.item()).toBe(1);
    expect(counter.storage.version).toBe(version + 1);
  });
});

describe("in-place errors name the method that was called", () => {
  const frozen = () => tensor([1, 2], { requiresGrad: true });
  it("fill_, zero_, clamp_ and sub_ say so, not copy_ or add_", () => {
    expect(() => frozen().fill_(0)).toThrow(
      /^fill_: in-place change of a tensor that requires grad/,
    );
    expect(() => frozen().zero_()).toThrow(/^zero_: in-place change/);
    expect(() => frozen().clamp_(0, 1)).toThrow(/^clamp_: in-place change/);
    expect(() => frozen().sub_(1)).toThrow(/^sub_: in-place change/);
    const expanded = tensor([1]).expand(3);
    expect(() => expanded.fill_(0)).toThrow(/^fill_: cannot write in place into an expanded/);
    expect(() => zeros([2]).sub_(zeros([3]))).toThrow(/^sub_: shapes \[2\] and \[3\]/);
  });

  it("refuse a number outside the int32 range for an int32 target", () => {
    const counts = zeros([2], { dtype: "int32" });
    expect(() => counts.fill_(2 ** 31)).toThrow(
      /^fill_: the value is 2147483648, outside the int32 range/,
    );
    expect(() => counts.add_(2 ** 31)).toThrow(/^add_: the number is 2147483648, outside/);
    expect(counts.tolist()).toEqual([0, 0]);
  });
});
