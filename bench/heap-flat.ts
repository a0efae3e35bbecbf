// Memory check for long training runs: 10,000 steps of a small MLP (32-64-BN-ReLU-64-BN-ReLU-10,
// batch 32, cross-entropy, SGD with momentum) through the public packages, sampling the heap after
// a forced GC every 1000 steps. Exits non-zero when, after warm-up (step 1000), heapUsed or the
// typed-array memory outside the heap (arrayBuffers), or the rest of the memory V8 holds outside
// the heap (external minus arrayBuffers: WebAssembly memories, the kernels' and compiled passes'),
// grows by more than LIMIT_MB.
// With --compile the step runs under compile() (traced once, replayed): a replay must keep no
// per-call state either.
// Run: node --expose-gc --import tsx --conditions=@koubai/source heap-flat.ts [steps] [--compile]

import { constants, PerformanceObserver } from "node:perf_hooks";
import { compile, crossEntropy, randint, randn, type Tensor } from "@koubai/core";
import { BatchNorm1d, Linear, ReLU, Sequential } from "@koubai/layers";
import { SGD } from "@koubai/optim";

const LIMIT_MB = 4;
const args = process.argv.slice(2).filter((a) => a !== "--");
const compiled = args.includes("--compile");
const steps = Number(args.find((a) => !a.startsWith("--")) ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("heap-flat: run with node --expose-gc");
  process.exit(2);
}

const model = new Sequential(
  new Linear(32, 64),
  new BatchNorm1d(64, { fused: true }),
  new ReLU(),
  new Linear(64, 64),
  new BatchNorm1d(64),
  new ReLU(),
  new Linear(64, 10),
);
const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x: Tensor = randn([32, 32]);
const labels: Tensor = randint(0, 10, [32]);

interface Sample {
  step: number;
  heapMB: number;
  arrayBuffersMB: number;
  /** `external` minus `arrayBuffers`: mostly WebAssembly memories (Node counts them there). */
  wasmMB: number;
  loss: number;
}

/** Forced GCs with pauses between them: backing stores of dead typed arrays are freed off-thread. */
async function sample(step: number, loss: number): Promise<Sample> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const usage = process.memoryUsage();
  return {
    step,
    heapMB: usage.heapUsed / 2 ** 20,
    arrayBuffersMB: usage.arrayBuffers / 2 ** 20,
    wasmMB: (usage.external - usage.arrayBuffers) / 2 ** 20,
    loss,
  };
}

const trainStep = (input: Tensor, target: Tensor): Tensor => {
  optimizer.zeroGrad();
  const loss = crossEntropy(model.forward(input), target);
  loss.backward();
  optimizer.step();
  return loss;
};
const run = compiled ? compile(trainStep) : trainStep;
// Young-generation collections between samples: a proxy for how much a step allocates (each one
// follows a few MB of short-lived objects), since a flat heap only says nothing is kept.
// Entries arrive later (while a sample waits), so they are matched to the stretches of steps by
// their start times.
const minorGCTimes: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGCTimes.push(entry.startTime);
  }
}).observe({ entryTypes: ["gc"] });
const stretches: [number, number][] = [];
console.log(compiled ? "the step under compile()" : "the step run eagerly");
const samples: Sample[] = [await sample(0, Number.NaN)];
let countedSteps = 0;
let stretchStart = performance.now();
for (let step = 1; step <= steps; step++) {
  if (step > 1000) countedSteps++;
  const loss = run(x, labels);
  if (step % 1000 === 0) {
    if (step > 1000) stretches.push([stretchStart, performance.now()]);
    samples.push(await sample(step, loss.item()));
    stretchStart = performance.now();
  }
}

for (const s of samples) {
  console.log(
    `step ${String(s.step).padStart(6)}  heapUsed ${s.heapMB.toFixed(2).padStart(7)} MB  arrayBuffers ${s.arrayBuffersMB.toFixed(2).padStart(6)} MB  wasm ${s.wasmMB.toFixed(2).padStart(6)} MB  loss ${Number.isNaN(s.loss) ? "(before the first step)" : s.loss.toFixed(4)}`,
  );
}
const warm = samples.find((s) => s.step >= Math.min(1000, steps)) ?? samples[0];
const later = samples.filter((s) => s.step > warm.step);
const heapGrowth = Math.max(0, ...later.map((s) => s.heapMB - warm.heapMB));
const bufferGrowth = Math.max(0, ...later.map((s) => s.arrayBuffersMB - warm.arrayBuffersMB));
const wasmGrowth = Math.max(0, ...later.map((s) => s.wasmMB - warm.wasmMB));
console.log(
  `growth after step ${warm.step}: heapUsed ${heapGrowth.toFixed(2)} MB, arrayBuffers ${bufferGrowth.toFixed(2)} MB, wasm ${wasmGrowth.toFixed(2)} MB (limit ${LIMIT_MB} MB)`,
);
// Observer callbacks arrive asynchronously: let the last ones in.
await new Promise((resolve) => setTimeout(resolve, 50));
const minorGCs = minorGCTimes.filter((t) => stretches.some(([a, b]) => t >= a && t <= b)).length;
if (countedSteps > 0) {
  console.log(
    `young-generation GCs after step 1000: ${minorGCs} in ${countedSteps} steps (${((1000 * minorGCs) / countedSteps).toFixed(1)} per 1000 steps; a step that allocated nothing would cause none)`,
  );
}
if (heapGrowth > LIMIT_MB || bufferGrowth > LIMIT_MB || wasmGrowth > LIMIT_MB) {
  console.error("heap-flat: memory grows during training");
  process.exit(1);
}
