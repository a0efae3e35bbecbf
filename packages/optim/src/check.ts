// Shared checks for optimizer options and for the gradients an update is about to read.

import { Tensor, TraceError } from "@koubai/core";
import { activeTracer } from "@koubai/core/internal";

/**
 * Throws a RangeError unless `value` is a finite number >= 0. torch 1.13 also accepts an
 * infinite lr, momentum or weight decay, which turns every parameter into ±Infinity or NaN at
 * the first step; Koubai refuses them.
 */
export function checkNonNegative(where: string, option: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `${where}: invalid ${option} ${typeof value === "string" ? JSON.stringify(value) : String(value)}; expected a finite number >= 0`,
    );
  }
}

/** Throws a TypeError unless `value` is true or false. */
export function checkBoolean(where: string, option: string, value: unknown): void {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `${where}: invalid ${option} ${typeof value === "string" ? JSON.stringify(value) : String(value)}; expected true or false`,
    );
  }
}

/** Throws a TypeError naming `where` unless `state[field]` is a tensor (or absent, if optional). */
export function checkStateTensor(
  where: string,
  state: Record<string, unknown>,
  field: string,
  optional = false,
): void {
  const value = state[field];
  if (value === undefined && optional) return;
  if (!(value instanceof Tensor)) {
    throw new TypeError(
      `${where}: ${field} must be a tensor of the parameter's shape, got ${value === undefined ? "nothing" : typeof value}`,
    );
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

/**
 * Throws a TraceError naming `what` while a function is traced (by compile() or trace()): loading
 * saved state or constructing a scheduler changes JavaScript objects (group options, rates, step
 * counts), which a replay would not change again, so later calls would go on from the traced
 * call's state instead.
 */
export function refuseWhileTraced(what: string): void {
  if (activeTracer() === null) return;
  throw new TraceError(
    `${what} while a function is traced: it changes the optimizer's settings in JavaScript, which a replay would not do again, so later calls would go on from the traced call's state. Do it between calls, outside the compiled function.`,
  );
}
