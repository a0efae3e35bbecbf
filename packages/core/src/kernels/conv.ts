// Convolution as matrix products (im2col): for each image and group, the input patches under
// every output position are copied into the columns of a [K, P] matrix (K = channels·kernel
// elements of the group, P = output positions), so the convolution is weight [Cout/g, K] @
// columns [K, P], run by the GEMM. The gradient of the input is the transposed product scattered
// back (col2im), the gradient of the weight gradOut [Cout/g, P] @ columnsᵀ summed over images.
// All loops stay inside plain functions over typed arrays: no per-element closures.
//
// The geometry maps an "input space" [N, Cin, inH, inW] to an "output space" [N, Cout, outH,
// outW]; a transposed convolution runs the same geometry backwards (its forward is convInput).

import type { FloatArray, StridedMatrix } from "./gemm-js.js";
import { gemm } from "./matmul.js";

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

/** True when the columns matrix is the input itself: 1×1 kernel, stride 1, no padding. */
function isPointwise(p: ConvPlan): boolean {
  return (
    p.kh === 1 &&
    p.kw === 1 &&
    p.strideH === 1 &&
    p.strideW === 1 &&
    p.padH === 0 &&
    p.padW === 0 &&
    p.inH === p.outH &&
    p.inW === p.outW
  );
}

/** The first output column whose input column ow·stride + offset is ≥ 0. */
function firstValid(offset: number, stride: number, outSize: number): number {
  return Math.min(outSize, Math.max(0, Math.ceil(-offset / stride)));
}

/** One past the last output column whose input column ow·stride + offset is < size. */
function endValid(offset: number, stride: number, size: number, outSize: number, lo: number): number {
  return Math.max(lo, Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1));
}

/**
 * Copies the patches of `channels` input channels starting at `x[xOffset]` into `cols`
 * ([channels·kh·kw, outH·outW], row-major); positions in the padding read 0. Plain loops rather
 * than `fill` and `set`: the runs are short (one output row), where a builtin call costs more
 * than the copy.
 */
function im2col(x: FloatArray, xOffset: number, channels: number, p: ConvPlan, cols: FloatArray): void {
  const { inH, inW, outH, outW, strideH, strideW } = p;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const plane = xOffset + c * inH * inW;
    for (let i = 0; i < p.kh; i++) {
      const rowOffset = i * p.dilationH - p.padH;
      for (let j = 0; j < p.kw; j++) {
        const colOffset = j * p.dilationW - p.padW;
        const lo = firstValid(colOffset, strideW, outW);
        const hi = endValid(colOffset, strideW, inW, outW, lo);
        for (let oh = 0; oh < outH; oh++) {
          const dst = row + oh * outW;
          const ih = oh * strideH + rowOffset;
          if (ih < 0 || ih >= inH) {
            for (let ow = 0; ow < outW; ow++) cols[dst + ow] = 0;
            continue;
          }
          const src = plane + ih * inW + colOffset;
          for (let ow = 0; ow < lo; ow++) cols[dst + ow] = 0;
          if (strideW === 1) {
            for (let ow = lo; ow < hi; ow++) cols[dst + ow] = x[src + ow];
          } else {
            for (let ow = lo; ow < hi; ow++) cols[dst + ow] = x[src + ow * strideW];
          }
          for (let ow = hi; ow < outW; ow++) cols[dst + ow] = 0;
        }
        row += positions;
      }
    }
  }
}

/** The adjoint of im2col: adds every column entry back onto the input element it was read from. */
function col2im(
  cols: FloatArray,
  channels: number,
  p: ConvPlan,
  dx: FloatArray,
  dxOffset: number,
): void {
  const { inH, inW, outH, outW, strideH, strideW } = p;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const plane = dxOffset + c * inH * inW;
    for (let i = 0; i < p.kh; i++) {
      const rowOffset = i * p.dilationH - p.padH;
      for (let j = 0; j < p.kw; j++) {
        const colOffset = j * p.dilationW - p.padW;
        const lo = firstValid(colOffset, strideW, outW);
        const hi = endValid(colOffset, strideW, inW, outW, lo);
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH + rowOffset;
          if (ih < 0 || ih >= inH) continue;
          const src = row + oh * outW;
          const dst = plane + ih * inW + colOffset;
          if (strideW === 1) {
            for (let ow = lo; ow < hi; ow++) dx[dst + ow] += cols[src + ow];
          } else {
            for (let ow = lo; ow < hi; ow++) dx[dst + ow * strideW] += cols[src + ow];
          }
        }
        row += positions;
      }
    }
  }
}

