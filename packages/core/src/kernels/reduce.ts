// Reductions over any set of dims of a strided view. The kept dims are walked with an odometer;
// the reduced block is either an arithmetic run (base + k * step: the common contiguous case) or
// a table of offsets. Accumulation happens in JS doubles whatever the storage dtype. Contiguous
// float32/float64 sums over the leading or trailing dims, and maxima over the trailing dims, go
// to the WebAssembly SIMD kernels of reduce-wasm.ts (bit-identical results) when the backend
// allows it.

import type { TypedArray } from "../tensor/dtype.js";
import { getKernelBackend } from "./backend.js";
import { columnSumsWasm, rowReduceWasm, wasmReduceAvailable } from "./reduce-wasm.js";
import { isContiguous, type View } from "./strided.js";

export type ReduceKind = "sum" | "prod" | "max" | "min" | "argmax" | "argmin";

/**
 * Below this many elements "auto" keeps a float reduction in JS, where the call into wasm and the
 * chunk copies do not pay off. Measured on the 2-core dev machine (whole op, float32 [r, c], µs,
 * JS vs wasm): `x.sum(0)` [8, 32] 1.3-2.1 vs 1.6-2.1, [16, 32] 2.2 vs 0.9-1.3, [64, 64] 8.8 vs
 * 2.1, [128, 256] 59 vs 16; `x.var(0)` [8, 32] 3.5-3.9 vs 3.4-4.3, [16, 64] 5-10 vs 3-6; row
 * sums and maxima win from [8, 32] (1.3-3.3 vs 0.4-0.9), so one threshold serves all.
 */
export const WASM_MIN_ELEMENTS = 512;

/** True when `data` (a float array of `size` elements to reduce) goes to the wasm kernels. */
export function useWasm(data: TypedArray, size: number): data is Float32Array | Float64Array {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return false;
  const choice = getKernelBackend();
  if (choice === "js") return false;
  if (choice === "wasm") return true;
  return size >= WASM_MIN_ELEMENTS && wasmReduceAvailable();
}

/** Reduces `dims` (sorted, unique) of `x` into `out` (contiguous over the kept dims, in order). */
export function reduce(kind: ReduceKind, x: View, dims: readonly number[], out: TypedArray): void {
  if ((kind === "sum" || kind === "prod") && reduceLeading(kind, x, dims, out)) return;
  if ((kind === "sum" || kind === "max") && reduceTrailingWasm(kind, x, dims, out)) return;
  if (kind === "sum" && reduceAroundWasm(x, dims, out)) return;
  const { keptShape, keptStrides, inner } = split(x, dims);
  const count = out.length;
  const index = new Array<number>(keptShape.length).fill(0);
  let base = x.offset;
  for (let o = 0; o < count; o++) {
    out[o] = reduceBlock(kind, x.data, base, inner);
    for (let d = keptShape.length - 1; d >= 0; d--) {
      index[d]++;
      base += keptStrides[d];
      if (index[d] < keptShape[d]) break;
      base -= keptStrides[d] * keptShape[d];
      index[d] = 0;
    }
  }
}

/**
 * out[o] = Σ (x - mean[o])² over the reduced block of output o, accumulated in float64 in the
 * same element order as `reduce("sum", ...)`: the squared-deviation pass of a variance without
 * materialising x - mean (bit-identical to summing `(x - mean).square()`).
 */
export function sumSquaredDeviations(
  x: View,
  dims: readonly number[],
  mean: Float64Array,
  out: Float64Array,
): void {
  const r = dims.length;
  const cols = out.length;
  if (r > 0 && r < x.shape.length && dims[r - 1] === r - 1 && isContiguous(x.shape, x.strides)) {
    let rows = 1;
    for (let d = 0; d < r; d++) rows *= x.shape[d];
    squaredDeviationRows(x.data, x.offset, rows, cols, mean, out);
    return;
  }
  const { keptShape, keptStrides, inner } = split(x, dims);
  const index = new Array<number>(keptShape.length).fill(0);
  let base = x.offset;
  for (let o = 0; o < cols; o++) {
    const mu = mean[o];
    let acc = 0;
    for (let k = 0; k < inner.n; k++) {
      const d = x.data[base + (inner.offsets === null ? k * inner.step! : inner.offsets[k])] - mu;
      acc += d * d;
    }
    out[o] = acc;
    for (let d = keptShape.length - 1; d >= 0; d--) {
      index[d]++;
      base += keptStrides[d];
      if (index[d] < keptShape[d]) break;
      base -= keptStrides[d] * keptShape[d];
      index[d] = 0;
    }
  }
}

