// The negative log-likelihood loss of class targets as one primitive, like PyTorch's native
// `nll_loss_forward`: one kernel forward (which also checks every target, so a compiled step
// checks them on every call), one backward (`nllLossBackward`) that writes each row's gradient
// into its target's column. The composite it replaces made a dozen calls each way.

import { isGradEnabled } from "../autograd/grad-mode.js";
import { type NllLayout, nllLossBackwardRows, nllLossRows } from "../kernels/nll-loss.js";
import { allocate, allocateUnfilled } from "../tensor/dtype.js";
import { formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp, type TensorMeta } from "./define.js";
import { checkTensor, denseFloats, requireFloat } from "./helpers.js";

/** How a loss reduces its per-element values: their mean (the default), their sum, or none (same shape). */
export type Reduction = "mean" | "sum" | "none";

/** Options of {@link nllLoss}, as `torch.nn.functional.nll_loss`. */
export interface NllLossOptions {
  /**
   * Default `"mean"`; for class-index targets the mean divides by the summed weights of the
   * non-ignored targets, as in PyTorch.
   */
  reduction?: Reduction;
  /** Targets equal to this contribute nothing (and do not count in the mean). Default -100. */
  ignoreIndex?: number;
  /** Per-class weights, shape [C]; constants (as in PyTorch, the loss has no gradient for them). */
  weight?: Tensor;
}

/** The reduction named by `options`, checked. */
export function reductionOf(reduction: Reduction | undefined, op: string): Reduction {
  const r = reduction ?? "mean";
  if (r === "mean" || r === "sum" || r === "none") return r;
  throw new RangeError(
    `${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}`,
  );
}

/**
 * Throws unless `target` is an int32 [N] (or [N, d1, ...]) of classes in 0..C-1 (or
 * `ignoreIndex`) for input [N, C] (or [N, C, d1, ...]); returns its values in order.
 */
export function checkClassTargets(
  input: Tensor,
  target: Tensor,
  op: string,
  ignoreIndex: number,
): Int32Array {
  checkTensor(input, op);
  checkTensor(target, op, "target");
  requireFloat(input, op);
  if (target.dtype !== "int32") {
    throw new TypeError(
      `${op}: class targets must be an int32 tensor, got dtype ${target.dtype} (shape ${formatShape(target.shape)})`,
    );
  }
  const fits =
    input.ndim >= 2 &&
    target.ndim === input.ndim - 1 &&
    target.shape[0] === input.shape[0] &&
    target.shape.every((size, d) => d === 0 || size === input.shape[d + 1]);
  if (!fits) {
    throw new RangeError(
      `${op}: expected input [N, C] and target [N], or input [N, C, d1, ...] and target [N, d1, ...], got input ${formatShape(input.shape)} and target ${formatShape(target.shape)}`,
    );
  }
  const classes = input.shape[1];
  // Exactly numel values: a contiguous view at the start of a longer array (a batch sliced from
  // all the labels) must not be read past its end.
  const values = (
    target.isContiguous() && target.offset === 0
      ? target.data.subarray(0, target.numel())
      : target.toArray()
  ) as Int32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== ignoreIndex && (v < 0 || v >= classes)) {
      throw new RangeError(
        `${op}: target[${target.ndim === 1 ? i : unravel(i, target.shape).join(", ")}] = ${v} is out of range for ${classes} classes (expected 0..${classes - 1} or ignoreIndex ${ignoreIndex})`,
      );
    }
  }
  return values;
}

/** The index of element i of a contiguous tensor of `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return index;
}

/**
 * Throws unless `weight` is a [C] tensor for input [N, C, ...], and (unless `allowGrad`, for
 * losses that differentiate it) a constant while grad is on.
 */
export function checkClassWeights(
  weight: Tensor,
  input: TensorMeta,
  op: string,
  allowGrad = false,
): void {
  checkTensor(weight, op, "weight");
  if (weight.ndim !== 1 || weight.shape[0] !== input.shape[1]) {
    throw new RangeError(
      `${op}: weight must have shape [${input.shape[1]}], got ${formatShape(weight.shape)}`,
    );
  }
  if (!allowGrad && weight.requiresGrad && isGradEnabled()) {
    throw new TypeError(
      `${op}: weight requires grad, but the loss has no gradient for its class weights (as in PyTorch); pass weight.detach()`,
    );
  }
}

/** The per-class weights as `dtype` values, checked; null when there are none. */
function classWeights(
  weight: Tensor | undefined,
  logProbs: TensorMeta,
): Float32Array | Float64Array | null {
  if (weight === undefined) return null;
  checkClassWeights(weight, logProbs, "nllLoss");
  return denseFloats(weight.to(logProbs.dtype));
}

