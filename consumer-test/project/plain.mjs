// Plain ESM in Node: prints the program's result as JSON.
import { run } from "./program.mjs";

console.log(JSON.stringify(run()));
