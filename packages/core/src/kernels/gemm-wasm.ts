// The WebAssembly SIMD128 GEMM (gemm.wat): copies row- or column-major operands into the module's
// memory as they are when the tiles can read them there, packs the others into panels (a
// row-major B by the module itself), runs the kernel, and copies the result out. Transposed inputs cost nothing extra: packing reads through
// (row stride, column stride) either way. The module is compiled synchronously on first use
// (about 1 KB, under the browsers' 4 KB main-thread limit).

import type { TypedArray } from "../tensor/dtype.js";
import type { FloatArray, StridedMatrix } from "./gemm-js.js";
import { GEMM_WASM_BASE64 } from "./gemm-wasm-module.js";
import { lazyInstance, memoryView, tryGrowMemory } from "./wasm-module.js";

/**
 * `bytes` rounded up to a multiple of 16 (arithmetic, not a bit mask: offsets may pass 2^31, where
 * JS bit operations wrap to negative numbers).
 */
export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Rows per A panel (the tile height in gemm.wat). */
const MR = 4;

/** The module's exports, or an engine of the same shape (gemm-threads.ts). */
export interface GemmExports {
  memory: WebAssembly.Memory;
  /** Strides in bytes; see gemm.wat's $gemm for the addressing. */
  gemmF32: GemmFn;
  gemmF64: GemmFn;
  /** Packs a row-major B in the module's memory into 32-byte-wide panels (see gemm.wat). */
  packPanels(src: number, dst: number, k: number, rowBytes: number, panels: number): void;
  /** The same panels from a float32 B given as its row-major transpose (see gemm.wat). */
  packTransposedF32(src: number, dst: number, k: number, rowBytes: number, panels: number): void;
}

/** A kernel entry point, as exported by gemm.wat. */
export type GemmFn = (
  a: number,
  aPanel: number,
  aRow: number,
  aK: number,
  b: number,
  bPanel: number,
  bK: number,
  c: number,
  mp: number,
  np: number,
  k: number,
) => void;

const load = lazyInstance(GEMM_WASM_BASE64, (e) => e as unknown as GemmExports);

/** @internal For tests: the bytes of the shared instance's memory (0 before its first use). */
export function sharedGemmMemoryBytes(): number {
  return load()?.memory.buffer.byteLength ?? 0;
}

/** True when the SIMD GEMM can run here (WebAssembly with SIMD128). */
export function wasmGemmAvailable(): boolean {
  return load() !== null;
}

/**
 * Packs rows [0, rows) of the [rows, depth] matrix `x` into panels of `width` rows, each stored
 * as [depth][width], padding the last panel with zeros. For B, pass Bᵀ (swap the strides).
 * Full panels take a loop shaped by the layout: rows contiguous along depth (row-major A) are
 * read row by row; panels whose `width` rows sit side by side (row-major B, transposed A) copy
 * `width` adjacent values per depth step, unrolled. Packing is a pure copy, so the layout
 * changes the speed only (it was 2-3x the GEMM itself for batch 16 before).
 */
function pack(
  x: StridedMatrix,
  rows: number,
  depth: number,
  width: number,
  dst: Float32Array | Float64Array,
): void {
  const { data, offset, rowStride, colStride } = x;
  const full = rows - (rows % width);
  let q = 0;
  for (let r0 = 0; r0 < full; r0 += width) {
    const base = offset + r0 * rowStride;
    if (colStride === 1) packRows(data, base, rowStride, depth, width, dst, q);
    else if (rowStride === 1 && width === 8) packAdjacent8(data, base, colStride, depth, dst, q);
    else if (width === 4) packStrided4(data, base, rowStride, colStride, depth, dst, q);
    else packGeneral(data, base, rowStride, colStride, width, depth, width, dst, q);
    q += width * depth;
  }
  if (full < rows) {
    packGeneral(
      data,
      offset + full * rowStride,
      rowStride,
      colStride,
      rows - full,
      depth,
      width,
      dst,
      q,
    );
  }
}

