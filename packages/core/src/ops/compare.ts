// Comparisons: elementwise, broadcasting, returning bool tensors. Not differentiable (their
// outputs never require grad), as in PyTorch; registered so that a compiler sees them too.

import * as k from "../kernels/elementwise.js";
import type { Tensor, TensorLike } from "../tensor/tensor.js";
import { defineNonDifferentiable } from "./define.js";
import { binaryForward, broadcastShapeOf, checkTensor, resultDType, toTensor } from "./helpers.js";

function comparison(op: string, row: k.BinaryRow, a: Tensor, b: TensorLike): Tensor {
  checkTensor(a, op);
  const dtype = resultDType(a, b, op);
  return binaryForward(
    row,
    a,
    typeof b === "number" ? toTensor(b, dtype, op) : checkTensor(b, op, "other"),
    "bool",
    op,
  );
}

/**
 * a == b, broadcast, as a bool tensor.
 * @function
 */
export const eq = defineNonDifferentiable({
  name: "eq",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("eq", k.eqRow, a, b),
});

/**
 * a != b, broadcast, as a bool tensor.
 * @function
 */
export const ne = defineNonDifferentiable({
  name: "ne",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("ne", k.neRow, a, b),
});

/**
 * a < b, broadcast, as a bool tensor.
 * @function
 */
export const lt = defineNonDifferentiable({
  name: "lt",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("lt", k.ltRow, a, b),
});

/**
 * a <= b, broadcast, as a bool tensor.
 * @function
 */
export const le = defineNonDifferentiable({
  name: "le",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("le", k.leRow, a, b),
});

/**
 * a > b, broadcast, as a bool tensor.
 * @function
 */
export const gt = defineNonDifferentiable({
  name: "gt",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("gt", k.gtRow, a, b),
});

/**
 * a >= b, broadcast, as a bool tensor.
 * @function
 */
export const ge = defineNonDifferentiable({
  name: "ge",
  kind: "elementwise",
  shape: broadcastShapeOf,
  forward: (a: Tensor, b: TensorLike) => comparison("ge", k.geRow, a, b),
});
