// The BatchNorm workload written as plain JavaScript loops over Float32Arrays, as someone would
// without a framework: the yardstick for "is the framework worth it". Statistics and the two
// gradient sums accumulate in float64 per feature; the backward is the closed form
// dx = γ/(N·σ)·(N·g - Σg - x̂·Σ(g·x̂)), dγ = Σ(g·x̂), dβ = Σg.

import type { BatchNormInputs } from "./inputs.js";
import type { Case, Framework, Outputs } from "./measure.js";

async function batchNorm(inputs: BatchNormInputs): Promise<Case> {
  const { n, c, eps, x, gamma, beta, gradOut } = inputs;
  const y = new Float32Array(n * c);
  const xHat = new Float32Array(n * c);
  const gradX = new Float32Array(n * c);
  const gradGamma = new Float32Array(c);
  const gradBeta = new Float32Array(c);
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  const sumG = new Float64Array(c);
  const sumGXHat = new Float64Array(c);
  const run = (): void => {
    mean.fill(0);
    invStd.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) mean[j] += x[i * c + j];
    for (let j = 0; j < c; j++) mean[j] /= n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        const d = x[i * c + j] - mean[j];
        invStd[j] += d * d;
      }
    }
    for (let j = 0; j < c; j++) invStd[j] = 1 / Math.sqrt(invStd[j] / n + eps);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        const k = i * c + j;
        xHat[k] = (x[k] - mean[j]) * invStd[j];
        y[k] = xHat[k] * gamma[j] + beta[j];
      }
    }
    sumG.fill(0);
    sumGXHat.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        const k = i * c + j;
        sumG[j] += gradOut[k];
        sumGXHat[j] += gradOut[k] * xHat[k];
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        const k = i * c + j;
        gradX[k] =
          ((gamma[j] * invStd[j]) / n) * (n * gradOut[k] - sumG[j] - xHat[k] * sumGXHat[j]);
      }
    }
    for (let j = 0; j < c; j++) {
      gradGamma[j] = sumGXHat[j];
      gradBeta[j] = sumG[j];
    }
  };
  return {
    async check(): Promise<Outputs> {
      run();
      return {
        y: y.slice(),
        gradX: gradX.slice(),
        gradGamma: gradGamma.slice(),
        gradBeta: gradBeta.slice(),
      };
    },
    step: run,
    dispose() {},
  };
}

/** Plain JS loops, BatchNorm workload only. */
export function plainJsFramework(): Framework {
  return { name: "plain-js", version: `Node ${process.versions.node}, no library`, batchNorm };
}
