// Comparisons: elementwise, broadcasting, returning bool tensors. Not differentiable (their
// outputs never require grad), as in PyTorch.

import * as k from "../kernels/elementwise.js";
import type { Tensor } from "../tensor/tensor.js";
import { binaryForward, checkTensor, resultDType, type TensorLike, toTensor } from "./helpers.js";

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

/** a == b */
export const eq = (a: Tensor, b: TensorLike): Tensor => comparison("eq", k.eqRow, a, b);
/** a != b */
export const ne = (a: Tensor, b: TensorLike): Tensor => comparison("ne", k.neRow, a, b);
/** a < b */
export const lt = (a: Tensor, b: TensorLike): Tensor => comparison("lt", k.ltRow, a, b);
/** a <= b */
export const le = (a: Tensor, b: TensorLike): Tensor => comparison("le", k.leRow, a, b);
/** a > b */
export const gt = (a: Tensor, b: TensorLike): Tensor => comparison("gt", k.gtRow, a, b);
/** a >= b */
export const ge = (a: Tensor, b: TensorLike): Tensor => comparison("ge", k.geRow, a, b);
