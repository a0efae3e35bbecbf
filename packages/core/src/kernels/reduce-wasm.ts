// The WebAssembly SIMD reductions (reduce.wat) of contiguous float32/float64 [rows, cols] blocks:
// column sums and squared deviations (reductions over the leading dims). Data is streamed in
// chunks of rows through a fixed 128 KB scratch in the module's memory, so a large array is read
// once and never copied whole; the float64 sums stay in the module's memory between chunks.
// Results are bit-identical to the JS loops in reduce.ts (same float64 arithmetic, same order).

import { decodeBase64 } from "./gemm-wasm.js";
import { REDUCE_WASM_BASE64 } from "./reduce-wasm-module.js";

interface ReduceExports {
  memory: WebAssembly.Memory;
  columnsF32(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
  columnsF64(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
}

/** Byte layout of the module's fixed 256 KB memory (reduce.wat declares 4 pages). */
const CHUNK = 0;
const CHUNK_BYTES = 128 * 1024;
const ACC = CHUNK + CHUNK_BYTES;
const MEAN = ACC + 64 * 1024;
/** Columns (float64 sums and means) one pass holds; wider blocks are done in column tiles. */
const TILE_COLS = (64 * 1024) / 8;

interface Kernels {
  readonly exports: ReduceExports;
  readonly chunkF32: Float32Array;
  readonly chunkF64: Float64Array;
  readonly acc: Float64Array;
  readonly mean: Float64Array;
}

let kernels: Kernels | null | undefined;

function load(): Kernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const module = new WebAssembly.Module(decodeBase64(REDUCE_WASM_BASE64));
    const exports = new WebAssembly.Instance(module, {}).exports as unknown as ReduceExports;
    // The memory never grows, so these views stay attached.
    const buffer = exports.memory.buffer;
    kernels = {
      exports,
      chunkF32: new Float32Array(buffer, CHUNK, CHUNK_BYTES / 4),
      chunkF64: new Float64Array(buffer, CHUNK, CHUNK_BYTES / 8),
      acc: new Float64Array(buffer, ACC, TILE_COLS),
      mean: new Float64Array(buffer, MEAN, TILE_COLS),
    };
  } catch {
    kernels = null;
  }
  return kernels;
}

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
 * mean[j])², each column accumulated in float64 over rows 0..rows-1 in order.
 */
export function columnSumsWasm(
  data: Float32Array | Float64Array,
  offset: number,
  rows: number,
  cols: number,
  mean: Float64Array | null,
  out: Float64Array,
): void {
  const k = required();
  const f32 = data instanceof Float32Array;
  const chunk = f32 ? k.chunkF32 : k.chunkF64;
  const run = f32 ? k.exports.columnsF32 : k.exports.columnsF64;
  const mode = mean === null ? 0 : 1;
  for (let j0 = 0; j0 < cols; j0 += TILE_COLS) {
    const width = Math.min(TILE_COLS, cols - j0);
    k.acc.fill(0, 0, width);
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
