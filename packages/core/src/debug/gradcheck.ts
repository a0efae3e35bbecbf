// Numerical gradient checks in float64, like torch.autograd.gradcheck: the analytic Jacobian
// (one backward pass per output element) against central differences (two forward passes per
// input element). On failure the error names the worst element.

import { autogradGrad } from "../autograd/functional.js";
import { enableGrad, noGrad } from "../autograd/grad-mode.js";
import { randn } from "../tensor/creation.js";
import { Generator } from "../tensor/random.js";
import { formatShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

/**
 * Tolerances of {@link gradcheck}: an element passes when
 * |analytic − numeric| ≤ atol + rtol·|numeric|, as in `torch.autograd.gradcheck`.
 */
export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-6. */
  eps?: number;
  /** Absolute tolerance. Default 1e-5. */
  atol?: number;
  /** Relative tolerance (of the numeric value). Default 1e-3. */
  rtol?: number;
}

/** Thrown by {@link gradcheck} for the Jacobian entry that misses the tolerance by the most. */
export class GradcheckError extends Error {
  /** Always `"GradcheckError"`. */
  override name = "GradcheckError";
  constructor(
    message: string,
    /** Position of the failing input in the `inputs` list. */
    readonly inputIndex: number,
    /** Flat (row-major) position of the element within that input. */
    readonly elementIndex: number,
    /** Flat position of the output element, counting through all outputs in order. */
    readonly outputIndex: number,
    /** ∂output/∂input at that entry, from backward. */
    readonly analytic: number,
    /** The same entry from central differences: (f(x + eps) − f(x − eps)) / (2·eps). */
    readonly numeric: number,
  ) {
    super(message);
  }
}

/** The function under check: tensors in, one tensor or several out. */
export type CheckedFunction = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

function outputsOf(fn: CheckedFunction, inputs: Tensor[]): Tensor[] {
  const result = fn(...inputs);
  return result instanceof Tensor ? [result] : [...result];
}

function flatValues(outputs: Tensor[]): number[] {
  const values: number[] = [];
  for (const out of outputs) for (const v of out.toArray()) values.push(v);
  return values;
}

