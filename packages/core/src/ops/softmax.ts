// softmax and log-softmax as primitives, like PyTorch's native `_softmax` and `_log_softmax`: one
// kernel forward and one backward each (`softmaxBackward`, `logSoftmaxBackward`: PyTorch's
// `_softmax_backward_data` and `_log_softmax_backward_data`), where composites made 5-10 calls
// each way. The backward ops have backwards of their own, written in differentiable ops, so
// gradients of gradients still come out.

import { dimLayout, softmaxBackwardRows, softmaxRows } from "../kernels/softmax.js";
import { allocateUnfilled } from "../tensor/dtype.js";
import { normalizeDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp } from "./define.js";
import { checkTensor, denseFloats, requireFloat, sameShapeAs } from "./helpers.js";

/** The forward of either op: checks, then the kernel into a fresh array of x's dtype. */
function forward(op: "softmax" | "logSoftmax", x: Tensor, dim: number): [Tensor, number] {
  checkTensor(x, op);
  requireFloat(x, op);
  const d = normalizeDim(dim, x.ndim, op, x.shape);
  const values = allocateUnfilled(x.dtype, x.numel(), op, x.shape) as Float32Array | Float64Array; // every element is written
  softmaxRows(denseFloats(x), values, dimLayout(x.shape, d), op === "logSoftmax");
  return [Tensor.fromTypedArray(values, x.shape), d];
}

/** The kernel of either backward op. */
function backward(
  op: "softmaxBackward" | "logSoftmaxBackward",
  gradOut: Tensor,
  out: Tensor,
  d: number,
): Tensor {
  const values = allocateUnfilled(out.dtype, out.numel(), op, out.shape) as
    | Float32Array
    | Float64Array; // every element is written
  softmaxBackwardRows(
    denseFloats(gradOut),
    denseFloats(out),
    values,
    dimLayout(out.shape, d),
    op === "logSoftmaxBackward",
  );
  return Tensor.fromTypedArray(values, out.shape);
}

/**
 * softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along `dim`, computed as e^(x_i - m) / Σ_j e^(x_j - m)
 * with m the maximum, so logits of ±1000 are fine; d/dx = y·(g - Σ g·y) with y the output. Sums in
 * float64, each output rounded once. Like `torch.nn.functional.softmax`: a row holding +∞ or NaN,
 * or only -∞, gives NaN.
 *
 * @throws TypeError for a non-float input; RangeError for a bad dim.
 * @function
 */
export const softmax = defineOp({
  name: "softmax",
  rule: "d/dx = y·(g - Σ g·y) along dim, y = softmax(x)",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number) => {
    const [out, d] = forward("softmax", x, dim);
    return { out, inputs: [x], saved: { out, d } };
  },
  backward: ({ out, d }, gradOut) => [softmaxBackward(gradOut, out, d)],
});

/**
 * softmax's backward in one kernel: y·(g - Σ g·y) along `dim`, with y softmax's output. It is
 * linear in g with a symmetric matrix (diag(y) - y·yᵀ), so d/dg is this op again;
 * d/dy = h·(g - Σ g·y) - g·Σ h·y. Internal: recorded by softmax's backward.
 * @function
 */
export const softmaxBackward = defineOp({
  name: "softmaxBackward",
  rule: "d/dgradOut = softmaxBackward(g, y); d/dy = g·(gradOut - Σ gradOut·y) - gradOut·Σ g·y",
  kind: "opaque",
  internal: true,
  shape: sameShapeAs,
  forward: (gradOut: Tensor, out: Tensor, d: number) => ({
    out: backward("softmaxBackward", gradOut, out, d),
    inputs: [gradOut, out],
    saved: { gradOut, out, d },
  }),
  backward: ({ gradOut, out, d }, gradGrad, needsInputGrad): (Tensor | null)[] => [
    needsInputGrad[0] ? softmaxBackward(gradGrad, out, d) : null,
    needsInputGrad[1]
      ? gradGrad
          .mul(gradOut.sub(gradOut.mul(out).sum(d, true)))
          .sub(gradOut.mul(gradGrad.mul(out).sum(d, true)))
      : null,
  ],
});

/**
 * log softmax(x) = x - log Σ exp(x) along `dim`, computed as (x - m) - log Σ exp(x - m) with m
 * the maximum, so logits of ±1000 are fine; d/dx = g - softmax(x)·Σ g. Sums in float64, each
 * output rounded once. Like `torch.nn.functional.log_softmax`: a row holding +∞ or NaN, or only
 * -∞, gives NaN.
 *
 * @throws TypeError for a non-float input; RangeError for a bad dim.
 * @function
 */
export const logSoftmax = defineOp({
  name: "logSoftmax",
  rule: "d/dx = g - softmax(x)·Σ g along dim",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number) => {
    const [out, d] = forward("logSoftmax", x, dim);
    return { out, inputs: [x], saved: { out, d } };
  },
  backward: ({ out, d }, gradOut) => [logSoftmaxBackward(gradOut, out, d)],
});

/**
 * logSoftmax's backward in one kernel: g - exp(out)·Σ g along `dim`, with `out` log-softmax's
 * output. d/dg = h - Σ h·exp(out); d/dout = -h·exp(out)·Σ gradOut. Internal: recorded by
 * logSoftmax's backward.
 * @function
 */
export const logSoftmaxBackward = defineOp({
  name: "logSoftmaxBackward",
  rule: "d/dgradOut = g - Σ g·exp(out); d/dout = -g·exp(out)·Σ gradOut",
  kind: "opaque",
  internal: true,
  shape: sameShapeAs,
  forward: (gradOut: Tensor, out: Tensor, d: number) => ({
    out: backward("logSoftmaxBackward", gradOut, out, d),
    inputs: [gradOut, out],
    saved: { gradOut, out, d },
  }),
  backward: ({ gradOut, out, d }, gradGrad, needsInputGrad) => {
    const probabilities = out.exp();
    return [
      needsInputGrad[0] ? gradGrad.sub(gradGrad.mul(probabilities).sum(d, true)) : null,
      needsInputGrad[1] ? gradGrad.mul(probabilities).mul(gradOut.sum(d, true)).neg() : null,
    ];
  },
});
