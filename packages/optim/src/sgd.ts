// Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay.

import { type Tensor, zerosLike } from "@koubai/core";
import { peekGrad } from "@koubai/core/internal";
import { checkBoolean, checkedGrad, checkNonNegative, checkStateTensor } from "./check.js";
import { sgdKernel, updateInPlace } from "./kernels.js";
import {
  type GroupOptions,
  Optimizer,
  type ParamGroup,
  type Params,
  type StateValue,
} from "./optimizer.js";

/** Options of `SGD` (each may also be set per parameter group). */
export interface SGDOptions {
  /** Learning rate γ (required, >= 0). */
  lr: number;
  /** Momentum factor μ, default 0 (plain SGD). */
  momentum?: number;
  /** Dampening τ of the gradient added to the momentum buffer, default 0. */
  dampening?: number;
  /** L2 penalty λ added to the gradient, default 0. */
  weightDecay?: number;
  /** Use Nesterov momentum (needs momentum > 0 and dampening 0), default false. */
  nesterov?: boolean;
  /** Maximise the objective instead of minimising it, default false. */
  maximize?: boolean;
}

/** A parameter group of `SGD`. */
export interface SGDParamGroup extends ParamGroup, Required<SGDOptions> {}

/** Per-parameter state of `SGD`: the momentum buffer, created on the first step with momentum. */
export interface SGDState {
  /** The momentum buffer b, of the parameter's shape and dtype (absent while momentum is 0). */
  momentumBuffer?: Tensor;
}

/**
 * Stochastic gradient descent, exactly as `torch.optim.SGD` (1.13). Per parameter p with
 * gradient g, at step t:
 *
 * ```text
 * g ← -g                         if maximize
 * g ← g + λ·p                    if weightDecay λ ≠ 0
 * if momentum μ ≠ 0:
 *   b ← g                        at the first step (no dampening)
 *   b ← μ·b + (1 − τ)·g          afterwards
 *   g ← g + μ·b  if nesterov,  else  g ← b
 * p ← p − γ·g
 * ```
 *
 * NOTE: this is PyTorch's form, where the learning rate multiplies the whole buffer.
 * Sutskever et al. (2013) and TensorFlow 2's `tf.keras.optimizers.SGD` fold the learning rate
 * into the velocity instead (`v ← μ·v − γ·g; p ← p + v`, Nesterov `p ← p + μ·v − γ·g`). With
 * `v = −γ·b` the two agree while γ is constant, but differ as soon as a scheduler changes it:
 * here a new lr rescales all past momentum at once, there it only affects new gradients.
 * TensorFlow 1's `MomentumOptimizer` accumulates like PyTorch but has no dampening. Nesterov
 * here is the same reformulation: the step uses `g + μ·b`, not a look-ahead gradient.
 *
 * @example
 * ```ts
 * const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * optimizer.zeroGrad();
 * loss.backward();
 * optimizer.step();
 * ```
 */
export class SGD extends Optimizer<SGDParamGroup, SGDState> {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "SGD";

  /**
   * @throws TypeError when `lr` is missing or `params` is not an iterable of tensors or groups.
   * @throws RangeError for a negative lr, momentum or weightDecay, an empty parameter list, or
   * Nesterov without momentum > 0 and zero dampening.
   */
  constructor(params: Params<SGDParamGroup>, options: SGDOptions) {
    const defaults = {
      lr: options?.lr,
      momentum: options?.momentum ?? 0,
      dampening: options?.dampening ?? 0,
      weightDecay: options?.weightDecay ?? 0,
      nesterov: options?.nesterov ?? false,
      maximize: options?.maximize ?? false,
    };
    SGD.checkOptions(defaults);
    super(params, defaults);
  }

  private static checkOptions(o: GroupOptions<SGDParamGroup>): void {
    if (o.lr === undefined) throw new TypeError("SGD: the learning rate lr is required");
    checkNonNegative("SGD", "lr", o.lr);
    checkNonNegative("SGD", "momentum", o.momentum);
    checkNonNegative("SGD", "weightDecay", o.weightDecay);
    if (typeof o.dampening !== "number" || !Number.isFinite(o.dampening)) {
      throw new RangeError(
        `SGD: invalid dampening ${String(o.dampening)}; expected a finite number`,
      );
    }
    checkBoolean("SGD", "nesterov", o.nesterov);
    checkBoolean("SGD", "maximize", o.maximize);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new RangeError(
        `SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${o.momentum}, dampening ${o.dampening})`,
      );
    }
  }

  protected override validateGroup(group: SGDParamGroup): void {
    SGD.checkOptions(group);
  }

  protected override validateState(
    state: Record<string, StateValue>,
    _group: SGDParamGroup,
    where: string,
  ): void {
    checkStateTensor(where, state, "momentumBuffer", true);
  }

  protected override update(group: SGDParamGroup): void {
    for (const p of group.params) {
      // Read without counting as user code's read: the step keeps no reference to the gradient,
      // so a compiled step may reuse its array once zeroGrad() drops it.
      const current = peekGrad(p);
      if (current === null) continue;
      const grad = checkedGrad("SGD.step", p, current);
      let state = this.state.get(p);
      if (state === undefined) {
        state = {};
        this.state.set(p, state);
      }
      let first = false;
      if (group.momentum !== 0 && state.momentumBuffer === undefined) {
        state.momentumBuffer = zerosLike(p);
        first = true;
      }
      const buf = group.momentum !== 0 ? state.momentumBuffer!.data : null;
      updateInPlace(p, grad, sgdKernel, buf, first, group, undefined);
    }
  }
}
