// First half of `npm run bench`: core overhead and kernel throughput (the side-by-side peer
// comparison, peers/run-peers.ts, runs after it).

import { runConvThroughput } from "./conv-throughput.js";
import { formatRows, runCoreOverhead } from "./core-overhead.js";

console.log("## Core overhead and kernel throughput\n");
console.log(formatRows([...runCoreOverhead(), ...runConvThroughput()]));
