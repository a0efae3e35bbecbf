// Elementwise ops of two tensors, with broadcasting and PyTorch's type promotion, one registry
// block each (see define.ts). Gradients of broadcast inputs are summed back to the input's shape
// by `unbroadcast`, which needs only the input's shape and dtype (its `meta`), so an input that
// the derivative does not read is not saved.

import { isGradEnabled, noGrad } from "../autograd/grad-mode.js";
import { getKernelBackend } from "../kernels/backend.js";
import * as k from "../kernels/elementwise.js";
import {
  type ChainOperand,
  type ChainStep,
  chainInner,
  chainOperandOf,
  chainWasm,
} from "../kernels/elementwise-chain.js";
import type { FloatArray } from "../kernels/gemm-js.js";
import { sumProductsOverRows } from "../kernels/reduce-products.js";
import { selectWhere } from "../kernels/where.js";
import { allocate, allocateUnfilled, floatDType, isFloat } from "../tensor/dtype.js";
import { broadcastShapes, formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor, type TensorLike } from "../tensor/tensor.js";
import { activeTracer } from "../tensor/tracing.js";
import { defineNonDifferentiable, defineOp, meta, type Recorded } from "./define.js";
import {
  binaryForward,
  broadcastShapeOf,
  checkTensor,
  resultDType,
  shapeOf,
  toTensor,
  unaryForward,
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

/**
 * a + alpha·b, broadcast; d/da = 1, d/db = alpha.
 * @function
 */
export const add = defineOp({
  name: "add",
  rule: "d/da = g, d/db = g (each summed over the dims it was broadcast along)",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike, alpha: number = 1) => {
    const [x, y, dtype] = operands(a, b, "add");
    if (dtype === "bool" && alpha !== 1) {
      throw new TypeError(
        `add: alpha ${alpha} is not allowed when both operands are bool (the result is a logical or)`,
      );
    }
    // bool + bool is a logical or, which is the maximum of 0/1 values.
    const row = dtype === "bool" ? k.maximumRow : k.addRow;
    const scaled = alpha === 1 ? y : noGrad(() => y.mul(alpha));
    const out = binaryForward(row, x, scaled, dtype, "add");
    return { out, inputs: [x, y], saved: { x: meta(x), y: meta(y), alpha } };
  },
  backward: ({ x, y, alpha }, gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut, x) : null,
    needs[1] ? unbroadcast(alpha === 1 ? gradOut : gradOut.mul(alpha), y) : null,
  ],
});

/**
 * a - alpha·b, broadcast; d/da = 1, d/db = -alpha.
 * @function
 */
export const sub = defineOp({
  name: "sub",
  rule: "d/da = g, d/db = -g",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike, alpha: number = 1) => {
    const [x, y, dtype] = operands(a, b, "sub");
    if (dtype === "bool") throw new TypeError("sub: subtraction of bool tensors is not supported");
    const scaled = alpha === 1 ? y : noGrad(() => y.mul(alpha));
    const out = binaryForward(k.subRow, x, scaled, dtype, "sub");
    return { out, inputs: [x, y], saved: { x: meta(x), y: meta(y), alpha } };
  },
  backward: ({ x, y, alpha }, gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut, x) : null,
    // Negating commutes with the sum exactly, so a broadcast y (x - mean) negates its reduced
    // gradient rather than a full-size copy.
    needs[1]
      ? alpha === 1
        ? unbroadcast(gradOut, y).neg()
        : unbroadcast(gradOut.mul(-alpha), y)
      : null,
  ],
});

/**
 * a·b, broadcast; d/da = b, d/db = a.
 * @function
 */
export const mul = defineOp({
  name: "mul",
  rule: "d/da = g·b, d/db = g·a",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike) => {
    const [x, y, dtype] = operands(a, b, "mul");
    const out = binaryForward(k.mulRow, x, y, dtype, "mul");
    return { out, inputs: [x, y], saved: { x, y } };
  },
  backward: ({ x, y }, gradOut, needs) => [
    needs[0] ? factorGradient(gradOut, y, x) : null,
    needs[1] ? factorGradient(gradOut, x, y) : null,
  ],
});

