// The same BatchNorm composed from primitives, with every intermediate the staged backward names
// kept by retainGrad(), so a hand derivation can be checked one stage at a time against autograd.

import type { Tensor } from "@koubai/core";
import type { StagedGradients } from "./numpy-port.js";

/**
 * Runs out = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε) on [N, C] through autograd, backpropagates
 * L = Σ out ⊙ dout, and returns dL/d(each intermediate) in the shapes the NumPy port uses.
 */
export function autogradIntermediates(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  dout: Tensor,
  eps = 1e-5,
): StagedGradients {
  const xs = x.detach().clone().requiresGrad_();
  const g = gamma.detach().clone().requiresGrad_();
  const b = beta.detach().clone().requiresGrad_();
  const mu = xs.mean(0).retainGrad();
  const xMinusMu = xs.sub(mu);
  const variance = xMinusMu.square().mean(0).retainGrad();
  const xHat = xMinusMu.div(variance.add(eps).sqrt()).retainGrad();
  const out = xHat.mul(g).add(b);
  out.mul(dout).sum().backward();
  return {
    dxHat: xHat.grad!,
    dvar: variance.grad!,
    dmean: mu.grad!,
    dx: xs.grad!,
    dgamma: g.grad!,
    dbeta: b.grad!,
  };
}
