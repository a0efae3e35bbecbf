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
import type { FloatArray } from "../../src/kernels/gemm-js.js";
import {
  setKernelThreads,
  setThreadsMinMultiplyAdds,
  THREADS_MIN_MULTIPLY_ADDS,
} from "../../src/kernels/gemm-threads.js";
import { sharedGemmMemoryBytes } from "../../src/kernels/gemm-wasm.js";
import { KEPT_SCRATCH_BYTES } from "../../src/kernels/wasm-module.js";
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
    "stride 2 down the rows, rows as long as the input's",
    plan({ inW: 8, kh: 3, kw: 3, padH: 1, padW: 1, strideH: 2 }),
  ],
  [
    "stride 2 along the rows, as many columns as the input (padding 2)",
    plan({ inW: 4, kw: 1, padW: 2, strideW: 2 }),
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

/** Seeded x, w, gradOut and bias values for a geometry (seeds seed .. seed + 3). */
function convValues(p: ConvPlan, seed: number) {
  const gin = p.inChannels / p.groups;
  return {
    x: seededValues(p.batch * p.inChannels * p.inH * p.inW, seed),
    w: seededValues(p.outChannels * gin * p.kh * p.kw, seed + 1),
    g: seededValues(p.batch * p.outChannels * p.outH * p.outW, seed + 2),
    bias: seededValues(Math.max(p.inChannels, p.outChannels), seed + 3),
  };
}

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
    columnsInWasm: b.columnsInWasm - a.columnsInWasm,
    scatteredInWasm: b.scatteredInWasm - a.scatteredInWasm,
    biasInWasm: b.biasInWasm - a.biasInWasm,
    channelsOutInWasm: b.channelsOutInWasm - a.channelsOutInWasm,
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

/** The three kernels' results of two runKernels calls are the same bytes. */
function expectSameBits(a: ReturnType<typeof runKernels>, b: ReturnType<typeof runKernels>): void {
  for (const result of ["out", "dx", "dw"] as const) {
    expect(Buffer.compare(a[result], b[result]), result).toBe(0);
  }
}

describe.each(PLANS)("conv kernels read products in the GEMM's memory: %s", (_, p) => {
  const values = convValues(p, 4);

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
    expect(inMemory.forward.channelsOutInWasm).toBe(inMemory.forward.inMemory);
    expect(copied.forward.channelsOutInWasm).toBe(0);
    expect(copied.forward.columnsInWasm + copied.weight.columnsInWasm).toBe(0);
    // The forward makes its columns in WebAssembly when every chunk's width is whole panels of
    // the product's B (8 float32 or 4 float64 columns): chunks as conv.ts cuts them.
    const k = (p.inChannels / p.groups) * p.kh * p.kw;
    const positions = p.outH * p.outW;
    const chunk = Math.max(1, Math.min(p.batch, Math.floor(2 ** 16 / Math.max(1, k * positions))));
    const widths = [chunk * positions, (p.batch % chunk || chunk) * positions];
    if (widths.every((w) => w % (Floats === Float32Array ? 8 : 4) === 0)) {
      expect(inMemory.forward.columnsInWasm).toBe(inMemory.forward.inMemory);
    }
    expectSameBits(inMemory, copied);
  });
});

// Where the product reads the columns as they are (a forward whose chunk width is whole panels of
// 8 float32 or 4 float64 columns; a weight gradient computed as its transpose, with whole 4-row
// panels), they are made in WebAssembly in the GEMM's memory: the CNN example's two layers, at
// batches whose chunks (9 and 2 images) all have such widths.
describe.each([
  [
    "1 → 16 channels, 28×28",
    plan({
      batch: 3,
      inChannels: 1,
      outChannels: 16,
      inH: 28,
      inW: 28,
      kh: 3,
      kw: 3,
      padH: 1,
      padW: 1,
    }),
  ],
  [
    "16 → 32 channels, 14×14",
    plan({
      batch: 4,
      inChannels: 16,
      outChannels: 32,
      inH: 14,
      inW: 14,
      kh: 3,
      kw: 3,
      padH: 1,
      padW: 1,
    }),
  ],
])("conv columns made in WebAssembly: %s", (_, p) => {
  const values = convValues(p, 10);

  it.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
  ] as const)("%s", (_, Floats) => {
    const copied = runKernels(p, false, Floats, values);
    const inMemory = runKernels(p, true, Floats, values);
    expect(inMemory.forward.columnsInWasm).toBe(inMemory.forward.inMemory);
    expect(inMemory.forward.columnsInWasm).toBeGreaterThan(0);
    // K = 144 makes whole panels; K = 9 is padded with zero rows to 16 in float32, where the
    // product then takes the columns as they are, and not in float64 (12 rows: it would pack them,
    // so the JS im2col runs).
    const allStaged = p.inChannels === 16 || Floats === Float32Array;
    expect(inMemory.weight.columnsInWasm).toBe(allStaged ? inMemory.weight.inMemory : 0);
    expectSameBits(inMemory, copied);
  });
});