/** The three operands of addcmul: tensors of one float dtype (PyTorch's float kernels). */
function addcmulOperands(input: Tensor, t1: Tensor, t2: Tensor, value: number): void {
  checkTensor(input, "addcmul");
  checkTensor(t1, "addcmul", "tensor1");
  checkTensor(t2, "addcmul", "tensor2");
  const dtypes = [input.dtype, t1.dtype, t2.dtype];
  if (!isFloat(input.dtype) || dtypes.some((d) => d !== input.dtype)) {
    throw new TypeError(
      `addcmul: input, tensor1 and tensor2 must be float tensors of one dtype, got ${dtypes.join(", ")} (shapes ${[input, t1, t2].map((t) => formatShape(t.shape)).join(", ")})`,
    );
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`addcmul: value must be a finite number, got ${String(value)}`);
  }
}

/** Below this many elements addcmul runs as two one-op passes: a chain's setup costs more. */
const ADDCMUL_CHAIN_MIN_ELEMENTS = 1024;

/**
 * input + value·tensor1·tensor2, broadcast, like `torch.addcmul`, in one pass over the operands:
 * the same roundings as `input.add(tensor1.mul(value).mul(tensor2))` (each product and the sum
 * rounded to the dtype; with value 1, `input.add(tensor1.mul(tensor2))`), without the product's
 * full-size array. BatchNorm's scale and shift use it. d/dinput = 1, d/dtensor1 = value·tensor2,
 * d/dtensor2 = value·tensor1.
 *
 * @throws TypeError unless all three are float tensors of one dtype and value is finite;
 * RangeError for shapes that do not broadcast.
 * @example
 * ```ts
 * const y = addcmul(bias, centred, scale); // bias + centred·scale
 * ```
 * @function
 */
export const addcmul = defineOp({
  name: "addcmul",
  rule: "d/dinput = g, d/dtensor1 = g·value·tensor2, d/dtensor2 = g·value·tensor1",
  kind: "elementwise",
  shape: (input: Tensor, t1: Tensor, t2: Tensor, _value?: number) =>
    broadcastShapes(broadcastShapes(input.shape, t1.shape, "addcmul"), t2.shape, "addcmul"),
  forward: (input: Tensor, t1: Tensor, t2: Tensor, value: number = 1) => {
    addcmulOperands(input, t1, t2, value);
    const shape = broadcastShapes(
      broadcastShapes(input.shape, t1.shape, "addcmul"),
      t2.shape,
      "addcmul",
    );
    const out = addcmulChain(input, t1, t2, value, shape) ?? addcmulLoops(input, t1, t2, value);
    return { out, inputs: [input, t1, t2], saved: { x: meta(input), a: t1, b: t2, value } };
  },
  // With value 1, mul's and add's gradients exactly: a broadcast factor's column sums run over
  // the product without allocating it. Otherwise g·(t2·value), PyTorch's order of roundings.
  backward: ({ x, a, b, value }, gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut, x) : null,
    needs[1]
      ? value === 1
        ? factorGradient(gradOut, b, a)
        : unbroadcast(gradOut.mul(b.mul(value)), a)
      : null,
    needs[2]
      ? value === 1
        ? factorGradient(gradOut, a, b)
        : unbroadcast(gradOut.mul(a.mul(value)), b)
      : null,
  ],
});

/**
 * addcmul as the same loops one after another, (value·t1)·t2 then input plus it, through the
 * kernels rather than the ops, so a tracer sees one call.
 */