function prepareInputs(inputs: readonly Tensor[], op: string): Tensor[] {
  return inputs.map((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: inputs[${i}] must be a Tensor`);
    if (t.requiresGrad && t.dtype !== "float64") {
      throw new TypeError(
        `${op}: inputs[${i}] requires grad but has dtype ${t.dtype}; central differences need float64 inputs (use .double())`,
      );
    }
    const copy = t.detach().clone();
    return t.requiresGrad ? copy.requiresGrad_(true) : copy;
  });
}

/**
 * Checks the gradients of `fn` at `inputs` (float64; those that require grad are checked):
 * every entry of the analytic Jacobian (one backward pass per output element) against central
 * differences (f(x + eps) − f(x − eps)) / (2·eps). Returns true.
 *
 * @throws GradcheckError naming input, element, output, analytic and numeric value of the worst
 * entry outside atol + rtol·|numeric|.
 * @throws TypeError when an input requiring grad is not float64; Error when none requires grad.
 *
 * @example
 * ```ts
 * const x = randn([3, 4], { dtype: "float64", requiresGrad: true });
 * gradcheck((x) => x.tanh().sum(1), [x]); // true
 * ```
 */
export function gradcheck(
  fn: CheckedFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): true {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  const xs = prepareInputs(inputs, "gradcheck");
  const checked = xs.map((_, i) => i).filter((i) => xs[i].requiresGrad);
  if (checked.length === 0)
    throw new Error("gradcheck: no input requires grad, so there is nothing to check");

  const outputs = outputsOf(fn, xs);
  const outSizes = outputs.map((o) => o.numel());
  const totalOut = outSizes.reduce((a, b) => a + b, 0);
  // analytic[k][i][j] = d out_j / d input_k[i]
  const analytic = checked.map((k) =>
    Array.from({ length: xs[k].numel() }, () => new Float64Array(totalOut)),
  );
  let row = 0;
  outputs.forEach((out, o) => {
    for (let j = 0; j < outSizes[o]; j++, row++) {
      if (!out.requiresGrad) continue;
      const seeds = outputs.map((other, p) => {
        const seed = new Float64Array(other.numel());
        if (p === o) seed[j] = 1;
        return Tensor.fromTypedArray(seed, other.shape).to(other.dtype);
      });
      const grads = autogradGrad(
        outputs,
        checked.map((k) => xs[k]),
        { gradOutputs: seeds, retainGraph: true, allowUnused: true },
      );
      grads.forEach((g, c) => {
        if (g === null) return;
        const values = g.toArray();
        for (let i = 0; i < values.length; i++) analytic[c][i][row] = values[i];
      });
    }
  });

  let worst: { excess: number; c: number; i: number; j: number; a: number; n: number } | null =
    null;
  noGrad(() => {
    checked.forEach((k, c) => {
      const data = xs[k].data;
      for (let i = 0; i < data.length; i++) {
        const original = data[i];
        data[i] = original + eps;
        const plus = flatValues(outputsOf(fn, xs));
        data[i] = original - eps;
        const minus = flatValues(outputsOf(fn, xs));
        data[i] = original;
        for (let j = 0; j < totalOut; j++) {
          const n = (plus[j] - minus[j]) / (2 * eps);
          const a = analytic[c][i][j];
          const excess = Math.abs(a - n) - (atol + rtol * Math.abs(n));
          const bad = excess > 0 || Number.isNaN(a) !== Number.isNaN(n);
          if (bad && (worst === null || excess > worst.excess || Number.isNaN(excess)))
            worst = { excess, c, i, j, a, n };
        }
      }
    });
  });
  if (worst !== null) {
    const { c, i, j, a, n } = worst as { c: number; i: number; j: number; a: number; n: number };
    const k = checked[c];
    throw new GradcheckError(
      `gradcheck: Jacobian mismatch for input ${k} (shape ${formatShape(xs[k].shape)}), element ${i}, output element ${j}: ` +
        `analytic ${a} vs numeric ${n} (atol ${atol}, rtol ${rtol})`,
      k,
      i,
      j,
      a,
      n,
    );
  }
  return true;
}

/**
 * Checks second derivatives: gradcheck of (inputs, gradOutputs) ↦ ∂⟨fn(inputs), gradOutputs⟩/∂inputs,
 * with the backward pass recorded (createGraph). Random gradOutputs come from a fixed seed.
 */
export function gradgradcheck(
  fn: CheckedFunction,
  inputs: readonly Tensor[],
  options: GradcheckOptions & { gradOutputs?: readonly Tensor[] } = {},
): true {
  const xs = prepareInputs(inputs, "gradgradcheck");
  const checked = xs.map((_, i) => i).filter((i) => xs[i].requiresGrad);
  const outputs = outputsOf(fn, xs);
  const generator = new Generator(1234);
  const gradOutputs =
    options.gradOutputs ??
    outputs.map((o) => randn(o.shape, { dtype: "float64", generator }).requiresGrad_(true));
  const nIn = xs.length;
  // Runs with grad mode on even inside gradcheck's numeric (noGrad) passes: it needs a graph.
  const firstOrder = (...args: Tensor[]): Tensor[] =>
    enableGrad(() => {
      const ins = args.slice(0, nIn);
      const seeds = args.slice(nIn);
      const outs = outputsOf(fn, ins);
      const targets = checked.map((k) => ins[k]);
      const grads = autogradGrad(outs, targets, {
        gradOutputs: seeds,
        createGraph: true,
        allowUnused: true,
      });
      return grads.map((g, c) => g ?? targets[c].mul(0));
    });
  return gradcheck(
    firstOrder,
    [...xs, ...gradOutputs.map((g) => (g.requiresGrad ? g : g.detach().requiresGrad_(true)))],
    options,
  );
}
