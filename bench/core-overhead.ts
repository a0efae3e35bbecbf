// Core micro-benchmarks: the fixed cost of one tiny recorded op (the issue's target is ≤ 2 µs for
// adding two [4,4] float32 tensors that require grad), and kernel throughput for a 1M-element
// elementwise op, a 1M-element sum, and matmul GFLOP/s for 256² and 1024² ("auto" runs the
// WebAssembly SIMD GEMM at these sizes; the "js" row is the blocked JS fallback). Each figure is
// the median of several repeats; nothing here asserts, it reports.

import {
  add,
  kernelThreadsAvailable,
  matmul,
  noGrad,
  randn,
  setKernelBackend,
  setKernelThreads,
  sum,
  type Tensor,
} from "@koubai/core";

export interface BenchRow {
  name: string;
  /** Median time of one call, in microseconds. */
  medianMicros: number;
  /** Human-readable throughput derived from the median, or "" when not meaningful. */
  throughput: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median over `repeats` of the mean time per call of `fn` run `inner` times, in µs. */
function measure(fn: () => unknown, inner: number, repeats: number): number {
  for (let i = 0; i < inner; i++) fn(); // warm-up: let V8 optimise the path first
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    samples.push(elapsed / inner);
  }
  return median(samples);
}

export function runCoreOverhead(): BenchRow[] {
  const rows: BenchRow[] = [];

  const a = randn([4, 4]).requiresGrad_(true);
  const b = randn([4, 4]).requiresGrad_(true);
  let sink: Tensor | null = null;
  const tiny = measure(
    () => {
      sink = add(a, b);
    },
    20_000,
    9,
  );
  rows.push({
    name: "add [4,4] float32, requiresGrad (records graph)",
    medianMicros: tiny,
    throughput: "",
  });

  const tinyNoGrad = noGrad(() =>
    measure(
      () => {
        sink = add(a, b);
      },
      20_000,
      9,
    ),
  );
  rows.push({ name: "add [4,4] float32 inside noGrad", medianMicros: tinyNoGrad, throughput: "" });

  const n = 1 << 20;
  const x = randn([n]);
  const y = randn([n]);
  const elementwise = measure(
    () => {
      sink = add(x, y);
    },
    5,
    7,
  );
  rows.push({
    name: "add 1M float32",
    medianMicros: elementwise,
    throughput: `${(n / elementwise / 1000).toFixed(2)} G elements/s`,
  });

  const reduction = measure(
    () => {
      sink = sum(x);
    },
    5,
    7,
  );
  rows.push({
    name: "sum of 1M float32",
    medianMicros: reduction,
    throughput: `${(n / reduction / 1000).toFixed(2)} G elements/s`,
  });

  // [size, dtype, backend, repeats, kernel threads]; threads 2 only where worker_threads exist.
  const gemmCases: [number, "float32" | "float64", "auto" | "js", number, number][] = [
    [256, "float32", "auto", 7, 1],
    [256, "float32", "js", 5, 1],
    [256, "float64", "auto", 7, 1],
    [1024, "float32", "auto", 5, 1],
  ];
  if (kernelThreadsAvailable()) gemmCases.push([1024, "float32", "auto", 5, 2]);
  for (const [size, dtype, backend, repeats, threads] of gemmCases) {
    setKernelBackend(backend);
    setKernelThreads(threads);
    const m = randn([size, size], { dtype });
    const w = randn([size, size], { dtype });
    const micros = measure(
      () => {
        sink = matmul(m, w);
      },
      // With threads, the first call also starts the workers.
      size >= 1024 ? threads : 3,
      repeats,
    );
    rows.push({
      name: `matmul ${size}×${size} ${dtype} (backend ${backend}${threads > 1 ? `, ${threads} threads` : ""})`,
      medianMicros: micros,
      throughput: `${((2 * size ** 3) / micros / 1000).toFixed(2)} GFLOP/s`,
    });
  }
  setKernelBackend("auto");
  setKernelThreads(1);

  if (sink === null) throw new Error("benchmark produced nothing");
  return rows;
}

export function formatRows(rows: readonly BenchRow[]): string {
  const lines = ["| benchmark | median per call | throughput |", "| --- | ---: | --- |"];
  for (const row of rows) {
    const time =
      row.medianMicros >= 1000
        ? `${(row.medianMicros / 1000).toFixed(2)} ms`
        : `${row.medianMicros.toFixed(2)} µs`;
    lines.push(`| ${row.name} | ${time} | ${row.throughput} |`);
  }
  return lines.join("\n");
}
