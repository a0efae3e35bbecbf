// Entry point of the peer benchmark (`npm run bench -- peers`): Koubai against
// TF.js (cpu, wasm) and jax-js (wasm, jit) on identical inputs. For each workload every framework
// first computes its outputs, which must agree with Koubai's, then is warmed up and timed.
// Prints one markdown table and writes bench/results/peers.json.
// Options: --workloads=bn,matmul,mlp128,mlp16 and --frameworks=koubai,tfjs-cpu,... select subsets.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelThreadsAvailable, setKernelThreads } from "@koubai/core";
import { makeBatchNormInputs, makeCnnInputs, makeMatmulInputs, makeMlpInputs } from "./inputs.js";
import { jaxFramework } from "./jax.js";
import {
  koubaiCompiledFramework,
  koubaiFramework,
  koubaiFusedFramework,
  koubaiThreadsFramework,
} from "./koubai.js";
import {
  type Case,
  compareOutputs,
  type Framework,
  type Outputs,
  type TimingOptions,
  timeInterleaved,
} from "./measure.js";
import { plainJsFramework } from "./plain-js.js";
import { markdownHeader, markdownTable, type Report, type ResultRow } from "./report.js";
import { tfjsFramework } from "./tfjs.js";
import { torchFramework } from "./torch.js";

const here = dirname(fileURLToPath(import.meta.url));

interface Workload {
  id: string;
  label: string;
  /** Floating-point operations per timed step, where a GFLOP/s figure means something. */
  flops?: number;
  /** Bound on the scale-free output error against the reference (see compareOutputs). */
  tolerance: number;
  /** Sets the workload up in `framework`; undefined when the framework does not run it. */
  open(framework: Framework): Promise<Case> | undefined;
}

/** Builds a workload's inputs on first use only, then hands every framework the same arrays. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

function workloads(): Workload[] {
  const bn = once(() => makeBatchNormInputs(4096, 1024));
  const mm = once(() => makeMatmulInputs(1024));
  const cnn = once(() => makeCnnInputs(64));
  const mlp = (batch: number): Workload => {
    const inputs = once(() => makeMlpInputs(batch));
    return {
      id: `mlp${batch}`,
      label: `MLP train step, batch ${batch}`,
      // delta.g1 (BatchNorm γ after two steps, ~1e-3 moved off 1.0) amplifies float32 rounding
      // about a thousandfold. Against Koubai's same two steps in float64: Koubai float32 7e-5 at
      // batch 128 and 3e-5 at batch 16 (its float32 GEMM sums runs of 64 products; summing all
      // 784 in one float32 chain gave 5.5e-3); TF.js wasm and jax-js differ from Koubai by 8e-5.
      tolerance: 1e-3,
      open: (f) => f.mlp?.(inputs()),
    };
  };
  return [
    {
      id: "bn",
      label: "BatchNorm fwd+bwd [4096, 1024]",
      tolerance: 1e-3,
      open: (f) => f.batchNorm?.(bn()),
    },
    {
      id: "matmul",
      label: "matmul 1024×1024",
      flops: 2 * 1024 ** 3,
      tolerance: 1e-4,
      open: (f) => f.matmul?.(mm()),
    },
    mlp(128),
    mlp(16),
    {
      id: "cnn",
      label: "CNN train step (the cnn example), batch 64",
      // Two SGD steps through two BatchNorm2d layers, as the MLP: float32 rounding is amplified
      // in the deltas of the BatchNorm weights.
      tolerance: 1e-3,
      open: (f) => f.cnn?.(cnn()),
    },
  ];
}

/** Timing settings: a time budget per case keeps slow peers (TF.js cpu BatchNorm) to few runs. */
const TIMING: TimingOptions & { rounds: number } = {
  warmup: 2,
  minRepeats: 3,
  maxRepeats: 200,
  budgetMs: 2500,
  rounds: 10,
};

function option(name: string): string[] | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3).split(",");
}

function packageVersion(entry: string, name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(entry));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (manifest.name === name) return manifest.version as string;
    } catch {}
  }
  throw new Error(`run-peers: cannot find the package.json of ${name}`);
}

/** The Koubai package(s) that ran, at which commit, with `detail` on the BatchNorm path. */
function koubaiVersion(pkg: "core" | "layers", detail: string): string {
  const manifest = JSON.parse(
    readFileSync(join(here, `../../packages/${pkg}/package.json`), "utf8"),
  );
  let commit = "unknown commit";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here }).toString().trim();
  } catch {}
  return `@koubai/${pkg} ${manifest.version} (${commit}, WebAssembly SIMD kernels (GEMM, fused BatchNorm, SGD) with JS elsewhere, ${detail})`;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 120);
}

