// The matrix products of one training step of the peers benchmark's MLP (784-256-BN-ReLU-
// 256-BN-ReLU-10, batch 16 and 128), each timed on its own with the default kernels: the forward
// products and, for the backward, the input gradients of layers 2 and 3 and the three weight
// gradients (the input needs none). Their sum is a floor for any step built on this matmul, so
// it says what a faster step would have to find elsewhere. Medians of repeated runs; nothing
// here asserts, it reports.
// Run: npm run bench -- products

import { matmul, randn, type Tensor } from "@koubai/core";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Median milliseconds of `fn` after a warm-up, over about 0.3 s of runs (at least 20). */
function time(fn: () => Tensor): number {
  for (let i = 0; i < 20; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 20 || performance.now() - start < 300) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

for (const batch of [16, 128]) {
  const x = randn([batch, 784]);
  const h = randn([batch, 256]);
  const g3 = randn([batch, 10]);
  const w1 = randn([784, 256]);
  const w2 = randn([256, 256]);
  const w3 = randn([256, 10]);
  const products: [string, number, () => Tensor][] = [
    ["forward x·W1", batch * 784 * 256, () => matmul(x, w1)],
    ["forward h1·W2", batch * 256 * 256, () => matmul(h, w2)],
    ["forward h2·W3", batch * 256 * 10, () => matmul(h, w3)],
    ["backward g3·W3ᵀ", batch * 10 * 256, () => matmul(g3, w3.t())],
    ["backward h2ᵀ·g3 (dW3)", 256 * batch * 10, () => matmul(h.t(), g3)],
    ["backward g2·W2ᵀ", batch * 256 * 256, () => matmul(h, w2.t())],
    ["backward h1ᵀ·g2 (dW2)", 256 * batch * 256, () => matmul(h.t(), h)],
    ["backward xᵀ·g1 (dW1)", 784 * batch * 256, () => matmul(x.t(), h)],
  ];
  console.log(`\nbatch ${batch}: the step's eight products, each on its own`);
  let total = 0;
  for (const [name, macs, fn] of products) {
    const ms = time(fn);
    total += ms;
    const gflops = (2 * macs) / (ms * 1e6);
    console.log(
      `  ${name.padEnd(24)} ${ms.toFixed(3).padStart(7)} ms  ${gflops.toFixed(1).padStart(5)} GFLOP/s`,
    );
  }
  console.log(`  ${"all eight".padEnd(24)} ${total.toFixed(3).padStart(7)} ms`);
}
console.log("\nCompare with the whole step: npm run bench -- peers --workloads=mlp16,mlp128");
