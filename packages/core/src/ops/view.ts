// Views: new shape/strides/offset over the same storage, no copy, one registry block each (see
// define.ts). Each backward maps the gradient back through the inverse view (transpose ↔
// transpose, expand ↔ sum, slice ↔ sliceScatter). Also cast, contiguous and clone, which copy.
// Longer than 300 lines: one table of blocks plus the stride arithmetic views need.

import { copyToContiguous, writeToView } from "../kernels/strided.js";
import { allocate, allocateUnfilled, type DType, isFloat } from "../tensor/dtype.js";
import {
  contiguousStrides,
  formatShape,
  normalizeDim,
  normalizeDims,
  numelOf,
  validateShape,
} from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineComposite, defineOp, meta, type TensorMeta } from "./define.js";
import { checkTensor, sameShapeAs } from "./helpers.js";

function dimIndex(dim: number, x: TensorMeta, op: string): number {
  return normalizeDim(dim, x.shape.length, op, x.shape);
}

function makeView(
  x: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  return new Tensor(x.storage, shape, strides, offset);
}

/** A contiguous copy with no graph edge. */
function materialize(x: Tensor, op: string, dtype: DType = x.dtype): Tensor {
  const out = allocateUnfilled(dtype, x.numel(), op, x.shape); // copyToContiguous writes every element
  copyToContiguous(x, out);
  return Tensor.fromTypedArray(out, x.shape);
}

/**
 * The same values in `dtype` (x itself when it already has it); d/dx = identity, cast back to
 * x's dtype. Integer results carry no gradient. `x.to(dtype)` calls this.
 * @function
 */
export const cast = defineOp({
  name: "cast",
  rule: "d/dx = g, cast back to x's dtype",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor, dtype: DType) => {
    checkTensor(x, "cast");
    if (x.dtype === dtype) return x;
    const out = materialize(x, "to", dtype);
    if (!isFloat(dtype)) return out;
    return { out, inputs: [x], saved: { dtype: x.dtype } };
  },
  backward: ({ dtype }, gradOut) => [gradOut.to(dtype)],
});

/**
 * A contiguous copy of x (x itself when already contiguous); d/dx = identity.
 * @function
 */
export const contiguous = defineOp({
  name: "contiguous",
  rule: "d/dx = g",
  kind: "movement",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    if (x.isContiguous()) return x;
    return { out: materialize(x, "contiguous"), inputs: [x], saved: {} };
  },
  backward: (_, gradOut) => [gradOut],
});

/**
 * A copy of x in fresh storage that stays in the graph; d/dx = identity.
 * @function
 */
export const clone = defineOp({
  name: "clone",
  rule: "d/dx = g",
  kind: "movement",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: materialize(x, "clone"), inputs: [x], saved: {} }),
  backward: (_, gradOut) => [gradOut],
});

function inferShape(x: TensorMeta, shape: readonly number[], op: string): number[] {
  const n = numelOf(x.shape);
  let inferred = -1;
  const out = shape.slice();
  for (let d = 0; d < out.length; d++) {
    if (out[d] === -1) {
      if (inferred !== -1)
        throw new RangeError(`${op}: only one dimension can be -1, got ${formatShape(shape)}`);
      inferred = d;
    } else if (!Number.isInteger(out[d]) || out[d] < 0) {
      throw new RangeError(
        `${op}: invalid shape ${formatShape(shape)} (sizes must be non-negative integers or a single -1)`,
      );
    }
  }
  if (inferred !== -1) {
    const known = numelOf(out.filter((_, d) => d !== inferred));
    if (known === 0 || n % known !== 0) {
      throw new RangeError(
        `${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(x.shape)} (${n} elements)`,
      );
    }
    out[inferred] = n / known;
  }
  if (numelOf(out) !== n) {
    throw new RangeError(
      `${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(x.shape)} (${n} elements)`,
    );
  }
  return out;
}

