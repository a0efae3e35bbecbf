// Elementwise ops of one tensor, one registry block each (see define.ts). Each doc line states
// forward and derivative; each backward is written with differentiable ops, so gradients of
// gradients come for free. Longer than 300 lines because it is one table of similar blocks.

import * as k from "../kernels/elementwise.js";
import { floatDType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { where } from "./binary.js";
import { defineOp } from "./define.js";
import {
  binaryForward,
  checkTensor,
  onDistinctValues,
  sameShapeAs,
  unaryForward,
} from "./helpers.js";

/** The float result of `row` over x (integer and bool inputs compute in float32). */
function floatUnary(op: string, row: k.UnaryRow, x: Tensor): Tensor {
  checkTensor(x, op);
  return unaryForward(row, x, floatDType(x.dtype), op);
}

/**
 * -x; d/dx = -1
 * @function
 */
export const neg = defineOp({
  name: "neg",
  rule: "d/dx = -g",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    checkTensor(x, "neg");
    if (x.dtype === "bool")
      throw new TypeError("neg: negation of a bool tensor is not supported; use logical ops");
    return { out: unaryForward(k.negRow, x, x.dtype, "neg"), inputs: [x], saved: {} };
  },
  backward: (_, gradOut) => [gradOut.neg()],
});

/**
 * e^x; d/dx = e^x = out
 * @function
 */
export const exp = defineOp({
  name: "exp",
  rule: "d/dx = g·eˣ",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    const out = floatUnary("exp", k.expRow, x);
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [gradOut.mul(out)],
});

/**
 * ln x; d/dx = 1/x
 * @function
 */
export const log = defineOp({
  name: "log",
  rule: "d/dx = g/x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("log", k.logRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x)],
});

/**
 * ln(1 + x), exact for small x; d/dx = 1/(1 + x)
 * @function
 */
export const log1p = defineOp({
  name: "log1p",
  rule: "d/dx = g/(1 + x)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("log1p", k.log1pRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.add(1))],
});

/**
 * √x; d/dx = 1/(2√x) = 1/(2·out)
 * @function
 */
export const sqrt = defineOp({
  name: "sqrt",
  rule: "d/dx = g/(2√x)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    const out = floatUnary("sqrt", k.sqrtRow, x);
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [gradOut.div(out.mul(2))],
});

/**
 * 1/√x; d/dx = -x^(-3/2)/2 = -out³/2
 * @function
 */
export const rsqrt = defineOp({
  name: "rsqrt",
  rule: "d/dx = -g/(2x√x)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    const out = floatUnary("rsqrt", k.rsqrtRow, x);
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [gradOut.mul(out.pow(3)).mul(-0.5)],
});

/**
 * |x|; d/dx = sign(x). NOTE: the subgradient at 0 is 0, as in PyTorch.
 * @function
 */
export const abs = defineOp({
  name: "abs",
  rule: "d/dx = g·sign(x)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    checkTensor(x, "abs");
    return { out: unaryForward(k.absRow, x, x.dtype, "abs"), inputs: [x], saved: { x } };
  },
  backward: ({ x }, gradOut) => [gradOut.mul(x.sign())],
});

/**
 * sign(x) ∈ {-1, 0, 1}; d/dx = 0 almost everywhere.
 * @function
 */
export const sign = defineOp({
  name: "sign",
  rule: "d/dx = 0",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    checkTensor(x, "sign");
    return { out: unaryForward(k.signRow, x, x.dtype, "sign"), inputs: [x], saved: {} };
  },
  backward: (_, gradOut) => [gradOut.mul(0)],
});

/**
 * x²; d/dx = 2x
 * @function
 */
export const square = defineOp({
  name: "square",
  rule: "d/dx = 2x·g",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    checkTensor(x, "square");
    const out = unaryForward(k.squareRow, x, x.dtype === "bool" ? "int32" : x.dtype, "square");
    return { out, inputs: [x], saved: { x } };
  },
  // 2·g first: g is often a reduction's gradient broadcast back (variance), so 2·g costs one
  // value per row and the product with x is the only full-size pass.
  backward: ({ x }, gradOut) => [x.mul(onDistinctValues(gradOut, (g) => g.mul(2)))],
});

/**
 * tanh x; d/dx = 1 - tanh²x = 1 - out²
 * @function
 */
