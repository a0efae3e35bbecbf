// Joining and splitting along a dim, as registry blocks (see define.ts). `cat` is the primitive
// (its gradient is the matching narrow of the output gradient); stack, split and chunk are
// composed from cat, unsqueeze and narrow, so they need no backward of their own.

import { writeToView } from "../kernels/strided.js";
import { allocate, promoteTypes } from "../tensor/dtype.js";
import { formatShape, normalizeDim, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineComposite, defineOp, meta, type TensorMeta } from "./define.js";
import { checkTensor } from "./helpers.js";

/** Shape rule of cat: the first tensor's shape with the sizes along `dim` added up. */
function catShape(tensors: readonly TensorMeta[], dim = 0): readonly number[] {
  const first = tensors[0];
  const d = normalizeDim(dim, first.shape.length, "cat", first.shape);
  const shape = first.shape.slice();
  shape[d] = tensors.reduce((total, t) => total + t.shape[d], 0);
  return shape;
}

/**
 * Concatenates tensors along `dim`; all other sizes must match. d/dx_i = the slice of the
 * gradient x_i filled.
 * @function
 */
export const cat = defineOp({
  name: "cat",
  rule: "each input gets its own slice of g",
  kind: "movement",
  shape: catShape,
  forward: (tensors: readonly Tensor[], dim: number = 0) => catForward(tensors, dim),
  backward: ({ pieces, starts, d }, gradOut, needs) =>
    pieces.map((t, i) => (needs[i] ? gradOut.narrow(d, starts[i], t.shape[d]).to(t.dtype) : null)),
});

function catForward(tensors: readonly Tensor[], dim: number) {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new TypeError("cat: expected a non-empty array of tensors");
  tensors.forEach((t, i) => {
    checkTensor(t, "cat", `tensors[${i}]`);
  });
  const first = tensors[0];
  const d = normalizeDim(dim, first.ndim, "cat", first.shape);
  if (first.ndim === 0)
    throw new RangeError("cat: zero-dimensional tensors cannot be concatenated; use stack");
  let dtype = first.dtype;
  let total = 0;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    const mismatch =
      t.ndim !== first.ndim ||
      t.shape.some((s: number, j: number) => j !== d && s !== first.shape[j]);
    if (mismatch) {
      throw new RangeError(
        `cat: tensors[${i}] has shape ${formatShape(t.shape)}, but tensors[0] has ${formatShape(first.shape)}; ` +
          `all sizes except dim ${d} must match`,
      );
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[d];
  }
  const shape = first.shape.slice();
  shape[d] = total;
  const out = Tensor.fromTypedArray(allocate(dtype, numelOf(shape), "cat", shape), shape);
  const starts: number[] = [];
  let start = 0;
  for (const t of tensors) {
    starts.push(start);
    const window = new Tensor(out.storage, t.shape, out.strides, start * out.strides[d]);
    writeToView(window, t.toArray());
    start += t.shape[d];
  }
  return { out, inputs: tensors, saved: { pieces: tensors.map(meta), starts, d } };
}

/**
 * Stacks same-shaped tensors along a new dim `dim` (in [-ndim-1, ndim]).
 * @function
 */
export const stack = defineComposite("stack", (tensors: readonly Tensor[], dim = 0): Tensor => {
  if (!Array.isArray(tensors) || tensors.length === 0)
    throw new TypeError("stack: expected a non-empty array of tensors");
  tensors.forEach((t, i) => {
    checkTensor(t, "stack", `tensors[${i}]`);
    if (
      t.ndim !== tensors[0].ndim ||
      t.shape.some((s: number, j: number) => s !== tensors[0].shape[j])
    ) {
      throw new RangeError(
        `stack: tensors[${i}] has shape ${formatShape(t.shape)}, but tensors[0] has ${formatShape(tensors[0].shape)}; all must be equal`,
      );
    }
  });
  const d = normalizeDim(dim, tensors[0].ndim + 1, "stack", tensors[0].shape);
  return cat(
    tensors.map((t) => t.unsqueeze(d)),
    d,
  );
});

/**
 * Splits into views along `dim`: pieces of `splitSize` (the last may be smaller), or pieces of
 * the listed sizes, which must add up to the dim's size.
 * @function
 */
export const split = defineComposite(
  "split",
  (x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] => {
    checkTensor(x, "split");
    const d = normalizeDim(dim, x.ndim, "split", x.shape);
    const size = x.shape[d];
    let sizes: number[];
    if (typeof splitSize === "number") {
      if (!Number.isInteger(splitSize) || splitSize <= 0)
        throw new RangeError(`split: splitSize must be a positive integer, got ${splitSize}`);
      sizes = [];
      for (let start = 0; start < size; start += splitSize)
        sizes.push(Math.min(splitSize, size - start));
      if (size === 0) sizes = [0];
    } else {
      sizes = [...splitSize];
      const total = sizes.reduce((a, b) => a + b, 0);
      if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== size) {
        throw new RangeError(
          `split: sizes ${formatShape(sizes)} must be non-negative integers adding up to ${size} (dim ${d} of shape ${formatShape(x.shape)})`,
        );
      }
    }
    const pieces: Tensor[] = [];
    let start = 0;
    for (const s of sizes) {
      pieces.push(x.narrow(d, start, s));
      start += s;
    }
    return pieces;
  },
);

/**
 * Splits into at most `chunks` pieces of size ceil(size / chunks) along `dim`, as torch.chunk.
 * @function
 */
export const chunk = defineComposite("chunk", (x: Tensor, chunks: number, dim = 0): Tensor[] => {
  checkTensor(x, "chunk");
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normalizeDim(dim, x.ndim, "chunk", x.shape);
  const size = x.shape[d];
  return split(x, Math.max(1, Math.ceil(size / chunks)), d);
});
