// Adam (Kingma & Ba, 2015) with PyTorch 1.13's bias corrections, coupled L2 weight decay,
// AMSGrad and maximize. AdamW (adamw.ts) reuses `adamUpdate` with decoupled decay.

import { type Tensor, zerosLike } from "@koubai/core";
import { peekGrad } from "@koubai/core/internal";
import {
  checkBoolean,
  checkedGrad,
  checkNonNegative,
  checkStateTensor,
  checkUnitInterval,
} from "./check.js";
import { adamKernel, updateInPlace } from "./kernels.js";
import {
  type GroupOptions,
  Optimizer,
  type ParamGroup,
  type Params,
  type StateValue,
} from "./optimizer.js";

/** Options of `Adam` and `AdamW` (each may also be set per parameter group). */
export interface AdamOptions {
  /** Learning rate γ, default 1e-3. */
  lr?: number;
  /** Decay rates (β1, β2) of the first and second moments, default [0.9, 0.999]. */
  betas?: [number, number];
  /** ε added to the denominator, default 1e-8. */
  eps?: number;
  /** Weight decay λ: an L2 term in the gradient (Adam, default 0) or decoupled (AdamW, default 0.01). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad), default false. */
  amsgrad?: boolean;
  /** Maximise the objective instead of minimising it, default false. */
  maximize?: boolean;
}

/** A parameter group of `Adam` / `AdamW`. */
export interface AdamParamGroup extends ParamGroup, Required<AdamOptions> {}

/** Per-parameter state of `Adam` / `AdamW`. */
export interface AdamState {
  /** Number of steps taken for this parameter. */
  step: number;
  /** First moment m (exponential average of gradients). */
  expAvg: Tensor;
  /** Second moment v (exponential average of squared gradients). */
  expAvgSq: Tensor;
  /** Running maximum of v (AMSGrad only). */
  maxExpAvgSq?: Tensor;
}

/** The defaults of an Adam-family optimizer, with its own default weight decay. */
export function adamDefaults(
  where: string,
  options: AdamOptions | undefined,
  weightDecay: number,
): GroupOptions<AdamParamGroup> {
  const defaults = {
    lr: options?.lr ?? 1e-3,
    betas: [...(options?.betas ?? [0.9, 0.999])] as [number, number],
    eps: options?.eps ?? 1e-8,
    weightDecay: options?.weightDecay ?? weightDecay,
    amsgrad: options?.amsgrad ?? false,
    maximize: options?.maximize ?? false,
  };
  checkAdamOptions(where, defaults);
  return defaults;
}

export function checkAdamOptions(where: string, o: GroupOptions<AdamParamGroup>): void {
  checkNonNegative(where, "lr", o.lr);
  checkNonNegative(where, "eps", o.eps);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) {
    throw new RangeError(`${where}: betas must be a pair [beta1, beta2], got ${String(o.betas)}`);
  }
  checkUnitInterval(where, "betas[0]", o.betas[0]);
  checkUnitInterval(where, "betas[1]", o.betas[1]);
  checkNonNegative(where, "weightDecay", o.weightDecay);
  checkBoolean(where, "amsgrad", o.amsgrad);
  checkBoolean(where, "maximize", o.maximize);
}

/** The state fields an Adam-family update reads: a step count and the moment tensors. */
export function checkAdamState(
  where: string,
  state: Record<string, StateValue>,
  group: AdamParamGroup,
): void {
  const step = state.step;
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0)
    throw new TypeError(`${where}: step must be an integer >= 0, got ${String(step)}`);
  checkStateTensor(where, state, "expAvg");
  checkStateTensor(where, state, "expAvgSq");
  checkStateTensor(where, state, "maxExpAvgSq", !group.amsgrad);
}

/** One Adam-family step over `group`; `decoupled` selects AdamW's `p ← p·(1 − γλ)`. */
export function adamUpdate(
  where: string,
  state: Map<Tensor, AdamState>,
  group: AdamParamGroup,
  decoupled: boolean,
): void {
  const [beta1, beta2] = group.betas;
  for (const p of group.params) {
    // Read without counting as user code's read: the step keeps no reference to the gradient,
    // so a compiled step may reuse its array once zeroGrad() drops it.
    const current = peekGrad(p);
    if (current === null) continue;
    const grad = checkedGrad(where, p, current);
    let s = state.get(p);
    if (s === undefined) {
      s = { step: 0, expAvg: zerosLike(p), expAvgSq: zerosLike(p) };
      state.set(p, s);
    }
    if (group.amsgrad && s.maxExpAvgSq === undefined) s.maxExpAvgSq = zerosLike(p);
    s.step += 1;
    const coefficients = {
      beta1,
      beta2,
      eps: group.eps,
      weightDecay: decoupled ? 0 : group.weightDecay,
      decayFactor: decoupled ? 1 - group.lr * group.weightDecay : 1,
      stepSize: group.lr / (1 - beta1 ** s.step),
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** s.step),
      maximize: group.maximize,
    };
    const m = s.expAvg.data;
    const v = s.expAvgSq.data;
    const vMax = group.amsgrad ? s.maxExpAvgSq!.data : null;
    updateInPlace(p, grad, adamKernel, m, v, vMax, coefficients);
  }
}

/**
 * Adam, exactly as `torch.optim.Adam` (1.13). Per parameter p with gradient g, at step t:
 *
 * ```text
 * g ← -g                               if maximize
 * g ← g + λ·p                          if weightDecay λ ≠ 0 (coupled L2)
 * m ← β1·m + (1 − β1)·g
 * v ← β2·v + (1 − β2)·g²
 * v̂ ← max(v̂, v) if amsgrad, else v̂ = v
 * p ← p − (γ / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + ε)
 * ```
 *
 * NOTE: ε is added after the bias correction of v, as PyTorch does (not to √v as in the paper's
 * "efficient" variant), so small ε matter the same way as in torch.
 *
 * @example
 * ```ts
 * const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends Optimizer<AdamParamGroup, AdamState> {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Adam";

  constructor(params: Params<AdamParamGroup>, options: AdamOptions = {}) {
    super(params, adamDefaults("Adam", options, 0));
  }

  protected override validateGroup(group: AdamParamGroup): void {
    checkAdamOptions("Adam", group);
  }

  protected override validateState(
    state: Record<string, StateValue>,
    group: AdamParamGroup,
    where: string,
  ): void {
    checkAdamState(where, state, group);
  }

  protected override update(group: AdamParamGroup): void {
    adamUpdate("Adam.step", this.state, group, false);
  }
}