/** Panel rows that are contiguous along depth: read each row once, write every `width`-th slot. */
function packRows(
  data: TypedArray,
  base: number,
  rowStride: number,
  depth: number,
  width: number,
  dst: FloatArray,
  q: number,
): void {
  for (let r = 0; r < width; r++) {
    const src = base + r * rowStride;
    for (let p = 0; p < depth; p++) dst[q + p * width + r] = data[src + p];
  }
}

/** Eight adjacent values per depth step (rowStride 1). */
function packAdjacent8(
  data: TypedArray,
  base: number,
  colStride: number,
  depth: number,
  dst: FloatArray,
  q: number,
): void {
  for (let p = 0; p < depth; p++) {
    const s = base + p * colStride;
    const d = q + p * 8;
    dst[d] = data[s];
    dst[d + 1] = data[s + 1];
    dst[d + 2] = data[s + 2];
    dst[d + 3] = data[s + 3];
    dst[d + 4] = data[s + 4];
    dst[d + 5] = data[s + 5];
    dst[d + 6] = data[s + 6];
    dst[d + 7] = data[s + 7];
  }
}

/** Four rows at any strides, unrolled. */
function packStrided4(
  data: TypedArray,
  base: number,
  rowStride: number,
  colStride: number,
  depth: number,
  dst: FloatArray,
  q: number,
): void {
  for (let p = 0; p < depth; p++) {
    const s = base + p * colStride;
    const d = q + p * 4;
    dst[d] = data[s];
    dst[d + 1] = data[s + rowStride];
    dst[d + 2] = data[s + 2 * rowStride];
    dst[d + 3] = data[s + 3 * rowStride];
  }
}

/** `valid` rows (≤ width) at any strides; the remaining slots of each step are zero. */
function packGeneral(
  data: TypedArray,
  base: number,
  rowStride: number,
  colStride: number,
  valid: number,
  depth: number,
  width: number,
  dst: FloatArray,
  q: number,
): void {
  for (let p = 0; p < depth; p++) {
    const s = base + p * colStride;
    const d = q + p * width;
    for (let r = 0; r < valid; r++) dst[d + r] = data[s + r * rowStride];
    for (let r = valid; r < width; r++) dst[d + r] = 0;
  }
}

/** Copies `count` consecutive elements of a contiguous operand into the module's memory. */
function copyBlock(x: StridedMatrix, count: number, dst: FloatArray): void {
  const whole = x.offset === 0 && count === x.data.length;
  const src = whole ? x.data : x.data.subarray(x.offset, x.offset + count);
  if (src.constructor === dst.constructor) dst.set(src as never);
  else for (let i = 0; i < count; i++) dst[i] = src[i];
}

/**
 * A row-major B (n % nr == 0) is read where it lies for products of at most this many rows of A,
 * and packed into panels (by the module, at memory speed) for more. Each B panel meets every A
 * panel of a block, and unpacked rows n·size bytes apart alias in the L1 cache (all of them when
 * n·size is a multiple of 4 KB), so reusing it pays for packing from a few A panels on:
 * alternating both in one process, packing was 3-10% faster on [128, 784]·[784, 256],
 * [784, 128]·[128, 256], [128, 256]·[256, 256] and the batch-16 forms of the first two.
 */
const B_IN_PLACE_MAX_ROWS = 8;

/**
 * The most scratch memory one product may ask of WebAssembly (whose memory ends at 4 GiB); a
 * larger product runs on the JS kernel instead (see kernels/matmul.ts).
 */
export const WASM_MAX_SCRATCH_BYTES = 2 ** 31;

/**
 * An upper bound of the scratch memory `gemmWasm` asks for an m·n·k product: padded A, B and C
 * plus a raw copy of the larger operand (packed in the module), in either orientation.
 */
export function gemmWasmScratchBytes(m: number, n: number, k: number, isF32: boolean): number {
  const size = isF32 ? 4 : 8;
  return Math.max(scratchBound(m, n, k), scratchBound(n, m, k)) * size;
}

