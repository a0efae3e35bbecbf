// The WebAssembly SIMD reductions (reduce.wat) of contiguous float32/float64 [rows, cols] blocks:
// column sums and squared deviations (reductions over the leading dims), row sums and row maxima
// (reductions over the trailing dims). Data is streamed in
// chunks of rows through a fixed 128 KB scratch in the module's memory, so a large array is read
// once and never copied whole; the float64 sums stay in the module's memory between chunks.
// Results are bit-identical to the JS loops in reduce.ts (same float64 arithmetic, same order).

import type { TypedArray } from "../tensor/dtype.js";
import { REDUCE_WASM_BASE64 } from "./reduce-wasm-module.js";
import { lazyInstance } from "./wasm-module.js";

interface ReduceExports {
  memory: WebAssembly.Memory;
  columnsF32(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
  columnsF64(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
  rowSumsF32(x: number, rows: number, len: number, acc: number): void;
  rowSumsF64(x: number, rows: number, len: number, acc: number): void;
  rowMaxF32(x: number, rows: number, len: number, acc: number): void;
  rowMaxF64(x: number, rows: number, len: number, acc: number): void;
}

/** Byte layout of the module's fixed 256 KB memory (reduce.wat declares 4 pages). */
const CHUNK = 0;
const CHUNK_BYTES = 128 * 1024;
const ACC = CHUNK + CHUNK_BYTES;
const MEAN = ACC + 64 * 1024;
/** Columns (float64 sums and means) one pass holds; wider blocks are done in column tiles. */
const TILE_COLS = (64 * 1024) / 8;
/** Rows whose running sums or maxima one row pass holds. */
const TILE_ROWS = TILE_COLS;

interface Kernels {
  readonly exports: ReduceExports;
  readonly chunkF32: Float32Array;
  readonly chunkF64: Float64Array;
  readonly acc: Float64Array;
  /** The same bytes as `acc`, for float32 row maxima. */
  readonly accF32: Float32Array;
  readonly mean: Float64Array;
}

const load = lazyInstance(REDUCE_WASM_BASE64, (e): Kernels => {
  const exports = e as unknown as ReduceExports;
  // The memory never grows, so these views stay attached.
  const buffer = exports.memory.buffer;
  return {
    exports,
    chunkF32: new Float32Array(buffer, CHUNK, CHUNK_BYTES / 4),
    chunkF64: new Float64Array(buffer, CHUNK, CHUNK_BYTES / 8),
    acc: new Float64Array(buffer, ACC, TILE_COLS),
    accF32: new Float32Array(buffer, ACC, TILE_ROWS),
    mean: new Float64Array(buffer, MEAN, TILE_COLS),
  };
});

/** True when the WebAssembly SIMD reductions can run here. */
export function wasmReduceAvailable(): boolean {
  return load() !== null;
}

function required(): Kernels {
  const k = load();
  if (k === null) throw new Error("reduce: the WebAssembly SIMD kernels are not available here");
  return k;
}

/**
 * For the [rows, cols] block of `data` starting at `offset` (row-major, contiguous), out[j] =
 * Σ_i data[offset + i·cols + j] when `mean` is null, else Σ_i (data[offset + i·cols + j] -
 * mean[j])², each column accumulated in float64 over rows 0..rows-1 in order. With `carry` the
 * sums continue from out's values (a block of rows processed in pieces gives the same bits).
 */
export function columnSumsWasm(
  data: Float32Array | Float64Array,
  offset: number,
  rows: number,
  cols: number,
  mean: Float64Array | null,
  out: Float64Array,
  carry = false,
): void {
  const k = required();
  const f32 = data instanceof Float32Array;
  const chunk = f32 ? k.chunkF32 : k.chunkF64;
  const run = f32 ? k.exports.columnsF32 : k.exports.columnsF64;
  const mode = mean === null ? 0 : 1;
  for (let j0 = 0; j0 < cols; j0 += TILE_COLS) {
    const width = Math.min(TILE_COLS, cols - j0);
    if (carry) k.acc.set(out.subarray(j0, j0 + width));
    else k.acc.fill(0, 0, width);
    if (mean !== null) k.mean.set(mean.subarray(j0, j0 + width));
    const step = Math.max(1, Math.floor(chunk.length / width));
    for (let i0 = 0; i0 < rows; i0 += step) {
      const n = Math.min(step, rows - i0);
      const start = offset + i0 * cols + j0;
      if (width === cols) chunk.set(data.subarray(start, start + n * cols));
      else {
        for (let i = 0; i < n; i++) {
          chunk.set(data.subarray(start + i * cols, start + i * cols + width), i * width);
        }
      }
      run(CHUNK, n, width, MEAN, ACC, mode);
    }
    out.set(k.acc.subarray(0, width), j0);
  }
}

/**
 * For the [rows, len] block of `data` starting at `offset` (row-major, contiguous), out[r] =
 * Σ_k data[offset + r·len + k] accumulated in float64 from 0 over k = 0..len-1 in order (kind
 * "sum"), or the maximum of the row as the JS loop finds it (kind "max": a value replaces the
 * running maximum when greater, and any NaN makes the result NaN). With `carry` the sums
 * continue from out's values (a Float64Array), so blocks summed one after another into the same
 * `out` give each row's elements of all blocks in order.
 */
export function rowReduceWasm(
  kind: "sum" | "max",
  data: Float32Array | Float64Array,
  offset: number,
  rows: number,
  len: number,
  out: TypedArray,
  carry = false,
): void {
  const k = required();
  const f32 = data instanceof Float32Array;
  const chunk = f32 ? k.chunkF32 : k.chunkF64;
  const { rowSumsF32, rowSumsF64, rowMaxF32, rowMaxF64 } = k.exports;
  const run = kind === "sum" ? (f32 ? rowSumsF32 : rowSumsF64) : f32 ? rowMaxF32 : rowMaxF64;
  const acc = kind === "max" && f32 ? k.accF32 : k.acc;
  // Whole rows when four or more fit in the chunk; longer rows four at a time, in segments (the
  // running sums and maxima carry over between segments).
  const group = 4 * len <= chunk.length ? Math.min(Math.floor(chunk.length / len), TILE_ROWS) : 4;
  const segment = Math.min(len, Math.floor(chunk.length / group));
  for (let i0 = 0; i0 < rows; i0 += group) {
    const n = Math.min(group, rows - i0);
    if (carry) acc.set(out.subarray(i0, i0 + n));
    else acc.fill(kind === "sum" ? 0 : Number.NEGATIVE_INFINITY, 0, n);
    const base = offset + i0 * len;
    for (let k0 = 0; k0 < len; k0 += segment) {
      const width = Math.min(segment, len - k0);
      if (width === len) chunk.set(data.subarray(base, base + n * len));
      else {
        for (let r = 0; r < n; r++) {
          const start = base + r * len + k0;
          chunk.set(data.subarray(start, start + width), r * width);
        }
      }
      run(CHUNK, n, width, ACC);
    }
    for (let r = 0; r < n; r++) out[i0 + r] = acc[r];
  }
}