/** Strides for viewing x as `shape` without a copy, or null when the layout does not allow it. */
function viewStrides(x: Tensor, shape: readonly number[]): number[] | null {
  // With no elements any strides address nothing (the dim matching below would never meet a
  // zero-sized count), so empty tensors always view, as in PyTorch.
  if (x.isContiguous() || x.numel() === 0) return contiguousStrides(shape);
  // Merge/split dims only within runs of x's dims that are contiguous with each other.
  const oldShape: number[] = [];
  const oldStrides: number[] = [];
  x.shape.forEach((s, d) => {
    if (s !== 1) {
      oldShape.push(s);
      oldStrides.push(x.strides[d]);
    }
  });
  const strides = new Array<number>(shape.length).fill(1);
  let oi = 0;
  let ni = 0;
  while (ni < shape.length) {
    if (shape[ni] === 1) {
      strides[ni] = 1;
      ni++;
      continue;
    }
    if (oi >= oldShape.length) return null;
    // Take a chunk of old dims and a chunk of new dims with equal element counts.
    let oldCount = oldShape[oi];
    let newCount = shape[ni];
    const oStart = oi;
    const nStart = ni;
    while (oldCount !== newCount) {
      if (oldCount < newCount) oldCount *= oldShape[++oi];
      else {
        ni++;
        while (shape[ni] === 1) ni++;
        newCount *= shape[ni];
      }
    }
    for (let d = oStart; d < oi; d++)
      if (oldStrides[d] !== oldStrides[d + 1] * oldShape[d + 1]) return null;
    let stride = oldStrides[oi];
    for (let d = ni; d >= nStart; d--) {
      strides[d] = stride;
      stride *= shape[d];
    }
    oi++;
    ni++;
  }
  return strides;
}

/**
 * x with a new shape (one entry may be -1); a view when the layout allows, else a copy.
 * d/dx = reshape back.
 * @function
 */
export const reshape = defineOp({
  name: "reshape",
  rule: "d/dx = g reshaped to x's shape",
  kind: "movement",
  shape: (x: TensorMeta, shape: readonly number[]) => inferShape(x, shape, "reshape"),
  forward: (x: Tensor, shape: readonly number[]) => {
    checkTensor(x, "reshape");
    const target = inferShape(x, shape, "reshape");
    const strides = viewStrides(x, target);
    const base = strides === null ? materialize(x, "reshape") : x;
    const out = makeView(
      base,
      target,
      strides ?? contiguousStrides(target),
      strides === null ? 0 : x.offset,
    );
    return { out, inputs: [x], saved: { x: meta(x) } };
  },
  backward: ({ x }, gradOut) => [gradOut.reshape(x.shape)],
});

/**
 * Like `reshape`, but always a view: an error when the layout would need a copy.
 * @function
 */
export const view = defineOp({
  name: "view",
  rule: "d/dx = g viewed in x's shape",
  kind: "movement",
  shape: (x: TensorMeta, shape: readonly number[]) => inferShape(x, shape, "view"),
  forward: (x: Tensor, shape: readonly number[]) => {
    checkTensor(x, "view");
    const target = inferShape(x, shape, "view");
    const strides = viewStrides(x, target);
    if (strides === null) {
      throw new Error(
        `view: shape ${formatShape(target)} is not compatible with the strides of the input (shape ${formatShape(x.shape)}, ` +
          `strides ${formatShape(x.strides)}); use reshape(), or contiguous() first`,
      );
    }
    return { out: makeView(x, target, strides, x.offset), inputs: [x], saved: { x: meta(x) } };
  },
  backward: ({ x }, gradOut) => [gradOut.reshape(x.shape)],
});

/** Shape rule of transpose. */
function transposedShape(x: TensorMeta, dim0: number, dim1: number): readonly number[] {
  const a = dimIndex(dim0, x, "transpose");
  const b = dimIndex(dim1, x, "transpose");
  const shape = x.shape.slice();
  [shape[a], shape[b]] = [shape[b], shape[a]];
  return shape;
}

/**
 * Swaps dims `dim0` and `dim1`; d/dx = the same transpose of the gradient.
 * @function
 */
