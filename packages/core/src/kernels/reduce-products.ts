// Column sums of an elementwise product, Σ_i a[i, j]·b[i, j], without materialising the product:
// the gradient of a broadcast factor in mul's backward (ops/binary.ts), bit for bit what summing
// the materialised product would give. With WebAssembly, one pass of a chain (elementwise-chain.ts)
// multiplies and sums each chunk in the module's memory; otherwise chunks of products go through
// a reused JS scratch.

import { mapBinary, mulRow } from "./elementwise.js";
import { chainWasm } from "./elementwise-chain.js";
import { sumRows, useWasm } from "./reduce.js";
import { columnSumsWasm } from "./reduce-wasm.js";

/** Elements per chunk of products in sumProductsOverRows (64 KB of float32): cache-resident. */
const PRODUCT_CHUNK = 16384;
const productScratch = { f32: new Float32Array(0), f64: new Float64Array(0) };

/**
 * A scratch of `size` ≤ PRODUCT_CHUNK elements of a's type, reused across calls; a larger size
 * (one row longer than a chunk) gets a fresh array, so nothing large stays allocated.
 */
function scratchLike(a: Float32Array | Float64Array, size: number): Float32Array | Float64Array {
  const f32 = a instanceof Float32Array;
  if (size > PRODUCT_CHUNK) return f32 ? new Float32Array(size) : new Float64Array(size);
  if (f32) {
    if (productScratch.f32.length === 0) productScratch.f32 = new Float32Array(PRODUCT_CHUNK);
    return productScratch.f32;
  }
  if (productScratch.f64.length === 0) productScratch.f64 = new Float64Array(PRODUCT_CHUNK);
  return productScratch.f64;
}

/**
 * acc[j] = Σ_i (a[i, j]·b[i, j]) over rows 0..rows-1 in order, each product rounded to the arrays'
 * type and summed in float64, for [rows, cols] blocks of one float type starting at `aOffset` and
 * `bOffset` (row-major, contiguous): bit for bit `reduce("sum")` over dim 0 of the materialised
 * product, which it never allocates. Chunks of rows are multiplied into a reused, cache-sized
 * scratch by the elementwise loops, then added to the running column sums.
 */
export function sumProductsOverRows(
  a: Float32Array | Float64Array,
  aOffset: number,
  b: Float32Array | Float64Array,
  bOffset: number,
  rows: number,
  cols: number,
  acc: Float64Array,
): void {
  if (useWasm(a, rows * cols)) {
    const flat = (data: Float32Array | Float64Array, offset: number) =>
      ({ data, offset, layout: "flat" }) as const;
    const product = [{ op: "mul", a: 0, b: 1 }] as const;
    const sums = [{ slot: 2, cols, sums: acc }];
    if (chainWasm([flat(a, aOffset), flat(b, bOffset)], product, [], rows * cols, cols, sums)) {
      return;
    }
  }
  const step = Math.max(1, Math.floor(PRODUCT_CHUNK / cols));
  const buffer = scratchLike(a, step * cols);
  acc.fill(0);
  for (let i0 = 0; i0 < rows; i0 += step) {
    const n = Math.min(step, rows - i0);
    const shape = [n, cols];
    const strides = [cols, 1];
    const products = buffer.subarray(0, n * cols);
    mapBinary(
      mulRow,
      { data: a, offset: aOffset + i0 * cols, shape, strides },
      { data: b, offset: bOffset + i0 * cols, shape, strides },
      shape,
      products,
    );
    if (useWasm(products, n * cols)) columnSumsWasm(products, 0, n, cols, null, acc, true);
    else sumRows(products, 0, n, cols, acc);
  }
}
