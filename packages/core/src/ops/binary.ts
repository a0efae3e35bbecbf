// Elementwise ops of two tensors, with broadcasting and PyTorch's type promotion. Gradients of
// broadcast inputs are summed back to the input's shape by `unbroadcast`.

import { isGradEnabled, noGrad } from "../autograd/grad-mode.js";
import { record } from "../autograd/node.js";
import * as k from "../kernels/elementwise.js";
import { sumProductsOverRows } from "../kernels/reduce-products.js";
import { selectWhere } from "../kernels/where.js";
import { allocate, floatDType, isFloat } from "../tensor/dtype.js";
import { broadcastShapes, formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import {
  binaryForward,
  checkTensor,
  resultDType,
  type TensorLike,
  toTensor,
  unbroadcast,
} from "./helpers.js";

/** Both operands as tensors of the promoted dtype (JS numbers become 0-d tensors). */
function operands(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor, Tensor["dtype"]] {
  if (typeof a !== "number") checkTensor(a, op);
  if (typeof b !== "number") checkTensor(b, op, "other");
  const dtype = resultDType(a, b, op);
  const ta = typeof a === "number" ? toTensor(a, dtype, op) : a;
  const tb = typeof b === "number" ? toTensor(b, dtype, op) : b;
  return [ta, tb, dtype];
}

/** a + alpha·b; d/da = 1, d/db = alpha */
export function add(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  const [x, y, dtype] = operands(a, b, "add");
  if (dtype === "bool" && alpha !== 1) {
    throw new TypeError(
      `add: alpha ${alpha} is not allowed when both operands are bool (the result is a logical or)`,
    );
  }
  // bool + bool is a logical or, which is the maximum of 0/1 values.
  const row = dtype === "bool" ? k.maximumRow : k.addRow;
  const out =
    alpha === 1
      ? binaryForward(row, x, y, dtype, "add")
      : binaryForward(
          row,
          x,
          noGrad(() => y.mul(alpha)),
          dtype,
          "add",
        );
  return record("add", out, [x, y], (gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut, x) : null,
    needs[1] ? unbroadcast(alpha === 1 ? gradOut : gradOut.mul(alpha), y) : null,
  ]);
}

/** a - alpha·b; d/da = 1, d/db = -alpha */
export function sub(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  const [x, y, dtype] = operands(a, b, "sub");
  if (dtype === "bool") throw new TypeError("sub: subtraction of bool tensors is not supported");
  const out =
    alpha === 1
      ? binaryForward(k.subRow, x, y, dtype, "sub")
      : binaryForward(
          k.subRow,
          x,
          noGrad(() => y.mul(alpha)),
          dtype,
          "sub",
        );
  return record("sub", out, [x, y], (gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut, x) : null,
    // Negating commutes with the sum exactly, so a broadcast y (x - mean) negates its reduced
    // gradient rather than a full-size copy.
    needs[1]
      ? alpha === 1
        ? unbroadcast(gradOut, y).neg()
        : unbroadcast(gradOut.mul(-alpha), y)
      : null,
  ]);
}

/** a·b; d/da = b, d/db = a */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dtype] = operands(a, b, "mul");
  const out = binaryForward(k.mulRow, x, y, dtype, "mul");
  return record(
    "mul",
    out,
    [x, y],
    (gradOut, needs) => [
      needs[0] ? factorGradient(gradOut, y, x) : null,
      needs[1] ? factorGradient(gradOut, x, y) : null,
    ],
    [x, y],
  );
}

/** Below this many elements the product is small enough to materialise. */
const FUSED_FACTOR_MIN_ELEMENTS = 65536;

/**
 * unbroadcast(g·other, factor): the gradient of `factor` in a product. When the factor is a row
 * broadcast over g's leading dims ([C] or [1, C] against [N, C], as a scale or BatchNorm's γ)
 * and no graph of the gradient is being built, the column sums run over the product without
 * allocating it (sumProductsOverRows: the same bits, one full-size array fewer).
 */
function factorGradient(g: Tensor, other: Tensor, factor: Tensor): Tensor {
  const cols = g.ndim === 0 ? 1 : g.shape[g.ndim - 1];
  const fused =
    !isGradEnabled() &&
    g.numel() >= FUSED_FACTOR_MIN_ELEMENTS &&
    g.numel() > cols && // at least two rows: a factor of g's own shape is not reduced
    (g.dtype === "float32" || g.dtype === "float64") &&
    other.dtype === g.dtype &&
    factor.dtype === g.dtype &&
    factor.numel() === cols &&
    factor.ndim >= 1 &&
    factor.shape[factor.ndim - 1] === cols &&
    sameShape(other.shape, g.shape) &&
    g.isContiguous() &&
    other.isContiguous();
  if (!fused) return unbroadcast(g.mul(other), factor);
  const sums = new Float64Array(cols);
  const gData = g.data as Float32Array | Float64Array;
  const oData = other.data as Float32Array | Float64Array;
  sumProductsOverRows(gData, g.offset, oData, other.offset, g.numel() / cols, cols, sums);
  const values = allocate(factor.dtype, cols);
  values.set(sums);
  return Tensor.fromTypedArray(values, factor.shape);
}

