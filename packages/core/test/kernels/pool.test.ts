// The pooling loops against windows enumerated from the definition: max pooling's values and
// indices (first maximum on ties, NaN wins, padding never wins), the scatter of its gradient, and
// average pooling's forward and adjoint (empty windows give 0); the 2×2 float32 WebAssembly kernel
// against the JS loop, bit for bit.

import { describe, expect, it } from "vitest";
import { getKernelBackend, setKernelBackend } from "../../src/kernels/backend.js";
import {
  type AveragePlan,
  averagePoolAdjoint,
  averagePoolForward,
  type MaxPoolPlan,
  maxPoolForward,
  maxPoolScatter,
} from "../../src/kernels/pool.js";
import { maxPool2x2Wasm } from "../../src/kernels/pool-wasm.js";
import { seededValues } from "./seeded-values.js";

function maxPlan(over: Partial<MaxPoolPlan>): MaxPoolPlan {
  return {
    planes: 2,
    inH: 5,
    inW: 6,
    outH: 3,
    outW: 3,
    kh: 2,
    kw: 2,
    strideH: 2,
    strideW: 2,
    padH: 0,
    padW: 0,
    dilationH: 1,
    dilationW: 1,
    ...over,
  };
}

/** Max over each window, scanning it in row-major order, keeping the first maximum. */
function directMax(x: ArrayLike<number>, p: MaxPoolPlan): { values: number[]; at: number[] } {
  const values: number[] = [];
  const at: number[] = [];
  for (let plane = 0; plane < p.planes; plane++)
    for (let oh = 0; oh < p.outH; oh++)
      for (let ow = 0; ow < p.outW; ow++) {
        let best = Number.NEGATIVE_INFINITY;
        let bestAt = -1;
        for (let a = 0; a < p.kh; a++)
          for (let b = 0; b < p.kw; b++) {
            const ih = oh * p.strideH - p.padH + a * p.dilationH;
            const iw = ow * p.strideW - p.padW + b * p.dilationW;
            if (ih < 0 || iw < 0 || ih >= p.inH || iw >= p.inW) continue;
            const v = x[plane * p.inH * p.inW + ih * p.inW + iw];
            if (bestAt === -1 || v > best || Number.isNaN(v)) {
              best = v;
              bestAt = ih * p.inW + iw;
            }
          }
        values.push(best);
        at.push(bestAt);
      }
  return { values, at };
}

describe("maxPoolForward", () => {
  const cases: [string, MaxPoolPlan][] = [
    ["kernel 2, stride 2", maxPlan({})],
    [
      "kernel 2, stride 2 over even sizes (the direct 2×2 loop)",
      maxPlan({ planes: 3, inH: 6, inW: 8, outH: 3, outW: 4 }),
    ],
    ["kernel 3, stride 2, padding 1", maxPlan({ kh: 3, kw: 3, padH: 1, padW: 1 })],
    [
      "dilation 2, stride 1",
      maxPlan({ dilationH: 2, dilationW: 2, strideH: 1, strideW: 1, outH: 3, outW: 4 }),
    ],
    [
      "windows reaching past the right edge (ceilMode)",
      maxPlan({ kh: 3, kw: 3, outH: 2, outW: 3 }),
    ],
  ];
  it.each(cases)("%s: values and indices of the first maximum", (_, p) => {
    // values in {0, 1, 2}: many ties
    const x = Float64Array.from(
      seededValues(p.planes * p.inH * p.inW, 5),
      (v) => Math.floor(v + 2) % 3,
    );
    const out = new Float64Array(p.planes * p.outH * p.outW);
    const indices = new Int32Array(out.length);
    maxPoolForward(x, out, indices, p);
    const expected = directMax(x, p);
    expect(Array.from(out)).toEqual(expected.values);
    expect(Array.from(indices)).toEqual(expected.at);
  });

  it("lets NaN win (the last one in window order) and -Infinity keep the first valid index", () => {
    const p = maxPlan({ planes: 1, inH: 2, inW: 4, outH: 1, outW: 2 });
    const x = new Float64Array([
      Number.NaN,
      1,
      -Infinity,
      -Infinity,
      5,
      Number.NaN,
      -Infinity,
      -Infinity,
    ]);
    const out = new Float64Array(2);
    const indices = new Int32Array(2);
    maxPoolForward(x, out, indices, p);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(indices[0]).toBe(5);
    expect(out[1]).toBe(-Infinity);
    expect(indices[1]).toBe(2);
  });
});

describe("maxPoolScatter", () => {
  it("adds each gradient onto its maximum, accumulating where windows share one", () => {
    const g = new Float64Array([1, 2, 3, 10, 20, 30]);
    const indices = new Int32Array([0, 0, 3, 1, 2, 1]);
    const dx = new Float64Array(8).fill(Number.NaN);
    maxPoolScatter(g, indices, dx, 2, 3, 4);
    expect(Array.from(dx)).toEqual([3, 0, 0, 3, 0, 40, 20, 0]);
  });
});

