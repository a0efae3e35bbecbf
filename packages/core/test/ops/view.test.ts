// Property tests for views: random chains of permute, transpose and slice over a tensor of
// distinct values, compared with a naive index map from view positions back to the source,
// forward and backward (the gradient lands on exactly the viewed source elements).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arange, type Tensor, tensor, zeros } from "../../src/index.js";
import { indices, numel, rowMajorStrides } from "./strided-reference.js";

type Step =
  | { kind: "permute"; order: number[] }
  | { kind: "transpose"; a: number; b: number }
  | { kind: "slice"; dim: number; start: number; step: number };

/** A view as its shape plus a map from a view index to the source index. */
interface Reference {
  shape: number[];
  source: (index: number[]) => number[];
}

function applyStep(ref: Reference, step: Step): Reference {
  const { shape, source } = ref;
  if (step.kind === "permute") {
    return {
      shape: step.order.map((d) => shape[d]),
      source: (index) => {
        const old = new Array<number>(index.length);
        step.order.forEach((d, i) => {
          old[d] = index[i];
        });
        return source(old);
      },
    };
  }
  if (step.kind === "transpose") {
    const order = shape.map((_, d) => (d === step.a ? step.b : d === step.b ? step.a : d));
    return applyStep(ref, { kind: "permute", order });
  }
  const size = shape[step.dim];
  const start = Math.min(step.start, size);
  const length = Math.max(0, Math.ceil((size - start) / step.step));
  return {
    shape: shape.map((s, d) => (d === step.dim ? length : s)),
    source: (index) => source(index.map((i, d) => (d === step.dim ? start + i * step.step : i))),
  };
}

function applyToTensor(t: Tensor, step: Step): Tensor {
  if (step.kind === "permute") return t.permute(step.order);
  if (step.kind === "transpose") return t.transpose(step.a, step.b);
  return t.slice(step.dim, step.start, null, step.step);
}

const ndim = 3;
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc
    .shuffledSubarray([0, 1, 2], { minLength: ndim, maxLength: ndim })
    .map((order) => ({ kind: "permute" as const, order })),
  fc
    .tuple(fc.integer({ min: 0, max: ndim - 1 }), fc.integer({ min: -ndim, max: ndim - 1 }))
    .map(([a, b]) => ({ kind: "transpose" as const, a, b: b < 0 ? b + ndim : b })),
  fc
    .record({
      dim: fc.integer({ min: 0, max: ndim - 1 }),
      start: fc.integer({ min: 0, max: 3 }),
      step: fc.integer({ min: 1, max: 3 }),
    })
    .map((s) => ({ kind: "slice" as const, ...s })),
);

const caseArb = fc.tuple(
  fc.array(fc.integer({ min: 1, max: 5 }), { minLength: ndim, maxLength: ndim }),
  fc.array(stepArb, { minLength: 1, maxLength: 6 }),
);

describe("chains of views", () => {
  it("read the same elements as a naive index map", () => {
    fc.assert(
      fc.property(caseArb, ([shape, steps]) => {
        const base = arange(numel(shape), undefined, 1, { dtype: "float64" }).reshape(shape);
        const strides = rowMajorStrides(shape);
        let ref: Reference = { shape: [...shape], source: (index) => index };
        let view = base;
        for (const step of steps) {
          ref = applyStep(ref, step);
          view = applyToTensor(view, step);
        }
        expect(view.shape).toEqual(ref.shape);
        expect(view.data).toBe(base.data); // still a view: no copy
        const expected = [...indices(ref.shape)].map((index) =>
          ref.source(index).reduce((acc, i, d) => acc + i * strides[d], 0),
        );
        expect(Array.from(view.toArray())).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it("send gradients back to exactly the viewed elements", () => {
    fc.assert(
      fc.property(caseArb, ([shape, steps]) => {
        const x = tensor(new Float64Array(numel(shape)), { shape, requiresGrad: true });
        const strides = rowMajorStrides(shape);
        let ref: Reference = { shape: [...shape], source: (index) => index };
        let view: Tensor = x;
        for (const step of steps) {
          ref = applyStep(ref, step);
          view = applyToTensor(view, step);
        }
        const weights = arange(numel(ref.shape), undefined, 1, { dtype: "float64" })
          .add(1)
          .reshape(ref.shape);
        view.mul(weights).sum().backward();
        const expected = new Array<number>(numel(shape)).fill(0);
        let k = 0;
        for (const index of indices(ref.shape)) {
          const flat = ref.source(index).reduce((acc, i, d) => acc + i * strides[d], 0);
          expected[flat] += ++k;
        }
        expect(Array.from((x.grad as Tensor).toArray())).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });
});

describe("views of tensors with no elements", () => {
  it("reshape and flatten a non-contiguous empty tensor (no dim matching, as in PyTorch)", () => {
    const x = zeros([0, 3]).t(); // shape [3, 0], not contiguous
    expect(x.isContiguous()).toBe(false);
    expect(x.reshape([-1]).shape).toEqual([0]);
    expect(x.flatten().shape).toEqual([0]);
    expect(x.reshape([0, 5, 2]).shape).toEqual([0, 5, 2]);
    expect(x.view([2, 0]).shape).toEqual([2, 0]);
  });
});

describe("copies of transposed matrices", () => {
  // contiguous() of a transposed matrix takes the tiled path; sizes straddle the 32-wide tiles.
  it("equal the element-by-element transpose, alone and in a batch", () => {
    for (const [rows, cols] of [
      [70, 45],
      [32, 64],
      [2, 33],
    ]) {
      const a = arange(rows * cols).reshape([rows, cols]);
      const t = a.t().contiguous();
      const values = Array.from(a.toArray());
      const expected = Array.from({ length: rows * cols }, (_, k) => {
        const [i, j] = [Math.floor(k / rows), k % rows]; // t[i, j] = a[j, i]
        return values[j * cols + i];
      });
      expect(Array.from(t.toArray())).toEqual(expected);
    }
    const batch = arange(3 * 40 * 33).reshape([3, 40, 33]);
    const swapped = Array.from(batch.permute([0, 2, 1]).contiguous().toArray());
    const values = Array.from(batch.toArray());
    const expected = [...indices([3, 33, 40])].map(([b, i, j]) => values[b * 40 * 33 + j * 33 + i]);
    expect(swapped).toEqual(expected);
  });
});
