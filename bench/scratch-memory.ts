// Memory check for one-off large products: RSS after a forced GC, before and after a skinny
// matmul [1, 2^e] @ [2^e, 1] (e = 25 by default) on each kernel backend. WebAssembly memory can
// grow but never shrink, so scratch space kept by a module's shared instance would stay resident
// for the life of the process; this exits non-zero when RSS after the product (result dropped)
// exceeds RSS before it by more than LIMIT_MB. Operands are allocated before the first sample.
// Run: npm run bench -- scratch [e] [backends] at the root (node --expose-gc with tsx, in bench/).
// (backends: a comma-separated list of auto, wasm, js; default all three, each in this process,
// in that order).

import {
  getKernelBackend,
  type KernelBackend,
  matmul,
  randn,
  setKernelBackend,
} from "@koubai/core";

const LIMIT_MB = 80;
const exponent = Number(process.argv[2] ?? 25);
const backends = (process.argv[3] ?? "auto,wasm,js").split(",") as KernelBackend[];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("scratch-memory: run with node --expose-gc");
  process.exit(2);
}

/** RSS in MiB after forced GCs with pauses (backing stores are freed off-thread). */
async function rssAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage().rss / 2 ** 20;
}

const k = 2 ** exponent;
const a = randn([1, k]);
const b = randn([k, 1]);
let failed = false;
for (const backend of backends) {
  setKernelBackend(backend);
  const before = await rssAfterGc();
  const start = performance.now();
  let value = matmul(a, b).item();
  const ms = performance.now() - start;
  const after = await rssAfterGc();
  value = Math.round(value * 1000) / 1000;
  const grown = after - before;
  console.log(
    `[1, 2^${exponent}] @ [2^${exponent}, 1] on ${getKernelBackend().padEnd(4)}: ${ms.toFixed(0).padStart(5)} ms, value ${value}, RSS after GC ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after (${grown >= 0 ? "+" : ""}${grown.toFixed(0)} MiB)`,
  );
  if (grown > LIMIT_MB) failed = true;
}
if (failed) {
  console.error(`scratch-memory: a product kept more than ${LIMIT_MB} MiB after it returned`);
  process.exit(1);
}