/** A workload opened in one framework and checked, ready to be timed (or its failure). */
interface Opened {
  framework: Framework;
  row: ResultRow;
  opened?: Case;
  /** Untimed runs before timing: none when the check alone took over a second. */
  warmup: number;
}

async function openCase(
  workload: Workload,
  framework: Framework,
  reference: Outputs | undefined,
): Promise<{ entry: Opened; outputs?: Outputs } | undefined> {
  const row: ResultRow = { workload: workload.label, framework: framework.name };
  const opening = workload.open(framework);
  if (opening === undefined) return undefined;
  let opened: Case | undefined;
  try {
    opened = await opening;
    const started = performance.now();
    const outputs = await opened.check();
    const checkMs = performance.now() - started;
    if (reference !== undefined)
      row.agreement = compareOutputs(reference, outputs, workload.tolerance);
    const warmup = checkMs > 1000 ? 0 : TIMING.warmup;
    return { entry: { framework, row, opened, warmup }, outputs };
  } catch (error) {
    row.error = errorText(error);
    opened?.dispose();
    return { entry: { framework, row, warmup: 0 } };
  }
}

/**
 * The frameworks in batches that can be open together: each batch holds at most one framework
 * of an exclusive group (the first batch holds Koubai, the reference).
 */
function batches(frameworks: Framework[]): Framework[][] {
  const out: Framework[][] = [];
  for (const framework of frameworks) {
    const group = framework.exclusiveGroup;
    let batch = out.find((b) => group === undefined || b.every((f) => f.exclusiveGroup !== group));
    if (batch === undefined) {
      batch = [];
      out.push(batch);
    }
    batch.push(framework);
  }
  return out;
}

/**
 * Checks every framework on `workload` against the first one's outputs, then times each batch
 * of frameworks together (see timeInterleaved).
 */
async function measureWorkload(workload: Workload, frameworks: Framework[]): Promise<ResultRow[]> {
  const reference: { outputs?: Outputs } = {};
  const entries: Opened[] = [];
  for (const batch of batches(frameworks))
    entries.push(...(await timeBatch(workload, batch, reference)));
  const koubaiMs = entries.find((e) => e.framework.name === "koubai")?.row.timing?.medianMs;
  for (const { row } of entries) {
    if (row.timing !== undefined && koubaiMs !== undefined)
      row.timeVsKoubai = row.timing.medianMs / koubaiMs;
    const ms = row.timing?.medianMs.toFixed(1) ?? row.error;
    console.error(`  ${workload.label} / ${row.framework}: ${ms} ms`);
  }
  return entries.map((e) => e.row);
}

