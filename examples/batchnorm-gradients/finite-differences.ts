// Central finite differences of training-mode BatchNorm in plain float64 JavaScript: no Koubai
// code on this path, so it is an independent reference for dx, dγ and dβ.
//
// Layout: x is [N, C, S] row-major (S = L or H·W, 1 for [N, C]). The loss is
// L = Σ dout ⊙ (γ·(x − μ)/√(σ² + ε) + β), which splits into per-channel terms L_c, so
// perturbing x[n, c, s] only needs L_c (m = N·S values per evaluation).

export interface BatchNormProblem {
  /** [N, C, S] flattened, float64. */
  x: Float64Array;
  n: number;
  c: number;
  s: number;
  gamma: Float64Array;
  beta: Float64Array;
  dout: Float64Array;
  eps: number;
}

export interface FiniteDifferenceGrads {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** L_c for channel c, with two-pass (shifted) mean and biased variance. */
function channelLoss(p: BatchNormProblem, ch: number, gamma: number, beta: number): number {
  const { x, n, c, s, dout, eps } = p;
  const m = n * s;
  let mean = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) mean += x[(i * c + ch) * s + j];
  mean /= m;
  let variance = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < s; j++) variance += (x[(i * c + ch) * s + j] - mean) ** 2;
  variance /= m;
  const invStd = 1 / Math.sqrt(variance + eps);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < s; j++) {
      const k = (i * c + ch) * s + j;
      loss += dout[k] * (gamma * (x[k] - mean) * invStd + beta);
    }
  }
  return loss;
}

/** (f(v + h) − f(v − h)) / 2h for every element of x, γ and β; `h` is an absolute step. */
export function batchNormFiniteDifferences(p: BatchNormProblem, h = 1e-5): FiniteDifferenceGrads {
  const { x, n, c, s, gamma, beta } = p;
  const dx = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let j = 0; j < s; j++) {
        const k = (i * c + ch) * s + j;
        const original = x[k];
        x[k] = original + h;
        const plus = channelLoss(p, ch, gamma[ch], beta[ch]);
        x[k] = original - h;
        const minus = channelLoss(p, ch, gamma[ch], beta[ch]);
        x[k] = original;
        dx[k] = (plus - minus) / (2 * h);
      }
    }
  }
  const dgamma = new Float64Array(c);
  const dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    dgamma[ch] =
      (channelLoss(p, ch, gamma[ch] + h, beta[ch]) - channelLoss(p, ch, gamma[ch] - h, beta[ch])) /
      (2 * h);
    dbeta[ch] =
      (channelLoss(p, ch, gamma[ch], beta[ch] + h) - channelLoss(p, ch, gamma[ch], beta[ch] - h)) /
      (2 * h);
  }
  return { dx, dgamma, dbeta };
}
