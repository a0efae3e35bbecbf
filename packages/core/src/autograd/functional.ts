// Functional transforms in the style of torch.autograd.grad and JAX: gradients as return values
// instead of `.grad` side effects. They nest: grad(grad(f)) records the inner backward pass
// whenever its inputs already carry a graph, so every differentiable op has second derivatives.

import { onesLike } from "../tensor/creation.js";
import { formatShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { runBackward } from "./engine.js";
import { enableGrad } from "./grad-mode.js";

/** Options of {@link autogradGrad}, as in `torch.autograd.grad`. */
export interface AutogradGradOptions {
  /** Seed gradients, one per output; optional for one-element outputs. */
  gradOutputs?: readonly Tensor[];
  /** Default `createGraph`. */
  retainGraph?: boolean;
  /** Record the backward pass so the results can be differentiated again. Default false. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on instead of throwing. Default false. */
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs`, like torch.autograd.grad: nothing is
 * written to `.grad`. Each output needs a seed (`gradOutputs[i]`, of its shape) unless it has one
 * element; the result for input x is Σᵢ gradOutputs[i]ᵀ·∂outputs[i]/∂x, of x's shape.
 *
 * @throws Error when an input or output does not require grad, when an output with more than one
 * element has no seed, when a seed's shape differs from its output's, or when an input was not
 * used (unless `allowUnused`).
 */
export function autogradGrad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: AutogradGradOptions = {},
): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : [...outputs];
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  ins.forEach((t, i) => {
    if (!(t instanceof Tensor) || !t.requiresGrad)
      throw new Error(`autogradGrad: inputs[${i}] does not require grad`);
  });
  const seeds = outs.map((out, i) => {
    if (!out.requiresGrad)
      throw new Error(`autogradGrad: outputs[${i}] does not require grad (it has no graph)`);
    const seed = options.gradOutputs?.[i];
    if (seed !== undefined && !(seed instanceof Tensor)) {
      throw new TypeError(
        `autogradGrad: gradOutputs[${i}] must be a Tensor, got ${Array.isArray(seed) ? "an array" : typeof seed}`,
      );
    }
    if (seed !== undefined) {
      if (seed.shape.length !== out.shape.length || seed.shape.some((s, d) => s !== out.shape[d])) {
        throw new Error(
          `autogradGrad: gradOutputs[${i}] has shape ${formatShape(seed.shape)}, but outputs[${i}] has ${formatShape(out.shape)}`,
        );
      }
      return seed.dtype === out.dtype ? seed : seed.to(out.dtype);
    }
    if (out.numel() !== 1) {
      throw new Error(
        `autogradGrad: outputs[${i}] has shape ${formatShape(out.shape)}; pass gradOutputs for non-scalar outputs`,
      );
    }
    return onesLike(out);
  });
  const createGraph = options.createGraph ?? false;
  const grads = runBackward(outs, seeds, {
    createGraph,
    retainGraph: options.retainGraph ?? createGraph,
    inputs: ins,
  });
  if (!options.allowUnused) {
    grads.forEach((g, i) => {
      if (g === null)
        throw new Error(
          `autogradGrad: inputs[${i}] was not used to compute the outputs; pass allowUnused: true to get null`,
        );
    });
  }
  return grads;
}

/** A function of tensors returning a tensor, as taken by `grad`, `valueAndGrad` and `vjp`. */
export type TensorFunction = (...args: Tensor[]) => Tensor;

/** Fresh leaves for the differentiated arguments; arguments that already require grad are kept so nesting works. */
function prepare(
  args: Tensor[],
  argnums: readonly number[],
  fnName: string,
): { inputs: Tensor[]; nested: boolean } {
  let nested = false;
  for (const i of argnums) {
    if (!Number.isInteger(i) || i < 0 || i >= args.length) {
      throw new RangeError(
        `${fnName}: argnums ${JSON.stringify(argnums)} names argument ${i}, but the function was called with ${args.length} argument(s)`,
      );
    }
  }
  const inputs = args.map((a, i) => {
    if (!(a instanceof Tensor)) throw new TypeError(`${fnName}: argument ${i} must be a Tensor`);
    if (!argnums.includes(i)) return a;
    if (a.requiresGrad) {
      nested = true;
      return a;
    }
    return a.detach().requiresGrad_(true);
  });
  return { inputs, nested };
}

function gradsOf(
  out: Tensor,
  inputs: Tensor[],
  argnums: readonly number[],
  createGraph: boolean,
  fnName: string,
): Tensor[] {
  if (!(out instanceof Tensor) || out.numel() !== 1) {
    throw new Error(
      `${fnName}: the function must return a one-element tensor, got ${out instanceof Tensor ? `shape ${formatShape(out.shape)}` : typeof out}`,
    );
  }
  const targets = argnums.map((i) => inputs[i]);
  if (!out.requiresGrad) return targets.map((t) => t.mul(0));
  const grads = autogradGrad(out, targets, { createGraph, allowUnused: true });
  return grads.map((g, k) => g ?? targets[k].mul(0));
}

function normalizeArgnums(argnums: number | readonly number[]): number[] {
  return typeof argnums === "number" ? [argnums] : [...argnums];
}

/**
 * `grad(f)` is a function returning df/dx at its arguments (`f` must return one element),
 * like `jax.grad`. With `argnums` a list, it returns one gradient per listed argument. Nests:
 * `grad(grad(f))`.
 *
 * @throws RangeError (from the returned function) when `argnums` names a missing argument;
 * Error when `f` does not return a one-element tensor.
 *
 * @example
 * ```ts
 * const f = (x: Tensor) => x.pow(3); // f(x) = x³ on a one-element x
 * const x = tensor(3);
 * grad(f)(x);       // f'(x) = 3x² = 27
 * grad(grad(f))(x); // f''(x) = 6x = 18
 * ```
 */
export function grad<F extends TensorFunction>(
  f: F,
  argnums?: number,
): (...args: Parameters<F>) => Tensor;
/** With a list of `argnums`: one gradient per listed argument, in that order. */
export function grad<F extends TensorFunction>(
  f: F,
  argnums: readonly number[],
): (...args: Parameters<F>) => Tensor[];
export function grad(
  f: TensorFunction,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => Tensor | Tensor[] {
  const nums = normalizeArgnums(argnums);
  return (...args) => {
    const { inputs, nested } = prepare(args, nums, "grad");
    const out = enableGrad(() => f(...inputs));
    const grads = gradsOf(out, inputs, nums, nested, "grad");
    return typeof argnums === "number" ? grads[0] : grads;
  };
}

/** Like `grad`, but returns `[value, gradient(s)]` from a single forward pass. */
export function valueAndGrad<F extends TensorFunction>(
  f: F,
  argnums?: number,
): (...args: Parameters<F>) => [Tensor, Tensor];
/** With a list of `argnums`: `[value, gradients]`, one gradient per listed argument. */
export function valueAndGrad<F extends TensorFunction>(
  f: F,
  argnums: readonly number[],
): (...args: Parameters<F>) => [Tensor, Tensor[]];
export function valueAndGrad(
  f: TensorFunction,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => [Tensor, Tensor | Tensor[]] {
  const nums = normalizeArgnums(argnums);
  return (...args) => {
    const { inputs, nested } = prepare(args, nums, "valueAndGrad");
    const out = enableGrad(() => f(...inputs));
    const grads = gradsOf(out, inputs, nums, nested, "valueAndGrad");
    return [nested ? out : out.detach(), typeof argnums === "number" ? grads[0] : grads];
  };
}

/**
 * Vector-Jacobian product: returns `[f(...primals), vjpFn]` where `vjpFn(cotangent)` gives
 * cotangentᵀ·∂f/∂primal for every primal. `vjpFn` may be called more than once.
 */
export function vjp(
  f: TensorFunction,
  ...primals: Tensor[]
): [Tensor, (cotangent: Tensor) => Tensor[]] {
  const nums = primals.map((_, i) => i);
  const { inputs, nested } = prepare(primals, nums, "vjp");
  const out = enableGrad(() => f(...inputs));
  const vjpFn = (cotangent: Tensor): Tensor[] => {
    if (!out.requiresGrad) return inputs.map((t) => t.mul(0));
    const grads = autogradGrad(out, inputs, {
      gradOutputs: [cotangent],
      retainGraph: true,
      createGraph: nested,
      allowUnused: true,
    });
    return grads.map((g, k) => g ?? inputs[k].mul(0));
  };
  return [nested ? out : out.detach(), vjpFn];
}
