// Sorting along a dim, as torch.sort, torch.argsort and torch.topk. argsort is the primitive (no
// gradient: positions are integers); sort and topk gather the values at those positions, so
// their gradients flow back through gather to the elements they picked. Sorting is stable: equal
// values keep their order; NaN sorts above every number, as in PyTorch.

import { allocateUnfilled } from "../tensor/dtype.js";
import { formatShape, normalizeDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineComposite, defineNonDifferentiable } from "./define.js";
import { checkTensor, sameShapeAs } from "./helpers.js";
import { gather } from "./indexing.js";
import type { ValuesIndices } from "./reduce.js";

/** a before b: ascending with NaN last (descending: NaN first), ties by position. */
function compare(a: number, b: number, descending: boolean): number {
  const aNaN = a !== a;
  const bNaN = b !== b;
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : (aNaN ? 1 : -1) * (descending ? -1 : 1);
  return descending ? b - a : a - b;
}

/**
 * The int32 positions that sort `x` along `dim` (ascending unless `descending`), like
 * `torch.argsort(x, dim, descending, stable=True)`: equal values keep their order.
 *
 * @throws RangeError when dim is out of range.
 * @function
 */
export const argsort = defineNonDifferentiable({
  name: "argsort",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number = -1, descending: boolean = false) => {
    checkTensor(x, "argsort");
    const d = normalizeDim(dim, x.ndim, "argsort", x.shape);
    const values = x.toArray();
    const out = allocateUnfilled("int32", values.length, "argsort", x.shape) as Int32Array;
    const n = x.ndim === 0 ? 1 : x.shape[d];
    const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const outer = n === 0 ? 0 : values.length / (n * inner);
    const order = Array.from({ length: n }, (_, i) => i);
    const line = new Float64Array(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let k = 0; k < n; k++) {
          line[k] = values[base + k * inner];
          order[k] = k;
        }
        order.sort((a, b) => compare(line[a], line[b], descending) || a - b);
        for (let k = 0; k < n; k++) out[base + k * inner] = order[k];
      }
    }
    return Tensor.fromTypedArray(out, x.shape);
  },
});

/** Options of {@link sort}, as `torch.sort`'s keyword arguments. */
export interface SortOptions {
  /** Largest first. Default false. */
  descending?: boolean;
}

/**
 * `{ values, indices }`: `x` sorted along `dim` (default the last) and the int32 positions the
 * values came from, like `torch.sort(x, dim, stable=True)`. The gradient of `values` goes back to
 * the elements they came from.
 *
 * @throws RangeError when dim is out of range.
 * @function
 */
export const sort = defineComposite(
  "sort",
  (x: Tensor, dim = -1, options: SortOptions = {}): ValuesIndices => {
    checkTensor(x, "sort");
    const indices = argsort(x, dim, options.descending ?? false);
    if (x.ndim === 0) return { values: x.clone(), indices };
    return { values: gather(x, dim, indices), indices };
  },
);

/** Options of {@link topk}, as `torch.topk`'s keyword arguments. */
export interface TopkOptions {
  /** The largest k (default) or the smallest. */
  largest?: boolean;
  /** Return them in sorted order (always the case here; PyTorch may not when false). */
  sorted?: boolean;
}

/**
 * `{ values, indices }` of the k largest (or smallest) elements along `dim` (default the last),
 * sorted, like `torch.topk`; of equal values the earlier position comes first. The gradient goes
 * back to the elements picked.
 *
 * @throws RangeError when dim is out of range or k is not in [0, size of dim].
 * @function
 */
export const topk = defineComposite(
  "topk",
  (x: Tensor, k: number, dim = -1, options: TopkOptions = {}): ValuesIndices => {
    checkTensor(x, "topk");
    const d = normalizeDim(dim, x.ndim, "topk", x.shape);
    const size = x.ndim === 0 ? 1 : x.shape[d];
    if (!Number.isInteger(k) || k < 0 || k > size) {
      throw new RangeError(
        `topk: k must be an integer in [0, ${size}] (dim ${d} of shape ${formatShape(x.shape)}), got ${k}`,
      );
    }
    const order = argsort(x, d, options.largest ?? true);
    if (x.ndim === 0) return { values: x.clone(), indices: order };
    const indices = order.narrow(d, 0, k).contiguous();
    return { values: gather(x, d, indices), indices };
  },
);
