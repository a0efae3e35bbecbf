// The WebAssembly SIMD elementwise loops (elementwise.wat, generated with its op lists from one
// table in scripts/elementwise-wat.mjs) for float32 and float64 arrays. Operands
// stream through three fixed scratch regions of the module's memory in chunks that stay in cache
// (copy in with `set`, run the loop, copy the chunk out), so a large array is never copied whole
// and the memory never grows. elementwise.ts decides when to come here; the JS rows stay the
// reference and the fallback. The module (about 2 KB) compiles synchronously on first use.

import {
  ELEMENTWISE_BINARY_OPS,
  ELEMENTWISE_UNARY_OPS,
  ELEMENTWISE_WASM_BASE64,
} from "./elementwise-wasm-module.js";
import type { FloatArray } from "./gemm-js.js";
import { isContiguous } from "./strided.js";
import { lazyInstance } from "./wasm-module.js";

/** The binary loops of elementwise.wat; each has a float32 and a float64 export. */
export type WasmBinaryOp = (typeof ELEMENTWISE_BINARY_OPS)[number];
/** The unary loops of elementwise.wat; each has a float32 and a float64 export. */
export type WasmUnaryOp = (typeof ELEMENTWISE_UNARY_OPS)[number];

/**
 * Where element i of the flat, row-major output [rows, inner] finds its operand value:
 * `"flat"` at data[offset + i], `"scalar"` at data[offset], `"row"` at data[offset + i % inner]
 * (a [inner] operand broadcast over rows), `"column"` at data[offset + floor(i / inner)] (a
 * [rows, 1] operand broadcast along each row).
 */
export type Layout = "flat" | "scalar" | "row" | "column";

/** One operand of a binary kernel: its array, where it starts and how it is laid out. */
export interface Operand {
  readonly data: FloatArray;
  readonly offset: number;
  readonly layout: Layout;
}

type BinaryFn = (a: number, as: number, b: number, bs: number, o: number, end: number) => void;
type UnaryFn = (p: number, end: number) => void;

/** Bytes per scratch region: three fit the module's two pages and stay in L2 together. */
const CHUNK_BYTES = 32768;

/** The loaded module: its memory, its loops by op and views of the three scratch regions per dtype. */
export interface Scratch {
  memory: WebAssembly.Memory;
  binary: Record<"F32" | "F64", Record<WasmBinaryOp, BinaryFn>>;
  unary: Record<"F32" | "F64", Record<WasmUnaryOp, UnaryFn>>;
  f32: Float32Array[];
  f64: Float64Array[];
}

const load = lazyInstance(ELEMENTWISE_WASM_BASE64, (e): Scratch => {
  const exports = e as Record<string, unknown>;
  const { buffer } = exports.memory as WebAssembly.Memory;
  const pick = <Op extends string, Fn>(ops: readonly Op[], suffix: string) =>
    Object.fromEntries(ops.map((op) => [op, exports[op + suffix]])) as Record<Op, Fn>;
  const regions = [0, 1, 2];
  return {
    memory: exports.memory as WebAssembly.Memory,
    binary: { F32: pick(ELEMENTWISE_BINARY_OPS, "F32"), F64: pick(ELEMENTWISE_BINARY_OPS, "F64") },
    unary: { F32: pick(ELEMENTWISE_UNARY_OPS, "F32"), F64: pick(ELEMENTWISE_UNARY_OPS, "F64") },
    f32: regions.map((r) => new Float32Array(buffer, r * CHUNK_BYTES, CHUNK_BYTES / 4)),
    f64: regions.map((r) => new Float64Array(buffer, r * CHUNK_BYTES, CHUNK_BYTES / 8)),
  };
});

/**
 * A new instance of the module with a memory of its own, which the caller may grow (the fused
 * chains of elementwise-chain.ts); null where the module cannot run.
 */
export function privateElementwiseModule(): Scratch | null {
  return load.fresh();
}

/** True when the WebAssembly SIMD elementwise loops can run here. */
export function wasmElementwiseAvailable(): boolean {
  return load() !== null;
}

/** `bytes` rounded up to whole 16-byte vectors. */
const vectorEnd = (start: number, bytes: number): number => start + ((bytes + 15) & ~15);

/**
 * out[i] = a[i] op b[i] for i in [0, out.length), the operands read through their layouts over
 * rows of `inner` values. `a`, `b` and `out` must all be Float32Array or all Float64Array.
 * Returns false (and writes nothing) where the module cannot run.
 */