/** acc[j] += (data[offset + i·cols + j] - mean[j])² for each row i in order. */
function squaredDeviationRows(
  data: TypedArray,
  offset: number,
  rows: number,
  cols: number,
  mean: Float64Array,
  acc: Float64Array,
): void {
  if (useWasm(data, rows * cols)) {
    columnSumsWasm(data, offset, rows, cols, mean, acc);
    return;
  }
  acc.fill(0);
  for (let i = 0; i < rows; i++) {
    const row = offset + i * cols;
    for (let j = 0; j < cols; j++) {
      const d = data[row + j] - mean[j];
      acc[j] += d * d;
    }
  }
}

/**
 * Sum or product over the leading dims 0..r-1 of a contiguous `x`, seen as [rows, cols]: rows are
 * streamed in memory order into one float64 accumulator per column, instead of walking each
 * column with a stride of `cols` (3-4x faster on [4096, 1024]). Each column still accumulates
 * its rows in order 0..rows-1, so results equal the column walk bit for bit. False (nothing
 * done) for any other layout.
 */
function reduceLeading(
  kind: "sum" | "prod",
  x: View,
  dims: readonly number[],
  out: TypedArray,
): boolean {
  const r = dims.length;
  if (r === 0 || r === x.shape.length || dims[r - 1] !== r - 1) return false;
  if (!isContiguous(x.shape, x.strides)) return false;
  const cols = out.length;
  if (cols < 2) return false;
  let rows = 1;
  for (let d = 0; d < r; d++) rows *= x.shape[d];
  const acc = new Float64Array(cols);
  if (kind === "sum" && useWasm(x.data, rows * cols)) {
    columnSumsWasm(x.data, x.offset, rows, cols, null, acc);
  } else if (kind === "sum") sumRows(x.data, x.offset, rows, cols, acc);
  else {
    acc.fill(1);
    prodRows(x.data, x.offset, rows, cols, acc);
  }
  for (let j = 0; j < cols; j++) out[j] = acc[j];
  return true;
}

/** acc[j] += data[offset + i·cols + j] for each row i in order. */
export function sumRows(
  data: TypedArray,
  offset: number,
  rows: number,
  cols: number,
  acc: Float64Array,
) {
  for (let i = 0; i < rows; i++) {
    const row = offset + i * cols;
    for (let j = 0; j < cols; j++) acc[j] += data[row + j];
  }
}

/** acc[j] *= data[offset + i·cols + j] for each row i in order. */
function prodRows(data: TypedArray, offset: number, rows: number, cols: number, acc: Float64Array) {
  for (let i = 0; i < rows; i++) {
    const row = offset + i * cols;
    for (let j = 0; j < cols; j++) acc[j] *= data[row + j];
  }
}

/**
 * Sum or max over the trailing dims r..ndim-1 (not all) of a contiguous float `x`, seen as
 * [rows, len], in the wasm kernels: four rows side by side, each row in order, so results equal
 * `reduceBlock` bit for bit. False (nothing done) for other layouts or when JS is chosen.
 */
function reduceTrailingWasm(
  kind: "sum" | "max",
  x: View,
  dims: readonly number[],
  out: TypedArray,
): boolean {
  const r = dims.length;
  const ndim = x.shape.length;
  if (r === 0 || r === ndim || dims[0] !== ndim - r) return false;
  const rows = out.length;
  let len = 1;
  for (let d = ndim - r; d < ndim; d++) len *= x.shape[d];
  if (rows === 0 || len === 0 || !isContiguous(x.shape, x.strides)) return false;
  // Under four rows, each row is one sequential chain, no faster than JS: only "wasm" forces it.
  if (!useWasm(x.data, rows < 4 ? 0 : rows * len)) return false;
  rowReduceWasm(kind, x.data, x.offset, rows, len, out);
  return true;
}

