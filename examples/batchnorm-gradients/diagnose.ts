// Catching the published bug: compare the staged NumPy backward with autograd intermediate by
// intermediate, find the first stage that disagrees, and check the size of the error against
// the prediction (dvar too large by σ² = var + ε per feature).

import {
  compareGradients,
  firstDisagreement,
  Generator,
  type GradientComparison,
  randn,
  type Tensor,
  tensor,
} from "@koubai/core";
import { autogradIntermediates } from "./intermediates.js";
import { batchNormBackwardStaged, batchNormForward, type StagedGradients } from "./numpy-port.js";

export interface BugDiagnosis {
  /** The [N, C] float64 input. */
  x: Tensor;
  /** Staged port without the bug vs autograd, in backward order. */
  correctRows: GradientComparison[];
  /** Staged port with the published bug vs autograd, in backward order. */
  buggyRows: GradientComparison[];
  /** The first intermediate of the buggy port that disagrees (expected: "dvar"). */
  firstWrong: string | undefined;
  /** Per feature: buggy dvar / autograd dvar. */
  dvarRatio: number[];
  /** Per feature: σ² = var + ε of the batch. */
  sigmaSquared: number[];
  /** max |(dx_buggy − dx) − (σ² − 1)·dvar·2(x − μ)/N|: how exactly the dx error is explained. */
  dxErrorUnexplained: number;
}

const ORDER = ["dxHat", "dvar", "dmean", "dx", "dgamma", "dbeta"] as const;

function rowsAgainst(staged: StagedGradients, reference: StagedGradients): GradientComparison[] {
  const pairs: Record<string, [Tensor, Tensor]> = {};
  for (const key of ORDER) pairs[key] = [staged[key], reference[key]];
  return compareGradients(pairs, { atol: 1e-10, rtol: 1e-8 });
}

/**
 * Float64 [N, C] input whose features have standard deviations `scales` (so σ² differs per
 * feature: with σ = 1 everywhere the bug would be invisible).
 */
export function diagnoseBuggyFormula(n = 64, scales = [0.5, 1, 2, 4], seed = 11): BugDiagnosis {
  const generator = new Generator(seed);
  const c = scales.length;
  const means = tensor(
    scales.map((_, i) => i - 1.5),
    { dtype: "float64" },
  );
  const x = randn([n, c], { dtype: "float64", generator })
    .mul(tensor(scales, { dtype: "float64" }))
    .add(means);
  const gamma = randn([c], { dtype: "float64", generator });
  const beta = randn([c], { dtype: "float64", generator });
  const dout = randn([n, c], { dtype: "float64", generator });

  const reference = autogradIntermediates(x, gamma, beta, dout);
  const { cache } = batchNormForward(x, gamma, beta);
  const correct = batchNormBackwardStaged(dout, cache);
  const buggy = batchNormBackwardStaged(dout, cache, { buggy: true });
  const buggyRows = rowsAgainst(buggy, reference);

  const sigmaSquared = Array.from(cache.variance.add(cache.eps).toArray());
  const dvarRatio = Array.from(buggy.dvar.div(reference.dvar).toArray());
  const predicted = cache.variance
    .add(cache.eps - 1)
    .mul(reference.dvar)
    .mul(x.sub(cache.mu).mul(2 / n));
  const unexplained = buggy.dx.sub(reference.dx).sub(predicted).abs().max().item();
  return {
    x,
    correctRows: rowsAgainst(correct, reference),
    buggyRows,
    firstWrong: firstDisagreement(buggyRows)?.name,
    dvarRatio,
    sigmaSquared,
    dxErrorUnexplained: unexplained,
  };
}
