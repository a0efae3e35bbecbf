// The im2col convolution kernels against a direct six-loop convolution written from the
// definition, over geometries that exercise every branch (padding on both sides, strides that
// skip input columns, dilation, groups, 1×1 kernels, outputs narrower than the input), in both
// float dtypes and on both GEMM backends.

import { afterEach, describe, expect, it } from "vitest";
import { setKernelBackend } from "../../src/index.js";
import { type ConvPlan, convForward, convInput, convWeight } from "../../src/kernels/conv.js";
import { seededValues } from "./seeded-values.js";

/** out[n, o, h, w] = Σ_{i, p, q} w[o, i, p, q] · x[n, g·Cin/g + i, h·s + p·d - pad, w·s + q·d - pad]. */
function directConv(x: number[], w: number[], p: ConvPlan): number[] {
  const gin = p.inChannels / p.groups;
  const gout = p.outChannels / p.groups;
  const out = new Array<number>(p.batch * p.outChannels * p.outH * p.outW).fill(0);
  for (let n = 0; n < p.batch; n++)
    for (let o = 0; o < p.outChannels; o++)
      for (let oh = 0; oh < p.outH; oh++)
        for (let ow = 0; ow < p.outW; ow++) {
          let sum = 0;
          const group = Math.floor(o / gout);
          for (let i = 0; i < gin; i++)
            for (let a = 0; a < p.kh; a++)
              for (let b = 0; b < p.kw; b++) {
                const ih = oh * p.strideH + a * p.dilationH - p.padH;
                const iw = ow * p.strideW + b * p.dilationW - p.padW;
                if (ih < 0 || ih >= p.inH || iw < 0 || iw >= p.inW) continue;
                const c = group * gin + i;
                sum +=
                  w[((o * gin + i) * p.kh + a) * p.kw + b] *
                  x[((n * p.inChannels + c) * p.inH + ih) * p.inW + iw];
              }
          out[((n * p.outChannels + o) * p.outH + oh) * p.outW + ow] = sum;
        }
  return out;
}

function plan(over: Partial<ConvPlan>): ConvPlan {
  const base = {
    batch: 2,
    groups: 1,
    inChannels: 3,
    outChannels: 4,
    inH: 6,
    inW: 7,
    kh: 3,
    kw: 2,
    strideH: 1,
    strideW: 1,
    padH: 0,
    padW: 0,
    dilationH: 1,
    dilationW: 1,
    ...over,
  };
  const size = (n: number, k: number, s: number, pad: number, d: number) =>
    Math.floor((n + 2 * pad - d * (k - 1) - 1) / s) + 1;
  return {
    ...base,
    outH: over.outH ?? size(base.inH, base.kh, base.strideH, base.padH, base.dilationH),
    outW: over.outW ?? size(base.inW, base.kw, base.strideW, base.padW, base.dilationW),
  };
}

const PLANS: [string, ConvPlan][] = [
  ["plain 3×2 kernel", plan({})],
  ["padding 1 and 2, stride 2 and 3", plan({ padH: 1, padW: 2, strideH: 2, strideW: 3 })],
  [
    "dilation 2, groups 3 (depthwise-like)",
    plan({ inChannels: 3, outChannels: 6, groups: 3, dilationH: 2, dilationW: 2, padH: 2 }),
  ],
  ["1×1 kernel, stride 1 (the input is the columns matrix)", plan({ kh: 1, kw: 1, groups: 1 })],
  ["1×1 kernel, stride 2", plan({ kh: 1, kw: 1, strideH: 2, strideW: 2 })],
  ["kernel as large as the padded input", plan({ inH: 3, inW: 2, kh: 5, kw: 4, padH: 1, padW: 1 })],
  ["one column dropped by the floor (padding after 0)", plan({ inW: 8, kw: 3, strideW: 2 })],
  ["1-D layout (height 1)", plan({ inH: 1, kh: 1, inW: 11, kw: 3, padW: 1, strideW: 2 })],
  [
    'size-keeping ("same") 3×5 kernel with groups: whole rows copied in one block',
    plan({ inChannels: 6, outChannels: 3, groups: 3, kh: 3, kw: 5, padH: 1, padW: 2 }),
  ],
  [
    "a kernel taller than the input: rows entirely in the padding",
    plan({ inH: 2, kh: 5, padH: 2, kw: 1 }),
  ],
  [
    "columns larger than a chunk (one image per GEMM)",
    plan({ inChannels: 64, outChannels: 2, inH: 64, inW: 64, kh: 3, kw: 3, padH: 1, padW: 1 }),
  ],
];

afterEach(() => setKernelBackend("auto"));

describe.each(["js", "wasm"] as const)("conv kernels on the %s GEMM", (backend) => {
  describe.each(PLANS)("%s", (_, p) => {
    const gin = p.inChannels / p.groups;
    const xValues = seededValues(p.batch * p.inChannels * p.inH * p.inW, 1);
    const wValues = seededValues(p.outChannels * gin * p.kh * p.kw, 2);
    const gValues = seededValues(p.batch * p.outChannels * p.outH * p.outW, 3);
    const expected = directConv(xValues, wValues, p);

    it("forward equals the direct convolution (float64 exactly up to summation order)", () => {
      setKernelBackend(backend);
      const out = new Float64Array(expected.length).fill(Number.NaN);
      convForward(Float64Array.from(xValues), Float64Array.from(wValues), null, out, p);
      const worst = Math.max(...expected.map((e, i) => Math.abs(out[i] - e)));
      expect(worst).toBeLessThan(1e-12);
    });

    it("forward in float32 is within float32 rounding", () => {
      setKernelBackend(backend);
      const out = new Float32Array(expected.length).fill(Number.NaN);
      convForward(Float32Array.from(xValues), Float32Array.from(wValues), null, out, p);
      const worst = Math.max(...expected.map((e, i) => Math.abs(out[i] - e)));
      expect(worst).toBeLessThan(1e-4);
    });

    it("input gradient is the adjoint: <conv(x), g> = <x, convInput(g)>", () => {
      setKernelBackend(backend);
      const dx = new Float64Array(xValues.length).fill(Number.NaN);
      convInput(Float64Array.from(gValues), Float64Array.from(wValues), null, dx, p);
      const lhs = expected.reduce((s, v, i) => s + v * gValues[i], 0);
      const rhs = xValues.reduce((s, v, i) => s + v * dx[i], 0);
      expect(rhs).toBeCloseTo(lhs, 9);
      // and dx is the adjoint element by element: dx[j] = <conv(e_j), g>
      const j = xValues.length - 1;
      const unit = xValues.map((_, i) => (i === j ? 1 : 0));
      const column = directConv(unit, wValues, p);
      expect(dx[j]).toBeCloseTo(
        column.reduce((s, v, i) => s + v * gValues[i], 0),
        12,
      );
    });

    it("weight gradient: dw[k] = <conv with unit weight e_k, g>", () => {
      setKernelBackend(backend);
      const dw = new Float64Array(wValues.length).fill(Number.NaN);
      convWeight(Float64Array.from(xValues), Float64Array.from(gValues), dw, p);
      for (const k of [0, Math.floor(wValues.length / 2), wValues.length - 1]) {
        const unit = wValues.map((_, i) => (i === k ? 1 : 0));
        const response = directConv(xValues, unit, p);
        expect(dw[k]).toBeCloseTo(
          response.reduce((s, v, i) => s + v * gValues[i], 0),
          12,
        );
      }
    });
  });
});
