// The code each kernel worker thread of gemm-threads.ts runs. `gemmWorker` must be
// self-contained (no imports, no module-level names): gemm-threads.ts starts it from its source
// text (`gemmWorker.toString()`) in an eval'd worker, so it is type-checked and linted here but
// never imported at run time inside the worker. Browsers never start it (threads are Node-only).

/** The positions of the shared control array (Int32, see gemm-threads.ts) the worker reads. */
export interface ControlSlots {
  /** The job id (1..32767); -1 stops the workers. */
  readonly job: number;
  /** `job << 16 | next chunk`: claimed with compareExchange. */
  readonly ticket: number;
  /** Chunks done, counted up and notified by whoever ran one. */
  readonly completed: number;
  /** Set to 1 when a chunk trapped. */
  readonly failed: number;
  /** Bytes per element: 4 (float32) or 8 (float64). */
  readonly size: number;
  /** The job's chunk count. */
  readonly chunks: number;
  /** Rows of C per chunk. */
  readonly chunkRows: number;
  /** The first of the 11 arguments of the kernel call. */
  readonly args: number;
}

/** What gemm-threads.ts hands each worker. */
export interface GemmWorkerData {
  /** The shared memory every thread's module instance runs on. */
  readonly memory: WebAssembly.Memory;
  /** The shared-memory build of gemm.wat. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** The control array's buffer. */
  readonly control: SharedArrayBuffer;
  readonly slots: ControlSlots;
}

type GemmCall = (...args: number[]) => void;

/**
 * Instantiates the module on the shared memory, then sleeps until the job id changes, claims
 * chunks of that job until none are left, and goes back to sleep. Claiming compares the whole
 * ticket, job id included, so a late worker never takes a chunk of a newer job with the
 * arguments of an older one.
 */
export function gemmWorker({ memory, bytes, control, slots }: GemmWorkerData): void {
  const ctl = new Int32Array(control);
  const module = new WebAssembly.Module(bytes);
  const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<
    string,
    GemmCall
  >;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, slots.job, seen);
    const job = Atomics.load(ctl, slots.job);
    if (job < 0) break;
    seen = job;
    const run = ctl[slots.size] === 4 ? gemm.gemmF32 : gemm.gemmF64;
    const chunks = ctl[slots.chunks];
    const chunkRows = ctl[slots.chunkRows];
    const [a, aPanel, aRow, aK, b, bPanel, bK, c, mp, np, k] = ctl.slice(
      slots.args,
      slots.args + 11,
    );
    for (;;) {
      const ticket = Atomics.load(ctl, slots.ticket);
      const chunk = ticket & 0xffff;
      if (ticket >>> 16 !== job || chunk >= chunks) break;
      if (Atomics.compareExchange(ctl, slots.ticket, ticket, ticket + 1) !== ticket) continue;
      const r0 = chunk * chunkRows;
      const rows = Math.min(chunkRows, mp - r0);
      try {
        run(
          a + r0 * aPanel,
          aPanel,
          aRow,
          aK,
          b,
          bPanel,
          bK,
          c + r0 * np * ctl[slots.size],
          rows,
          np,
          k,
        );
      } catch {
        Atomics.store(ctl, slots.failed, 1);
      }
      Atomics.add(ctl, slots.completed, 1);
      Atomics.notify(ctl, slots.completed);
    }
  }
}
