// Convolution as matrix products (im2col): for a chunk of images and one group, the input patches
// under every output position are copied into the columns of a [K, c·P] matrix (K = channels ·
// kernel elements of the group, P = output positions per image, c images side by side), so the
// convolution is weight [Cout/g, K] @ columns [K, c·P], one GEMM per chunk and group. The
// gradient of the input is the transposed product scattered back (col2im), the gradient of the
// weight gradOut [Cout/g, c·P] @ columnsᵀ. Putting the chunk's images side by side makes the
// products wide enough for the GEMM to run near its peak (one image of the CNN example's second
// layer is only [32, 144] @ [144, 196]); chunks bound the columns matrix's memory. All loops stay
// inside plain functions over typed arrays: no per-element closures.
//
// The geometry maps an "input space" [N, Cin, inH, inW] to an "output space" [N, Cout, outH,
// outW]; a transposed convolution runs the same geometry backwards (its forward is convInput).

import {
  addRowBiasWasm,
  channelsOutBytes,
  channelsOutWasm,
  col2imBytes,
  col2imWasm,
  rowBiasBytes,
  stagedColumns,
} from "./conv-wasm.js";
import type { FloatArray, StridedMatrix } from "./gemm-js.js";
import type { ProductInMemory } from "./gemm-wasm.js";
import { gemm, gemmInMemory } from "./matmul.js";

/** A convolution's sizes, for 2-D spatial data (1-D convolutions have inH = outH = kh = 1). */
export interface ConvPlan {
  readonly batch: number;
  readonly groups: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  /** Zero padding before the first row / column (padding after only changes outH / outW). */
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

/** The first output column whose input column ow·stride + offset is ≥ 0. */
function firstValid(offset: number, stride: number, outSize: number): number {
  return Math.min(outSize, Math.max(0, Math.ceil(-offset / stride)));
}

/** One past the last output column whose input column ow·stride + offset is < size. */
function endValid(
  offset: number,
  stride: number,
  size: number,
  outSize: number,
  lo: number,
): number {
  return Math.max(lo, Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1));
}

/**
 * Copies the patches of `channels` input channels starting at `x[xOffset]` into the rows of
 * `cols` (row r of the [channels·kh·kw, outH·outW] patch matrix at cols[r·rowStride + colOffset]);
 * positions in the padding read 0. Plain loops rather than `fill` and `set`: the runs are short
 * (one output row), where a builtin call costs more than the copy.
 */
function im2col(
  x: FloatArray,
  xOffset: number,
  channels: number,
  p: ConvPlan,
  cols: FloatArray,
  colOffset: number,
  rowStride: number,
): void {
  const { inH, inW, outW, strideW } = p;
  // Stride 1 and rows as long as the input's ("same" padding): the output rows of one kernel
  // offset are one run of the input, shifted; copied in one block.
  const sameRows = p.strideH === 1 && strideW === 1 && outW === inW;
  let row = colOffset;
  for (let c = 0; c < channels; c++) {
    const plane = xOffset + c * inH * inW;
    for (let i = 0; i < p.kh; i++) {
      const rowOffset = i * p.dilationH - p.padH;
      for (let j = 0; j < p.kw; j++) {
        const shift = j * p.dilationW - p.padW;
        const lo = firstValid(shift, strideW, outW);
        const hi = endValid(shift, strideW, inW, outW, lo);
        if (sameRows) {
          copyShifted(x, plane + rowOffset * inW + shift, cols, row, p, rowOffset, lo, hi);
        } else {
          copyStrided(x, plane, cols, row, p, rowOffset, shift, lo, hi);
        }
        row += rowStride;
      }
    }
  }
}

/**
 * One im2col row for stride 1 and rows as long as the input's: output row oh reads input row
 * oh + rowOffset, so the valid rows are one contiguous run of x (starting at `src` for oh = 0),
 * copied with one `set`; the columns outside [lo, hi), which that copy filled with the
 * neighbouring rows' ends, and the rows outside the input are then zeroed.
 */
function copyShifted(
  x: FloatArray,
  src: number,
  cols: FloatArray,
  dst: number,
  p: ConvPlan,
  rowOffset: number,
  lo: number,
  hi: number,
): void {
  const { outH, outW, inH } = p;
  const first = Math.min(outH, Math.max(0, -rowOffset));
  const end = Math.max(first, Math.min(outH, inH - rowOffset));
  for (let e = dst; e < dst + first * outW; e++) cols[e] = 0;
  for (let e = dst + end * outW; e < dst + outH * outW; e++) cols[e] = 0;
  if (end === first) return;
  if (lo < hi) {
    const from = src + first * outW + lo;
    const to = src + (end - 1) * outW + hi;
    (cols as Float64Array).set((x as Float64Array).subarray(from, to), dst + first * outW + lo);
  }
  for (let oh = first; oh < end; oh++) {
    const at = dst + oh * outW;
    for (let ow = 0; ow < lo; ow++) cols[at + ow] = 0;
    for (let ow = Math.max(lo, hi); ow < outW; ow++) cols[at + ow] = 0;
  }
}

