// log-softmax as one primitive, like PyTorch's native `_log_softmax`: one kernel forward, one
// backward (`logSoftmaxBackward`, PyTorch's `_log_softmax_backward_data`), where the composite
// x - logsumexp(x) made ten calls each way. Its backward is itself an op with a backward written
// in differentiable ops, so gradients of gradients still come out.

import { dimLayout, logSoftmaxBackwardRows, logSoftmaxRows } from "../kernels/log-softmax.js";
import { allocateUnfilled } from "../tensor/dtype.js";
import { normalizeDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp } from "./define.js";
import { checkTensor, denseFloats, requireFloat, sameShapeAs } from "./helpers.js";

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
    checkTensor(x, "logSoftmax");
    requireFloat(x, "logSoftmax");
    const d = normalizeDim(dim, x.ndim, "logSoftmax", x.shape);
    const values = allocateUnfilled(x.dtype, x.numel(), "logSoftmax", x.shape) as
      | Float32Array
      | Float64Array; // every element is written
    logSoftmaxRows(denseFloats(x), values, dimLayout(x.shape, d));
    const out = Tensor.fromTypedArray(values, x.shape);
    return { out, inputs: [x], saved: { out, d } };
  },
  backward: ({ out, d }, gradOut) => [logSoftmaxBackward(gradOut, out, d)],
});

/**
 * logSoftmax's backward in one kernel: g - exp(out)·Σ g along `dim`, with `out` log-softmax's
 * output. d/dg = h - Σ h·exp(out); d/dout = -h·exp(out)·Σ g. Internal: recorded by logSoftmax's
 * backward.
 * @function
 */
export const logSoftmaxBackward = defineOp({
  name: "logSoftmaxBackward",
  rule: "d/dgradOut = g - Σ g·exp(out); d/dout = -g·exp(out)·Σ gradOut",
  kind: "opaque",
  internal: true,
  shape: sameShapeAs,
  forward: (gradOut: Tensor, out: Tensor, d: number) => {
    const values = allocateUnfilled(out.dtype, out.numel(), "logSoftmaxBackward", out.shape) as
      | Float32Array
      | Float64Array; // every element is written
    logSoftmaxBackwardRows(denseFloats(gradOut), denseFloats(out), values, dimLayout(out.shape, d));
    const gradX = Tensor.fromTypedArray(values, out.shape);
    return { out: gradX, inputs: [gradOut, out], saved: { gradOut, out, d } };
  },
  backward: ({ gradOut, out, d }, gradGrad, needsInputGrad) => {
    const softmax = out.exp();
    return [
      needsInputGrad[0] ? gradGrad.sub(gradGrad.mul(softmax).sum(d, true)) : null,
      needsInputGrad[1] ? gradGrad.mul(softmax).mul(gradOut.sum(d, true)).neg() : null,
    ];
  },
});