export const transpose = defineOp({
  name: "transpose",
  rule: "d/dx = g with the same two dims swapped back",
  kind: "movement",
  shape: transposedShape,
  forward: (x: Tensor, dim0: number, dim1: number) => {
    checkTensor(x, "transpose");
    const a = dimIndex(dim0, x, "transpose");
    const b = dimIndex(dim1, x, "transpose");
    if (x.ndim === 0) return x;
    const shape = x.shape.slice();
    const strides = x.strides.slice();
    [shape[a], shape[b]] = [shape[b], shape[a]];
    [strides[a], strides[b]] = [strides[b], strides[a]];
    return { out: makeView(x, shape, strides, x.offset), inputs: [x], saved: { a, b } };
  },
  backward: ({ a, b }, gradOut) => [gradOut.transpose(a, b)],
});

/**
 * Transpose of a tensor with at most 2 dims (`.T` in PyTorch).
 * @function
 */
export const t = defineComposite("t", (x: Tensor): Tensor => {
  if (x.ndim > 2)
    throw new RangeError(
      `t: expects a tensor with at most 2 dims, got shape ${formatShape(x.shape)}; use transpose or permute`,
    );
  return x.ndim < 2 ? x : transpose(x, 0, 1);
});

/**
 * Reorders dims: output dim i is input dim `dims[i]`; d/dx = the inverse permutation of the
 * gradient.
 * @function
 */
export const permute = defineOp({
  name: "permute",
  rule: "d/dx = g permuted back",
  kind: "movement",
  shape: (x: TensorMeta, dims: readonly number[]) =>
    dims.map((d) => x.shape[dimIndex(d, x, "permute")]),
  forward: (x: Tensor, dims: readonly number[]) => {
    checkTensor(x, "permute");
    if (dims.length !== x.ndim) {
      throw new RangeError(
        `permute: got ${dims.length} dims ${formatShape(dims)} for a tensor of shape ${formatShape(x.shape)}`,
      );
    }
    const order = dims.map((d) => dimIndex(d, x, "permute"));
    if (new Set(order).size !== order.length)
      throw new RangeError(`permute: dims ${formatShape(dims)} repeat a dim`);
    const inverse = new Array<number>(order.length);
    order.forEach((d, i) => {
      inverse[d] = i;
    });
    const out = makeView(
      x,
      order.map((d) => x.shape[d]),
      order.map((d) => x.strides[d]),
      x.offset,
    );
    return { out, inputs: [x], saved: { inverse } };
  },
  backward: ({ inverse }, gradOut) => [gradOut.permute(inverse)],
});

/** The shape `expand` broadcasts x to: -1 keeps a size, new dims go in front (checked). */
function expandedShape(x: TensorMeta, shape: readonly number[]): number[] {
  validateShape(
    shape.map((s) => (s === -1 ? 0 : s)),
    "expand",
  );
  const lead = shape.length - x.shape.length;
  if (lead < 0) {
    throw new RangeError(
      `expand: target shape ${formatShape(shape)} has fewer dims than the input ${formatShape(x.shape)}`,
    );
  }
  return shape.map((s, d) => {
    if (d < lead) {
      if (s === -1)
        throw new RangeError(
          `expand: -1 is not allowed for the new leading dim ${d} in ${formatShape(shape)}`,
        );
      return s;
    }
    const own = x.shape[d - lead];
    if (s === -1) return own;
    if (own !== 1 && own !== s) {
      throw new RangeError(
        `expand: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (dim ${d}: size ${own} must be 1 or equal ${s})`,
      );
    }
    return s;
  });
}

/**
 * Broadcasts x to `shape` without copying (stride 0); -1 keeps a size, new dims go in front.
 * d/dx = the gradient summed over the expanded dims.
 * @function
 */