function matrix(data: FloatArray, offset: number, rowStride: number, colStride = 1): StridedMatrix {
  return { data, offset, rowStride, colStride };
}

/** A scratch columns matrix of the data's kind. */
function columns(like: FloatArray, length: number): FloatArray {
  return like instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
}

/** Adds bias[c] to every element of channel c of `out` ([batch, channels, positions]). */
export function addChannelBias(
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
 * out [N, Cout, outH, outW] = the convolution of x [N, Cin, inH, inW] with w [Cout, Cin/g, kh, kw]
 * (all contiguous); every element of `out` is written.
 */
export function convForward(x: FloatArray, w: FloatArray, out: FloatArray, p: ConvPlan): void {
  const groupIn = p.inChannels / p.groups;
  const groupOut = p.outChannels / p.groups;
  const k = groupIn * p.kh * p.kw;
  const positions = p.outH * p.outW;
  const inPlane = p.inH * p.inW;
  const pointwise = isPointwise(p);
  const cols = pointwise ? null : columns(out, k * positions);
  for (let n = 0; n < p.batch; n++) {
    for (let g = 0; g < p.groups; g++) {
      const xOffset = (n * p.inChannels + g * groupIn) * inPlane;
      const b = cols === null ? matrix(x, xOffset, positions) : matrix(cols, 0, positions);
      if (cols !== null) im2col(x, xOffset, groupIn, p, cols);
      const outOffset = (n * p.outChannels + g * groupOut) * positions;
      gemm(matrix(w, g * groupOut * k, k), b, out, outOffset, groupOut, positions, k);
    }
  }
}

/**
 * dx [N, Cin, inH, inW] = the gradient of the convolution's input for gradOut g [N, Cout, outH,
 * outW]: wᵀ·g per image and group, scattered back by col2im. It is also a transposed
 * convolution's forward. Every element of `dx` is written.
 */
export function convInput(g: FloatArray, w: FloatArray, dx: FloatArray, p: ConvPlan): void {
  const groupIn = p.inChannels / p.groups;
  const groupOut = p.outChannels / p.groups;
  const k = groupIn * p.kh * p.kw;
  const positions = p.outH * p.outW;
  const inPlane = p.inH * p.inW;
  const pointwise = isPointwise(p);
  const cols = pointwise ? null : columns(dx, k * positions);
  if (!pointwise) dx.fill(0);
  for (let n = 0; n < p.batch; n++) {
    for (let q = 0; q < p.groups; q++) {
      const gOut = matrix(g, (n * p.outChannels + q * groupOut) * positions, positions);
      const wT = matrix(w, q * groupOut * k, 1, k); // [k, groupOut]
      const dxOffset = (n * p.inChannels + q * groupIn) * inPlane;
      if (cols === null) {
        gemm(wT, gOut, dx, dxOffset, k, positions, groupOut);
      } else {
        gemm(wT, gOut, cols, 0, k, positions, groupOut);
        col2im(cols, groupIn, p, dx, dxOffset);
      }
    }
  }
}

/**
 * dw [Cout, Cin/g, kh, kw] = Σ over images of gradOut [Cout/g, P] @ columnsᵀ [P, K] per group,
 * for input x [N, Cin, inH, inW] and gradOut g [N, Cout, outH, outW]. Every element of `dw` is
 * written.
 */
export function convWeight(x: FloatArray, g: FloatArray, dw: FloatArray, p: ConvPlan): void {
  const groupIn = p.inChannels / p.groups;
  const groupOut = p.outChannels / p.groups;
  const k = groupIn * p.kh * p.kw;
  const positions = p.outH * p.outW;
  const inPlane = p.inH * p.inW;
  const pointwise = isPointwise(p);
  const cols = pointwise ? null : columns(dw, k * positions);
  const partial = columns(dw, groupOut * k);
  dw.fill(0);
  for (let n = 0; n < p.batch; n++) {
    for (let q = 0; q < p.groups; q++) {
      const xOffset = (n * p.inChannels + q * groupIn) * inPlane;
      const colsT =
        cols === null ? matrix(x, xOffset, 1, positions) : matrix(cols, 0, 1, positions);
      if (cols !== null) im2col(x, xOffset, groupIn, p, cols);
      const gOut = matrix(g, (n * p.outChannels + q * groupOut) * positions, positions);
      gemm(gOut, colsT, partial, 0, groupOut, k, positions);
      const base = q * groupOut * k;
      for (let e = 0; e < partial.length; e++) dw[base + e] += partial[e];
    }
  }
}