/** One im2col row in general: each output row copied on its own, strided. */
function copyStrided(
  x: FloatArray,
  plane: number,
  cols: FloatArray,
  dst0: number,
  p: ConvPlan,
  rowOffset: number,
  shift: number,
  lo: number,
  hi: number,
): void {
  const { inH, inW, outH, outW, strideH, strideW } = p;
  for (let oh = 0; oh < outH; oh++) {
    const dst = dst0 + oh * outW;
    const ih = oh * strideH + rowOffset;
    if (ih < 0 || ih >= inH) {
      for (let ow = 0; ow < outW; ow++) cols[dst + ow] = 0;
      continue;
    }
    const src = plane + ih * inW + shift;
    for (let ow = 0; ow < lo; ow++) cols[dst + ow] = 0;
    if (strideW === 1) {
      for (let ow = lo; ow < hi; ow++) cols[dst + ow] = x[src + ow];
    } else {
      for (let ow = lo; ow < hi; ow++) cols[dst + ow] = x[src + ow * strideW];
    }
    for (let ow = hi; ow < outW; ow++) cols[dst + ow] = 0;
  }
}

/** The adjoint of im2col: adds every column entry back onto the input element it was read from. */
function col2im(
  cols: FloatArray,
  colOffset: number,
  rowStride: number,
  channels: number,
  p: ConvPlan,
  dx: FloatArray,
  dxOffset: number,
): void {
  const { inH, inW, outH, outW, strideH, strideW } = p;
  let row = colOffset;
  for (let c = 0; c < channels; c++) {
    const plane = dxOffset + c * inH * inW;
    for (let i = 0; i < p.kh; i++) {
      const rowOffset = i * p.dilationH - p.padH;
      for (let j = 0; j < p.kw; j++) {
        const shift = j * p.dilationW - p.padW;
        const lo = firstValid(shift, strideW, outW);
        const hi = endValid(shift, strideW, inW, outW, lo);
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH + rowOffset;
          if (ih < 0 || ih >= inH) continue;
          const src = row + oh * outW;
          const dst = plane + ih * inW + shift;
          if (strideW === 1) {
            for (let ow = lo; ow < hi; ow++) dx[dst + ow] += cols[src + ow];
          } else {
            for (let ow = lo; ow < hi; ow++) dx[dst + ow * strideW] += cols[src + ow];
          }
        }
        row += rowStride;
      }
    }
  }
}

/**
 * The valid ranges im2col and col2im loop over, as conv.wat reads them: for each kernel row i, the output
 * rows whose input row lies inside the input (first, end) and the offset of that input row; for
 * each kernel column j, the same for output columns (lo, hi) and the column shift.
 */
function patchTable(p: ConvPlan): Int32Array {
  const table = new Int32Array(3 * (p.kh + p.kw));
  for (let i = 0; i < p.kh; i++) {
    const rowOffset = i * p.dilationH - p.padH;
    const first = firstValid(rowOffset, p.strideH, p.outH);
    table.set([first, endValid(rowOffset, p.strideH, p.inH, p.outH, first), rowOffset], 3 * i);
  }
  for (let j = 0; j < p.kw; j++) {
    const shift = j * p.dilationW - p.padW;
    const lo = firstValid(shift, p.strideW, p.outW);
    table.set([lo, endValid(shift, p.strideW, p.inW, p.outW, lo), shift], 3 * (p.kh + j));
  }
  return table;
}

function matrix(data: FloatArray, offset: number, rowStride: number, colStride = 1): StridedMatrix {
  return { data, offset, rowStride, colStride };
}

/** A scratch columns matrix of the data's kind. */
function columns(like: FloatArray, length: number): FloatArray {
  return like instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** Adds bias[c] to every element of channel c of `out` ([batch, channels, positions]). */
function addChannelBias(
  out: FloatArray,
  bias: FloatArray,
  batch: number,
  channels: number,
  positions: number,
): void {
  let q = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const b = bias[c];
      const end = q + positions;
      for (; q < end; q++) out[q] += b;
    }
  }
}

