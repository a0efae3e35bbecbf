// A new layer written twice (composite and customOp), checked against each other and against
// finite differences. Run: npm run example -- custom-layer

import {
  compareGradients,
  firstDisagreement,
  formatComparison,
  Generator,
  GradcheckError,
  gradcheck,
  graphListing,
  randn,
  type Tensor,
} from "@koubai/core";
import { isMain } from "../shared/is-main.js";
import { rmsNorm, rmsNormFused } from "./rms-norm.js";

/** Gradients of Σ(y ⊙ g) for a fixed random g, so every output element matters. */
function gradientsOf(
  layer: (x: Tensor, w: Tensor) => Tensor,
  x: Tensor,
  w: Tensor,
  g: Tensor,
): { y: Tensor; dx: Tensor; dw: Tensor } {
  const xs = x.detach().clone().requiresGrad_();
  const ws = w.detach().clone().requiresGrad_();
  const y = layer(xs, ws);
  y.mul(g).sum().backward();
  return { y, dx: xs.grad!, dw: ws.grad! };
}

export interface CustomLayerReport {
  table: string;
  allOk: boolean;
  gradcheckPassed: boolean;
  compositeNodes: number;
  fusedNodes: number;
}

/** Runs the whole comparison on [batch, dim] float64 inputs and returns what main prints. */
export function runCustomLayer(batch = 8, dim = 16): CustomLayerReport {
  const generator = new Generator(7);
  const x = randn([batch, dim], { dtype: "float64", generator }).mul(3).add(1);
  const w = randn([dim], { dtype: "float64", generator });
  const g = randn([batch, dim], { dtype: "float64", generator });
  const composite = gradientsOf(rmsNorm, x, w, g);
  const fused = gradientsOf(rmsNormFused, x, w, g);
  const rows = compareGradients(
    { y: [fused.y, composite.y], dx: [fused.dx, composite.dx], dw: [fused.dw, composite.dw] },
    { atol: 1e-12, rtol: 1e-10 },
  );
  let gradcheckPassed = true;
  try {
    const small = x.narrow(0, 0, 2).narrow(1, 0, 5).clone().requiresGrad_();
    gradcheck(rmsNormFused, [small, w.narrow(0, 0, 5).clone().requiresGrad_()]);
  } catch (error) {
    if (!(error instanceof GradcheckError)) throw error;
    console.error(error.message);
    gradcheckPassed = false;
  }
  const count = (y: Tensor) =>
    graphListing(y)
      .split("\n")
      .filter((l) => l.startsWith("%")).length;
  return {
    table: formatComparison(rows),
    allOk: firstDisagreement(rows) === undefined,
    gradcheckPassed,
    compositeNodes: count(rmsNorm(x.detach().clone().requiresGrad_(), w)),
    fusedNodes: count(rmsNormFused(x.detach().clone().requiresGrad_(), w)),
  };
}

function main(): void {
  const report = runCustomLayer();
  console.log("RMSNorm: y = w ⊙ x / sqrt(mean(x²) + ε), written two ways\n");
  console.log(
    `composite (autograd derives backward): ${report.compositeNodes} graph nodes; customOp with hand-written backward: ${report.fusedNodes} node\n`,
  );
  console.log("customOp vs composite, float64 [8, 16]:");
  console.log(report.table);
  console.log(
    `\ngradcheck (central differences, float64) on the customOp: ${report.gradcheckPassed ? "passed" : "FAILED"}`,
  );
  if (!report.allOk || !report.gradcheckPassed) process.exitCode = 1;
}

if (isMain(import.meta.url)) main();