/** Elements of padded A, B and C plus a raw copy of B, for a [rows, k]·[k, cols] product. */
function scratchBound(rows: number, cols: number, k: number): number {
  return padTo(rows, MR) * k + padTo(cols, 8) * k + padTo(rows, MR) * padTo(cols, 8) + cols * k;
}

function padTo(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/**
 * An operand whose values the caller writes into the module's memory itself (a convolution's
 * columns, made there from the input: conv-wasm.ts) instead of handing them over in `data`, which
 * is not read. Its strides say how the product reads it, as for a contiguous array starting at
 * `offset`; `write` puts the array's first `count` values, in memory order, at byte `at` of
 * `memory`, with `scratchBytes` of scratch at byte `scratchAt`, and returns false where it cannot.
 * Accepted only by products that would copy it in as it is (see product).
 */
export interface StagedMatrix extends StridedMatrix {
  readonly stage: {
    readonly scratchBytes: number;
    write(memory: WebAssembly.Memory, at: number, count: number, scratchAt: number): boolean;
  };
}

function isStaged(x: StridedMatrix): x is StagedMatrix {
  return "stage" in x;
}

/**
 * Runs the kernel on C[mp, np] = A·B in a module's memory and returns C (row-major, np columns),
 * or null when the memory cannot grow to what it needs, or a staged operand (see StagedMatrix)
 * would need packing or cannot be written. The memory asked for includes `afterC` bytes past C.
 * A is read in place when row- or column-major with m % 4 == 0, else packed. `engine` is the shared-memory one (gemm-threads.ts)
 * or null: then the module's shared instance, or a private one for scratch above
 * KEPT_SCRATCH_BYTES (see wasm-module.ts), so a one-off large product does not keep its memory.
 */
function product(
  engine: GemmExports | null,
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  afterC = 0,
): FloatArray | null {
  const size = isF32 ? 4 : 8;
  const nr = isF32 ? 8 : 4;
  const mp = Math.ceil(m / MR) * MR;
  const np = paddedColumns(n, isF32);
  const aBytes = mp * k * size;
  const bBytes = np * k * size;
  const rowMajorB = b.colStride === 1 && b.rowStride === n && n % nr === 0;
  // A float32 column-major B (x @ wᵀ in a Linear layer) is Bᵀ row-major: the module transposes it.
  const transposesInModule = isF32 && b.rowStride === 1 && b.colStride === k && n % nr === 0;
  const packsInModule = (rowMajorB && m > B_IN_PLACE_MAX_ROWS) || transposesInModule;
  const cBytes = mp * np * size;
  const productBytes = aBytes + bBytes + cBytes + (packsInModule ? n * k * size : 0);
  // Staged operands' scratch lies past what the product uses.
  const scratchAt = align16(productBytes);
  // And what the caller asks to have after C (see gemmWasmInMemory).
  const cEnd = aBytes + bBytes + cBytes;
  const needed = Math.max(
    scratchAt + Math.max(stagedScratch(a), stagedScratch(b)),
    align16(cEnd) + afterC,
  );
  const gemm = engine ?? load.forScratch(needed);
  if (gemm === null) throw new Error("matmul: the WebAssembly SIMD kernel is not available here");
  const buffer = tryGrowMemory(gemm.memory, needed);
  if (buffer === null) return null;
  // The layouts as gemm.wat's $gemm reads them, in bytes: A's panel, row and k steps, B's
  // panel and k steps.
  let aPanel: number;
  let aRow: number;
  let aK: number;
  if (m === mp && a.colStride === 1 && a.rowStride === k) {
    if (!put(gemm.memory, a, m * k, memoryView(buffer, isF32, 0, m * k), scratchAt)) return null;
    aPanel = k * size;
    aRow = k * size;
    aK = size;
  } else if (m === mp && a.rowStride === 1 && a.colStride === m) {
    if (!put(gemm.memory, a, m * k, memoryView(buffer, isF32, 0, m * k), scratchAt)) return null;
    aPanel = size;
    aRow = size;
    aK = m * size;
  } else {
    if (isStaged(a)) return null;
    pack(a, m, k, MR, memoryView(buffer, isF32, 0, mp * k));
    aPanel = k * size;
    aRow = size;
    aK = MR * size;
  }
  let bPanel: number;
  let bK: number;
  if (rowMajorB && !packsInModule) {
    if (!put(gemm.memory, b, n * k, memoryView(buffer, isF32, aBytes, n * k), scratchAt))
      return null;
    bPanel = size;
    bK = n * size;
  } else if (packsInModule) {
    // Copied in as it is past C, then packed by the module: a copy at memory speed, where the
    // JS packer cost as much as a batch-16 product.
    const rawAt = aBytes + bBytes + cBytes;
    if (!put(gemm.memory, b, n * k, memoryView(buffer, isF32, rawAt, n * k), scratchAt))
      return null;
    if (transposesInModule) gemm.packTransposedF32(rawAt, aBytes, k, k * size, n / nr);
    else gemm.packPanels(rawAt, aBytes, k, n * size, n / nr);
    bPanel = k * size;
    bK = nr * size;
  } else {
    if (isStaged(b)) return null;
    const bT = { data: b.data, offset: b.offset, rowStride: b.colStride, colStride: b.rowStride };
    pack(bT, n, k, nr, memoryView(buffer, isF32, aBytes, np * k));
    bPanel = k * size;
    bK = nr * size;
  }
  const run = isF32 ? gemm.gemmF32 : gemm.gemmF64;
  run(0, aPanel, aRow, aK, aBytes, bPanel, bK, aBytes + bBytes, mp, np, k);
  productMemory = gemm.memory;
  return memoryView(buffer, isF32, aBytes + bBytes, mp * np);
}

/**
 * The memory of the module that ran the latest product (its C lies there), until its caller
 * reads it; null otherwise, so that a private instance's memory is not kept alive.
 */
let productMemory: WebAssembly.Memory | null = null;

/** C's row length in a product's memory: n padded to the kernel's register block. */
function paddedColumns(n: number, isF32: boolean): number {
  const nr = isF32 ? 8 : 4;
  return Math.ceil(n / nr) * nr;
}

/** The scratch bytes a staged operand asks for (0 for others). */
function stagedScratch(x: StridedMatrix): number {
  return isStaged(x) ? x.stage.scratchBytes : 0;
}

/**
 * Copies `count` of x's values into `dst` (or has a staged x write them there, with scratch at
 * byte `scratchAt`); false where a staged x cannot.
 */
function put(
  memory: WebAssembly.Memory,
  x: StridedMatrix,
  count: number,
  dst: FloatArray,
  scratchAt: number,
): boolean {
  if (!isStaged(x)) copyBlock(x, count, dst);
  else if (!x.stage.write(memory, dst.byteOffset, count, scratchAt)) return false;
  return true;
}

/**
 * True when the product is computed as Cᵀ = Bᵀ·Aᵀ: a column-major B (x @ wᵀ in a linear layer's
 * backward) would be packed whole; when it is the larger operand, Bᵀ is row-major and read in
 * place, and only A is packed. Products commute, so the sums are the same.
 */
function transposesProduct(b: StridedMatrix, m: number, n: number, k: number): boolean {
  return b.rowStride === 1 && b.colStride === k && n % MR === 0 && n * k > m * (k + n);
}

/** A product left in a GEMM module's memory: C[i, j] is `c[i·rowStride + j·colStride]`. */
export interface ProductInMemory {
  readonly c: FloatArray;
  /** The memory `c` views (other modules may work on it: see conv-wasm.ts). */
  readonly memory: WebAssembly.Memory;
  readonly rowStride: number;
  readonly colStride: number;
}

/**
 * The product gemmWasm computes, left in the module's memory: a view valid until the module's
 * next call or growth, so it must be read before any other product runs. Lets a caller that
 * rearranges C anyway (a convolution's channels, its col2im) read it where it lies instead of
 * from a copy. Where gemmWasm would compute Cᵀ, the view is Cᵀ's (colStride > 1) when
 * `transposedOk`, else null. Null too, having computed nothing, when the memory cannot grow:
 * then call gemmWasm or the JS kernel. Same bits as gemmWasm. `afterC` bytes past C (from
 * align16 of its end) are part of the memory asked for: a caller working there (col2im's planes)
 * so keeps a product above the kept instance's limit off the shared memory (see forScratch).
 */
export function gemmWasmInMemory(
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  engine: GemmExports | null,
  transposedOk: boolean,
  afterC = 0,
): ProductInMemory | null {
  const transposed = transposesProduct(b, m, n, k);
  if (transposed && !transposedOk) return null;
  const c = productOf(a, b, m, n, k, isF32, engine, afterC, transposed);
  if (c === null) return null;
  const memory = productMemory!;
  productMemory = null;
  return transposed
    ? { c, memory, rowStride: 1, colStride: paddedColumns(m, isF32) }
    : { c, memory, rowStride: paddedColumns(n, isF32), colStride: 1 };
}

/** A·B in a module's memory (Cᵀ = Bᵀ·Aᵀ when `transposed`: see transposesProduct): C's view. */
function productOf(
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  engine: GemmExports | null,
  afterC: number,
  transposed: boolean,
): FloatArray | null {
  if (!transposed) return product(engine, a, b, m, n, k, isF32, afterC);
  // Spread: a staged operand stays staged (its values, in memory order, are the same).
  const bT = { ...b, rowStride: k, colStride: 1 };
  const aT = { ...a, rowStride: a.colStride, colStride: a.rowStride };
  return product(engine, bT, aT, n, m, k, isF32, afterC);
}

/**
 * out[outOffset + i*n + j] = Σ_p a[i, p]·b[p, j] for float32 or float64 data, computed in the
 * array's precision in the order p = 0..k-1: float64 in one chain; float32 in runs of 64
 * consecutive p, each summed from +0 and then added to the total (a 3x smaller rounding error
 * at k = 784 than one chain, for the same speed). Bit-identical to that loop written in JS.
 * Requires k ≥ 1 and a loaded module. `engine` replaces the module (gemm-threads.ts passes its
 * shared-memory one); null means the module. Returns false, with `out` untouched, when the
 * WebAssembly memory cannot grow to the scratch space the product needs.
 */
export function gemmWasm(
  a: StridedMatrix,
  b: StridedMatrix,
  out: FloatArray,
  outOffset: number,
  m: number,
  n: number,
  k: number,
  engine: GemmExports | null = null,
): boolean {
  // gemmWasmInMemory's product, without its result object: this runs once per matmul.
  const isF32 = out instanceof Float32Array;
  const transposed = transposesProduct(b, m, n, k);
  const c = productOf(a, b, m, n, k, isF32, engine, 0, transposed);
  // Not kept: a large product's memory is an instance of its own, to be freed once read.
  productMemory = null;
  if (c === null) return false;
  if (transposed) {
    // Cᵀ (see transposesProduct): transposed on the way out.
    const colStride = paddedColumns(m, isF32);
    for (let j = 0; j < n; j++) {
      const row = j * colStride;
      for (let i = 0; i < m; i++) out[outOffset + i * n + j] = c[row + i];
    }
    return true;
  }
  const rowStride = paddedColumns(n, isF32);
  if (rowStride === n) {
    // All of C when no rows were padded (the view serves every call of this size).
    const rows = c.length === m * n ? c : memoryView(c.buffer, isF32, c.byteOffset, m * n);
    out.set(rows, outOffset);
  } else if (n <= ROW_LOOP_MAX) {
    // Short rows (a 10-class head's gradient has 256 of them): a loop, not a view per row.
    for (let i = 0; i < m; i++) {
      const from = i * rowStride;
      const to = outOffset + i * n;
      for (let j = 0; j < n; j++) out[to + j] = c[from + j];
    }
  } else {
    for (let i = 0; i < m; i++) {
      out.set(c.subarray(i * rowStride, i * rowStride + n), outOffset + i * n);
    }
  }
  return true;
}

/** Rows of C at most this long are copied out element by element (see gemmWasm). */
const ROW_LOOP_MAX = 32;