/**
 * At most this many elements in a chunk's columns matrix (256 KB of float32), so the columns stay
 * in cache between im2col and the GEMM that reads them: the CNN example's second layer ([K, P] =
 * [144, 196] per image) runs two images per chunk, its first ([9, 784]) nine.
 */
const CHUNK_ELEMENTS = 1 << 16;

/** False to read every product from a copy, as where the GEMM runs in JS (tests compare the two). */
let readsInMemory = true;

/**
 * @internal How many products the kernels read in the GEMM's memory, how many from a copy, and
 * how many of the former had their columns made, the input gradient's scattered, or the forward's
 * bias added or channels rearranged, in WebAssembly (conv-wasm.ts). For tests.
 */
export const convProducts = {
  inMemory: 0,
  copied: 0,
  columnsInWasm: 0,
  scatteredInWasm: 0,
  biasInWasm: 0,
  channelsOutInWasm: 0,
};

/** @internal For tests: turns reading products in the GEMM's memory on or off; returns the previous setting. */
export function setConvReadsInMemory(on: boolean): boolean {
  const previous = readsInMemory;
  readsInMemory = on;
  return previous;
}

/**
 * a @ b in the GEMM's memory (see gemmInMemory, and its `afterC`) when allowed and the GEMM runs
 * in WebAssembly, else null; counted for tests.
 */
function productInMemory(
  a: StridedMatrix,
  b: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  transposedOk = false,
  afterC = 0,
): ProductInMemory | null {
  const result = readsInMemory ? gemmInMemory(a, b, m, n, k, isF32, transposedOk, afterC) : null;
  convProducts[result === null ? "copied" : "inMemory"]++;
  return result;
}

/**
 * a · B in the GEMM's memory, B being the columns of images [n0, n0 + count), group q, as they are
 * (a forward) or transposed (a weight gradient, which also reads the product in either
 * orientation). The columns are made in WebAssembly, in the GEMM's memory, where the product runs
 * there and reads them as they are; else by the JS im2col into `cols()`, and then null where the
 * product does not run in WebAssembly (run gemm on `cols()`).
 */
function productOfColumns(
  a: StridedMatrix,
  m: number,
  n: number,
  k: number,
  isF32: boolean,
  x: FloatArray,
  p: ConvPlan,
  chunk: { n0: number; count: number; q: number },
  table: Int32Array,
  transposed: boolean,
  cols: () => FloatArray,
  afterC = 0,
): ProductInMemory | null {
  const { groupIn, inPlane, positions } = shapesOf(p);
  const { n0, count, q } = chunk;
  const width = count * positions;
  if (readsInMemory) {
    const imageStride = p.inChannels * inPlane;
    const start = n0 * imageStride + q * groupIn * inPlane;
    // A weight gradient's K (the product's n) gets rows of zeros up to whole panels (8 float32
    // columns, 4 float64), so that the product can copy the columns in as they are; the padding's
    // columns of the result are not read, and the others do not change (each is its own sum).
    const panel = isF32 ? 8 : 4;
    const rows = transposed ? Math.ceil(n / panel) * panel : k;
    const staged = stagedColumns(
      x,
      start,
      imageStride,
      count,
      groupIn,
      p,
      table,
      !transposed,
      rows,
    );
    const result = gemmInMemory(a, staged, m, transposed ? rows : n, k, isF32, transposed, afterC);
    if (result !== null) {
      convProducts.inMemory++;
      convProducts.columnsInWasm++;
      return result;
    }
  }
  chunkColumns(x, p, n0, count, q, cols());
  const b = transposed ? matrix(cols(), 0, 1, width) : matrix(cols(), 0, width);
  return productInMemory(a, b, m, n, k, isF32, transposed, afterC);
}

/** Sizes shared by the three kernels. */
function shapesOf(p: ConvPlan) {
  const groupIn = p.inChannels / p.groups;
  const groupOut = p.outChannels / p.groups;
  const k = groupIn * p.kh * p.kw;
  const positions = p.outH * p.outW;
  const chunk = Math.max(
    1,
    Math.min(p.batch, Math.floor(CHUNK_ELEMENTS / Math.max(1, k * positions))),
  );
  return { groupIn, groupOut, k, positions, inPlane: p.inH * p.inW, chunk };
}

