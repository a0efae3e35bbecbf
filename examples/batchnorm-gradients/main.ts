// Checks BatchNorm's gradients three ways over a grid of inputs, then shows the same kind of
// check catching a published bug in a hand-derived backward.
// Run: npm run example -- batchnorm-gradients   (exits 1 on any failure)

import { formatComparison } from "@koubai/core";
import { isMain } from "../shared/is-main.js";
import { type BugDiagnosis, diagnoseBuggyFormula } from "./diagnose.js";
import {
  allWithinTolerance,
  formatCaseTable,
  runCase,
  standardCases,
  TOLERANCE,
} from "./three-ways.js";

/** The per-feature ratio table: buggy dvar / autograd dvar against σ² = var + ε. */
export function formatRatioTable(d: BugDiagnosis): string {
  const lines = ["feature   σ² = var + ε   dvar_buggy / dvar   relative gap"];
  d.sigmaSquared.forEach((s2, c) => {
    const gap = Math.abs(d.dvarRatio[c] - s2) / s2;
    lines.push(
      `${String(c).padStart(7)}   ${s2.toFixed(6).padStart(12)}   ${d.dvarRatio[c].toFixed(6).padStart(17)}   ${gap.toExponential(1).padStart(12)}`,
    );
  });
  return lines.join("\n");
}

/** True when the check caught the bug where the derivation predicts: at dvar, by σ² per feature. */
export function bugCaught(d: BugDiagnosis): boolean {
  const ratioMatches = d.sigmaSquared.every((s2, c) => Math.abs(d.dvarRatio[c] - s2) <= 1e-9 * s2);
  return d.correctRows.every((r) => r.ok) && d.firstWrong === "dvar" && ratioMatches;
}

const fmt = (x: number) => x.toExponential(0);

function main(): void {
  const started = performance.now();
  const rows = standardCases().flatMap((c) => runCase(c));
  console.log(
    "BatchNorm gradients three ways: autograd through the composite layer, the hand-derived",
  );
  console.log("batchNormBackward, and float64 central differences (plain JS, h = 1e-5).");
  console.log(
    `Tolerance, as a fraction of max|reference|: float64 ${fmt(TOLERANCE.float64.exact)} (exact paths), ` +
      `${fmt(TOLERANCE.float64.finiteDiff)} (vs FD); float32 ${fmt(TOLERANCE.float32.exact)}, ` +
      `${fmt(TOLERANCE.float32.finiteDiff)}. "scaled" = max abs / max|reference|.\n`,
  );
  console.log(formatCaseTable(rows));
  const gridOk = allWithinTolerance(rows);
  console.log(`\n${gridOk ? "All" : "NOT all"} ${rows.length} comparisons within tolerance.\n`);

  console.log(
    "Catching a wrong derivation: the staged NumPy backward, ported line by line, with its",
  );
  console.log("published bug in dvar (multiplies by std where it must divide), against autograd");
  console.log(
    "intermediates kept with retainGrad(), on float64 [64, 4] with feature std 0.5, 1, 2, 4.\n",
  );
  const d = diagnoseBuggyFormula();
  console.log("Correct port vs autograd:");
  console.log(formatComparison(d.correctRows));
  console.log("\nBuggy port vs autograd:");
  console.log(formatComparison(d.buggyRows));
  const wrongOutputs = d.buggyRows.filter(
    (r) => !r.ok && ["dx", "dgamma", "dbeta"].includes(r.name),
  );
  console.log(
    `\nWrong gradient(s): ${wrongOutputs.map((r) => r.name).join(", ") || "none"}; first intermediate to disagree: ${d.firstWrong ?? "none"}.`,
  );
  console.log("dvar is off by σ² per feature:\n");
  console.log(formatRatioTable(d));
  console.log(
    `\ndx − dx_true = (σ² − 1)·dvar·2(x − μ)/N explains the dx error to ${d.dxErrorUnexplained.toExponential(1)}.`,
  );
  console.log("A feature with σ² = 1 hides the bug: test with unit-variance inputs and it passes.");
  const caught = bugCaught(d);
  console.log(
    `\n${caught ? "Bug caught where predicted." : "Bug NOT caught as predicted."} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
  if (!gridOk || !caught) process.exitCode = 1;
}

if (isMain(import.meta.url)) main();
