// Shared checks for optimizer options and for the gradients an update is about to read.

import type { Tensor } from "@koubai/core";

/** Throws a RangeError unless `value` is a finite number >= 0 (or > 0 when `positive`). */
export function checkNonNegative(where: string, option: string, value: unknown): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${where}: invalid ${option} ${String(value)}; expected a number >= 0`);
  }
}

/** Throws a RangeError unless `value` is in [0, 1). */
export function checkUnitInterval(where: string, option: string, value: unknown): void {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new RangeError(
      `${where}: invalid ${option} ${String(value)}; expected 0 <= ${option} < 1`,
    );
  }
}

/** The gradient of `p`, checked to match its shape and dtype. */
export function checkedGrad(where: string, p: Tensor, grad: Tensor): Tensor {
  const sameShape =
    grad.shape.length === p.shape.length && grad.shape.every((s, d) => s === p.shape[d]);
  if (!sameShape || grad.dtype !== p.dtype) {
    throw new Error(
      `${where}: gradient of shape [${grad.shape.join(", ")}] (${grad.dtype}) does not match its parameter of shape [${p.shape.join(", ")}] (${p.dtype})`,
    );
  }
  return grad;
}