/**
 * Sum over the dims before and after one kept block of dims (the channels of [N, C, H, W] summed
 * over N, H, W, as BatchNorm2d does) of a contiguous float `x`, seen as [outer, rows, len]: for
 * each outer index in turn, the wasm row sums add each row's `len` values in order onto the
 * row's running sum. Each kept position thus adds its values in the order `reduceBlock` walks
 * them (outer index, then the trailing dims), and results equal it bit for bit. False (nothing
 * done) for other layouts or when JS is chosen.
 */
function reduceAroundWasm(x: View, dims: readonly number[], out: TypedArray): boolean {
  const ndim = x.shape.length;
  const r = dims.length;
  if (r < 2 || r >= ndim || dims[0] !== 0 || dims[r - 1] !== ndim - 1) return false;
  // The kept dims must be one block a..b-1: the reduced ones are 0..a-1 and b..ndim-1.
  let a = 0;
  while (dims[a] === a) a++;
  const b = dims[a];
  if (dims.length !== a + (ndim - b) || dims.slice(a).some((d, i) => d !== b + i)) return false;
  if (!(out instanceof Float32Array || out instanceof Float64Array)) return false;
  if (!isContiguous(x.shape, x.strides)) return false;
  let outer = 1;
  for (let d = 0; d < a; d++) outer *= x.shape[d];
  let len = 1;
  for (let d = b; d < ndim; d++) len *= x.shape[d];
  const rows = out.length;
  if (rows === 0 || len === 0 || outer === 0 || !useWasm(x.data, outer * rows * len)) return false;
  const acc = new Float64Array(rows);
  for (let o = 0; o < outer; o++) {
    rowReduceWasm("sum", x.data, x.offset + o * rows * len, rows, len, acc, o > 0);
  }
  out.set(acc);
  return true;
}

/** The kept dims (walked by an odometer) and the reduced block of `x` for `dims`. */
function split(x: View, dims: readonly number[]) {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    if (dims.includes(d)) {
      redShape.push(x.shape[d]);
      redStrides.push(x.strides[d]);
    } else {
      keptShape.push(x.shape[d]);
      keptStrides.push(x.strides[d]);
    }
  }
  return { keptShape, keptStrides, inner: innerOffsets(redShape, redStrides) };
}

interface Inner {
  readonly n: number;
  /** Step between consecutive elements when the block is an arithmetic run, else null. */
  readonly step: number | null;
  readonly offsets: Int32Array | null;
}

function innerOffsets(shape: number[], strides: number[]): Inner {
  let n = 1;
  for (const s of shape) n *= s;
  // Drop size-1 dims, then check whether the rest collapses into one arithmetic run.
  const live = shape.map((s, d) => [s, strides[d]] as const).filter(([s]) => s !== 1);
  if (live.length === 0) return { n, step: 1, offsets: null };
  let arithmetic = true;
  for (let d = live.length - 1; d > 0; d--) {
    if (live[d - 1][1] !== live[d][1] * live[d][0]) arithmetic = false;
  }
  if (arithmetic) return { n, step: live[live.length - 1][1], offsets: null };
  const offsets = new Int32Array(n);
  const index = new Array<number>(shape.length).fill(0);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    offsets[k] = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      if (index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return { n, step: null, offsets };
}

function reduceBlock(kind: ReduceKind, data: TypedArray, base: number, inner: Inner): number {
  const { n, step, offsets } = inner;
  switch (kind) {
    case "sum": {
      let acc = 0;
      if (offsets === null) for (let k = 0; k < n; k++) acc += data[base + k * step!];
      else for (let k = 0; k < n; k++) acc += data[base + offsets[k]];
      return acc;
    }
    case "prod": {
      let acc = 1;
      if (offsets === null) for (let k = 0; k < n; k++) acc *= data[base + k * step!];
      else for (let k = 0; k < n; k++) acc *= data[base + offsets[k]];
      return acc;
    }
    case "max":
    case "min":
    case "argmax":
    case "argmin": {
      // First occurrence wins at ties; NaN wins over everything (as PyTorch's max/argmax).
      const wantMax = kind === "max" || kind === "argmax";
      let best = data[base];
      let bestK = 0;
      if (best === best) {
        for (let k = 1; k < n; k++) {
          const v = data[base + (offsets === null ? k * step! : offsets[k])];
          if (v !== v) {
            best = v;
            bestK = k;
            break;
          }
          if (wantMax ? v > best : v < best) {
            best = v;
            bestK = k;
          }
        }
      }
      return kind === "max" || kind === "min" ? best : bestK;
    }
  }
}
