// Integer indexing, as registry blocks (see define.ts): indexSelect/indexAdd pick or accumulate
// whole slices along a dim; gather/scatterAdd pick or accumulate single elements. Each pair is
// the other's gradient, so repeated indices accumulate in the gradient and double backward works.

import { arange, zeros } from "../tensor/creation.js";
import { allocate } from "../tensor/dtype.js";
import { contiguousStrides, formatShape, normalizeDim, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { where } from "./binary.js";
import { defineComposite, defineOp, meta, type TensorMeta } from "./define.js";
import { checkTensor, sameShapeAs } from "./helpers.js";
import { sliceScatter } from "./view.js";

function checkIndex(index: Tensor, op: string): Int32Array {
  checkTensor(index, op, "index");
  if (index.dtype !== "int32") {
    throw new TypeError(
      `${op}: index must be an int32 tensor, got dtype ${index.dtype} (shape ${formatShape(index.shape)})`,
    );
  }
  return index.toArray() as Int32Array;
}

function checkRange(
  values: Int32Array,
  size: number,
  op: string,
  dim: number,
  shape: readonly number[],
): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < -size || values[i] >= size) {
      throw new RangeError(
        `${op}: index ${values[i]} is out of range for dim ${dim} of size ${size} (shape ${formatShape(shape)})`,
      );
    }
  }
}

/**
 * An int32 tensor that counts 0..size-1 along `dim` of x and has size 1 elsewhere. Made by ops
 * (arange, reshape), so that a compiled function's replay makes it again.
 */
export function arangeLike(x: { readonly shape: readonly number[] }, dim: number): Tensor {
  const size = x.shape.length === 0 ? 1 : x.shape[dim];
  const shape = x.shape.map((_, d) => (d === dim ? size : 1));
  return arange(0, size, 1, { dtype: "int32" }).reshape(shape);
}

/**
 * The slices x[..., index[i], ...] along `dim` (index is 1-D int32). d/dx = indexAdd of the
 * gradient.
 * @function
 */
export const indexSelect = defineOp({
  name: "indexSelect",
  rule: "d/dx = g added back onto the selected rows",
  kind: "opaque",
  shape: (x: TensorMeta, dim: number, index: TensorMeta) => {
    const shape = x.shape.slice();
    if (shape.length > 0)
      shape[normalizeDim(dim, shape.length, "indexSelect", shape)] = numelOf(index.shape);
    return shape;
  },
  forward: (x: Tensor, dim: number, index: Tensor) => {
    checkTensor(x, "indexSelect");
    const d = normalizeDim(dim, x.ndim, "indexSelect", x.shape);
    const idx = checkIndex(index, "indexSelect");
    if (index.ndim > 1)
      throw new RangeError(
        `indexSelect: index must be 0-D or 1-D, got shape ${formatShape(index.shape)}`,
      );
    const size = x.ndim === 0 ? 1 : x.shape[d];
    checkRange(idx, size, "indexSelect", d, x.shape);
    const shape = x.shape.slice();
    if (x.ndim > 0) shape[d] = idx.length;
    const out = allocate(x.dtype, numelOf(shape));
    // Row-major copy of x viewed as [outer, size, inner]; each picked slice is `inner` contiguous values.
    const values = x.toArray();
    const inner = numelOf(x.shape.slice(d + 1));
    const outer = numelOf(x.shape.slice(0, d));
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < idx.length; p++) {
        const source = idx[p] < 0 ? idx[p] + size : idx[p];
        const from = (o * size + source) * inner;
        out.set(values.subarray(from, from + inner) as never, (o * idx.length + p) * inner);
      }
    }
    const result = Tensor.fromTypedArray(out, shape);
    return { out: result, inputs: [x], saved: { x: meta(x), d, index } };
  },
  backward: ({ x, d, index }, gradOut): Tensor[] => [indexAdd(zerosOf(x), d, index, gradOut)],
});

/**
 * x with `source` added at the slices `index` along `dim` (repeats accumulate). d/dx = identity,
 * d/dsource = indexSelect of the gradient.
 * @function
 */
