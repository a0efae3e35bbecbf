// Multi-threaded GEMM (Node only, off by default): the shared-memory build of gemm.wat
// (gemm-shared-wasm-module.ts) is instantiated on the main thread and in n - 1 worker_threads,
// all on one `WebAssembly.Memory({ shared: true })`. gemm-wasm.ts packs the operands into that
// memory as usual; the kernel call is then cut into chunks of C's rows (multiples of the 4-row
// tile) that the main thread and the woken workers claim one at a time from a shared ticket, so
// a worker that gets no core (the machine is shared) costs nothing: the main thread takes its
// chunks. The main thread then waits with Atomics.wait for chunks still running elsewhere. Each
// C element goes through the same tile code as in the single-threaded call, so results are
// bit-identical. Browsers are not supported: their main thread may not block, so
// setKernelThreads(n > 1) throws there.

import { GEMM_SHARED_WASM_BASE64 } from "./gemm-shared-wasm-module.js";
import type { GemmExports, GemmFn } from "./gemm-wasm.js";
import { type ControlSlots, type GemmWorkerData, gemmWorker } from "./gemm-worker.js";
import { decodeBase64 } from "./wasm-module.js";

// The control array (Int32, shared): the job id (1..32767; -1 stops the workers), the ticket
// (job << 16 | next chunk), chunks done, a failure flag, then the job: element size, chunk
// count, rows per chunk, and the 11 arguments of the kernel call.
const JOB = 0;
const TICKET = 1;
const COMPLETED = 2;
const FAILED = 3;
const SIZE = 4;
const CHUNKS = 5;
const CHUNK_ROWS = 6;
const ARGS = 7;
const CONTROL_LENGTH = ARGS + 11;
/** How long the main thread waits for a chunk claimed by a worker before giving up (ms). */
const TIMEOUT_MS = 60_000;

/** The control array's layout, handed to the workers (gemm-worker.ts) with their data. */
const SLOTS: ControlSlots = {
  job: JOB,
  ticket: TICKET,
  completed: COMPLETED,
  failed: FAILED,
  size: SIZE,
  chunks: CHUNKS,
  chunkRows: CHUNK_ROWS,
  args: ARGS,
};

/**
 * What an eval'd worker runs: gemmWorker's own source (type-checked and linted in
 * gemm-worker.ts, self-contained), called with the worker's data.
 */
const WORKER_SOURCE = `(${gemmWorker.toString()})(require("node:worker_threads").workerData);`;

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

let mainThreadClaims = true;

/**
 * Whether the calling thread claims chunks too (internal: tests turn it off so that the workers
 * must compute every chunk).
 */
export function setMainThreadClaims(claims: boolean): void {
  mainThreadClaims = claims;
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
  job: number;
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
  const memory = new WebAssembly.Memory({
    initial: 1,
    maximum: SHARED_MEMORY_BYTES / 65536,
    shared: true,
  });
  const module = new WebAssembly.Module(bytes);
  const own = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Omit<
    GemmExports,
    "memory"
  >;
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH * 4));
  const workers: NodeWorker[] = [];
  for (let w = 1; w < n; w++) {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        memory,
        bytes,
        control: control.buffer as SharedArrayBuffer,
        slots: SLOTS,
      } satisfies GemmWorkerData,
    });
    // Idle workers block in Atomics.wait; unref lets the process exit regardless.
    worker.unref();
    workers.push(worker);
  }
  const p: Pool = { threads: n, engine: { memory, ...own }, workers, control, job: 0 };
  // The engine gemm-wasm.ts drives: the products shared out over the threads; packing, a copy
  // at memory speed, stays on the calling thread (the module's own entry points).
  p.engine = {
    ...p.engine,
    gemmF32: (...args) => runChunks(p, own.gemmF32, 4, args),
    gemmF64: (...args) => runChunks(p, own.gemmF64, 8, args),
  };
  return p;
}

/**
 * Cuts C's mp rows into about 4 chunks per thread (at least 8 rows each, multiples of 4), posts
 * the job, claims chunks here like the workers do, then waits for chunks claimed elsewhere.
 */
