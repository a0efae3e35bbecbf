// Entry point of `pnpm bench`: runs the benchmarks and prints markdown tables.

import { formatRows, runCoreOverhead } from "./core-overhead.js";

console.log("## Core overhead and kernel throughput\n");
console.log(formatRows(runCoreOverhead()));
