// Joining and splitting along a dim. `cat` is the primitive (its gradient is the matching
// narrow of the output gradient); stack, split and chunk are composed from cat, unsqueeze and
// narrow, so they need no backward of their own.

import { record } from "../autograd/node.js";
import { writeToView } from "../kernels/strided.js";
import { allocate, promoteTypes } from "../tensor/dtype.js";
import { formatShape, normalizeDim, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { checkTensor } from "./helpers.js";

/** Concatenates tensors along `dim`; all other sizes must match. d/dx_i = the slice of the gradient x_i filled. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
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
  return record("cat", out, tensors, (gradOut, needs) =>
    tensors.map((t, i) => (needs[i] ? gradOut.narrow(d, starts[i], t.shape[d]).to(t.dtype) : null)),
  );
}

/** Stacks same-shaped tensors along a new dim `dim` (in [-ndim-1, ndim]). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
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
}

/**
 * Splits into views along `dim`: pieces of `splitSize` (the last may be smaller), or pieces of
 * the listed sizes, which must add up to the dim's size.
 */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
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
}

/** Splits into at most `chunks` pieces of size ceil(size / chunks) along `dim`, as torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor(x, "chunk");
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normalizeDim(dim, x.ndim, "chunk", x.shape);
  const size = x.shape[d];
  return split(x, Math.max(1, Math.ceil(size / chunks)), d);
}
