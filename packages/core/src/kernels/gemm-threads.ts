// Multi-threaded GEMM (Node only, off by default): the shared-memory build of gemm.wat
// (gemm-shared-wasm-module.ts) is instantiated on the main thread and in n - 1 worker_threads,
// all on one `WebAssembly.Memory({ shared: true })`. gemm-wasm.ts packs the operands into that
// memory as usual; the kernel call is then split into bands of C's rows (multiples of the 4-row
// tile), one per thread, and the main thread computes the first band and waits for the others
// with Atomics.wait. Each C element goes through the same tile code as in the single-threaded
// call, so results are bit-identical. Browsers are not supported: their main thread may not
// block, so setKernelThreads(n > 1) throws there.

import { GEMM_SHARED_WASM_BASE64 } from "./gemm-shared-wasm-module.js";
import { decodeBase64, type GemmExports, type GemmFn } from "./gemm-wasm.js";

/** Int32 slots per worker in the control array: seq, done, failed, kind, 11 arguments. */
const SLOTS = 16;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const KIND = 3;
const ARGS = 4;
/** How long the main thread waits for a band before giving up on the workers (ms). */
const TIMEOUT_MS = 60_000;

// The worker: instantiates the module on the shared memory, then loops: wait for a new seq,
// run the band whose arguments are in its slots, publish done = seq (and failed on a trap).
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { memory, bytes, control, base } = workerData;
const ctl = new Int32Array(control);
let seen = 0;
let gemm = null;
try {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  gemm = instance.exports;
} catch {}
for (;;) {
  Atomics.wait(ctl, base + ${SEQ}, seen);
  seen = Atomics.load(ctl, base + ${SEQ});
  if (seen < 0) break;
  let failed = 0;
  try {
    const run = ctl[base + ${KIND}] === 4 ? gemm.gemmF32 : gemm.gemmF64;
    const a = [];
    for (let i = 0; i < 11; i++) a.push(ctl[base + ${ARGS} + i]);
    run(...a);
  } catch {
    failed = 1;
  }
  Atomics.store(ctl, base + ${FAILED}, failed);
  Atomics.store(ctl, base + ${DONE}, seen);
  Atomics.notify(ctl, base + ${DONE});
}
`;

/**
 * Below this many multiply-adds (m·n·k) a product stays on one thread: waking a worker costs
 * tens of µs. Measured on the 2-core dev machine (medians, 1 vs 2 threads): [16,784]·[784,256]
 * (3.2M) 234 vs 277 µs, 128³ (2.1M) 150 vs 186 µs, [64,784]·[784,256] (12.8M) 769 vs 559 µs,
 * [128,784]·[784,256] (25.7M) 1558 vs 965 µs.
 */
export const THREADS_MIN_MULTIPLY_ADDS = 1 << 23;

let minMultiplyAdds = THREADS_MIN_MULTIPLY_ADDS;

/** Overrides {@link THREADS_MIN_MULTIPLY_ADDS} (internal: tests thread small products). */
export function setThreadsMinMultiplyAdds(count: number): void {
  minMultiplyAdds = count;
}

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
type WorkerConstructor = new (
  source: string,
  options: { eval: true; workerData: unknown },
) => NodeWorker;

interface Pool {
  threads: number;
  engine: GemmExports;
  workers: NodeWorker[];
  control: Int32Array;
  seq: number;
}

let threads = 1;
let pool: Pool | null = null;

/** node:worker_threads' Worker, looked up at run time (none in browsers). */
function workerConstructor(): WorkerConstructor | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const module = proc?.getBuiltinModule?.("node:worker_threads") as
    | { Worker?: WorkerConstructor }
    | undefined;
  return module?.Worker ?? null;
}

/** True when multi-threaded matmul can run here (Node ≥ 20.16 with worker_threads). */
export function kernelThreadsAvailable(): boolean {
  return workerConstructor() !== null && typeof SharedArrayBuffer === "function";
}

/** Starts n - 1 workers on a new shared memory. */
function startPool(n: number): Pool {
  const Worker = workerConstructor();
  if (Worker === null) throw new Error("setKernelThreads: worker_threads is not available here");
  const bytes = decodeBase64(GEMM_SHARED_WASM_BASE64);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
  const module = new WebAssembly.Module(bytes);
  const own = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as {
    gemmF32: GemmFn;
    gemmF64: GemmFn;
  };
  const control = new Int32Array(new SharedArrayBuffer(n * SLOTS * 4));
  const workers: NodeWorker[] = [];
  for (let w = 1; w < n; w++) {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { memory, bytes, control: control.buffer, base: w * SLOTS },
    });
    // Idle workers block in Atomics.wait; unref lets the process exit regardless.
    worker.unref();
    workers.push(worker);
  }
  const p: Pool = { threads: n, engine: { memory, ...own }, workers, control, seq: 0 };
  // The engine gemm-wasm.ts drives: the same entry points, split into bands over the threads.
  p.engine = {
    memory,
    gemmF32: (...args) => runBands(p, own.gemmF32, 4, args),
    gemmF64: (...args) => runBands(p, own.gemmF64, 8, args),
  };
  return p;
}

/**
 * Splits C's mp rows into one band per thread (multiples of 4 rows, as even as possible),
 * hands bands 1.. to the workers, runs band 0 here and waits for the rest.
 */
function runBands(p: Pool, own: GemmFn, size: number, args: Parameters<GemmFn>): void {
  const [a, aPanel, aRow, aK, b, bPanel, bK, c, mp, np, k] = args;
  const tiles = mp / 4;
  const bands = Math.min(p.threads, tiles);
  const start = (t: number) => Math.floor((t * tiles) / bands) * 4;
  const ctl = p.control;
  p.seq++;
  for (let t = 1; t < bands; t++) {
    const base = t * SLOTS;
    const r0 = start(t);
    const rows = start(t + 1) - r0;
    const band = [
      a + r0 * aPanel,
      aPanel,
      aRow,
      aK,
      b,
      bPanel,
      bK,
      c + r0 * np * size,
      rows,
      np,
      k,
    ];
    ctl[base + KIND] = size;
    for (let i = 0; i < band.length; i++) ctl[base + ARGS + i] = band[i];
    Atomics.store(ctl, base + SEQ, p.seq);
    Atomics.notify(ctl, base + SEQ);
  }
  own(a, aPanel, aRow, aK, b, bPanel, bK, c, start(1), np, k);
  let failed = false;
  for (let t = 1; t < bands; t++) {
    const base = t * SLOTS;
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(ctl, base + DONE);
      if (done === p.seq) break;
      if (Date.now() > deadline) {
        stopPool();
        throw new Error(`matmul: kernel worker ${t} did not finish within ${TIMEOUT_MS} ms`);
      }
      Atomics.wait(ctl, base + DONE, done, 100);
    }
    if (ctl[base + FAILED] !== 0) failed = true;
  }
  if (failed) throw new Error("matmul: a kernel worker failed (WebAssembly trap)");
}

function stopPool(): void {
  if (pool === null) return;
  for (let t = 1; t < pool.threads; t++) {
    Atomics.store(pool.control, t * SLOTS + SEQ, -1);
    Atomics.notify(pool.control, t * SLOTS + SEQ);
  }
  for (const worker of pool.workers) void worker.terminate();
  pool = null;
}

/**
 * Sets how many threads large float matmuls use (default 1: the single-threaded kernel, no
 * workers). With n > 1, products of at least 2^23 multiply-adds (m·n·k, e.g. 204³) on
 * the WebAssembly backend split C's rows over the calling thread and n - 1 worker_threads that
 * share one WebAssembly memory; results are bit-identical to n = 1. Node only (≥ 20.16): throws
 * where worker_threads is unavailable (browsers), and for n outside 1..64 or not an integer.
 *
 * @example
 * setKernelThreads(2); // 1024² float32 matmul on two cores
 */
export function setKernelThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(`setKernelThreads: expected an integer in 1..64, got ${n}`);
  }
  if (n > 1 && !kernelThreadsAvailable()) {
    throw new Error(
      "setKernelThreads: threads need Node's worker_threads (Node >= 20.16); unavailable here",
    );
  }
  if (n === threads) return;
  stopPool();
  threads = n;
}

/** The thread count set with {@link setKernelThreads}. */
export function getKernelThreads(): number {
  return threads;
}

/**
 * The engine gemm-wasm.ts should run an m·n·k product on: the shared-memory one when threads
 * are on and the product is large enough, else null (the single-threaded module).
 */
export function threadedGemm(m: number, n: number, k: number): GemmExports | null {
  if (threads === 1 || m * n * k < minMultiplyAdds || m < 8) return null;
  if (pool === null) pool = startPool(threads);
  return pool.engine;
}