function addcmulLoops(input: Tensor, t1: Tensor, t2: Tensor, value: number): Tensor {
  const dtype = input.dtype;
  const scaled =
    value === 1
      ? t1
      : binaryForward(k.mulRow, t1, toTensor(value, dtype, "addcmul"), dtype, "addcmul");
  const product = binaryForward(k.mulRow, scaled, t2, dtype, "addcmul");
  return binaryForward(k.addRow, input, product, dtype, "addcmul");
}

/**
 * addcmul as one WebAssembly chain: (value·t1)·t2 (t1·t2 for value 1), then input plus it, the
 * loops of mul and add; null where the chain cannot read an operand or the JS kernels are chosen.
 */
function addcmulChain(
  input: Tensor,
  t1: Tensor,
  t2: Tensor,
  value: number,
  shape: number[],
): Tensor | null {
  const n = numelOf(shape);
  if (n < ADDCMUL_CHAIN_MIN_ELEMENTS || getKernelBackend() === "js") return null;
  const operands = [input, t1, t2].map((t) =>
    chainOperandOf(t as Tensor & { data: FloatArray }, shape),
  );
  if (operands.some((o) => o === null)) return null;
  const chainOperands = operands as ChainOperand[];
  const steps: ChainStep[] = [];
  let product = 1; // slot of t1, or of value·t1
  if (value !== 1) {
    const scalar =
      input.dtype === "float64" ? new Float64Array([value]) : new Float32Array([value]);
    chainOperands.push({ data: scalar, offset: 0, layout: "scalar" });
    steps.push({ op: "mul", a: 3, b: 1 });
    product = 4;
  }
  const k = chainOperands.length;
  steps.push({ op: "mul", a: product, b: 2 });
  steps.push({ op: "add", a: 0, b: k + steps.length - 1 });
  const out = allocateUnfilled(input.dtype, n, "addcmul", shape) as FloatArray;
  const written = [{ slot: k + steps.length - 1, out }];
  if (!chainWasm(chainOperands, steps, written, n, chainInner(shape))) return null;
  return Tensor.fromTypedArray(out, shape);
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
  return sumProducts(g, other, factor.shape);
}

/**
 * Σ over rows of g·other ([rows, cols] each, contiguous, same float dtype), reshaped to
 * `shape` (cols elements): a factor's gradient without the full-size product. Not exported and
 * never recorded (it runs in backward passes without a graph); an op so that tracers see it.
 */
const sumProducts = defineNonDifferentiable({
  name: "sumProducts",
  kind: "reduction",
  shape: (_g: Tensor, _other: Tensor, shape: readonly number[]) => shape,
  forward: (g: Tensor, other: Tensor, shape: readonly number[]) => {
    const cols = g.shape[g.ndim - 1];
    const sums = new Float64Array(cols);
    const gData = g.data as Float32Array | Float64Array;
    const oData = other.data as Float32Array | Float64Array;
    sumProductsOverRows(gData, g.offset, oData, other.offset, g.numel() / cols, cols, sums);
    const values = allocate(g.dtype, cols);
    values.set(sums);
    return Tensor.fromTypedArray(values, shape);
  },
});

/**
 * a/b, broadcast (true division: integers give float32); d/da = 1/b, d/db = -a/b².
 * @function
 */
export const div = defineOp({
  name: "div",
  rule: "d/da = g/b, d/db = -g·a/b²",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike) => {
    const [x, y, promoted] = operands(a, b, "div");
    const out = binaryForward(k.divRow, x, y, floatDType(promoted), "div");
    return { out, inputs: [x, y], saved: { x, y } };
  },
  backward: ({ x, y }, gradOut, needs) => [
    needs[0] ? unbroadcast(gradOut.div(y), x) : null,
    needs[1] ? unbroadcast(gradOut.neg().mul(x).div(y.square()), y) : null,
  ],
});

