// AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.

import {
  type AdamOptions,
  type AdamParamGroup,
  type AdamState,
  adamDefaults,
  adamUpdate,
  checkAdamOptions,
  checkAdamState,
} from "./adam.js";
import { Optimizer, type Params, type StateValue } from "./optimizer.js";

/**
 * AdamW, exactly as `torch.optim.AdamW` (1.13): Adam without the L2 term, and instead the
 * parameter shrinks before each step. Per parameter p with gradient g, at step t:
 *
 * ```text
 * g ← -g                               if maximize
 * p ← p · (1 − γ·λ)                    (weightDecay λ, default 0.01)
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * v̂ ← max(v̂, v) if amsgrad, else v̂ = v
 * p ← p − (γ / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + ε)
 * ```
 *
 * @example
 * ```ts
 * const optimizer = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * ```
 */
export class AdamW extends Optimizer<AdamParamGroup, AdamState> {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "AdamW";

  constructor(params: Params<AdamParamGroup>, options: AdamOptions = {}) {
    super(params, adamDefaults("AdamW", options, 0.01));
  }

  protected override validateGroup(group: AdamParamGroup): void {
    checkAdamOptions("AdamW", group);
  }

  protected override validateState(
    state: Record<string, StateValue>,
    group: AdamParamGroup,
    where: string,
  ): void {
    checkAdamState(where, state, group);
  }

  protected override update(group: AdamParamGroup): void {
    adamUpdate("AdamW.step", this.state, group, true);
  }
}
