// Elementwise drivers: they feed the loops of elementwise-rows.ts rows of contiguous, strided or
// broadcast input. For float arrays of one dtype they hand the common ops and layouts
// (contiguous, scalar, row or column broadcast) to the WebAssembly SIMD loops of
// elementwise-wasm.ts instead, which give bit-identical results; see the dispatch section.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import { chainInner, chainOperandOf, chainWasm } from "./elementwise-chain.js";
import {
  absRow,
  addRow,
  type BinaryRow,
  divRow,
  maximumRow,
  minimumRow,
  mulRow,
  negRow,
  reluBackwardRow,
  reluRow,
  rsqrtRow,
  sqrtRow,
  squareRow,
  subRow,
  type UnaryRow,
} from "./elementwise-rows.js";
import {
  binaryWasm,
  layoutOf,
  unaryWasm,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./elementwise-wasm.js";
import type { FloatArray } from "./gemm-js.js";
import { forEachRow, isContiguous, type View } from "./strided.js";

export * from "./elementwise-rows.js";

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
  fullShape: readonly number[],
  out: TypedArray,
): void {
  const n = out.length;
  if (n > 0 && binaryOnWasm(row, a, b, fullShape, out)) return;
  // Dims that step alike in both operands run as one, so a per-channel operand of [N, C, H, W]
  // (strides [0, 1, 0, 0]) gives rows of H·W elements instead of rows of W.
  const merged = coalesce(fullShape, a.strides, b.strides);
  if (merged !== null) {
    a = { data: a.data, offset: a.offset, shape: merged.shape, strides: merged.aStrides };
    b = { data: b.data, offset: b.offset, shape: merged.shape, strides: merged.bStrides };
    if (binaryOnWasm(row, a, b, merged.shape, out)) return;
  }
  const shape = merged?.shape ?? fullShape;
  if (n > 0 && binaryOnChain(row, a, b, shape, out)) return;
  const ndim = shape.length;
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

/**
 * `shape` with every dim of size 1 dropped and every dim d merged into d + 1 where both operands
 * step over d exactly as over the whole of d + 1 (stride[d] = stride[d+1]·shape[d+1]); null when
 * nothing merges.
 */
export function coalesce(
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
): { shape: number[]; aStrides: number[]; bStrides: number[] } | null {
  const outShape: number[] = [];
  const as: number[] = [];
  const bs: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && as[last] === aStrides[d] * shape[d] && bs[last] === bStrides[d] * shape[d]) {
      outShape[last] *= shape[d];
      as[last] = aStrides[d];
      bs[last] = bStrides[d];
    } else {
      outShape.push(shape[d]);
      as.push(aStrides[d]);
      bs.push(bStrides[d]);
    }
  }
  if (outShape.length === shape.length) return null;
  return { shape: outShape, aStrides: as, bStrides: bs };
}

function isScalarView(v: View): boolean {
  for (let d = 0; d < v.strides.length; d++)
    if (v.strides[d] !== 0 && v.shape[d] !== 1) return false;
  return true;
}

// --- WebAssembly dispatch ----------------------------------------------------------------------

/**
 * Below this many elements the JS rows win: a wasm call, the chunk copies and their subarray
 * views cost about as much as a short JS loop (measured on Node 20: the two break even between
 * 64 and 128 float32 elements; relu on [128, 256] takes 9 µs in wasm against 50 µs in JS).
 */
const WASM_MIN_ELEMENTS = 128;

/** The JS row each WebAssembly loop replaces: an op of the module without its row is a type error. */
const BINARY_ROWS: Record<WasmBinaryOp, BinaryRow> = {
  add: addRow,
  sub: subRow,
  mul: mulRow,
  div: divRow,
  maximum: maximumRow,
  minimum: minimumRow,
  reluBackward: reluBackwardRow,
};
const UNARY_ROWS: Record<WasmUnaryOp, UnaryRow> = {
  neg: negRow,
  abs: absRow,
  square: squareRow,
  sqrt: sqrtRow,
  rsqrt: rsqrtRow,
  relu: reluRow,
};
const WASM_BINARY = invert(BINARY_ROWS);
const WASM_UNARY = invert(UNARY_ROWS);

/** Row → op, for the dispatch below. */
function invert<Op extends string, Row>(rows: Record<Op, Row>): Map<Row, Op> {
  return new Map((Object.entries(rows) as [Op, Row][]).map(([op, row]) => [row, op]));
}

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

/** The wasm loop for `row` when it may run here on these arrays (one float type, wasm chosen). */
function wasmBinaryOp(row: BinaryRow, a: View, b: View, out: TypedArray): WasmBinaryOp | undefined {
  const op = WASM_BINARY.get(row);
  if (op === undefined || !wantWasm(out.length) || !oneFloatType(out, a.data, b.data))
    return undefined;
  return op;
}

function binaryOnWasm(
  row: BinaryRow,
  a: View,
  b: View,
  shape: readonly number[],
  out: TypedArray,
): boolean {
  const op = wasmBinaryOp(row, a, b, out);
  if (op === undefined) return false;
  const aLayout = layoutOf(a.strides, shape);
  const bLayout = layoutOf(b.strides, shape);
  if (aLayout === null || bLayout === null) return false;
  const inner = shape.length === 0 ? 1 : shape[shape.length - 1];
  return binaryWasm(
    op,
    { data: a.data as FloatArray, offset: a.offset, layout: aLayout },
    { data: b.data as FloatArray, offset: b.offset, layout: bLayout },
    out as FloatArray,
    inner,
  );
}

/**
 * A binary op whose operands the one-op loops cannot read (a per-channel operand of
 * [N, C, H, W], as BatchNorm2d has) as a one-step chain of the same wasm loop: the same value
 * per element, chunk by chunk. False (nothing written) where the chain cannot read them either.
 */
function binaryOnChain(
  row: BinaryRow,
  a: View,
  b: View,
  shape: readonly number[],
  out: TypedArray,
): boolean {
  const op = wasmBinaryOp(row, a, b, out);
  if (op === undefined) return false;
  const operand = (v: View) =>
    chainOperandOf(
      { data: v.data as FloatArray, offset: v.offset, shape, strides: v.strides },
      shape,
    );
  const x = operand(a);
  const y = operand(b);
  if (x === null || y === null) return false;
  const step = [{ op, a: 0, b: 1 }];
  return chainWasm(
    [x, y],
    step,
    [{ slot: 2, out: out as FloatArray }],
    out.length,
    chainInner(shape),
  );
}
