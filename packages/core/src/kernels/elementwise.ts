// Elementwise loops. Each op has its own small loop (a distinct function, so V8 keeps each call
// site monomorphic); the drivers below feed them rows of contiguous, strided or broadcast input.
// Loops read `x[xi + i * xs]`: a step of 1 is a contiguous row, 0 a broadcast scalar.
// For float arrays of one dtype the drivers hand the common ops and layouts (contiguous, scalar,
// row or column broadcast) to the WebAssembly SIMD loops of elementwise-wasm.ts instead, which
// give bit-identical results; see the dispatch section at the end.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import {
  binaryWasm,
  type Layout,
  unaryWasm,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./elementwise-wasm.js";
import type { FloatArray } from "./gemm-js.js";
import { forEachRow, isContiguous, type View } from "./strided.js";

export type UnaryRow = (
  x: TypedArray,
  xi: number,
  xs: number,
  out: TypedArray,
  oi: number,
  n: number,
) => void;
export type BinaryRow = (
  a: TypedArray,
  ai: number,
  as: number,
  b: TypedArray,
  bi: number,
  bs: number,
  out: TypedArray,
  oi: number,
  n: number,
) => void;

/** Applies a unary row kernel to a view, writing a contiguous `out`. */
export function mapUnary(row: UnaryRow, x: View, out: TypedArray): void {
  if (isContiguous(x.shape, x.strides)) {
    if (unaryOnWasm(row, x, out)) return;
    row(x.data, x.offset, 1, out, 0, out.length);
    return;
  }
  const xs = x.shape.length === 0 ? 1 : x.strides[x.shape.length - 1];
  forEachRow(x.shape, x.strides, x.offset, (xi, oi, n) => row(x.data, xi, xs, out, oi, n));
}

/**
 * Applies a binary row kernel. `a` and `b` must already carry strides broadcast to `shape`
 * (stride 0 along broadcast dims).
 */
export function mapBinary(
  row: BinaryRow,
  a: View,
  b: View,
  shape: readonly number[],
  out: TypedArray,
): void {
  const ndim = shape.length;
  const n = out.length;
  if (n > 0 && binaryOnWasm(row, a, b, shape, out)) return;
  const aFlat = isContiguous(shape, a.strides);
  const bFlat = isContiguous(shape, b.strides);
  if ((aFlat || isScalarView(a)) && (bFlat || isScalarView(b))) {
    row(a.data, a.offset, aFlat ? 1 : 0, b.data, b.offset, bFlat ? 1 : 0, out, 0, n);
    return;
  }
  if (ndim === 0 || n === 0) return;
  const inner = shape[ndim - 1];
  const as = a.strides[ndim - 1];
  const bs = b.strides[ndim - 1];
  const rows = n / inner;
  const index = new Array<number>(ndim - 1).fill(0);
  let ai = a.offset;
  let bi = b.offset;
  for (let r = 0; r < rows; r++) {
    row(a.data, ai, as, b.data, bi, bs, out, r * inner, inner);
    for (let d = ndim - 2; d >= 0; d--) {
      index[d]++;
      ai += a.strides[d];
      bi += b.strides[d];
      if (index[d] < shape[d]) break;
      ai -= a.strides[d] * shape[d];
      bi -= b.strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

function isScalarView(v: View): boolean {
  for (let d = 0; d < v.strides.length; d++)
    if (v.strides[d] !== 0 && v.shape[d] !== 1) return false;
  return true;
}

// --- unary rows -------------------------------------------------------------------------------

export const negRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = -x[xi + i * xs];
};
export const expRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.exp(x[xi + i * xs]);
};
export const logRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.log(x[xi + i * xs]);
};
export const sqrtRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.sqrt(x[xi + i * xs]);
};
export const rsqrtRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = 1 / Math.sqrt(x[xi + i * xs]);
};
export const absRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.abs(x[xi + i * xs]);
};
export const signRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.sign(x[xi + i * xs]);
};
export const tanhRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.tanh(x[xi + i * xs]);
};
/** Stable for large |x|: never evaluates exp of a large positive number. */
export const sigmoidRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    if (v >= 0) out[oi + i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[oi + i] = e / (1 + e);
    }
  }
};
export const reluRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = v > 0 ? v : v !== v ? v : 0; // NaN propagates, as in PyTorch
  }
};
export const erfRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = erf(x[xi + i * xs]);
};

