// `npm run bench [-- peers|heap|scratch|products] [options]`: the benchmarks in bench/.
//   npm run bench                  core's kernel table, then Koubai against its peers
//   npm run bench -- peers [--workloads=bn,matmul,mlp128,mlp16] [--frameworks=koubai,jax-js-wasm,...]
//   npm run bench -- heap [steps]  trains the MLP for 10,000 steps (or steps) and checks the heap
//   npm run bench -- scratch [e]   checks that a [1, 2^e] @ [2^e, 1] matmul keeps no memory after it
//   npm run bench -- products      times the MLP step's eight matrix products, each on its own
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const pnpmEntry = join(root, ".tools", "node_modules", "pnpm", "bin", "pnpm.cjs");
const scriptOf = { peers: "bench:peers", heap: "heap", scratch: "scratch", products: "products" };

const [first, ...rest] = process.argv.slice(2);
const sub = first !== undefined && !first.startsWith("-") ? first : undefined;
if (sub !== undefined && !(sub in scriptOf)) {
  console.error(
    `npm run bench: unknown benchmark "${sub}"; expected peers, heap, scratch or products, or nothing for all`,
  );
  process.exit(2);
}
const script = sub === undefined ? "bench" : scriptOf[sub];
const args = sub === undefined ? process.argv.slice(2) : rest;
const result = spawnSync(
  process.execPath,
  [pnpmEntry, "--silent", "--filter", "@koubai/bench", "run", script, ...args],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