/** The chunk's images' patches for group `q`, side by side: cols [K, c·P]. */
function chunkColumns(
  x: FloatArray,
  p: ConvPlan,
  n0: number,
  count: number,
  q: number,
  cols: FloatArray,
): void {
  const { groupIn, positions, inPlane } = shapesOf(p);
  for (let i = 0; i < count; i++) {
    im2col(
      x,
      ((n0 + i) * p.inChannels + q * groupIn) * inPlane,
      groupIn,
      p,
      cols,
      i * positions,
      count * positions,
    );
  }
}

/**
 * Copies channels [c0, c0 + channels) of images [n0, n0 + count) of t ([N, C, P]) into
 * side [channels, count·P] (rows `sideRow` apart), or back (`toSide` false), optionally adding
 * bias[c0 + c] on the way.
 */
function moveChannels(
  t: FloatArray,
  side: FloatArray,
  totalChannels: number,
  c0: number,
  channels: number,
  n0: number,
  count: number,
  positions: number,
  toSide: boolean,
  bias: FloatArray | null,
  sideRow = count * positions,
): void {
  // Runs of `positions` elements: long enough for the builtin copy to win over a loop.
  const to = t as Float64Array;
  const from = side as Float64Array;
  for (let c = 0; c < channels; c++) {
    const add = bias === null ? 0 : bias[c0 + c];
    for (let i = 0; i < count; i++) {
      const at = ((n0 + i) * totalChannels + c0 + c) * positions;
      const sideAt = c * sideRow + i * positions;
      if (toSide) {
        from.set(to.subarray(at, at + positions), sideAt);
      } else {
        to.set(from.subarray(sideAt, sideAt + positions), at);
        if (add !== 0) for (let e = at; e < at + positions; e++) t[e] += add;
      }
    }
  }
}

/**
 * out [N, Cout, outH, outW] = the convolution of x [N, Cin, inH, inW] with w [Cout, Cin/g, kh, kw]
 * (all contiguous) plus bias [Cout] when given; every element of `out` is written.
 */
export function convForward(
  x: FloatArray,
  w: FloatArray,
  bias: FloatArray | null,
  out: FloatArray,
  p: ConvPlan,
): void {
  const { groupOut, k, positions, chunk } = shapesOf(p);
  const isF32 = out instanceof Float32Array;
  const table = patchTable(p);
  let colsArray: FloatArray | null = null;
  const cols = () => (colsArray ??= columns(out, k * chunk * positions));
  let product: FloatArray | null = null;
  const size = out.BYTES_PER_ELEMENT;
  const image = p.outChannels * positions;
  for (let n0 = 0; n0 < p.batch; n0 += chunk) {
    const count = Math.min(chunk, p.batch - n0);
    const width = count * positions;
    for (let q = 0; q < p.groups; q++) {
      const wq = matrix(w, q * groupOut * k, k);
      // The product's channels go to `out` straight from the GEMM's memory where it runs there.
      const at = { n0, count, q };
      // Room past the product for the bias, then for the channels rearranged into images.
      const afterC = Math.max(
        bias === null ? 0 : rowBiasBytes(groupOut, size),
        channelsOutBytes(groupOut, count, positions, size),
      );
      const inMemory = productOfColumns(
        wq,
        groupOut,
        width,
        k,
        isF32,
        x,
        p,
        at,
        table,
        false,
        cols,
        afterC,
      );
      let side: FloatArray;
      let sideRow = width;
      // The bias is added on the way out, or before, in WebAssembly, where the product lies.
      let biasOut = bias;
      if (inMemory === null) {
        product ??= columns(out, groupOut * chunk * positions);
        gemm(wq, matrix(cols(), 0, width), product, 0, groupOut, width, k);
        side = product;
      } else {
        side = inMemory.c;
        sideRow = inMemory.rowStride;
        const added =
          bias === null ? null : addRowBiasWasm(inMemory, groupOut, width, bias, q * groupOut);
        if (added !== null) {
          convProducts.biasInWasm++;
          side = added; // made again: adding the bias may have grown the memory
          biasOut = null;
        }
        const outStart = n0 * image + q * groupOut * positions;
        if (
          biasOut === null &&
          channelsOutWasm(
            { ...inMemory, c: side },
            groupOut,
            count,
            positions,
            out,
            outStart,
            image,
          )
        ) {
          convProducts.channelsOutInWasm++;
          continue;
        }
      }
      moveChannels(
        out,
        side,
        p.outChannels,
        q * groupOut,
        groupOut,
        n0,
        count,
        positions,
        false,
        biasOut,
        sideRow,
      );
    }
  }
}

/**
 * dx [N, Cin, inH, inW] = the gradient of the convolution's input for gradOut g [N, Cout, outH,
 * outW]: wᵀ·g per chunk and group, scattered back by col2im, plus bias [Cin] when given (a
 * transposed convolution's forward is this). Every element of `dx` is written.
 */
