// In-place updates for optimizers, initialisers and gradient clipping. They are never recorded:
// changing a leaf that requires grad is only allowed with grad mode off (as in PyTorch), and each
// write bumps the storage version so backward refuses tensors modified after being saved.

import { isGradEnabled } from "../autograd/grad-mode.js";
import { addRow, type BinaryRow, mapBinary, mulRow } from "../kernels/elementwise.js";
import * as k from "../kernels/inplace.js";
import { checkInt32Range, isFloat } from "../tensor/dtype.js";
import { broadcastShapes, formatShape, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { traceable } from "../tensor/tracing.js";

type TensorLike = Tensor | number;

/** True when a dim of more than one position has stride 0 (an expanded view). */
function hasRepeatedElements(t: Tensor): boolean {
  const { strides, shape } = t;
  for (let d = 0; d < strides.length; d++) if (strides[d] === 0 && shape[d] > 1) return true;
  return false;
}

function checkWritable(target: Tensor, op: string): void {
  if (isGradEnabled() && target.requiresGrad) {
    throw new Error(
      `${op}: in-place change of a tensor that requires grad (shape ${formatShape(target.shape)}) would corrupt the graph; ` +
        "wrap the update in noGrad(() => ...)",
    );
  }
  // Stride 0 over more than one position writes one element many times; a tensor with no
  // elements (contiguous [2, 0] has strides [0, 1]) writes nothing.
  if (target.numel() > 0 && hasRepeatedElements(target)) {
    throw new Error(
      `${op}: cannot write in place into an expanded (broadcast) view of shape ${formatShape(target.shape)}`,
    );
  }
}

/** Runs `update(current, ...sources)` element by element over `target`, writing back in place. */
function forEachElement(
  target: Tensor,
  sources: readonly Tensor[],
  op: string,
  update: (current: number, values: number[]) => number,
): void {
  for (const s of sources) {
    const shape = broadcastShapes(target.shape, s.shape, op);
    if (!sameShape(shape, target.shape)) {
      throw new RangeError(
        `${op}: source of shape ${formatShape(s.shape)} does not broadcast to the target's shape ${formatShape(target.shape)}`,
      );
    }
  }
  const views = sources.map((s) => s.broadcastView(target.shape));
  const { shape, strides, data } = target;
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  const n = target.numel();
  const values = new Array<number>(views.length);
  const offsets = views.map((v) => v.offset);
  let offset = target.offset;
  for (let k = 0; k < n; k++) {
    for (let s = 0; s < views.length; s++) values[s] = views[s].data[offsets[s]];
    data[offset] = update(data[offset], values);
    for (let d = ndim - 1; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      for (let s = 0; s < views.length; s++) offsets[s] += views[s].strides[d];
      if (index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      for (let s = 0; s < views.length; s++) offsets[s] -= views[s].strides[d] * shape[d];
      index[d] = 0;
    }
  }
  target.storage.version++;
}

/** The lowest and highest element index a view touches in its storage. */
function extent(t: Tensor): [number, number] {
  let lo = t.offset;
  let hi = t.offset;
  for (let d = 0; d < t.shape.length; d++) {
    const span = (t.shape[d] - 1) * t.strides[d];
    if (span < 0) lo += span;
    else hi += span;
  }
  return [lo, hi];
}

/**
 * Refuses a source that shares storage with the target at other positions, as PyTorch does
 * ("some elements of the input tensor and the written-to tensor refer to a single memory
 * location"): the result would depend on the order the elements are visited in, which differs
 * between the JS loops and the chunked WebAssembly ones. The identical view (x.add_(x)) and
 * disjoint parts of one storage (x[0].add_(x[1])) are fine.
 */
function checkOverlap(target: Tensor, source: Tensor, op: string): void {
  if (!overlaps(target, source)) return;
  throw new Error(
    `${op}: the source (shape ${formatShape(source.shape)}, offset ${source.offset}) shares memory with the target ` +
      `(shape ${formatShape(target.shape)}, offset ${target.offset}) at other positions; clone() the source first`,
  );
}

/** The source as a tensor: a number becomes a 0-d one of the target's dtype (range-checked). */
function asSource(value: TensorLike, target: Tensor, op: string): Tensor {
  if (typeof value === "number") {
    if (target.dtype === "int32") checkInt32Range(value, op, "the number");
    return Tensor.scalar(value, target.dtype);
  }
  if (!(value instanceof Tensor)) {
    throw new TypeError(
      `${op}: expected a Tensor or a number, got ${Array.isArray(value) ? "an array (wrap it with tensor(...))" : value === null ? "null" : typeof value}`,
    );
  }
  return value;
}

/**
 * True when `source` reads storage that `target` writes, other than position for position: the
 * identical view is no overlap (each element is read before it is written).
 */
function overlaps(target: Tensor, source: Tensor): boolean {
  if (source.storage !== target.storage || target.numel() === 0 || source.numel() === 0)
    return false;
  const same =
    source.offset === target.offset &&
    sameShape(source.shape, target.shape) &&
    sameShape(source.strides, target.strides);
  if (same) return false;
  const [tLo, tHi] = extent(target);
  const [sLo, sHi] = extent(source);
  return !(sHi < tLo || tHi < sLo);
}

/**
 * For the fast paths: a contiguous target whose sources are each either contiguous with the
 * target's shape (step 1) or a single element (step 0). False when any source needs the general
 * strided walk. Reading source i at `offset + i * step` keeps one loop per op for both cases.
 */
function isFlat(target: Tensor, sources: readonly Tensor[]): boolean {
  if (!target.isContiguous()) return false;
  for (const s of sources) {
    const single = s.numel() === 1 && s.ndim <= target.ndim; // broadcasts without a shape check
    if (!single && !(s.isContiguous() && sameShape(s.shape, target.shape))) return false;
  }
  return true;
}

function stepOf(source: Tensor, target: Tensor): number {
  return sameShape(source.shape, target.shape) ? 1 : 0;
}

/**
 * target op= source through the elementwise driver (its WebAssembly kernels for large float
 * tensors, broadcast rows included) when target is contiguous and float, as source is after
 * promotion. Each element is read before it is written, as in the loops. False otherwise.
 */
function throughDriver(target: Tensor, source: Tensor, row: BinaryRow, op: string): boolean {
  if (!target.isContiguous() || !isFloat(target.dtype) || source.dtype !== target.dtype)
    return false;
  const shape = broadcastShapes(target.shape, source.shape, op);
  if (!sameShape(shape, target.shape)) return false; // forEachElement reports it
  const n = target.numel();
  const out = target.data.subarray(target.offset, target.offset + n);
  mapBinary(row, target, source.broadcastView(shape), shape, out);
  target.storage.version++;
  return true;
}

/** `target += alpha·other`; `op` names the method in errors (add_, or sub_ with alpha negated). */
function addInPlaceUntraced<T extends Tensor>(
  target: T,
  other: TensorLike,
  alpha: number,
  op = "add_",
): T {
  checkWritable(target, op);
  if (typeof other === "number" && !isFloat(target.dtype) && target.isContiguous()) {
    // An integer counter (BatchNorm's numBatchesTracked): the loop below, on the number as
    // the 0-d tensor of the target's dtype would hold it, without making that tensor.
    if (target.dtype === "int32") checkInt32Range(other, op, "the number");
    const value = target.dtype === "bool" ? (other !== 0 ? 1 : 0) : other | 0;
    k.addValueRun(target.data, target.offset, alpha * value, target.numel());
    target.storage.version++;
    return target;
  }
  const source = asSource(other, target, op);
  checkOverlap(target, source, op);
  if (alpha === 1 && throughDriver(target, source, addRow, op)) return target;
  if (isFlat(target, [source])) {
    const t = target.data;
    const s = source.data;
    const to = target.offset;
    const so = source.offset;
    const n = target.numel();
    if (stepOf(source, target) === 1) k.addScaledRun(t, to, s, so, alpha, n);
    else k.addValueRun(t, to, alpha * s[so], n);
    target.storage.version++;
    return target;
  }
  forEachElement(target, [source], op, (current, [v]) => current + alpha * v);
  return target;
}

function mulInPlaceUntraced<T extends Tensor>(target: T, other: TensorLike): T {
  checkWritable(target, "mul_");
  const source = asSource(other, target, "mul_");
  checkOverlap(target, source, "mul_");
  if (throughDriver(target, source, mulRow, "mul_")) return target;
  if (isFlat(target, [source])) {
    const t = target.data;
    const s = source.data;
    const to = target.offset;
    const so = source.offset;
    const n = target.numel();
    if (stepOf(source, target) === 1) k.mulRun(t, to, s, so, n);
    else k.mulValueRun(t, to, s[so], n);
    target.storage.version++;
    return target;
  }
  forEachElement(target, [source], "mul_", (current, [v]) => current * v);
  return target;
}

type TernaryRun = typeof k.addcmulRun;

/**
 * `target += increment(value, a, b)` in place: the flat kernel when it applies, else the strided
 * walk, which must compute the increment in the kernel's order of operations.
 */
function ternaryInPlace<T extends Tensor>(
  op: string,
  target: T,
  a: Tensor,
  b: Tensor,
  value: number,
  run: TernaryRun,
  increment: (value: number, x: number, y: number) => number,
): T {
  checkWritable(target, op);
  checkOverlap(target, a, op);
  checkOverlap(target, b, op);
  if (isFlat(target, [a, b])) {
    const [xs, ys] = [stepOf(a, target), stepOf(b, target)];
    run(
      target.data,
      target.offset,
      a.data,
      a.offset,
      xs,
      b.data,
      b.offset,
      ys,
      value,
      target.numel(),
    );
    target.storage.version++;
    return target;
  }
  forEachElement(target, [a, b], op, (current, [x, y]) => current + increment(value, x, y));
  return target;
}

function addcmulInPlaceUntraced<T extends Tensor>(
  target: T,
  a: Tensor,
  b: Tensor,
  value: number,
): T {
  return ternaryInPlace("addcmul_", target, a, b, value, k.addcmulRun, (v, x, y) => v * x * y);
}

function addcdivInPlaceUntraced<T extends Tensor>(
  target: T,
  a: Tensor,
  b: Tensor,
  value: number,
): T {
  return ternaryInPlace("addcdiv_", target, a, b, value, k.addcdivRun, (v, x, y) => (v * x) / y);
}

/**
 * Writes `value` into `target`. A source that overlaps the target at other positions (x.copy_(x.t()))
 * is copied out first, so the result is what a copy from separate memory gives; PyTorch refuses
 * that case instead. `op` names the method in errors (copy_, fill_, zero_, clamp_).
 */
function copyInPlaceUntraced<T extends Tensor>(target: T, value: TensorLike, op = "copy_"): T {
  checkWritable(target, op);
  let source = typeof value === "number" ? value : asSource(value, target, op);
  if (typeof source !== "number" && overlaps(target, source)) source = source.detach().clone();
  if (typeof source === "number" && target.dtype === "int32")
    checkInt32Range(source, op, "the value");
  const isBool = target.dtype === "bool";
  if (!isBool && target.isContiguous()) {
    // Fast paths (running statistics, loadStateDict, fill_/zero_): a fill, or one block copy.
    const n = target.numel();
    const { data, offset } = target;
    if (typeof source === "number") {
      data.fill(source, offset, offset + n);
      target.storage.version++;
      return target;
    }
    if (source.isContiguous() && sameShape(source.shape, target.shape)) {
      const whole = source.offset === 0 && n === source.data.length;
      const values = whole ? source.data : source.data.subarray(source.offset, source.offset + n);
      if (values.constructor === data.constructor) data.set(values as never, offset);
      else for (let i = 0; i < n; i++) data[offset + i] = values[i];
      target.storage.version++;
      return target;
    }
  }
  forEachElement(target, [asSource(source, target, op)], op, (_, [v]) =>
    isBool ? (v !== 0 ? 1 : 0) : v,
  );
  return target;
}

/**
 * `untraced`, seen by a tracer as one in-place call named by `name` (the op argument of add_ and
 * copy_ names the method: sub_, fill_, zero_...).
 */
function inPlace<F extends (...args: never[]) => Tensor>(
  name: (args: Parameters<F>) => string,
  untraced: F,
): F {
  return traceable((args: Parameters<F>) => ({ name: name(args), kind: "inplace" }), untraced);
}

/** `target += alpha·other` in place. */
export const addInPlace = inPlace((args) => args[3] ?? "add_", addInPlaceUntraced);
/** `target *= other` in place. */
export const mulInPlace = inPlace(() => "mul_", mulInPlaceUntraced);
/** `target += value·a·b` in place. */
export const addcmulInPlace = inPlace(() => "addcmul_", addcmulInPlaceUntraced);
/** `target += value·a/b` in place. */
export const addcdivInPlace = inPlace(() => "addcdiv_", addcdivInPlaceUntraced);
/** Writes `value` into `target`. */
export const copyInPlace = inPlace((args) => args[2] ?? "copy_", copyInPlaceUntraced);