/**
 * Negative log-likelihood of class targets: loss_i = -w[t_i]·logProbs[i, t_i] for logProbs
 * [N, C] and int32 targets [N] (or, per position, logProbs [N, C, d1, ...] and targets
 * [N, d1, ...]), 0 where t_i = ignoreIndex. `mean` divides the sum by the summed weights of the
 * non-ignored targets (NaN when all are ignored), as in PyTorch. d/dlogProbs[i, t_i] =
 * -w[t_i]·g (÷ Σw for `mean`), 0 elsewhere. Sums in float64, rounded once.
 *
 * @throws TypeError for non-int32 targets or a weight that requires grad; RangeError for shapes
 * that do not fit or a target out of range.
 * @function
 */
export const nllLoss = defineOp({
  name: "nllLoss",
  rule: "d/dlogProbs[i, tᵢ] = -g·w[tᵢ] (÷ Σw for mean)",
  kind: "opaque",
  shape: (_logProbs: TensorMeta, target: TensorMeta, options: NllLossOptions = {}) =>
    reductionOf(options.reduction, "nllLoss") === "none" ? target.shape : [],
  forward: (logProbs: Tensor, target: Tensor, options: NllLossOptions = {}) => {
    const ignoreIndex = options.ignoreIndex ?? -100;
    const targets = checkClassTargets(logProbs, target, "nllLoss", ignoreIndex);
    const reduction = reductionOf(options.reduction, "nllLoss");
    const weight = classWeights(options.weight, logProbs);
    const positions = targets.length;
    const shape = reduction === "none" ? target.shape : [];
    const values = allocateUnfilled(
      logProbs.dtype,
      reduction === "none" ? positions : 1,
      "nllLoss",
      shape,
    );
    const coefficients = allocateUnfilled(logProbs.dtype, positions, "nllLoss", target.shape);
    const columns = allocateUnfilled("int32", positions, "nllLoss", target.shape) as Int32Array;
    const rows = { coefficients: coefficients as Float32Array | Float64Array, columns };
    nllLossRows(
      denseFloats(logProbs),
      targets,
      weight,
      ignoreIndex,
      layoutOf(logProbs.shape),
      reduction,
      values as Float32Array | Float64Array,
      rows,
    );
    return {
      out: Tensor.fromTypedArray(values, shape),
      inputs: [logProbs],
      saved: {
        columns: Tensor.fromTypedArray(columns, target.shape),
        coefficients: Tensor.fromTypedArray(coefficients, target.shape),
        shape: logProbs.shape,
      },
    };
  },
  backward: ({ columns, coefficients, shape }, gradOut) => [
    nllLossBackward(gradOut, columns, coefficients, shape),
  ],
});

/** Classes and spatial elements per sample of log-probabilities of `shape` [N, C, d1, ...]. */
function layoutOf(shape: readonly number[]): NllLayout {
  let spatial = 1;
  for (let d = 2; d < shape.length; d++) spatial *= shape[d];
  return { classes: shape[1], spatial };
}

/**
 * nllLoss's backward in one kernel: a gradient of the log-probabilities' `shape` holding
 * coefficients[p]·g (g[p] for `none`) at class columns[p] of each target position p, 0
 * elsewhere. Linear in g: d/dg = Σ over positions of the incoming gradient at those places times
 * the coefficients. Internal: recorded by nllLoss's backward.
 * @function
 */
export const nllLossBackward = defineOp({
  name: "nllLossBackward",
  rule: "d/dgradOut = Σₚ g[columnsₚ at p]·coefficientsₚ (per position for none)",
  kind: "opaque",
  internal: true,
  shape: (
    _gradOut: TensorMeta,
    _columns: TensorMeta,
    _coefficients: TensorMeta,
    shape: readonly number[],
  ) => shape,
  forward: (gradOut: Tensor, columns: Tensor, coefficients: Tensor, shape: readonly number[]) => {
    const perRow = gradOut.ndim > 0;
    if (perRow && !sameShape(gradOut.shape, columns.shape))
      throw new RangeError(
        `nllLossBackward: expected a gradient of shape [] or ${formatShape(columns.shape)}, got ${formatShape(gradOut.shape)}`,
      );
    const values = allocate(coefficients.dtype, numelOf(shape), "nllLossBackward", shape);
    nllLossBackwardRows(
      denseFloats(gradOut),
      perRow,
      { coefficients: denseFloats(coefficients), columns: columns.data as Int32Array },
      layoutOf(shape),
      values as Float32Array | Float64Array,
    );
    return {
      out: Tensor.fromTypedArray(values, shape),
      inputs: [gradOut],
      saved: { columns, coefficients, perRow },
    };
  },
  backward: ({ columns, coefficients, perRow }, gradGrad) => {
    const picked = gradGrad.gather(1, columns.unsqueeze(1)).squeeze(1).mul(coefficients);
    return [perRow ? picked : picked.sum()];
  },
});