export function convInput(
  g: FloatArray,
  w: FloatArray,
  bias: FloatArray | null,
  dx: FloatArray,
  p: ConvPlan,
): void {
  const { groupIn, groupOut, k, positions, inPlane, chunk } = shapesOf(p);
  const isF32 = dx instanceof Float32Array;
  const table = patchTable(p);
  let cols: FloatArray | null = null;
  const gradSide = columns(dx, groupOut * chunk * positions);
  const imageStride = p.inChannels * inPlane;
  dx.fill(0);
  for (let n0 = 0; n0 < p.batch; n0 += chunk) {
    const count = Math.min(chunk, p.batch - n0);
    const width = count * positions;
    for (let q = 0; q < p.groups; q++) {
      moveChannels(
        g,
        gradSide,
        p.outChannels,
        q * groupOut,
        groupOut,
        n0,
        count,
        positions,
        true,
        null,
      );
      const wT = matrix(w, q * groupOut * k, 1, k); // [k, groupOut]
      // Where the GEMM runs in WebAssembly, col2im runs there too, on the columns where they lie.
      // Room for col2im's planes past the product.
      const planes = col2imBytes(count, groupIn, p, table, dx.BYTES_PER_ELEMENT);
      const side = matrix(gradSide, 0, width);
      const inMemory = productInMemory(wT, side, k, width, groupOut, isF32, false, planes);
      const dxStart = n0 * imageStride + q * groupIn * inPlane;
      if (
        inMemory !== null &&
        col2imWasm(inMemory, positions, count, groupIn, p, table, dx, dxStart, imageStride)
      ) {
        convProducts.scatteredInWasm++;
        continue;
      }
      let patches: FloatArray;
      let patchRow = width;
      if (inMemory === null) {
        cols ??= columns(dx, k * chunk * positions);
        gemm(wT, side, cols, 0, k, width, groupOut);
        patches = cols;
      } else {
        patches = inMemory.c;
        patchRow = inMemory.rowStride;
      }
      for (let i = 0; i < count; i++) {
        col2im(patches, i * positions, patchRow, groupIn, p, dx, dxStart + i * imageStride);
      }
    }
  }
  if (bias !== null) addChannelBias(dx, bias, p.batch, p.inChannels, inPlane);
}

/**
 * dw [Cout, Cin/g, kh, kw] = Σ over chunks of gradOut [Cout/g, c·P] @ columnsᵀ [c·P, K] per group,
 * for input x [N, Cin, inH, inW] and gradOut g [N, Cout, outH, outW]. Every element of `dw` is
 * written.
 */
export function convWeight(x: FloatArray, g: FloatArray, dw: FloatArray, p: ConvPlan): void {
  const { groupOut, k, positions, chunk } = shapesOf(p);
  const isF32 = dw instanceof Float32Array;
  const table = patchTable(p);
  let colsArray: FloatArray | null = null;
  const cols = () => (colsArray ??= columns(dw, k * chunk * positions));
  const gradSide = columns(dw, groupOut * chunk * positions);
  let partial: FloatArray | null = null;
  dw.fill(0);
  for (let n0 = 0; n0 < p.batch; n0 += chunk) {
    const count = Math.min(chunk, p.batch - n0);
    const width = count * positions;
    for (let q = 0; q < p.groups; q++) {
      moveChannels(
        g,
        gradSide,
        p.outChannels,
        q * groupOut,
        groupOut,
        n0,
        count,
        positions,
        true,
        null,
      );
      const a = matrix(gradSide, 0, width);
      // The chunk's part is added to dw straight from the GEMM's memory where it runs there,
      // read in either orientation: the GEMM computes the transposed product when that is faster.
      const at = { n0, count, q };
      const inMemory = productOfColumns(a, groupOut, k, width, isF32, x, p, at, table, true, cols);
      let part: FloatArray;
      let [partRow, partCol] = [k, 1];
      if (inMemory === null) {
        partial ??= columns(dw, groupOut * k);
        gemm(a, matrix(cols(), 0, 1, width), partial, 0, groupOut, k, width);
        part = partial;
      } else {
        part = inMemory.c;
        [partRow, partCol] = [inMemory.rowStride, inMemory.colStride];
      }
      const base = q * groupOut * k;
      for (let o = 0; o < groupOut; o++) {
        const at = base + o * k;
        const from = o * partRow;
        for (let e = 0; e < k; e++) dw[at + e] += part[from + e * partCol];
      }
    }
  }
}
