// Reductions: random shapes and dim subsets against a naive loop, gradients against central
// differences, and the numerical stability of variance far from zero.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  amax,
  center,
  Generator,
  gradcheck,
  mean,
  randn,
  setKernelBackend,
  std,
  sum,
  type Tensor,
  tensor,
  variance,
  zeros,
} from "../../src/index.js";
import { indices, numel, rowMajorStrides } from "./strided-reference.js";

/** A shape and a subset of its dims (possibly empty, meaning "all" when passed as undefined). */
const shapeAndDims = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.subarray(
        shape.map((_, d) => d),
        { minLength: 1 },
      ),
      fc.boolean(),
    ),
  );

function values(shape: readonly number[], seed: number): number[] {
  return Array.from({ length: numel(shape) }, (_, i) => Math.sin(seed * 3.3 + i * 0.91) * 2);
}

/** Naive reduction: group the flat input by the kept coordinates and fold each group. */
function reference(
  data: readonly number[],
  shape: readonly number[],
  dims: readonly number[],
  keepdim: boolean,
  fold: (group: number[]) => number,
): { shape: number[]; values: number[] } {
  const outShape = shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const strides = rowMajorStrides(outShape);
  const groups: number[][] = Array.from({ length: numel(outShape) }, () => []);
  let k = 0;
  for (const index of indices(shape)) {
    const target = index.reduce((acc, i, d) => acc + (dims.includes(d) ? 0 : i * strides[d]), 0);
    groups[target].push(data[k++]);
  }
  return {
    shape: keepdim ? outShape : shape.filter((_, d) => !dims.includes(d)),
    values: groups.map(fold),
  };
}

const REDUCTIONS: [
  string,
  (x: Tensor, dims: number[], keepdim: boolean) => Tensor,
  (g: number[]) => number,
][] = [
  ["sum", sum, (g) => g.reduce((a, b) => a + b, 0)],
  ["mean", mean, (g) => g.reduce((a, b) => a + b, 0) / g.length],
  ["amax", amax, (g) => Math.max(...g)],
  [
    "variance",
    (x, dims, keepdim) => variance(x, dims, { keepdim, correction: 0 }),
    (g) => {
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      return g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length;
    },
  ],
];