export const indexAdd = defineOp({
  name: "indexAdd",
  rule: "d/dx = g, d/dsource = g at the indexed rows",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number, index: Tensor, source: Tensor) => {
    checkTensor(x, "indexAdd");
    checkTensor(source, "indexAdd", "source");
    const d = normalizeDim(dim, x.ndim, "indexAdd", x.shape);
    const idx = checkIndex(index, "indexAdd");
    const size = x.ndim === 0 ? 1 : x.shape[d];
    checkRange(idx, size, "indexAdd", d, x.shape);
    const expected = x.shape.slice();
    if (x.ndim > 0) expected[d] = idx.length;
    if (source.ndim !== expected.length || source.shape.some((s, i) => s !== expected[i])) {
      throw new RangeError(
        `indexAdd: source has shape ${formatShape(source.shape)}, expected ${formatShape(expected)}`,
      );
    }
    const out = x.toArray();
    const src = source.toArray();
    const inner = numelOf(x.shape.slice(d + 1));
    const outer = numelOf(x.shape.slice(0, d));
    for (let o = 0; o < outer; o++) {
      for (let p = 0; p < idx.length; p++) {
        const target = idx[p] < 0 ? idx[p] + size : idx[p];
        for (let j = 0; j < inner; j++)
          out[(o * size + target) * inner + j] += src[(o * idx.length + p) * inner + j];
      }
    }
    const result = Tensor.fromTypedArray(out, x.shape);
    return { out: result, inputs: [x, source], saved: { d, index } };
  },
  backward: ({ d, index }, gradOut, needs): (Tensor | null)[] => [
    needs[0] ? gradOut : null,
    needs[1] ? indexSelect(gradOut, d, index) : null,
  ],
});

/** Visits every position of `index` (same ndim as x), yielding the flat offset into a contiguous x-shaped buffer. */
function forEachGatherPosition(
  xShape: readonly number[],
  index: Tensor,
  idx: Int32Array,
  dim: number,
  op: string,
  visit: (k: number, target: number) => void,
): void {
  if (index.ndim !== xShape.length) {
    throw new RangeError(
      `${op}: index has ${index.ndim} dims (shape ${formatShape(index.shape)}) but the input has ${xShape.length} (shape ${formatShape(xShape)})`,
    );
  }
  for (let d = 0; d < xShape.length; d++) {
    if (d !== dim && index.shape[d] > xShape[d]) {
      throw new RangeError(
        `${op}: index shape ${formatShape(index.shape)} is larger than the input shape ${formatShape(xShape)} at dim ${d}`,
      );
    }
  }
  const size = xShape.length === 0 ? 1 : xShape[dim];
  checkRange(idx, size, op, dim, xShape);
  const xStrides = contiguousStrides(xShape);
  const position = new Array<number>(index.ndim).fill(0);
  for (let k = 0; k < idx.length; k++) {
    let target = 0;
    for (let d = 0; d < index.ndim; d++) {
      const coordinate = d === dim ? (idx[k] < 0 ? idx[k] + size : idx[k]) : position[d];
      target += coordinate * xStrides[d];
    }
    visit(k, target);
    for (let d = index.ndim - 1; d >= 0; d--) {
      position[d]++;
      if (position[d] < index.shape[d]) break;
      position[d] = 0;
    }
  }
}

/**
 * out[i][j] = x[i][index[i][j]] (for dim 1; likewise for any dim): the index's shape.
 * d/dx = scatterAdd of the gradient.
 * @function
 */
export const gather = defineOp({
  name: "gather",
  rule: "d/dx = g added back at the gathered positions",
  kind: "opaque",
  shape: (_x: TensorMeta, _dim: number, index: TensorMeta) => index.shape,
  forward: (x: Tensor, dim: number, index: Tensor) => {
    checkTensor(x, "gather");
    const d = normalizeDim(dim, x.ndim, "gather", x.shape);
    const idx = checkIndex(index, "gather");
    const values = x.toArray();
    const out = allocate(x.dtype, idx.length);
    forEachGatherPosition(x.shape, index, idx, d, "gather", (k, target) => {
      out[k] = values[target];
    });
    const result = Tensor.fromTypedArray(out, index.shape);
    return { out: result, inputs: [x], saved: { x: meta(x), d, index } };
  },
  backward: ({ x, d, index }, gradOut): Tensor[] => [scatterAdd(zerosOf(x), d, index, gradOut)],
});

/**
 * x with src[i][j] added at [i][index[i][j]] (for dim 1); repeated indices accumulate.
 * d/dx = identity, d/dsrc = gather of the gradient.
 * @function
 */
