// Shape arithmetic: validation, contiguous strides, broadcasting and dim normalisation.
// Pure functions on number arrays; nothing here knows about tensors or autograd.

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

/** Row-major strides; a size-1 dim gets the stride it would have anyway (never used to step). */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** The most dims a tensor made from user input may have (nested arrays, shapes). */
export const MAX_DIMS = 64;

/** A shape as given by the user, for messages: NaN and Infinity print as themselves. */
function describeShapeInput(shape: readonly unknown[]): string {
  const parts = shape.map((s) =>
    typeof s === "number" ? String(s) : (JSON.stringify(s) ?? String(s)),
  );
  return `[${parts.join(", ")}]`;
}

export function validateShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape))
    throw new TypeError(`${op}: shape must be an array of integers, got ${String(shape)}`);
  if (shape.length > MAX_DIMS)
    throw new RangeError(
      `${op}: shape has ${shape.length} dims; at most ${MAX_DIMS} are supported`,
    );
  for (const size of shape) {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(
        `${op}: shape ${describeShapeInput(shape)} must hold non-negative integers (got ${typeof size === "number" ? size : typeof size})`,
      );
    }
  }
  return shape.slice();
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy/PyTorch broadcasting: align trailing dims; each pair must be equal or contain a 1. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  if (sameShape(a, b)) return a as number[];
  const ndim = Math.max(a.length, b.length);
  const out = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) {
    const da = i < ndim - a.length ? 1 : a[i - (ndim - a.length)];
    const db = i < ndim - b.length ? 1 : b[i - (ndim - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dim ${i} of the aligned shapes: ${da} vs ${db}; sizes must match or be 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Turns a possibly negative dim into 0..ndim-1, with an error naming the op and shape. */
export function normalizeDim(dim: number, ndim: number, op: string, shape?: Shape): number {
  const range = ndim === 0 ? 1 : ndim; // PyTorch lets a 0-d tensor use dim 0 / -1
  if (!Number.isInteger(dim) || dim < -range || dim >= range) {
    const where = shape ? ` for a tensor of shape ${formatShape(shape)}` : "";
    throw new RangeError(
      `${op}: dim ${dim} is out of range${where} (expected an integer in [${-range}, ${range - 1}])`,
    );
  }
  return dim < 0 ? dim + range : dim;
}

/** Normalises `dim` (a number, a list, or undefined meaning all dims) to a sorted unique list. */
export function normalizeDims(
  dim: number | readonly number[] | undefined,
  ndim: number,
  op: string,
  shape?: Shape,
): number[] {
  if (dim === undefined) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof dim === "number") {
    const d = normalizeDim(dim, ndim, op, shape);
    return ndim === 0 ? [] : [d];
  }
  const dims = dim.map((d) => normalizeDim(d, ndim, op, shape));
  dims.sort((x, y) => x - y);
  // Sorted: a repeated dim sits next to itself (no Set per call: reductions run this often).
  for (let i = 1; i < dims.length; i++) {
    if (dims[i] === dims[i - 1]) {
      throw new RangeError(`${op}: dim ${JSON.stringify(dim)} repeats a dim`);
    }
  }
  return ndim === 0 ? [] : dims;
}

/** The shape after reducing `dims`, keeping them as size 1 or dropping them. */
export function reducedShape(shape: Shape, dims: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (dims.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}