function runChunks(p: Pool, own: GemmFn, size: number, args: Parameters<GemmFn>): void {
  const [a, aPanel, aRow, aK, b, bPanel, bK, c, mp, np, k] = args;
  const chunkRows = Math.max(8, Math.ceil(mp / (4 * p.threads) / 4) * 4);
  const chunks = Math.ceil(mp / chunkRows);
  const ctl = p.control;
  p.job = (p.job % 32767) + 1;
  const job = p.job;
  ctl[SIZE] = size;
  ctl[CHUNKS] = chunks;
  ctl[CHUNK_ROWS] = chunkRows;
  for (let i = 0; i < 11; i++) ctl[ARGS + i] = args[i];
  Atomics.store(ctl, COMPLETED, 0);
  Atomics.store(ctl, FAILED, 0);
  Atomics.store(ctl, TICKET, job << 16);
  Atomics.store(ctl, JOB, job);
  Atomics.notify(ctl, JOB);
  let failure: unknown = null;
  while (mainThreadClaims) {
    const ticket = Atomics.load(ctl, TICKET);
    const chunk = ticket & 0xffff;
    if (chunk >= chunks) break;
    if (Atomics.compareExchange(ctl, TICKET, ticket, ticket + 1) !== ticket) continue;
    const r0 = chunk * chunkRows;
    const rows = Math.min(chunkRows, mp - r0);
    try {
      own(a + r0 * aPanel, aPanel, aRow, aK, b, bPanel, bK, c + r0 * np * size, rows, np, k);
    } catch (error) {
      failure = error;
    }
    Atomics.add(ctl, COMPLETED, 1);
  }
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const done = Atomics.load(ctl, COMPLETED);
    if (done === chunks) break;
    if (Date.now() > deadline) {
      stopPool();
      throw new Error(`matmul: kernel workers did not finish within ${TIMEOUT_MS} ms`);
    }
    Atomics.wait(ctl, COMPLETED, done, 100);
  }
  if (failure !== null) throw failure;
  if (ctl[FAILED] !== 0) throw new Error("matmul: a kernel worker failed (WebAssembly trap)");
}

function stopPool(): void {
  if (pool === null) return;
  Atomics.store(pool.control, JOB, -1);
  Atomics.notify(pool.control, JOB);
  for (const worker of pool.workers) void worker.terminate();
  pool = null;
}

/**
 * Sets how many threads large float matmuls use (default 1: the single-threaded kernel, no
 * workers). With n > 1, products of at least 2^23 multiply-adds (m·n·k, e.g. 204³) on the
 * WebAssembly backend share C's rows out between the calling thread and n - 1 worker_threads on
 * one shared WebAssembly memory (the calling thread blocks until done); results are
 * bit-identical to n = 1. The workers start with the first such product; going back to 1 leaves
 * them asleep, so switching between 1 and the same n again costs nothing (they never keep the
 * process alive). Their shared memory stays as large as the largest threaded product so far,
 * until another n > 1 replaces the pool or the process exits. Node only (≥ 20.16): throws where worker_threads is unavailable (browsers),
 * and for n outside 1..64 or not an integer.
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
  // A pool of another size is replaced; at n = 1 the pool (if any) just sleeps.
  if (n > 1 && pool !== null && pool.threads !== n) stopPool();
  threads = n;
}

/** The thread count set with {@link setKernelThreads}. */
export function getKernelThreads(): number {
  return threads;
}

/** The shared memory's maximum (16384 pages, as in the module's import). */
const SHARED_MEMORY_BYTES = 16384 * 65536;

/**
 * The engine gemm-wasm.ts should run an m·n·k product on: the shared-memory one when threads
 * are on and the product is large enough (and its padded float64 operands fit in the shared
 * memory's 1 GiB), else null (the single-threaded module).
 */
export function threadedGemm(m: number, n: number, k: number): GemmExports | null {
  if (threads === 1 || m * n * k < minMultiplyAdds || m < 8) return null;
  // Padded A, B and C plus the raw copy of B (or of A, on the Cᵀ path) that gemm-wasm.ts packs
  // in the module, all float64 at worst; padding is at most 8 rows or columns either way.
  const elements = (m + 8) * k + (n + 8) * k + (m + 8) * (n + 8) + Math.max(m, n) * k;
  if (elements * 8 > SHARED_MEMORY_BYTES) return null;
  if (pool === null) pool = startPool(threads);
  return pool.engine;
}