/**
 * The error function to about 1 ulp: for |x| < 2.5 the series
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_k (2x^2)^k x / (1*3*...*(2k+1)) (all terms positive, no
 * cancellation); beyond it 1 - erfc(x) with erfc from its continued fraction.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = 2 * ax * ax;
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 200; k++) {
      term *= x2 / (2 * k + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const value = (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
    return x < 0 ? -value : value;
  }
  if (ax > 6.5) return x < 0 ? -1 : 1;
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), evaluated bottom-up.
  let fraction = ax;
  for (let k = 60; k >= 1; k--) fraction = ax + k / 2 / fraction;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / fraction;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

// --- binary rows ------------------------------------------------------------------------------

export const addRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] + b[bi + i * bs];
};
export const subRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] - b[bi + i * bs];
};
export const mulRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] * b[bi + i * bs];
};
export const divRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] / b[bi + i * bs];
};
/** C's pow, not JS `**`: 1^y = 1 for every y (NaN too) and (-1)^±∞ = 1, as in PyTorch. */
export const powRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : x ** y;
  }
};
/** NaN-propagating, like torch.maximum. */
export const maximumRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x !== x || y !== y ? Number.NaN : x > y ? x : y;
  }
};
export const minimumRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x !== x || y !== y ? Number.NaN : x < y ? x : y;
  }
};
/** a·(b > 0 ? 1 : 0): relu's backward from its output b. */
export const reluBackwardRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] * (b[bi + i * bs] > 0 ? 1 : 0);
};
export const eqRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] === b[bi + i * bs] ? 1 : 0;
};
export const neRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] !== b[bi + i * bs] ? 1 : 0;
};
export const ltRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] < b[bi + i * bs] ? 1 : 0;
};
export const leRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] <= b[bi + i * bs] ? 1 : 0;
};
export const gtRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] > b[bi + i * bs] ? 1 : 0;
};
export const geRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] >= b[bi + i * bs] ? 1 : 0;
};

export const squareRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = v * v;
  }
};

/** `out = x > 0 ? x : slope * x` (a closure per call: a parameterised, off-hot-path kernel). */
export function leakyReluRow(slope: number): UnaryRow {
  return (x, xi, xs, out, oi, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      out[oi + i] = v > 0 ? v : v * slope;
    }
  };
}

/** `out = min(max(x, lo), hi)`, NaN propagating. */
export function clampRow(lo: number, hi: number): UnaryRow {
  return (x, xi, xs, out, oi, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      const raised = v < lo ? lo : v; // then lowered: with lo > hi everything becomes hi, as torch
      out[oi + i] = raised > hi ? hi : raised;
    }
  };
}

// --- WebAssembly dispatch ----------------------------------------------------------------------

/**
 * Below this many elements the JS rows win: a wasm call, the chunk copies and their subarray
 * views cost about as much as a short JS loop (measured on Node 20: the two break even between
 * 64 and 128 float32 elements; relu on [128, 256] takes 9 µs in wasm against 50 µs in JS).
 */
const WASM_MIN_ELEMENTS = 128;

const WASM_BINARY = new Map<BinaryRow, WasmBinaryOp>([
  [addRow, "add"],
  [subRow, "sub"],
  [mulRow, "mul"],
  [divRow, "div"],
  [maximumRow, "maximum"],
  [minimumRow, "minimum"],
  [reluBackwardRow, "reluBackward"],
]);
const WASM_UNARY = new Map<UnaryRow, WasmUnaryOp>([
  [negRow, "neg"],
  [absRow, "abs"],
  [squareRow, "square"],
  [sqrtRow, "sqrt"],
  [rsqrtRow, "rsqrt"],
  [reluRow, "relu"],
]);

/** `"wasm"` takes every size, `"auto"` sizes from WASM_MIN_ELEMENTS, `"js"` none. */
function wantWasm(n: number): boolean {
  const backend = getKernelBackend();
  return backend === "wasm" || (backend === "auto" && n >= WASM_MIN_ELEMENTS);
}

/** `out` is a float array and `a` and `b` are of its type. */
function oneFloatType(out: TypedArray, a: TypedArray, b: TypedArray): out is FloatArray {
  if (!(out instanceof Float32Array || out instanceof Float64Array)) return false;
  return a.constructor === out.constructor && b.constructor === out.constructor;
}

function unaryOnWasm(row: UnaryRow, x: View, out: TypedArray): boolean {
  const op = WASM_UNARY.get(row);
  if (op === undefined || out.length === 0 || !wantWasm(out.length)) return false;
  if (!oneFloatType(out, x.data, x.data)) return false;
  return unaryWasm(op, x.data as FloatArray, x.offset, out);
}

function binaryOnWasm(
  row: BinaryRow,
  a: View,
  b: View,
  shape: readonly number[],
  out: TypedArray,
): boolean {
  const op = WASM_BINARY.get(row);
  if (op === undefined || !wantWasm(out.length) || !oneFloatType(out, a.data, b.data)) return false;
  const aLayout = layoutOf(a.strides, shape);
  const bLayout = layoutOf(b.strides, shape);
  if (aLayout === null || bLayout === null) return false;
  const inner = shape.length === 0 ? 1 : shape[shape.length - 1];
  return binaryWasm(
    op,
    { data: a.data as FloatArray, offset: a.offset, layout: aLayout },
    { data: b.data as FloatArray, offset: b.offset, layout: bLayout },
    out,
    inner,
  );
}

/** How an operand with (broadcast) `strides` over `shape` maps to the flat output, if simply. */
function layoutOf(strides: readonly number[], shape: readonly number[]): Layout | null {
  if (isContiguous(shape, strides)) return "flat";
  const last = shape.length - 1;
  let leadingZero = true;
  for (let d = 0; d < last; d++) if (strides[d] !== 0 && shape[d] !== 1) leadingZero = false;
  if (leadingZero && (strides[last] === 0 || shape[last] === 1)) return "scalar";
  if (shape[last] === 1) return null;
  if (leadingZero && strides[last] === 1) return "row";
  if (strides[last] === 0 && isContiguous(shape.slice(0, last), strides.slice(0, last))) {
    return "column";
  }
  return null;
}
