// RMSNorm written twice: composed from primitives (autograd derives the backward) and as a
// customOp with a hand-written backward. The two must agree; custom-layer.test.ts checks that
// with gradcheck and compareGradients. See docs/guides/custom-layer.md for the walk-through.

import { customOp, ones, type Tensor } from "@koubai/core";
import { Module, Parameter } from "@koubai/layers";

/** Default ε added to the mean square, as torch.nn.RMSNorm uses for float32. */
export const RMS_EPS = 1e-6;

/**
 * RMSNorm over the last dim, composed from primitives:
 * y = w ⊙ x · r with r = (mean(x², last dim) + ε)^(-1/2). x: [..., D], weight: [D].
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps = RMS_EPS): Tensor {
  return x.mul(inverseRms(x, eps)).mul(weight);
}

/** r = (mean(x², last dim) + ε)^(-1/2), shape [..., 1]. */
function inverseRms(x: Tensor, eps = RMS_EPS): Tensor {
  return x.square().mean(-1, true).add(eps).rsqrt();
}

/**
 * The same function as one graph node. With u = gradOut ⊙ w and D the last dim:
 *   dL/dx = r·u − x·r³·Σ_D(u ⊙ x)/D        dL/dw = Σ_{leading dims} gradOut ⊙ x·r
 * Backward is written with tensor ops and recomputes r from the saved input x instead of saving r:
 * r computed inside forward (grad mode off) would be a constant to a second backward pass, and
 * gradgradcheck would fail. As in PyTorch, save inputs, recompute what depends on them.
 */
export const rmsNormFused: (x: Tensor, weight: Tensor) => Tensor = customOp({
  name: "rmsNormFused",
  forward(ctx, x, weight) {
    ctx.saveForBackward(x, weight);
    return x.mul(inverseRms(x)).mul(weight);
  },
  backward(ctx, gradOut) {
    const [x, weight] = ctx.saved;
    const r = inverseRms(x);
    const [needX, needW] = ctx.needsInputGrad;
    const d = x.shape[x.ndim - 1];
    let gradX: Tensor | null = null;
    let gradW: Tensor | null = null;
    if (needX) {
      const u = gradOut.mul(weight);
      const uDotX = u.mul(x).sum(-1, true);
      gradX = u.mul(r).sub(x.mul(r.pow(3)).mul(uDotX).div(d));
    }
    if (needW) {
      const leading = Array.from({ length: x.ndim - 1 }, (_, i) => i);
      const xr = x.mul(r);
      gradW = leading.length === 0 ? gradOut.mul(xr) : gradOut.mul(xr).sum(leading);
    }
    return [gradX, gradW];
  },
});

/**
 * The layer: a learnable weight [D] initialised to 1, and a choice of implementation. Assigning a
 * Parameter to a property registers it, so `parameters()` and `stateDict()` find `weight`.
 */
export class RMSNorm extends Module {
  weight: Parameter;

  constructor(
    readonly normalizedShape: number,
    readonly options: { fused?: boolean; dtype?: "float32" | "float64" } = {},
  ) {
    super();
    this.weight = new Parameter(ones([normalizedShape], { dtype: options.dtype ?? "float32" }));
  }

  forward(x: Tensor): Tensor {
    return this.options.fused ? rmsNormFused(x, this.weight) : rmsNorm(x, this.weight);
  }
}