/**
 * The loops of a float tensor raised to these number exponents: the operations PyTorch's CPU
 * kernel uses for them (x·x, x·x·x, sqrt, 1/sqrt, 1/x, 1/(x·x)) instead of a general power,
 * which costs some 60 ns per element. Each operation rounds to the tensor's dtype, so results
 * are PyTorch's bit for bit, except x^-0.5 in float32: that is Koubai's rsqrt, rounded once from
 * float64 where PyTorch rounds the square root first (at most one ulp apart).
 */
const POWER_ROWS = new Map<number, k.UnaryRow>([
  [2, k.squareRow],
  [3, k.cubeRow],
  [0.5, k.sqrtRow],
  [-0.5, k.rsqrtRow],
  [-1, k.reciprocalRow],
  [-2, k.inverseSquareRow],
]);

/** What pow's backward reads: x and a number exponent, or x, the tensor exponent and the result. */
type PowSaved =
  | { x: Tensor; exponent: number }
  | { x: Tensor; y: Tensor; out: Tensor; exponent: null };

/**
 * a^b, with a tensor or a number exponent, broadcast.
 * d/da = b·a^(b-1) (0 where b = 0); d/db = a^b·ln a (0 where a = 0 and b ≥ 0), as in PyTorch.
 * A number exponent c is not an input: x^c records x alone, d/dx = c·x^(c-1) (0 when c = 0).
 * @function
 */
export const pow = defineOp({
  name: "pow",
  rule: "d/da = g·b·a^(b-1), d/db = g·a^b·ln a",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike): Recorded<PowSaved, Tensor> => {
    if (typeof b === "number" && typeof a !== "number") {
      const x = checkTensor(a, "pow");
      const dtype = isFloat(x.dtype) || Number.isInteger(b) ? x.dtype : "float32";
      const row = isFloat(x.dtype) ? POWER_ROWS.get(b) : undefined;
      const out =
        row !== undefined
          ? unaryForward(row, x, dtype, "pow")
          : binaryForward(k.powRow, x, toTensor(b, dtype, "pow"), dtype, "pow");
      return { out, inputs: [x], saved: { x, exponent: b } };
    }
    const [x, y, dtype] = operands(a, b, "pow");
    const out = binaryForward(k.powRow, x, y, dtype, "pow");
    return { out, inputs: [x, y], saved: { x, y, out, exponent: null } };
  },
  backward: (saved, gradOut, needs) => {
    if (saved.exponent !== null) {
      const { x, exponent } = saved;
      return [exponent === 0 ? gradOut.mul(0) : gradOut.mul(x.pow(exponent - 1).mul(exponent))];
    }
    const { x, y, out } = saved;
    return [
      needs[0] ? unbroadcast(gradOut.mul(where(y.eq(0), 0, y.mul(x.pow(y.sub(1))))), x) : null,
      needs[1]
        ? unbroadcast(gradOut.mul(where(x.eq(0).mul(y.ge(0)), 0, out.mul(x.log()))), y)
        : null,
    ];
  },
});

/**
 * Elementwise maximum, broadcast (NaN propagates). d/da = 1 where a > b, ½ where a = b, else 0
 * (and the mirror for b): at ties the gradient is split, as in PyTorch.
 * @function
 */
export const maximum = defineOp({
  name: "maximum",
  rule: "g goes to the larger of a and b, half to each on a tie",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike) => {
    const [x, y, dtype] = operands(a, b, "maximum");
    const out = binaryForward(k.maximumRow, x, y, dtype, "maximum");
    return { out, inputs: [x, y], saved: { x, y } };
  },
  backward: ({ x, y }, gradOut, needs) => tieSplit(gradOut, x, y, x.gt(y), x.lt(y), needs),
});

/**
 * Elementwise minimum, broadcast; gradients as for `maximum` with the comparison reversed.
 * @function
 */