/** a/b (true division: integers give float32); d/da = 1/b, d/db = -a/b² */
export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, promoted] = operands(a, b, "div");
  const out = binaryForward(k.divRow, x, y, floatDType(promoted), "div");
  return record(
    "div",
    out,
    [x, y],
    (gradOut, needs) => [
      needs[0] ? unbroadcast(gradOut.div(y), x) : null,
      needs[1] ? unbroadcast(gradOut.neg().mul(x).div(y.square()), y) : null,
    ],
    [x, y],
  );
}

/**
 * a^b, with a tensor or scalar exponent.
 * d/da = b·a^(b-1) (0 where b = 0); d/db = a^b·ln a (0 where a = 0 and b ≥ 0), as in PyTorch.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && typeof a !== "number") return powScalar(checkTensor(a, "pow"), b);
  const [x, y, dtype] = operands(a, b, "pow");
  const out = binaryForward(k.powRow, x, y, dtype, "pow");
  return record(
    "pow",
    out,
    [x, y],
    (gradOut, needs) => [
      needs[0] ? unbroadcast(gradOut.mul(where(y.eq(0), 0, y.mul(x.pow(y.sub(1))))), x) : null,
      needs[1]
        ? unbroadcast(gradOut.mul(where(x.eq(0).mul(y.ge(0)), 0, out.mul(x.log()))), y)
        : null,
    ],
    [x, y, out],
  );
}

/** x^c for a number c; d/dx = c·x^(c-1) (0 when c = 0). */
function powScalar(x: Tensor, exponent: number): Tensor {
  const dtype = isFloat(x.dtype) || Number.isInteger(exponent) ? x.dtype : "float32";
  const out = binaryForward(k.powRow, x, toTensor(exponent, dtype, "pow"), dtype, "pow");
  return record(
    "pow",
    out,
    [x],
    (gradOut) => [exponent === 0 ? gradOut.mul(0) : gradOut.mul(x.pow(exponent - 1).mul(exponent))],
    [x],
  );
}

/**
 * Elementwise maximum (NaN propagates). d/da = 1 where a > b, ½ where a = b, else 0 (and the
 * mirror for b): at ties the gradient is split, as in PyTorch.
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dtype] = operands(a, b, "maximum");
  const out = binaryForward(k.maximumRow, x, y, dtype, "maximum");
  return record(
    "maximum",
    out,
    [x, y],
    (gradOut, needs) => tieSplit(gradOut, x, y, x.gt(y), x.lt(y), needs),
    [x, y],
  );
}

/** Elementwise minimum; gradients as for `maximum` with the comparison reversed. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y, dtype] = operands(a, b, "minimum");
  const out = binaryForward(k.minimumRow, x, y, dtype, "minimum");
  return record(
    "minimum",
    out,
    [x, y],
    (gradOut, needs) => tieSplit(gradOut, x, y, x.lt(y), x.gt(y), needs),
    [x, y],
  );
}

function tieSplit(
  gradOut: Tensor,
  x: Tensor,
  y: Tensor,
  xWins: Tensor,
  yWins: Tensor,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const half = x.eq(y).to(gradOut.dtype).mul(0.5);
  const xShare = xWins.to(gradOut.dtype).add(half);
  const yShare = yWins.to(gradOut.dtype).add(half);
  return [
    needs[0] ? unbroadcast(gradOut.mul(xShare), x) : null,
    needs[1] ? unbroadcast(gradOut.mul(yShare), y) : null,
  ];
}

/**
 * `condition ? a : b` elementwise, all three broadcast together. d/da = condition, d/db = !condition.
 * The condition must be a bool tensor, as in PyTorch (make one with a comparison, `x.gt(0)`, or
 * `x.ne(0)` for "nonzero").
 *
 * @throws TypeError when `condition` is not a bool tensor.
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor(condition, "where", "condition");
  if (condition.dtype !== "bool") {
    throw new TypeError(
      `where: the condition must be a bool tensor, got dtype ${condition.dtype} (shape ${formatShape(condition.shape)}); compare it first, e.g. condition.ne(0)`,
    );
  }
  const [x, y, dtype] = operands(a, b, "where");
  const shape = broadcastShapes(
    broadcastShapes(condition.shape, x.shape, "where"),
    y.shape,
    "where",
  );
  const values = allocate(dtype, numelOf(shape), "where", shape);
  selectWhere(
    condition.broadcastView(shape),
    x.broadcastView(shape),
    y.broadcastView(shape),
    values,
  );
  const out = Tensor.fromTypedArray(values, shape);
  return record(
    "where",
    out,
    [x, y],
    (gradOut, needs) => [
      needs[0] ? unbroadcast(where(condition, gradOut, 0), x) : null,
      needs[1] ? unbroadcast(where(condition, 0, gradOut), y) : null,
    ],
    [condition],
  );
}