export function binaryWasm(
  op: WasmBinaryOp,
  a: Operand,
  b: Operand,
  out: FloatArray,
  inner: number,
): boolean {
  const s = load();
  if (s === null) return false;
  const f64 = out instanceof Float64Array;
  const fn = s.binary[f64 ? "F64" : "F32"][op];
  const [va, vb, vo] = f64 ? s.f64 : s.f32;
  const bytes = f64 ? 8 : 4;
  const per = CHUNK_BYTES / bytes;
  const n = out.length;
  const broadcastRows = a.layout === "row" || a.layout === "column";
  const rowLen = broadcastRows || b.layout === "row" || b.layout === "column" ? inner : n;
  const oPtr = 2 * CHUNK_BYTES;
  if (rowLen <= per) {
    // Whole rows per chunk; "row" operands are tiled once to a chunk's worth of rows.
    const chunk = Math.min(Math.floor(per / rowLen), n / rowLen) * rowLen;
    prepare(a, va, rowLen, chunk);
    prepare(b, vb, rowLen, chunk);
    for (let start = 0; start < n; start += chunk) {
      const len = Math.min(chunk, n - start);
      const as = stream(a, va, start, len, rowLen);
      const bs = stream(b, vb, start, len, rowLen);
      fn(0, as, CHUNK_BYTES, bs, oPtr, vectorEnd(oPtr, len * bytes));
      out.set(len === per ? vo : vo.subarray(0, len), start);
    }
    return true;
  }
  // Rows longer than a chunk: each row in segments.
  prepare(a, va, rowLen, 0);
  prepare(b, vb, rowLen, 0);
  for (let start = 0; start < n; start += rowLen) {
    for (let at = 0; at < rowLen; at += per) {
      const len = Math.min(per, rowLen - at);
      const as = segment(a, va, start, at, len, rowLen);
      const bs = segment(b, vb, start, at, len, rowLen);
      fn(0, as, CHUNK_BYTES, bs, oPtr, vectorEnd(oPtr, len * bytes));
      out.set(len === per ? vo : vo.subarray(0, len), start + at);
    }
  }
  return true;
}

/** Once per call: a scalar stored four times (one vector), a row repeated `chunk / rowLen` times. */
function prepare(x: Operand, view: FloatArray, rowLen: number, chunk: number): void {
  if (x.layout === "scalar") view.fill(x.data[x.offset], 0, 4);
  else if (x.layout === "row" && chunk > 0) {
    view.set(x.data.subarray(x.offset, x.offset + rowLen));
    for (let filled = rowLen; filled < chunk; filled *= 2) {
      view.copyWithin(filled, 0, Math.min(filled, chunk - filled));
    }
  }
}

/** Loads values [start, start + len) (whole rows) of `x` into `view`; returns its byte step. */
function stream(x: Operand, view: FloatArray, start: number, len: number, rowLen: number): number {
  const { data, offset, layout } = x;
  if (layout === "flat") view.set(data.subarray(offset + start, offset + start + len));
  else if (layout === "column") {
    const row0 = offset + start / rowLen;
    for (let r = 0; r < len / rowLen; r++) view.fill(data[row0 + r], r * rowLen, (r + 1) * rowLen);
  }
  return layout === "scalar" ? 0 : 16;
}

/** Loads values [at, at + len) of the row starting at flat index `start`; returns the byte step. */
function segment(
  x: Operand,
  view: FloatArray,
  start: number,
  at: number,
  len: number,
  rowLen: number,
): number {
  const { data, offset, layout } = x;
  if (layout === "flat") view.set(data.subarray(offset + start + at, offset + start + at + len));
  else if (layout === "row") view.set(data.subarray(offset + at, offset + at + len));
  else if (layout === "column" && at === 0) view.fill(data[offset + start / rowLen], 0, 4);
  return layout === "flat" || layout === "row" ? 16 : 0;
}

/**
 * out[i] = op(x[offset + i]) for i in [0, out.length); `x` and `out` both Float32Array or both
 * Float64Array. Returns false (and writes nothing) where the module cannot run.
 */
export function unaryWasm(
  op: WasmUnaryOp,
  x: FloatArray,
  offset: number,
  out: FloatArray,
): boolean {
  const s = load();
  if (s === null) return false;
  const f64 = out instanceof Float64Array;
  const fn = s.unary[f64 ? "F64" : "F32"][op];
  const view = f64 ? s.f64[0] : s.f32[0];
  const bytes = f64 ? 8 : 4;
  const per = CHUNK_BYTES / bytes;
  const n = out.length;
  for (let start = 0; start < n; start += per) {
    const len = Math.min(per, n - start);
    view.set(x.subarray(offset + start, offset + start + len));
    fn(0, vectorEnd(0, len * bytes));
    out.set(len === per ? view : view.subarray(0, len), start);
  }
  return true;
}

/** How an operand with (broadcast) `strides` over `shape` maps to the flat output, if simply. */
export function layoutOf(strides: readonly number[], shape: readonly number[]): Layout | null {
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
