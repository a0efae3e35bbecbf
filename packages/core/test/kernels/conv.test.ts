// The im2col convolution kernels against a direct six-loop convolution written from the
// definition, over geometries that exercise every branch (padding on both sides, strides that
// skip input columns, dilation, groups, 1×1 kernels, outputs narrower than the input), in both
// float dtypes and on both GEMM backends.

import { afterEach, describe, expect, it } from "vitest";
import { setKernelBackend } from "../../src/index.js";
import {
  type ConvPlan,
  convForward,
  convInput,
  convProducts,
  convWeight,
  setConvReadsInMemory,
} from "../../src/kernels/conv.js";
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

// On the WebAssembly GEMM the kernels read each product where it lies in the module's memory
// (rows padded to the kernel's width) instead of from a copy, and the input gradient's col2im runs
// in WebAssembly on it (conv-wasm.ts): the same additions in the same order, so the same bits as
// the copy and the JS col2im, on every geometry and in both dtypes. (The JS GEMM rounds float32
// products differently, so both sides here use the WebAssembly GEMM.)

type FloatArrayType = Float32ArrayConstructor | Float64ArrayConstructor;

/** Runs the three kernels with products read in memory or from copies; their bytes and counts. */
function runKernels(
  p: ConvPlan,
  inMemory: boolean,
  Floats: FloatArrayType,
  values: { x: number[]; w: number[]; g: number[]; bias: number[] },
) {
  setKernelBackend("wasm");
  const previous = setConvReadsInMemory(inMemory);
  const counted = () => ({ ...convProducts });
  const delta = (a: typeof convProducts, b: typeof convProducts) => ({
    inMemory: b.inMemory - a.inMemory,
    copied: b.copied - a.copied,
    scatteredInWasm: b.scatteredInWasm - a.scatteredInWasm,
    biasInWasm: b.biasInWasm - a.biasInWasm,
  });
  try {
    const [x, w, g] = [Floats.from(values.x), Floats.from(values.w), Floats.from(values.g)];
    const out = new Floats(values.g.length).fill(Number.NaN);
    const dx = new Floats(values.x.length).fill(Number.NaN);
    const dw = new Floats(values.w.length).fill(Number.NaN);
    const c0 = counted();
    convForward(x, w, Floats.from(values.bias.slice(0, p.outChannels)), out, p);
    const c1 = counted();
    convInput(g, w, Floats.from(values.bias.slice(0, p.inChannels)), dx, p);
    const c2 = counted();
    convWeight(x, g, dw, p);
    const c3 = counted();
    const bytes = (a: Float32Array | Float64Array) => new Uint8Array(a.buffer);
    return {
      out: bytes(out),
      dx: bytes(dx),
      dw: bytes(dw),
      forward: delta(c0, c1),
      input: delta(c1, c2),
      weight: delta(c2, c3),
    };
  } finally {
    setConvReadsInMemory(previous);
  }
}

describe.each(PLANS)("conv kernels read products in the GEMM's memory: %s", (_, p) => {
  const gin = p.inChannels / p.groups;
  const values = {
    x: seededValues(p.batch * p.inChannels * p.inH * p.inW, 4),
    w: seededValues(p.outChannels * gin * p.kh * p.kw, 5),
    g: seededValues(p.batch * p.outChannels * p.outH * p.outW, 6),
    bias: seededValues(Math.max(p.inChannels, p.outChannels), 7),
  };

  it.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
  ] as const)("%s", (_, Floats) => {
    const copied = runKernels(p, false, Floats, values);
    const inMemory = runKernels(p, true, Floats, values);
    // Every product ran the in-memory way (the input gradient's scattered in WebAssembly), and
    // none of the other.
    for (const kernel of ["forward", "input", "weight"] as const) {
      expect(inMemory[kernel].copied).toBe(0);
      expect(inMemory[kernel].inMemory).toBe(copied[kernel].copied);
      expect(copied[kernel].inMemory).toBe(0);
    }
    expect(inMemory.input.scatteredInWasm).toBe(inMemory.input.inMemory);
    expect(copied.input.scatteredInWasm).toBe(0);
    expect(inMemory.forward.biasInWasm).toBe(inMemory.forward.inMemory);
    expect(copied.forward.biasInWasm).toBe(0);
    expect(Buffer.compare(inMemory.out, copied.out)).toBe(0);
    expect(Buffer.compare(inMemory.dx, copied.dx)).toBe(0);
    expect(Buffer.compare(inMemory.dw, copied.dw)).toBe(0);
  });
});

describe("conv kernels in WebAssembly keep NaN payloads as the JS loops do", () => {
  // NaNs of several payloads (quiet and signalling, both signs) in the gradient and the weight, so
  // that col2im adds NaNs onto NaNs: which operand's payload survives must not change.
  const p = plan({ inChannels: 2, outChannels: 3, inH: 5, inW: 6, kh: 3, kw: 3, padH: 1, padW: 1 });
  const nans32 = [0x7fc00001, 0xffc00002, 0x7f800003, 0xff800004, 0x7fd00005];
  const nans64 = [
    0x7ff8000000000001n,
    0xfff8000000000002n,
    0x7ff0000000000003n,
    0xfff0000000000004n,
  ];
  it.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
  ] as const)("%s", (_, Floats) => {
    setKernelBackend("wasm");
    const g = Floats.from(seededValues(p.batch * p.outChannels * p.outH * p.outW, 8));
    const w = Floats.from(seededValues(p.outChannels * p.inChannels * 9, 9));
    // NaN bits written into the arrays the kernels read (a number[] cannot carry payloads).
    const poke = (a: Float32Array | Float64Array, every: number, shift: number) => {
      if (a instanceof Float32Array) {
        const bits = new Uint32Array(a.buffer);
        for (let i = shift; i < a.length; i += every) bits[i] = nans32[i % nans32.length];
      } else {
        const bits = new BigUint64Array(a.buffer);
        for (let i = shift; i < a.length; i += every) bits[i] = nans64[i % nans64.length];
      }
    };
    poke(g, 7, 3);
    poke(w, 11, 5);
    const run = (inMemory: boolean) => {
      const previous = setConvReadsInMemory(inMemory);
      try {
        const dx = new Floats(p.batch * p.inChannels * p.inH * p.inW);
        convInput(g, w, null, dx, p);
        return new Uint8Array(dx.buffer);
      } finally {
        setConvReadsInMemory(previous);
      }
    };
    const before = convProducts.scatteredInWasm;
    const viaWasm = run(true);
    expect(convProducts.scatteredInWasm).toBeGreaterThan(before);
    const viaJs = run(false);
    expect(Buffer.compare(viaWasm, viaJs)).toBe(0);
  });
});