export const expand = defineOp({
  name: "expand",
  rule: "d/dx = g summed over the expanded dims",
  kind: "movement",
  shape: expandedShape,
  forward: (x: Tensor, shape: readonly number[]) => {
    checkTensor(x, "expand");
    const target = expandedShape(x, shape);
    const out = x.broadcastView(target);
    return {
      out: makeView(x, target, out.strides, x.offset),
      inputs: [x],
      saved: { x: meta(x), target },
    };
  },
  backward: ({ x, target }, gradOut) => {
    const lead = target.length - x.shape.length;
    const dims: number[] = [];
    for (let d = 0; d < target.length; d++)
      if (d < lead || (x.shape[d - lead] === 1 && target[d] !== 1)) dims.push(d);
    const summed = dims.length > 0 ? gradOut.sum(dims, true) : gradOut;
    return [lead > 0 ? summed.reshape(x.shape) : summed];
  },
});

/** Which dims squeeze keeps: all but the size-1 dims among `dim` (all dims when omitted). */
function squeezeKeeps(x: TensorMeta, dim?: number | readonly number[]): boolean[] {
  const dims =
    dim === undefined
      ? x.shape.map((_, d) => d)
      : normalizeDims(dim, x.shape.length, "squeeze", x.shape);
  return x.shape.map((s, d) => !(s === 1 && dims.includes(d)));
}

/**
 * Removes size-1 dims (all, or the given ones if they have size 1); d/dx = reshape back.
 * @function
 */
export const squeeze = defineOp({
  name: "squeeze",
  rule: "d/dx = g with the removed dim put back",
  kind: "movement",
  shape: (x: TensorMeta, dim?: number | readonly number[]) => {
    const keep = squeezeKeeps(x, dim);
    return x.shape.filter((_, d) => keep[d]);
  },
  forward: (x: Tensor, dim?: number | readonly number[]) => {
    checkTensor(x, "squeeze");
    const keep = squeezeKeeps(x, dim);
    const out = makeView(
      x,
      x.shape.filter((_, d) => keep[d]),
      x.strides.filter((_, d) => keep[d]),
      x.offset,
    );
    return { out, inputs: [x], saved: { x: meta(x) } };
  },
  backward: ({ x }, gradOut) => [gradOut.reshape(x.shape)],
});

/**
 * Inserts a size-1 dim at `dim` (in [-ndim-1, ndim]); d/dx = squeeze it again.
 * @function
 */
export const unsqueeze = defineOp({
  name: "unsqueeze",
  rule: "d/dx = g with the added dim removed",
  kind: "movement",
  shape: (x: TensorMeta, dim: number) => {
    const shape = x.shape.slice();
    shape.splice(normalizeDim(dim, x.shape.length + 1, "unsqueeze", x.shape), 0, 1);
    return shape;
  },
  forward: (x: Tensor, dim: number) => {
    checkTensor(x, "unsqueeze");
    const d = normalizeDim(dim, x.ndim + 1, "unsqueeze", x.shape);
    const shape = x.shape.slice();
    const strides = x.strides.slice();
    shape.splice(d, 0, 1);
    strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
    return { out: makeView(x, shape, strides, x.offset), inputs: [x], saved: { x: meta(x) } };
  },
  backward: ({ x }, gradOut) => [gradOut.reshape(x.shape)],
});

/**
 * Merges dims `startDim..endDim` into one, e.g. `[N, C, H, W]` to `[N, C·H·W]` with `startDim` 1.
 * @function
 */
export const flatten = defineComposite(
  "flatten",
  (x: Tensor, startDim = 0, endDim = -1): Tensor => {
    checkTensor(x, "flatten");
    if (x.ndim === 0) return reshape(x, [1]);
    const s = dimIndex(startDim, x, "flatten");
    const e = dimIndex(endDim, x, "flatten");
    if (s > e)
      throw new RangeError(
        `flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${formatShape(x.shape)}`,
      );
    const shape = [
      ...x.shape.slice(0, s),
      numelOf(x.shape.slice(s, e + 1)),
      ...x.shape.slice(e + 1),
    ];
    return reshape(x, shape);
  },
);