export const tanh = defineOp({
  name: "tanh",
  rule: "d/dx = g·(1 - tanh² x)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    const out = floatUnary("tanh", k.tanhRow, x);
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [gradOut.mul(out.square().neg().add(1))],
});

/**
 * sin x; d/dx = cos x
 * @function
 */
export const sin = defineOp({
  name: "sin",
  rule: "d/dx = g·cos x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("sin", k.sinRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.cos())],
});

/**
 * cos x; d/dx = -sin x
 * @function
 */
export const cos = defineOp({
  name: "cos",
  rule: "d/dx = -g·sin x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("cos", k.cosRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.sin().neg())],
});

/**
 * σ(x) = 1/(1+e^-x); d/dx = σ(x)(1-σ(x)) = out·(1-out)
 * @function
 */
export const sigmoid = defineOp({
  name: "sigmoid",
  rule: "d/dx = g·σ(x)·(1 - σ(x))",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    const out = floatUnary("sigmoid", k.sigmoidRow, x);
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [gradOut.mul(out.mul(out.neg().add(1)))],
});

/**
 * max(x, 0); d/dx = 1 if x > 0 else 0. NOTE: 0 at x = 0, as in PyTorch.
 * @function
 */
export const relu = defineOp({
  name: "relu",
  rule: "d/dx = g where x > 0, else 0",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => {
    checkTensor(x, "relu");
    const out = unaryForward(k.reluRow, x, x.dtype, "relu");
    return { out, inputs: [x], saved: { out } };
  },
  backward: ({ out }, gradOut) => [reluBackward(gradOut, out)],
});

/**
 * relu's backward in one kernel: gradOut·(out > 0), as `gradOut.mul(out.gt(0))` (so NaN·0 stays
 * NaN) without the bool mask in between. d/dgradOut = (out > 0); `out` gets no gradient (a step
 * function), so double backward is the same op again. Internal: recorded by relu's backward.
 * @function
 */
export const reluBackward = defineOp({
  name: "reluBackward",
  rule: "d/dgradOut = g where relu's output > 0, else 0",
  kind: "elementwise",
  internal: true,
  shape: sameShapeAs,
  forward: (gradOut: Tensor, out: Tensor) => {
    const result = binaryForward(k.reluBackwardRow, gradOut, out, gradOut.dtype, "reluBackward");
    return { out: result, inputs: [gradOut], saved: { out } };
  },
  backward: ({ out }, gradGrad): Tensor[] => [reluBackward(gradGrad, out)],
});

/**
 * x if x > 0 else slope·x; d/dx = 1 if x > 0 else slope (slope at x = 0, as in PyTorch).
 * @function
 */
export const leakyRelu = defineOp({
  name: "leakyRelu",
  rule: "d/dx = g where x > 0, g·slope elsewhere",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor, negativeSlope: number = 0.01) => {
    checkTensor(x, "leakyRelu");
    if (!Number.isFinite(negativeSlope))
      throw new RangeError(`leakyRelu: negativeSlope must be finite, got ${negativeSlope}`);
    const out = unaryForward(k.leakyReluRow(negativeSlope), x, floatDType(x.dtype), "leakyRelu");
    return { out, inputs: [x], saved: { x, negativeSlope } };
  },
  backward: ({ x, negativeSlope }, gradOut) => [
    gradOut.mul(
      x
        .gt(0)
        .to(x.dtype)
        .mul(1 - negativeSlope)
        .add(negativeSlope),
    ),
  ],
});

/**
 * log(1 + e^(βx))/β, a smooth relu, and x itself where βx > threshold (as PyTorch, for
 * stability); d/dx = σ(βx), and 1 where βx > threshold. Defaults: β = 1, threshold = 20.
 * @function
 */
export const softplus = defineOp({
  name: "softplus",
  rule: "d/dx = g·σ(β·x), or g where β·x > threshold",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor, beta: number = 1, threshold: number = 20) => {
    checkTensor(x, "softplus");
    if (typeof beta !== "number" || !Number.isFinite(beta) || beta === 0)
      throw new RangeError(`softplus: beta must be a finite nonzero number, got ${String(beta)}`);
    if (typeof threshold !== "number" || Number.isNaN(threshold))
      throw new RangeError(`softplus: threshold must be a number, got ${String(threshold)}`);
    const out = unaryForward(k.softplusRow(beta, threshold), x, floatDType(x.dtype), "softplus");
    return { out, inputs: [x], saved: { x, beta, threshold } };
  },
  backward: ({ x, beta, threshold }, gradOut) => {
    const scaled = x.mul(beta);
    return [gradOut.mul(where(scaled.gt(threshold), 1, scaled.sigmoid()))];
  },
});

