// Convolution throughput against the GEMM it runs on: for each convolution of the CNN example
// (batch 64), conv2d forward plus backward (the weight's and bias's gradients, and the input's
// where the example needs it) in GFLOP/s, beside the GEMM's GFLOP/s on the same product as one
// plain matmul ([Cout, K] @ [K, N·P], K = Cin·kh·kw, P output positions per image). Their ratio
// is what im2col, col2im and the layout moves cost. Interleaved repeats, medians; it reports and
// asserts nothing.

import { conv2d, matmul, noGrad, randn, type Tensor } from "@koubai/core";
import type { BenchRow } from "./core-overhead.js";

interface ConvLayer {
  name: string;
  input: [number, number, number, number];
  weight: [number, number, number, number];
  /** Whether training needs the input's gradient (not for the first layer, fed by data). */
  inputGrad: boolean;
}

const LAYERS: ConvLayer[] = [
  {
    name: "conv 1→16, 3×3, pad 1 on [64, 1, 28, 28]",
    input: [64, 1, 28, 28],
    weight: [16, 1, 3, 3],
    inputGrad: false,
  },
  {
    name: "conv 16→32, 3×3, pad 1 on [64, 16, 14, 14]",
    input: [64, 16, 14, 14],
    weight: [32, 16, 3, 3],
    inputGrad: true,
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

export function runConvThroughput(repeats = 15): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const layer of LAYERS) {
    const [n, cin, h, w] = layer.input;
    const [cout, , kh, kw] = layer.weight;
    const k = cin * kh * kw;
    const positions = h * w; // padding 1 keeps the size
    const macs = cout * k * n * positions;
    const products = layer.inputGrad ? 3 : 2; // forward, weight gradient, input gradient
    const x = randn(layer.input).requiresGrad_(layer.inputGrad);
    const weight = randn(layer.weight).mul(0.1).detach().requiresGrad_(true);
    const bias = randn([cout]).requiresGrad_(true);
    const gradOut = randn([n, cout, h, w]);
    const a = randn([cout, k]);
    const b = randn([k, n * positions]);
    let sink: Tensor | null = null;
    const convStep = () => {
      weight.grad = null;
      bias.grad = null;
      x.grad = null;
      conv2d(x, weight, bias, { padding: 1 }).backward(gradOut);
      sink = weight.grad;
    };
    const gemmStep = () => {
      sink = noGrad(() => matmul(a, b));
    };
    const conv: number[] = [];
    const gemm: number[] = [];
    for (let i = 0; i < 2; i++) {
      convStep();
      gemmStep();
    }
    for (let r = 0; r < repeats; r++) {
      let t = performance.now();
      convStep();
      conv.push(performance.now() - t);
      t = performance.now();
      gemmStep();
      gemm.push(performance.now() - t);
    }
    if (sink === null) throw new Error("benchmark produced nothing");
    const convMs = median(conv);
    const gemmMs = median(gemm);
    const convGflops = (2 * macs * products) / (convMs * 1e6);
    const gemmGflops = (2 * macs) / (gemmMs * 1e6);
    rows.push({
      name: `${layer.name}: forward + backward (${products} products)`,
      medianMicros: convMs * 1000,
      throughput: `${convGflops.toFixed(2)} GFLOP/s, ${((100 * convGflops) / gemmGflops).toFixed(0)}% of the GEMM's`,
    });
    rows.push({
      name: `the GEMM on its product, matmul [${cout}, ${k}] @ [${k}, ${n * positions}]`,
      medianMicros: gemmMs * 1000,
      throughput: `${gemmGflops.toFixed(2)} GFLOP/s`,
    });
  }
  return rows;
}