export const scatterAdd = defineOp({
  name: "scatterAdd",
  rule: "d/dx = g, d/dsrc = g gathered at the index",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number, index: Tensor, src: Tensor) => {
    checkTensor(x, "scatterAdd");
    checkTensor(src, "scatterAdd", "src");
    const d = normalizeDim(dim, x.ndim, "scatterAdd", x.shape);
    const idx = checkIndex(index, "scatterAdd");
    if (src.ndim !== index.ndim || index.shape.some((s, i) => s > src.shape[i])) {
      throw new RangeError(
        `scatterAdd: src shape ${formatShape(src.shape)} must be at least the index shape ${formatShape(index.shape)}`,
      );
    }
    const out = x.toArray();
    const source = index.shape.reduce((t, size, d) => t.narrow(d, 0, size), src.detach()).toArray();
    forEachGatherPosition(x.shape, index, idx, d, "scatterAdd", (k, target) => {
      out[target] += source[k];
    });
    const result = Tensor.fromTypedArray(out, x.shape);
    return { out: result, inputs: [x, src], saved: { d, index, src: meta(src) } };
  },
  backward: ({ d, index, src }, gradOut, needs): (Tensor | null)[] => [
    needs[0] ? gradOut : null,
    needs[1] ? padTo(gather(gradOut, d, index), src.shape) : null,
  ],
});

function zerosOf(x: TensorMeta): Tensor {
  return zeros(x.shape, { dtype: x.dtype });
}

/** Zero-pads `g` (no larger than `shape` in any dim) at the end of each dim up to `shape`. */
function padTo(g: Tensor, shape: readonly number[]): Tensor {
  let out = g;
  for (let d = 0; d < shape.length; d++) {
    if (out.shape[d] < shape[d]) {
      const target = out.shape.slice();
      target[d] = shape[d];
      out = sliceScatter(out, target, d, 0, 1);
    }
  }
  return out;
}

/**
 * Rows of `weight` ([numEmbeddings, dim]) picked by int32 `indices` of any shape, like
 * `torch.nn.functional.embedding`: the result has shape [...indices.shape, dim]. The gradient
 * of each row sums over every place it was picked (repeated indices accumulate); with
 * `paddingIdx` that row is returned but receives no gradient.
 *
 * @throws TypeError when indices are not int32 or weight is not a 2-D float tensor.
 * @throws RangeError for an index or paddingIdx outside [-numEmbeddings, numEmbeddings).
 * @function
 */
export const embedding = defineComposite(
  "embedding",
  (indices: Tensor, weight: Tensor, paddingIdx: number | null = null): Tensor => {
    checkTensor(indices, "embedding", "indices");
    checkTensor(weight, "embedding", "weight");
    if (indices.dtype !== "int32") {
      throw new TypeError(
        `embedding: indices must be int32, got ${indices.dtype} (shape ${formatShape(indices.shape)}); cast with .to("int32")`,
      );
    }
    if (weight.ndim !== 2 || (weight.dtype !== "float32" && weight.dtype !== "float64")) {
      throw new TypeError(
        `embedding: weight must be a 2-D float tensor [numEmbeddings, dim], got ${weight.dtype} of shape ${formatShape(weight.shape)}`,
      );
    }
    const rows = weight.shape[0];
    let pad: number | null = null;
    if (paddingIdx !== null && paddingIdx !== undefined) {
      if (!Number.isInteger(paddingIdx) || paddingIdx < -rows || paddingIdx >= rows) {
        throw new RangeError(
          `embedding: paddingIdx must be an integer in [${-rows}, ${rows - 1}], got ${paddingIdx}`,
        );
      }
      pad = paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
    }
    const flat = indices.reshape([-1]);
    const values = flat.toArray();
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= rows) {
        throw new RangeError(
          `embedding: index ${values[i]} is out of range for a table of ${rows} rows (weight shape ${formatShape(weight.shape)}; indices must be in [0, ${rows - 1}])`,
        );
      }
    }
    const picked = indexSelect(weight, 0, flat).reshape([...indices.shape, weight.shape[1]]);
    if (pad === null) return picked;
    // The padding row's value is returned, its gradient is not: picked where not padding, the
    // detached copy where padding.
    const isPad = indices.eq(pad).unsqueeze(-1);
    return where(isPad, picked.detach(), picked);
  },
);
