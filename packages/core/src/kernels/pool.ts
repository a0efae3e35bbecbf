// Pooling loops over the last two dims of contiguous data: every leading dim is one "plane"
// (n·C planes for [N, C, H, W]). Max pooling records which input element won each window (its
// flat position in the plane, as PyTorch's indices); average pooling is described by windows per
// output row and column, which covers avgPool2d (padding, ceilMode, countIncludePad,
// divisorOverride) and adaptiveAvgPool2d alike.

import type { FloatArray } from "./gemm-js.js";
import { maxPool2x2Wasm } from "./pool-wasm.js";

/** A max pooling's sizes (as PyTorch's: padding reads -∞, dilation spaces the window). */
export interface MaxPoolPlan {
  readonly planes: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly dilationH: number;
  readonly dilationW: number;
}

/** The first kernel offset whose position start + i·dilation is not negative. */
function firstInside(start: number, dilation: number): number {
  return start >= 0 ? 0 : Math.ceil(-start / dilation);
}

/**
 * out = the maximum of each window, indices = its flat position in the plane. As PyTorch's CPU
 * kernel: the first maximum in row-major window order wins a tie, and a NaN wins over any number
 * (the last NaN in window order).
 */
export function maxPoolForward(
  x: FloatArray,
  out: FloatArray,
  indices: Int32Array,
  p: MaxPoolPlan,
): void {
  const { inH, inW, outH, outW, kh, kw, dilationH, dilationW } = p;
  if (kh === 2 && kw === 2 && p.strideH === 2 && p.strideW === 2 && p.padH === 0 && p.padW === 0) {
    if (dilationH === 1 && dilationW === 1 && 2 * outH <= inH && 2 * outW <= inW) {
      const wasm =
        x instanceof Float32Array &&
        out instanceof Float32Array &&
        maxPool2x2Wasm(x, out, indices, p);
      if (!wasm) maxPool2x2(x, out, indices, p);
      return;
    }
  }
  const planeSize = inH * inW;
  let q = 0;
  for (let plane = 0; plane < p.planes; plane++) {
    const base = plane * planeSize;
    for (let oh = 0; oh < outH; oh++) {
      const hStart = oh * p.strideH - p.padH;
      const iFirst = firstInside(hStart, dilationH);
      const rowsInside = hStart >= 0 && hStart + (kh - 1) * dilationH < inH;
      for (let ow = 0; ow < outW; ow++) {
        const wStart = ow * p.strideW - p.padW;
        let best = Number.NEGATIVE_INFINITY;
        let bestAt: number;
        if (rowsInside && wStart >= 0 && wStart + (kw - 1) * dilationW < inW) {
          // The whole window is inside the input (no padding reached): no bounds to check.
          bestAt = hStart * inW + wStart;
          for (let i = 0; i < kh; i++) {
            const rowAt = (hStart + i * dilationH) * inW + wStart;
            for (let j = 0; j < kw; j++) {
              const at = rowAt + j * dilationW;
              const v = x[base + at];
              if (v > best || v !== v) {
                best = v;
                bestAt = at;
              }
            }
          }
        } else {
          const jFirst = firstInside(wStart, dilationW);
          bestAt = (hStart + iFirst * dilationH) * inW + wStart + jFirst * dilationW;
          for (let i = iFirst; i < kh; i++) {
            const ih = hStart + i * dilationH;
            if (ih >= inH) break;
            for (let j = jFirst; j < kw; j++) {
              const iw = wStart + j * dilationW;
              if (iw >= inW) break;
              const at = ih * inW + iw;
              const v = x[base + at];
              if (v > best || v !== v) {
                best = v;
                bestAt = at;
              }
            }
          }
        }
        out[q] = best;
        indices[q] = bestAt;
        q++;
      }
    }
  }
}

/**
 * maxPoolForward for the common 2×2 window with stride 2 and no padding: the four values read
 * directly, compared in the same order with the same rule (starting from the first value is the
 * same as starting from -∞ at the window's first position), so the same maxima and indices.
 */