async function timeBatch(
  workload: Workload,
  frameworks: Framework[],
  reference: { outputs?: Outputs },
): Promise<Opened[]> {
  const entries: Opened[] = [];
  for (const framework of frameworks) {
    const result = await openCase(workload, framework, reference.outputs);
    if (result === undefined) continue;
    reference.outputs ??= result.outputs;
    entries.push(result.entry);
  }
  const timed = entries.filter((e) => e.opened !== undefined);
  try {
    const timings = await timeInterleaved(
      timed.map((e) => () => e.opened?.step()),
      timed.map((e) => e.warmup),
      TIMING,
    );
    timed.forEach((e, i) => {
      e.row.timing = timings[i];
      if (workload.flops !== undefined) e.row.gflops = workload.flops / (timings[i].medianMs * 1e6);
    });
  } catch (error) {
    for (const e of timed) e.row.error ??= errorText(error);
  } finally {
    for (const e of timed) e.opened?.dispose();
  }
  return entries;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadavgStart = os.loadavg();
  // KOUBAI_KERNEL_THREADS=n runs Koubai's large matmuls on n threads (core's setKernelThreads).
  const kernelThreads = Number(process.env.KOUBAI_KERNEL_THREADS ?? "1");
  setKernelThreads(kernelThreads);
  const chosenWorkloads = option("workloads");
  const chosenFrameworks = option("frameworks");
  const torch = await torchFramework();
  const frameworks: Framework[] = [
    koubaiFramework(
      koubaiVersion("layers", "default BatchNorm1d/2d, composed from core primitives"),
    ),
    koubaiFusedFramework(koubaiVersion("layers", "BatchNorm1d/2d with fused: true")),
    koubaiCompiledFramework(
      koubaiVersion("core", "the default layers' step under compile()"),
      false,
    ),
    koubaiCompiledFramework(koubaiVersion("core", "fused: true, step under compile()"), true),
    // The same with its large matmuls on two threads, where the machine has two cores.
    ...(kernelThreadsAvailable() && os.availableParallelism() >= 2 && kernelThreads === 1
      ? [koubaiThreadsFramework(koubaiVersion("layers", "fused BatchNorm, 2 kernel threads"), 2)]
      : []),
    plainJsFramework(),
    await tfjsFramework("wasm"),
    await jaxFramework(packageVersion("@jax-js/jax", "@jax-js/jax")),
    ...(torch === undefined ? [] : [torch.framework]),
    // Last: it shares TF.js's global backend with tfjs-wasm, so it is timed in its own rounds.
    await tfjsFramework("cpu"),
  ].filter((f) => chosenFrameworks === undefined || chosenFrameworks.includes(f.name));
  if (torch === undefined) {
    console.error(
      "PyTorch: not measured (Debian's python3-torch is not installed: apt-get install python3-torch)",
    );
  }
  const results: ResultRow[] = [];
  for (const workload of workloads()) {
    if (chosenWorkloads !== undefined && !chosenWorkloads.includes(workload.id)) continue;
    results.push(...(await measureWorkload(workload, frameworks)));
  }
  const cpus = os.cpus();
  const report: Report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: { count: cpus.length, model: cpus[0]?.model ?? "unknown" },
    loadavgStart,
    loadavgEnd: os.loadavg(),
    versions: Object.fromEntries(frameworks.map((f) => [f.name, f.version])),
    reference: frameworks[0]?.name ?? "none",
    notes: [
      "Same seeded float32 inputs in every framework; outputs checked against the reference before timing.",
      "Medians of timed repeats after warm-up; each case stops after 200 runs or 2.5 s of timed runs (at least 3).",
      "The frameworks of a workload are timed in 10 interleaved rounds (an untimed run, then up to 20 timed runs or 0.25 s each, the order rotating every round), so a noisy stretch of the shared machine affects all of them alike; TF.js cpu and wasm share one global backend, so tfjs-cpu runs in a second set of rounds after the others.",
      "BatchNorm: training-mode BatchNorm forward plus backward with a given upstream gradient. koubai: the layers package's default BatchNorm1d (composed from core primitives, autograd derives the gradient); koubai-fused: BatchNorm1d({ fused: true }); pytorch: F.batch_norm, the native kernel of nn.BatchNorm1d (Koubai and PyTorch also update [C] running statistics); jax-js and TF.js: a composite (mean, biased variance, rsqrt, affine), jax-js as the gradient of sum(y * gradOut); plain-js: loops over Float32Arrays with the closed-form backward.",
      "MLP: 784-256-BN-ReLU-256-BN-ReLU-10, softmax cross-entropy, SGD momentum 0.9 (PyTorch form), loss read back every step; BatchNorm as in the BatchNorm workload (Koubai's layers, default or fused; PyTorch's native kernel; composites in jax-js and TF.js).",
      "koubai-fused: matmul is the same kernel as koubai's, so not repeated. koubai-compile and koubai-fused-compile: the same code with the step (forward, backward, optimizer step) wrapped in compile(): traced on the first call, replayed afterwards, with runs of elementwise calls fused into one pass each and the arrays of dead intermediates reused across calls.",
      `Koubai kernel threads: ${kernelThreads} (KOUBAI_KERNEL_THREADS; matmuls of at least 2^23 multiply-adds split over threads). koubai-fused-2t is koubai-fused with 2 kernel threads (the calling thread and one worker); every peer runs single-threaded.`,
      "time / Koubai's divides by the median of koubai (the default layers) on the same workload.",
      "CNN: the cnn example's network, Conv(1→16, 3, pad 1)-BN-ReLU-MaxPool(2) → Conv(16→32)-BN-ReLU-MaxPool(2) → Linear(1568 → 10), batch 64, SGD momentum 0.9; koubai and pytorch build it from their layers (BatchNorm2d as each one's default: Koubai's composite, PyTorch's native kernel), koubai-fused with BatchNorm2d({ fused: true }); jax-js with lax.convGeneralDilated, TF.js with conv2d in NHWC (its native layout).",
      "pytorch: Debian's python3-torch on one thread in a child process; each step includes a pipe round trip (see its version line). Debian builds it with BLAS_INFO=generic (torch.__config__.show()), so its float32 matmuls run on a reference BLAS here; its MLP batch-128 delta.g1 differs from the reference by about 6e-3 (the check reports it), the other outputs agree.",
    ],
    results,
    totalSeconds: (performance.now() - started) / 1000,
  };
  console.log(markdownHeader(report));
  console.log();
  console.log(markdownTable(report));
  const out = join(here, "../results/peers.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nWrote ${out} (${report.totalSeconds.toFixed(0)} s)`);
  torch?.close();
}

await main();