export const minimum = defineOp({
  name: "minimum",
  rule: "g goes to the smaller of a and b, half to each on a tie",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike) => {
    const [x, y, dtype] = operands(a, b, "minimum");
    const out = binaryForward(k.minimumRow, x, y, dtype, "minimum");
    return { out, inputs: [x, y], saved: { x, y } };
  },
  backward: ({ x, y }, gradOut, needs) => tieSplit(gradOut, x, y, x.lt(y), x.gt(y), needs),
});

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
 * `condition ? a : b` elementwise, all three broadcast together. d/da = condition,
 * d/db = !condition; the condition is not differentiated. It must be a bool tensor, as in
 * PyTorch (make one with a comparison, `x.gt(0)`, or `x.ne(0)` for "nonzero").
 *
 * @throws TypeError when `condition` is not a bool tensor.
 * @function
 */
export const where = defineOp({
  name: "where",
  rule: "d/da = g where the condition holds, d/db = g where it does not",
  kind: "elementwise",
  shape: (condition: Tensor, a: TensorLike, b: TensorLike) =>
    broadcastShapes(broadcastShapes(condition.shape, shapeOf(a), "where"), shapeOf(b), "where"),
  forward: (condition: Tensor, a: TensorLike, b: TensorLike) => {
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
    return { out, inputs: [x, y], saved: { condition, x: meta(x), y: meta(y) } };
  },
  backward: ({ condition, x, y }, gradOut, needs): (Tensor | null)[] => [
    needs[0] ? unbroadcast(where(condition, gradOut, 0), x) : null,
    needs[1] ? unbroadcast(where(condition, 0, gradOut), y) : null,
  ],
});

/**
 * atan2(y, x): the angle of the point (x, y) in (-π, π], broadcast, like `torch.atan2`.
 * d/dy = x/(x² + y²), d/dx = -y/(x² + y²).
 * @function
 */
export const atan2 = defineOp({
  name: "atan2",
  rule: "d/dy = g·x/(x² + y²), d/dx = -g·y/(x² + y²)",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (y: TensorLike, x: TensorLike) => {
    const [a, b, promoted] = operands(y, x, "atan2");
    const out = binaryForward(k.atan2Row, a, b, floatDType(promoted), "atan2");
    return { out, inputs: [a, b], saved: { a, b } };
  },
  backward: ({ a, b }, gradOut, needs) => {
    const scaled = gradOut.div(a.square().add(b.square()));
    return [
      needs[0] ? unbroadcast(scaled.mul(b), a) : null,
      needs[1] ? unbroadcast(scaled.mul(a).neg(), b) : null,
    ];
  },
});

/**
 * √(a² + b²), broadcast, like `torch.hypot` (no overflow or underflow in between).
 * d/da = a/hypot, d/db = b/hypot.
 * @function
 */
export const hypot = defineOp({
  name: "hypot",
  rule: "d/da = g·a/hypot(a, b), d/db = g·b/hypot(a, b)",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: TensorLike, b: TensorLike) => {
    const [x, y, promoted] = operands(a, b, "hypot");
    const out = binaryForward(k.hypotRow, x, y, floatDType(promoted), "hypot");
    return { out, inputs: [x, y], saved: { x, y, out } };
  },
  backward: ({ x, y, out }, gradOut, needs) => {
    const scaled = gradOut.div(out);
    return [
      needs[0] ? unbroadcast(scaled.mul(x), x) : null,
      needs[1] ? unbroadcast(scaled.mul(y), y) : null,
    ];
  },
});

/**
 * `ifTrue()` when the 0-d bool `condition` holds, else `ifFalse()`: for a backward whose formula
 * depends on the values (zeros in prod and cumprod). Eagerly it reads the condition and computes
 * one form; while a compiled function traces, it computes both and picks with `where`, since a
 * replay runs on other values and cannot repeat a branch taken in JavaScript.
 */
export function chooseOnValue(
  condition: Tensor,
  ifTrue: () => Tensor,
  ifFalse: () => Tensor,
): Tensor {
  if (activeTracer() !== null) return where(condition, ifTrue(), ifFalse());
  return condition.item() ? ifTrue() : ifFalse();
}