/** Where slice starts and how many elements it takes along `d`, Python-style (checked). */
function sliceRange(
  x: TensorMeta,
  d: number,
  start: number | null | undefined,
  stop: number | null | undefined,
  step: number,
): { from: number; length: number } {
  if (!Number.isInteger(step) || step <= 0)
    throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
  ] as const) {
    if (v !== undefined && v !== null && !Number.isInteger(v))
      throw new RangeError(`slice: ${name} must be an integer, got ${v}`);
  }
  const size = x.shape[d];
  const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  const from = start === undefined || start === null ? 0 : clampIndex(start);
  const to = stop === undefined || stop === null ? size : clampIndex(stop);
  return { from, length: Math.max(0, Math.ceil((to - from) / step)) };
}

/**
 * Elements start, start+step, ... (< stop) along `dim`, as `x[:, start:stop:step]`; negative start
 * and stop count from the end and are clamped like Python slices. d/dx = the gradient scattered
 * back into zeros at the same positions.
 * @function
 */
export const slice = defineOp({
  name: "slice",
  rule: "d/dx = g in the slice, 0 elsewhere",
  kind: "movement",
  shape: (x: TensorMeta, dim: number, start?: number | null, stop?: number | null, step = 1) => {
    const d = dimIndex(dim, x, "slice");
    const shape = x.shape.slice();
    shape[d] = sliceRange(x, d, start, stop, step).length;
    return shape;
  },
  forward: (
    x: Tensor,
    dim: number,
    start?: number | null,
    stop?: number | null,
    step: number = 1,
  ) => {
    checkTensor(x, "slice");
    const d = dimIndex(dim, x, "slice");
    const { from, length } = sliceRange(x, d, start, stop, step);
    const shape = x.shape.slice();
    const strides = x.strides.slice();
    shape[d] = length;
    strides[d] = x.strides[d] * step;
    const out = makeView(x, shape, strides, x.offset + from * x.strides[d]);
    return { out, inputs: [x], saved: { x: meta(x), d, from, step } };
  },
  backward: ({ x, d, from, step }, gradOut) => [sliceScatter(gradOut, x.shape, d, from, step)],
});

/**
 * `narrow(x, dim, start, length)` = `slice(x, dim, start, start + length)`, with bounds checked.
 * @function
 */
export const narrow = defineComposite(
  "narrow",
  (x: Tensor, dim: number, start: number, length: number): Tensor => {
    checkTensor(x, "narrow");
    const d = dimIndex(dim, x, "narrow");
    const size = x.shape[d];
    const begin = start < 0 ? start + size : start;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(length) ||
      begin < 0 ||
      length < 0 ||
      begin + length > size
    ) {
      throw new RangeError(
        `narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`,
      );
    }
    return slice(x, d, begin, begin + length);
  },
);

/**
 * The slice at `index` along `dim`, with that dim removed (`x[:, index]` for `dim` 1).
 * @function
 */
export const select = defineComposite("select", (x: Tensor, dim: number, index: number): Tensor => {
  checkTensor(x, "select");
  const d = dimIndex(dim, x, "select");
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(
      `select: index ${index} is out of range for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  const i = index < 0 ? index + size : index;
  return squeeze(slice(x, d, i, i + 1), d);
});

/**
 * The inverse of slicing, as a differentiable op: zeros of `shape` with `src` written at
 * from, from+step, ... along `dim`. d/dsrc = the same slice of the gradient.
 * @function
 */
export const sliceScatter = defineOp({
  name: "sliceScatter",
  rule: "d/dx = g outside the slice, d/dsrc = g's slice",
  kind: "movement",
  shape: (_src: TensorMeta, shape: readonly number[], ..._rest: unknown[]) => shape,
  forward: (src: Tensor, shape: readonly number[], dim: number, from: number, step: number) => {
    const data = allocate(src.dtype, numelOf(shape), "sliceScatter", shape);
    const out = Tensor.fromTypedArray(data, shape);
    const strides = out.strides.slice();
    strides[dim] *= step;
    const window = new Tensor(out.storage, src.shape, strides, from * out.strides[dim]);
    writeToView(window, src.toArray());
    return { out, inputs: [src], saved: { dim, from, step, length: src.shape[dim] } };
  },
  backward: ({ dim, from, step, length }, gradOut): Tensor[] => [
    gradOut.slice(dim, from, from + length * step, step),
  ],
});