/**
 * erf(x) = 2/√π ∫₀ˣ e^(-t²) dt; d/dx = 2/√π · e^(-x²)
 * @function
 */
export const erf = defineOp({
  name: "erf",
  rule: "d/dx = g·2/√π·e^(-x²)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("erf", k.erfRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [
    gradOut.mul(
      x
        .square()
        .neg()
        .exp()
        .mul(2 / Math.sqrt(Math.PI)),
    ),
  ],
});

/**
 * min(max(x, min), max); d/dx = 1 where min ≤ x ≤ max, else 0. NOTE: inclusive at the bounds,
 * as in PyTorch. Either bound may be omitted (null/undefined).
 * @function
 */
export const clamp = defineOp({
  name: "clamp",
  rule: "d/dx = g where min ≤ x ≤ max, else 0",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor, min?: number | null, max?: number | null) => {
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
    return { out, inputs: [x], saved: { x, lo, hi } };
  },
  backward: ({ x, lo, hi }, gradOut) => {
    let inside = lo === null ? x.le(hi!) : x.ge(lo);
    if (lo !== null && hi !== null) inside = inside.mul(x.le(hi));
    return [gradOut.mul(inside)];
  },
});

/**
 * tan x; d/dx = 1/cos² x
 * @function
 */
export const tan = defineOp({
  name: "tan",
  rule: "d/dx = g/cos² x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("tan", k.tanRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.cos().square())],
});

/**
 * arcsin x, in [-π/2, π/2] (NaN outside [-1, 1]); d/dx = 1/√(1 - x²)
 * @function
 */
export const asin = defineOp({
  name: "asin",
  rule: "d/dx = g/√(1 - x²)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("asin", k.asinRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.square().neg().add(1).sqrt())],
});

/**
 * arccos x, in [0, π] (NaN outside [-1, 1]); d/dx = -1/√(1 - x²)
 * @function
 */
export const acos = defineOp({
  name: "acos",
  rule: "d/dx = -g/√(1 - x²)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("acos", k.acosRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.neg().div(x.square().neg().add(1).sqrt())],
});

/**
 * arctan x, in (-π/2, π/2); d/dx = 1/(1 + x²)
 * @function
 */
export const atan = defineOp({
  name: "atan",
  rule: "d/dx = g/(1 + x²)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("atan", k.atanRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.square().add(1))],
});

/**
 * sinh x; d/dx = cosh x
 * @function
 */
export const sinh = defineOp({
  name: "sinh",
  rule: "d/dx = g·cosh x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("sinh", k.sinhRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.cosh())],
});

/**
 * cosh x; d/dx = sinh x
 * @function
 */
export const cosh = defineOp({
  name: "cosh",
  rule: "d/dx = g·sinh x",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("cosh", k.coshRow, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.sinh())],
});

/**
 * eˣ - 1, exact for small x; d/dx = eˣ
 * @function
 */
export const expm1 = defineOp({
  name: "expm1",
  rule: "d/dx = g·eˣ",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("expm1", k.expm1Row, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.exp())],
});

/**
 * log₂ x; d/dx = 1/(x·ln 2)
 * @function
 */
export const log2 = defineOp({
  name: "log2",
  rule: "d/dx = g/(x·ln 2)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("log2", k.log2Row, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.mul(Math.LN2))],
});

/**
 * log₁₀ x; d/dx = 1/(x·ln 10)
 * @function
 */
export const log10 = defineOp({
  name: "log10",
  rule: "d/dx = g/(x·ln 10)",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("log10", k.log10Row, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.div(x.mul(Math.LN10))],
});

/**
 * 2ˣ; d/dx = 2ˣ·ln 2
 * @function
 */
export const exp2 = defineOp({
  name: "exp2",
  rule: "d/dx = g·2ˣ·ln 2",
  kind: "elementwise",
  shape: sameShapeAs,
  forward: (x: Tensor) => ({ out: floatUnary("exp2", k.exp2Row, x), inputs: [x], saved: { x } }),
  backward: ({ x }, gradOut) => [gradOut.mul(x.exp2()).mul(Math.LN2)],
});