describe("conv kernels on the threaded GEMM", () => {
  // Its memory is shared, which conv.wat's module cannot import: the columns and col2im stay in
  // JS there, and the products are still read where they lie. The bits are the single thread's.
  afterEach(() => {
    setThreadsMinMultiplyAdds(THREADS_MIN_MULTIPLY_ADDS);
    setKernelThreads(1);
  });

  it.each([
    [
      "the CNN's second layer",
      plan({
        batch: 2,
        inChannels: 16,
        outChannels: 32,
        inH: 14,
        inW: 14,
        kh: 3,
        kw: 3,
        padH: 1,
        padW: 1,
      }),
    ],
    [
      "stride, padding and groups",
      plan({ inChannels: 6, outChannels: 4, groups: 2, padH: 1, padW: 2, strideH: 2, strideW: 3 }),
    ],
  ])("%s", (_, p) => {
    const values = convValues(p, 18);
    const single = runKernels(p, true, Float32Array, values);
    setKernelThreads(2);
    setThreadsMinMultiplyAdds(0);
    const threaded = runKernels(p, true, Float32Array, values);
    expect(threaded.input.scatteredInWasm).toBe(0);
    expectSameBits(threaded, single);
  });
});

describe("conv kernels and the GEMM's kept memory", () => {
  it("col2im's planes count in the memory a product asks for: past the kept instance's limit, the product and col2im run on an instance of their own", () => {
    // A float64 1×1 input gradient: a product of about 52 MiB, whose 46 MB of planes would take
    // the shared instance past KEPT_SCRATCH_BYTES (64 MiB), where it would stay.
    setKernelBackend("wasm");
    const p = plan({ batch: 1, inChannels: 64, outChannels: 8, inH: 300, inW: 300, kh: 1, kw: 1 });
    const g = new Float64Array(p.outChannels * 300 * 300).fill(1);
    const w = new Float64Array(p.inChannels * p.outChannels).fill(1);
    const dx = new Float64Array(p.inChannels * 300 * 300);
    const before = convProducts.scatteredInWasm;
    convInput(g, w, null, dx, p);
    expect(convProducts.scatteredInWasm).toBeGreaterThan(before);
    expect(sharedGemmMemoryBytes()).toBeLessThanOrEqual(KEPT_SCRATCH_BYTES);
    expect(dx.every((v) => v === 8)).toBe(true);
  });
});

describe("conv kernels in WebAssembly and NaNs", () => {
  // One NaN in x and one in g (quiet or signalling, either sign, with a payload): every NaN the
  // kernels make descends from one of them, so the bits are defined and both paths must give
  // them. Where NaNs of two payloads meet in an addition, which payload survives is left open by
  // IEEE 754, and in JavaScript it depends on how V8 compiled the loop (it varies from run to
  // run): there only the NaNs' positions are compared.
  // (Rows of 8: the columns are made in WebAssembly for float32 too.)
  const p = plan({ inChannels: 2, outChannels: 3, inH: 5, inW: 8, kh: 3, kw: 3, padH: 1, padW: 1 });
  const values = convValues(p, 14);
  const nans32 = [0x7fc00001, 0xffc00002, 0x7f800003, 0xff800004];
  const nans64 = [
    0x7ff8000000000001n,
    0xfff8000000000002n,
    0x7ff0000000000003n,
    0xfff0000000000004n,
  ];

  /** Writes NaN bits (nans[k] at index `at` + k·every) into a copy of `values` of the dtype. */
  function withNaNs(
    values: number[],
    Floats: FloatArrayType,
    nanIndex: number,
    at: number,
    every: number,
  ) {
    const array = Floats.from(values);
    for (let i = at, k = nanIndex; i < array.length; i += every, k++) {
      if (array instanceof Float32Array) new Uint32Array(array.buffer)[i] = nans32[k % 4];
      else new BigUint64Array(array.buffer)[i] = nans64[k % 4];
      if (every === 0) break;
    }
    return array;
  }

  function runWith(inMemory: boolean, Floats: FloatArrayType, x: FloatArray, g: FloatArray) {
    setKernelBackend("wasm");
    const previous = setConvReadsInMemory(inMemory);
    try {
      const w = Floats.from(values.w);
      const out = new Floats(values.g.length);
      const dx = new Floats(values.x.length);
      const dw = new Floats(values.w.length);
      convForward(x, w, Floats.from(values.bias), out, p);
      convInput(g, w, null, dx, p);
      convWeight(x, g, dw, p);
      return [out, dx, dw];
    } finally {
      setConvReadsInMemory(previous);
    }
  }

  const bytes = (a: FloatArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

  describe.each([
    ["float32", Float32Array],
    ["float64", Float64Array],
  ] as const)("%s", (_, Floats) => {
    it.each([0, 1, 2, 3])("one NaN in x and one in g (kind %i): the same bits", (kind) => {
      const x = withNaNs(values.x, Floats, kind, 17, 0);
      const g = withNaNs(values.g, Floats, kind, 23, 0);
      const before = { ...convProducts };
      const viaWasm = runWith(true, Floats, x, g);
      expect(convProducts.columnsInWasm).toBeGreaterThan(before.columnsInWasm);
      expect(convProducts.scatteredInWasm).toBeGreaterThan(before.scatteredInWasm);
      const viaJs = runWith(false, Floats, x, g);
      viaWasm.forEach((result, i) => {
        expect(result.some(Number.isNaN)).toBe(true);
        expect(Buffer.compare(bytes(result), bytes(viaJs[i]))).toBe(0);
      });
    });

    it("NaNs of several payloads: NaNs in the same places", () => {
      const x = withNaNs(values.x, Floats, 0, 3, 11);
      const g = withNaNs(values.g, Floats, 1, 5, 7);
      const viaWasm = runWith(true, Floats, x, g);
      const viaJs = runWith(false, Floats, x, g);
      viaWasm.forEach((result, i) => {
        expect([...result].map(Number.isNaN)).toEqual([...viaJs[i]].map(Number.isNaN));
        const finite = (a: FloatArray) => [...a].filter((v) => !Number.isNaN(v));
        expect(finite(result)).toEqual(finite(viaJs[i]));
      });
    });
  });
});