describe("averagePoolForward and averagePoolAdjoint", () => {
  const plan: AveragePlan = {
    rowStart: [0, 1, 3],
    rowEnd: [2, 3, 3], // the last window is empty
    rowSize: [2, 3, 2],
    colStart: [0, 2],
    colEnd: [3, 4],
    colSize: [3, 2],
    divisor: 0,
    inH: 3,
    inW: 4,
  };

  it("averages each window with its divisor; an empty window gives 0", () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => i);
    const out = new Float64Array(6).fill(Number.NaN);
    averagePoolForward(x, out, 1, plan);
    expect(Array.from(out)).toEqual([
      (0 + 1 + 2 + 4 + 5 + 6) / 6,
      (2 + 3 + 6 + 7) / 4,
      (4 + 5 + 6 + 8 + 9 + 10) / 9,
      (6 + 7 + 10 + 11) / 6,
      0,
      0,
    ]);
  });

  it("uses divisor instead of the window sizes when given", () => {
    const out = new Float64Array(6);
    averagePoolForward(new Float64Array(12).fill(1), out, 1, { ...plan, divisor: 4 });
    expect(Array.from(out)).toEqual([1.5, 1, 1.5, 1, 0, 0]);
  });

  it("is the adjoint: <pool(x), g> = <x, adjoint(g)> over two planes", () => {
    const x = Float64Array.from(seededValues(24, 7));
    const g = Float64Array.from(seededValues(12, 8));
    const pooled = new Float64Array(12);
    const back = new Float64Array(24).fill(Number.NaN);
    averagePoolForward(x, pooled, 2, plan);
    averagePoolAdjoint(g, back, 2, plan);
    const lhs = pooled.reduce((s, v, i) => s + v * g[i], 0);
    const rhs = x.reduce((s, v, i) => s + v * back[i], 0);
    expect(rhs).toBeCloseTo(lhs, 12);
  });
});

describe("maxPoolForward's 2×2 float32 WebAssembly kernel", () => {
  /** Values of few kinds, so windows tie often: 0, ±1, -0, NaN and -∞ among them. */
  function mixed(n: number, seed: number): Float32Array {
    const kinds = [0, 1, -1, -0, Number.NaN, Number.NEGATIVE_INFINITY, 2, 2];
    return Float32Array.from(seededValues(n, seed), (v) => kinds[Math.floor((v + 2) * 1000) % 8]);
  }

  /** The JS loop's results, or the kernel's (which must run: it is called directly). */
  function pooled(backend: "js" | "wasm", x: Float32Array, p: MaxPoolPlan) {
    const out = new Float32Array(p.planes * p.outH * p.outW);
    const indices = new Int32Array(out.length);
    const previous = getKernelBackend();
    setKernelBackend(backend);
    try {
      if (backend === "wasm") expect(maxPool2x2Wasm(x, out, indices, p)).toBe(true);
      else maxPoolForward(x, out, indices, p);
    } finally {
      setKernelBackend(previous);
    }
    return { out, indices };
  }

  it.each([
    ["28×28 planes, many groups", 300, 28, 28, 14, 14],
    ["odd sizes: the last row and column unused, a scalar tail", 7, 9, 29, 4, 14],
    ["rows of fewer than four windows", 5, 4, 6, 2, 3],
    ["planes larger than one group of the kernel's memory", 2, 300, 301, 150, 150],
  ])("%s: the JS loop's bits, values and indices", (_, planes, inH, inW, outH, outW) => {
    const p = maxPlan({ planes, inH, inW, outH, outW });
    const x = mixed(planes * inH * inW, inW);
    const wasm = pooled("wasm", x, p);
    const js = pooled("js", x, p);
    expect(new Uint32Array(wasm.out.buffer)).toEqual(new Uint32Array(js.out.buffer));
    expect(wasm.indices).toEqual(js.indices);
    // And both against the windows enumerated from the definition.
    const expected = directMax(x, p);
    expect(Array.from(wasm.indices)).toEqual(expected.at);
    expect(Array.from(wasm.out)).toEqual(expected.values);
  });

  it("makes a signalling NaN quiet, as the JS loop's reads do", () => {
    const p = maxPlan({ planes: 1, inH: 2, inW: 10, outH: 1, outW: 5 });
    const x = new Float32Array(20).fill(1);
    const bits = new Uint32Array(x.buffer);
    bits[1] = 0x7fa00000; // a signalling NaN: window 0 (vector part) takes it as its second value
    bits[18] = 0xffa00001; // and window 4 (the scalar tail) as its third, sign and payload kept
    const wasm = pooled("wasm", x, p);
    const js = pooled("js", x, p);
    expect(new Uint32Array(wasm.out.buffer)).toEqual(new Uint32Array(js.out.buffer));
    expect(new Uint32Array(wasm.out.buffer)[0]).toBe(0x7fe00000);
    expect(wasm.indices).toEqual(js.indices);
  });
});