function maxPool2x2(x: FloatArray, out: FloatArray, indices: Int32Array, p: MaxPoolPlan): void {
  const { inH, inW, outH, outW } = p;
  const planeSize = inH * inW;
  let q = 0;
  for (let plane = 0; plane < p.planes; plane++) {
    const base = plane * planeSize;
    for (let oh = 0; oh < outH; oh++) {
      const top = 2 * oh * inW;
      const bottom = top + inW;
      for (let ow = 0; ow < outW; ow++) {
        const c = 2 * ow;
        let at = top + c;
        let best = x[base + at];
        let v = x[base + top + c + 1];
        if (v > best || v !== v) {
          best = v;
          at = top + c + 1;
        }
        v = x[base + bottom + c];
        if (v > best || v !== v) {
          best = v;
          at = bottom + c;
        }
        v = x[base + bottom + c + 1];
        if (v > best || v !== v) {
          best = v;
          at = bottom + c + 1;
        }
        out[q] = best;
        indices[q] = at;
        q++;
      }
    }
  }
}

/** dx (zeroed here) += g at each window's recorded maximum: the gradient of max pooling. */
export function maxPoolScatter(
  g: FloatArray,
  indices: Int32Array,
  dx: FloatArray,
  planes: number,
  outPlane: number,
  inPlane: number,
): void {
  dx.fill(0);
  let q = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * inPlane;
    for (let e = 0; e < outPlane; e++, q++) dx[base + indices[q]] += g[q];
  }
}

/**
 * Average-pooling windows: output row r averages input rows [rowStart[r], rowEnd[r]) (already
 * clipped to the input), likewise for columns; the divisor of output (r, c) is
 * rowSize[r]·colSize[c], or `divisor` when it is not 0.
 */
export interface AveragePlan {
  readonly rowStart: readonly number[];
  readonly rowEnd: readonly number[];
  readonly rowSize: readonly number[];
  readonly colStart: readonly number[];
  readonly colEnd: readonly number[];
  readonly colSize: readonly number[];
  readonly divisor: number;
  readonly inH: number;
  readonly inW: number;
}

function divisorOf(p: AveragePlan, r: number, c: number): number {
  return p.divisor !== 0 ? p.divisor : p.rowSize[r] * p.colSize[c];
}

/** out = the average of each window over `planes` planes; an empty window gives 0, as PyTorch. */
export function averagePoolForward(
  x: FloatArray,
  out: FloatArray,
  planes: number,
  p: AveragePlan,
): void {
  const outH = p.rowStart.length;
  const outW = p.colStart.length;
  const inPlane = p.inH * p.inW;
  let q = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * inPlane;
    for (let r = 0; r < outH; r++) {
      const h0 = p.rowStart[r];
      const h1 = p.rowEnd[r];
      for (let c = 0; c < outW; c++) {
        const w0 = p.colStart[c];
        const w1 = p.colEnd[c];
        let sum = 0;
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * p.inW;
          for (let iw = w0; iw < w1; iw++) sum += x[row + iw];
        }
        out[q++] = h0 < h1 && w0 < w1 ? sum / divisorOf(p, r, c) : 0;
      }
    }
  }
}

/** The adjoint of averagePoolForward: dx (zeroed here) gets g / divisor over each window. */
export function averagePoolAdjoint(
  g: FloatArray,
  dx: FloatArray,
  planes: number,
  p: AveragePlan,
): void {
  const outH = p.rowStart.length;
  const outW = p.colStart.length;
  const inPlane = p.inH * p.inW;
  dx.fill(0);
  let q = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * inPlane;
    for (let r = 0; r < outH; r++) {
      const h0 = p.rowStart[r];
      const h1 = p.rowEnd[r];
      for (let c = 0; c < outW; c++, q++) {
        const w0 = p.colStart[c];
        const w1 = p.colEnd[c];
        if (h0 >= h1 || w0 >= w1) continue;
        const share = g[q] / divisorOf(p, r, c);
        for (let ih = h0; ih < h1; ih++) {
          const row = base + ih * p.inW;
          for (let iw = w0; iw < w1; iw++) dx[row + iw] += share;
        }
      }
    }
  }
}
