// A line-by-line port of the staged NumPy BatchNorm backward for x: [N, C] (training mode,
// biased batch variance), once as derived and once with the bug it was published with. Each
// TypeScript line sits under the NumPy line it ports. Everything here runs without autograd.

import { noGrad, type Tensor } from "@koubai/core";

/** What the NumPy forward caches for backward. */
export interface BatchNormCache {
  x: Tensor;
  xHat: Tensor;
  mu: Tensor;
  variance: Tensor;
  std: Tensor;
  gamma: Tensor;
  eps: number;
}

/** The staged intermediates, named like the NumPy variables, each of the shape NumPy gives it. */
export interface StagedGradients {
  /** dL/dx̂, [N, C]. */
  dxHat: Tensor;
  /** dL/dσ², [C]. */
  dvar: Tensor;
  /** dL/dμ, [C]. */
  dmean: Tensor;
  /** dL/dx, [N, C]. */
  dx: Tensor;
  dgamma: Tensor;
  dbeta: Tensor;
}

/** out = γ·(x − μ)/√(σ² + ε) + β over dim 0; returns out and the cache. */
export function batchNormForward(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  eps = 1e-5,
): { out: Tensor; cache: BatchNormCache } {
  return noGrad(() => {
    // mu = np.mean(x, axis=0)
    const mu = x.mean(0);
    // var = np.var(x, axis=0)
    const variance = x.var(0, { correction: 0 });
    // std = np.sqrt(var + eps)
    const std = variance.add(eps).sqrt();
    // x_hat = (x - mu) / std
    const xHat = x.sub(mu).div(std);
    // out = gamma * x_hat + beta
    const out = gamma.mul(xHat).add(beta);
    return { out, cache: { x, xHat, mu, variance, std, gamma, eps } };
  });
}

/**
 * The staged backward. With `buggy`, dvar uses the published line that multiplies by std where
 * it must divide, so dvar comes out σ² = var + ε times too large, per feature.
 */
export function batchNormBackwardStaged(
  dout: Tensor,
  cache: BatchNormCache,
  options: { buggy?: boolean } = {},
): StagedGradients {
  const { x, xHat, mu, variance, std, gamma, eps } = cache;
  return noGrad(() => {
    // N = x.shape[0]
    const n = x.shape[0];
    // dx_hat = dout * gamma
    const dxHat = dout.mul(gamma);
    const xMinusMu = x.sub(mu);
    const dvar = options.buggy
      ? // dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * std / (var + eps)     <- as published
        dxHat.mul(xMinusMu).sum(0).mul(-0.5).mul(std).div(variance.add(eps))
      : // dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * std**-3
        dxHat.mul(xMinusMu).sum(0).mul(-0.5).mul(std.pow(-3));
    // dmean = np.sum(dx_hat * -1 / std, axis=0) + dvar * np.mean(-2 * (x - mu), axis=0)
    const dmean = dxHat
      .mul(-1)
      .div(std)
      .sum(0)
      .add(dvar.mul(xMinusMu.mul(-2).mean(0)));
    // dx = dx_hat / std + dvar * 2 * (x - mu) / N + dmean / N
    const dx = dxHat.div(std).add(dvar.mul(2).mul(xMinusMu).div(n)).add(dmean.div(n));
    // dgamma = np.sum(dout * x_hat, axis=0)
    const dgamma = dout.mul(xHat).sum(0);
    // dbeta = np.sum(dout, axis=0)
    const dbeta = dout.sum(0);
    return { dxHat, dvar, dmean, dx, dgamma, dbeta };
  });
}