describe.each(REDUCTIONS)("%s over random dims", (_, op, fold) => {
  it("matches a naive grouping loop", () => {
    fc.assert(
      fc.property(
        shapeAndDims,
        fc.integer({ min: 0, max: 1000 }),
        ([shape, dims, keepdim], seed) => {
          const data = values(shape, seed);
          const out = op(tensor(data, { dtype: "float64", shape }), dims, keepdim);
          const expected = reference(data, shape, dims, keepdim, fold);
          expect(out.shape).toEqual(expected.shape);
          expect(out).toBeAllclose(
            tensor(expected.values, { dtype: "float64", shape: expected.shape }),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("has gradients that agree with central differences", () => {
    fc.assert(
      fc.property(
        shapeAndDims,
        fc.integer({ min: 0, max: 1000 }),
        ([shape, dims, keepdim], seed) => {
          const x = tensor(values(shape, seed), { dtype: "float64", shape, requiresGrad: true });
          expect(gradcheck((t) => op(t, dims, keepdim), [x])).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe("variance far from zero", () => {
  // Values 1e4 + 0.1·z: the exact variance is computed here in a naive two-pass loop over the
  // float64 values themselves, so only Koubai's rounding is measured.
  const generator = new Generator(11);
  const z = randn([1000], { dtype: "float64", generator }).toArray();
  const data = Array.from(z, (v) => 1e4 + 0.1 * v);
  const m = data.reduce((a, b) => a + b, 0) / data.length;
  const exact = data.reduce((a, b) => a + (b - m) ** 2, 0) / (data.length - 1);

  it("is exact to 1e-12 in float64 with mean 1e4 and std 0.1", () => {
    expect(variance(tensor(data, { dtype: "float64" })).item()).toBeCloseTo(exact, 12);
    expect(Math.abs(exact - 0.01)).toBeLessThan(0.002);
  });

  it("stays within float32 rounding of the input in float32", () => {
    const x32 = tensor(data, { dtype: "float32" });
    const stored = Array.from(x32.toArray());
    const m32 = stored.reduce((a, b) => a + b, 0) / stored.length;
    const exact32 = stored.reduce((a, b) => a + (b - m32) ** 2, 0) / (stored.length - 1);
    expect(variance(x32).item()).toBeAllclose(exact32, { atol: 0, rtol: 1e-6 });
    expect(variance(x32).item()).toBeAllclose(exact, { atol: 0, rtol: 0.05 });
  });
});

describe("variance of tensors with no elements", () => {
  it("backpropagates an empty gradient of the input's shape (var and std)", () => {
    const x = zeros([2, 0], { requiresGrad: true });
    variance(x, 0).sum().backward();
    expect(x.grad?.shape).toEqual([2, 0]);
    const y = zeros([3, 4, 0], { requiresGrad: true });
    std(y, 1).sum().backward();
    expect(y.grad?.shape).toEqual([3, 4, 0]);
  });
});

describe("center", () => {
  /** x - mean over dim 0 of a [rows, cols] float32 tensor, in doubles, each result rounded once. */
  function exactlyRounded(values: Float32Array, rows: number, cols: number): number[] {
    const means = Array.from({ length: cols }, (_, c) => {
      let total = 0;
      for (let r = 0; r < rows; r++) total += values[r * cols + c];
      return total / rows;
    });
    return Array.from(values, (v, i) => Math.fround(v - means[i % cols]));
  }

  it("rounds float32 differences once where values sit near a large mean", () => {
    const rows = 64;
    const cols = 3;
    const values = Float32Array.from(
      { length: rows * cols },
      (_, i) => 1e4 + 0.1 * Math.sin(i * 7.3),
    );
    const x = tensor(values).reshape([rows, cols]);
    expect(Array.from(center(x, 0).toArray())).toEqual(exactlyRounded(values, rows, cols));
  });

  it.each([
    ["[400, 70] over dim 0 (a row of means)", [400, 70], [0]],
    ["[8, 6, 5, 7] over dims 0, 2, 3 (a mean per channel)", [8, 6, 5, 7], [0, 2, 3]],
  ])("subtracts in one WebAssembly pass with the JS loops' bits: %s", (_, shape, dims) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, (_, i) => 1e4 + Math.sinh(3 * Math.sin(i)));
    const x = tensor(values).reshape(shape);
    setKernelBackend("js");
    const js = center(x, dims).toArray();
    setKernelBackend("wasm");
    const wasm = center(x, dims).toArray();
    setKernelBackend("auto");
    expect(new Uint32Array(wasm.buffer)).toEqual(new Uint32Array(js.buffer));
    // And both are right: near the mean, the exactly rounded difference.
    if (dims.length === 1) expect(Array.from(wasm)).toEqual(exactlyRounded(values, 400, 70));
  });

  it("stays within one ulp of the exactly rounded difference for values far from the mean", () => {
    const rows = 50;
    const cols = 4;
    const values = Float32Array.from({ length: rows * cols }, (_, i) =>
      Math.sinh(4 * Math.sin(i * 1.7)),
    );
    const x = tensor(values).reshape([rows, cols]);
    const got = center(x, 0).toArray();
    exactlyRounded(values, rows, cols).forEach((expected, i) => {
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(expected) || 2 ** -126)) - 23);
      expect(Math.abs(got[i] - expected)).toBeLessThanOrEqual(ulp);
    });
  });
});

describe("prod's gradient where inputs are zero", () => {
  /** Π_{j≠i} values[j] for every i, in float64. */
  function othersProduct(values: readonly number[]): number[] {
    return values.map((_, i) => values.reduce((p, v, j) => (j === i ? p : p * v), 1));
  }

  it("is the product of the others at a single zero, and zero elsewhere, in O(n) memory", () => {
    // 100,000 elements: forming the products of the others as an n × n table (as before) would
    // need 10^10 elements.
    const n = 100_000;
    const values = new Float64Array(n).fill(1);
    values[3] = 0.5;
    values[17] = -4;
    values[99_998] = 0;
    const x = tensor(values, { dtype: "float64", requiresGrad: true });
    x.prod().backward();
    const grad = x.grad!.toArray();
    expect(grad[99_998]).toBe(-2);
    expect(Array.from(grad).filter((g) => g !== 0)).toEqual([-2]);
  });

  it("matches Π_{j≠i} x_j along a dim with no, one and two zeros per row", () => {
    const rows = [
      [1.5, -2, 0.25, 3],
      [1.5, 0, 0.25, 3],
      [0, 0, 0.25, 3],
    ];
    const x = tensor(rows, { dtype: "float64", requiresGrad: true });
    x.prod(1).sum().backward();
    const grad = x.grad!.tolist() as number[][];
    rows.forEach((row, r) => {
      for (const [i, want] of othersProduct(row).entries())
        expect(grad[r][i]).toBeCloseTo(want, 12);
    });
  });
});
