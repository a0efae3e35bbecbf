// Draws the computation graph of a tiny network with a BatchNorm and prints its backward pass.
// Run: npm run example -- graph   (writes out/graph.svg and out/graph.dot)

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { graphListing } from "@koubai/core";
import { instance } from "@viz-js/viz";
import { isMain } from "../shared/is-main.js";
import { shownPath } from "../shared/user-path.js";
import { formatSteps, runTinyNetwork } from "./graph.js";

/** Graphviz (compiled to WebAssembly) turns DOT into SVG without a system install. */
export async function renderDot(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}

async function main(): Promise<void> {
  const run = runTinyNetwork();
  console.log("x: [4, 3] -> Linear(3, 2) -> BatchNorm1d(2) -> ReLU -> mean\n");
  console.log("The graph, inputs first (%n are recorded ops):");
  console.log(graphListing(run.loss, { values: true, grads: true, maxValues: 4 }));
  console.log(`\nloss = ${run.loss.item().toFixed(6)}\n`);
  console.log("Backward pass, one recorded op at a time (g is the gradient that came in):");
  console.log(formatSteps(run.steps));
  const bias = run.model.namedParameters().find(([name]) => name === "0.bias")![1];
  console.log(
    `\nNote 0.bias.grad = [${Array.from(bias.grad!.toArray(), (v) => v.toExponential(1)).join(", ")}]: ` +
      "BatchNorm subtracts the batch mean, so a bias before it cannot change the loss.",
  );
  const outDir = join(import.meta.dirname, "..", "out");
  mkdirSync(outDir, { recursive: true });
  const dotFile = join(outDir, "graph.dot");
  const svgFile = join(outDir, "graph.svg");
  writeFileSync(dotFile, run.dot);
  writeFileSync(svgFile, await renderDot(run.dot));
  console.log(`\nWrote ${shownPath(svgFile)} and ${shownPath(dotFile)}`);
}

if (isMain(import.meta.url)) await main();
