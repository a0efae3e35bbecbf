// Elementwise ops of one tensor. Each doc line states forward and derivative; each backward is
// written with differentiable ops, so gradients of gradients come for free.

import { record } from "../autograd/node.js";
import * as k from "../kernels/elementwise.js";
import { floatDType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { binaryForward, checkTensor, unaryForward } from "./helpers.js";

function floatUnary(op: string, row: k.UnaryRow, x: Tensor): Tensor {
  checkTensor(x, op);
  return unaryForward(row, x, floatDType(x.dtype), op);
}

/** -x; d/dx = -1 */
export function neg(x: Tensor): Tensor {
  checkTensor(x, "neg");
  if (x.dtype === "bool")
    throw new TypeError("neg: negation of a bool tensor is not supported; use logical ops");
  const out = unaryForward(k.negRow, x, x.dtype, "neg");
  return record("neg", out, [x], (gradOut) => [gradOut.neg()]);
}

/** e^x; d/dx = e^x = out */
export function exp(x: Tensor): Tensor {
  const out = floatUnary("exp", k.expRow, x);
  return record("exp", out, [x], (gradOut) => [gradOut.mul(out)], [out]);
}

/** ln x; d/dx = 1/x */
export function log(x: Tensor): Tensor {
  const out = floatUnary("log", k.logRow, x);
  return record("log", out, [x], (gradOut) => [gradOut.div(x)], [x]);
}

/** √x; d/dx = 1/(2√x) = 1/(2·out) */
export function sqrt(x: Tensor): Tensor {
  const out = floatUnary("sqrt", k.sqrtRow, x);
  return record("sqrt", out, [x], (gradOut) => [gradOut.div(out.mul(2))], [out]);
}

/** 1/√x; d/dx = -x^(-3/2)/2 = -out³/2 */
export function rsqrt(x: Tensor): Tensor {
  const out = floatUnary("rsqrt", k.rsqrtRow, x);
  return record("rsqrt", out, [x], (gradOut) => [gradOut.mul(out.pow(3)).mul(-0.5)], [out]);
}

/** |x|; d/dx = sign(x). NOTE: the subgradient at 0 is 0, as in PyTorch. */
export function abs(x: Tensor): Tensor {
  checkTensor(x, "abs");
  const out = unaryForward(k.absRow, x, x.dtype, "abs");
  return record("abs", out, [x], (gradOut) => [gradOut.mul(x.sign())], [x]);
}

/** sign(x) ∈ {-1, 0, 1}; d/dx = 0 almost everywhere. */
export function sign(x: Tensor): Tensor {
  checkTensor(x, "sign");
  const out = unaryForward(k.signRow, x, x.dtype, "sign");
  return record("sign", out, [x], (gradOut) => [gradOut.mul(0)]);
}

/** x²; d/dx = 2x */
export function square(x: Tensor): Tensor {
  checkTensor(x, "square");
  const out = unaryForward(k.squareRow, x, x.dtype === "bool" ? "int32" : x.dtype, "square");
  return record("square", out, [x], (gradOut) => [gradOut.mul(x.mul(2))], [x]);
}

/** tanh x; d/dx = 1 - tanh²x = 1 - out² */
export function tanh(x: Tensor): Tensor {
  const out = floatUnary("tanh", k.tanhRow, x);
  return record("tanh", out, [x], (gradOut) => [gradOut.mul(out.square().neg().add(1))], [out]);
}

/** σ(x) = 1/(1+e^-x); d/dx = σ(x)(1-σ(x)) = out·(1-out) */
export function sigmoid(x: Tensor): Tensor {
  const out = floatUnary("sigmoid", k.sigmoidRow, x);
  return record("sigmoid", out, [x], (gradOut) => [gradOut.mul(out.mul(out.neg().add(1)))], [out]);
}

/** max(x, 0); d/dx = 1 if x > 0 else 0. NOTE: 0 at x = 0, as in PyTorch. */
export function relu(x: Tensor): Tensor {
  checkTensor(x, "relu");
  const out = unaryForward(k.reluRow, x, x.dtype, "relu");
  return record("relu", out, [x], (gradOut) => [reluBackward(gradOut, out)], [out]);
}

/**
 * relu's backward in one kernel: gradOut·(out > 0), as `gradOut.mul(out.gt(0))` (so NaN·0 stays
 * NaN) without the bool mask in between. d/dgradOut = (out > 0); `out` gets no gradient (a step
 * function), so double backward is the same op again. Checked through relu's gradgradcheck.
 */
function reluBackward(gradOut: Tensor, out: Tensor): Tensor {
  const result = binaryForward(k.reluBackwardRow, gradOut, out, gradOut.dtype, "reluBackward");
  return record("reluBackward", result, [gradOut], (gradGrad) => [reluBackward(gradGrad, out)], [
    out,
  ]);
}

/** x if x > 0 else slope·x; d/dx = 1 if x > 0 else slope (slope at x = 0, as in PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkTensor(x, "leakyRelu");
  if (!Number.isFinite(negativeSlope))
    throw new RangeError(`leakyRelu: negativeSlope must be finite, got ${negativeSlope}`);
  const out = unaryForward(k.leakyReluRow(negativeSlope), x, floatDType(x.dtype), "leakyRelu");
  return record(
    "leakyRelu",
    out,
    [x],
    (gradOut) => [
      gradOut.mul(
        x
          .gt(0)
          .to(x.dtype)
          .mul(1 - negativeSlope)
          .add(negativeSlope),
      ),
    ],
    [x],
  );
}

/** erf(x) = 2/√π ∫₀ˣ e^(-t²) dt; d/dx = 2/√π · e^(-x²) */
export function erf(x: Tensor): Tensor {
  const out = floatUnary("erf", k.erfRow, x);
  return record(
    "erf",
    out,
    [x],
    (gradOut) => [
      gradOut.mul(
        x
          .square()
          .neg()
          .exp()
          .mul(2 / Math.sqrt(Math.PI)),
      ),
    ],
    [x],
  );
}

/**
 * min(max(x, min), max); d/dx = 1 where min ≤ x ≤ max, else 0. NOTE: inclusive at the bounds,
 * as in PyTorch. Either bound may be omitted (null/undefined).
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, "clamp");
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null)
    throw new TypeError("clamp: at least one of min and max must be given");
  for (const bound of [lo, hi]) {
    if (bound !== null && (typeof bound !== "number" || Number.isNaN(bound))) {
      throw new TypeError(`clamp: bounds must be numbers, got ${String(bound)}`);
    }
  }
  const out = unaryForward(k.clampRow(lo ?? -Infinity, hi ?? Infinity), x, x.dtype, "clamp");
  return record(
    "clamp",
    out,
    [x],
    (gradOut) => {
      let inside = lo === null ? x.le(hi!) : x.ge(lo);
      if (lo !== null && hi !== null) inside = inside.mul(x.le(hi));
      return [gradOut.mul(inside)];
    },
    [x],
  );
}
