// Koubai's main job in miniature (~15 s): check a hand-derived backward pass three ways, catch a
// wrong one, then train a small network with it. Run: npm run demo (at the repository root).

import { formatComparison } from "@koubai/core";
import { diagnoseBuggyFormula } from "./batchnorm-gradients/diagnose.js";
import { bugCaught, formatRatioTable } from "./batchnorm-gradients/main.js";
import {
  type CaseResult,
  runCase,
  standardCases,
  TOLERANCE,
} from "./batchnorm-gradients/three-ways.js";
import { loadMnist } from "./mnist/data.js";
import { drawProgress } from "./mnist/progress.js";
import { train } from "./mnist/train.js";

type Pair = "handVsAutograd" | "autogradVsFiniteDiff" | "handVsFiniteDiff";

function worst(rows: readonly CaseResult[], pair: Pair): string {
  return Math.max(...rows.map((r) => r[pair].scaled)).toExponential(1);
}

const started = performance.now();
console.log("Koubai: reverse-mode autograd in TypeScript, PyTorch semantics in camelCase.\n");

console.log("1. Is BatchNorm's hand-derived backward right?");
console.log(
  "   dx, dγ, dβ three ways: autograd through the composite layer, batchNormBackward (derived",
);
console.log(
  "   by hand), and float64 finite differences; [N,C], [N,C,L], [N,C,H,W], batches of 2 to 256,",
);
console.log(
  "   and inputs of mean 1e4. Worst difference as a fraction of the gradient's largest value:\n",
);
const rows = standardCases().flatMap((c) => runCase(c));
let allOk = true;
for (const dtype of ["float64", "float32"] as const) {
  const mine = rows.filter((r) => r.label.startsWith(dtype));
  const ok = mine.every(
    (r) => r.handVsAutograd.ok && r.autogradVsFiniteDiff.ok && r.handVsFiniteDiff.ok,
  );
  allOk &&= ok;
  console.log(
    `   ${dtype}: hand vs autograd ${worst(mine, "handVsAutograd")}, autograd vs FD ${worst(mine, "autogradVsFiniteDiff")}, ` +
      `hand vs FD ${worst(mine, "handVsFiniteDiff")}  (tolerance ${TOLERANCE[dtype].exact.toExponential(0)} / ${TOLERANCE[dtype].finiteDiff.toExponential(0)}) ${ok ? "✓" : "✗"}`,
  );
}

console.log(
  "\n2. Would that check catch a wrong derivation? A published NumPy backward, ported line by",
);
console.log(
  "   line, multiplies by std where it must divide. Each stage against autograd (retainGrad):\n",
);
const d = diagnoseBuggyFormula();
console.log(formatComparison(d.buggyRows).replace(/^/gm, "   "));
console.log(
  `\n   First stage to disagree: ${d.firstWrong}. It is off by exactly σ² = var + ε per feature:\n`,
);
console.log(formatRatioTable(d).replace(/^/gm, "   "));
const caught = bugCaught(d);

console.log(
  "\n3. Train with it: MLP 784-256-BN-ReLU-256-BN-ReLU-10 (BatchNorm uses batchNormBackward)",
);
console.log(
  "   on 8,000 real MNIST digits, SGD momentum 0.9, lr 0.1, cosine schedule, 2 epochs:\n",
);
const data = loadMnist();
const result = train(data, {
  batchNorm: true,
  lr: 0.1,
  epochs: 2,
  onProgress: (s, final) => drawProgress(s, final),
});
console.log(
  `\n   Held-out accuracy on 2,000 unseen digits: ${(100 * result.testAccuracy).toFixed(2)}% ` +
    `(${result.seconds.toFixed(1)} s of training).`,
);

console.log(
  `\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s. More, one command each (see examples/README.md):`,
);
console.log("   npm run example -- batchnorm-gradients   the full table, exit 1 on failure");
console.log("   npm run example -- mnist                 96%+ in 8 epochs, BN vs no BN plots");
console.log("   npm run example -- custom-layer          RMSNorm as composite and customOp");
console.log("   npm run example -- graph                 the graph as SVG, backward step by step");
console.log(
  "   npm run example -- cnn                   a CNN to 97.5%+, its filters and feature maps",
);
console.log("   npm run explorer                         the Backprop Explorer in your browser");
console.log("   npm run play -- my-net.ts                your own script against the packages");
if (!allOk || !caught || !(result.testAccuracy > 0.9)) process.exitCode = 1;
