// What the engine checks of every backward's result before a gradient flows on: one gradient
// (or null) per input, each a tensor of its input's shape and dtype, and, under detectAnomaly,
// finite. Each error names the op and the input.

import { formatShape, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { checkFinite, isAnomalyEnabled } from "./anomaly.js";
import type { Node } from "./node.js";

/** A backward returns an array with one gradient (or null) per input. */
export function checkCount(node: Node, inputGrads: unknown): void {
  if (Array.isArray(inputGrads) && inputGrads.length === node.inputs.length) return;
  const got = Array.isArray(inputGrads) ? inputGrads.length : describeValue(inputGrads);
  throw new Error(
    `backward of ${node.op} returned ${got} gradients for ${node.inputs.length} inputs (expected an array with one Tensor or null per input)`,
  );
}

/** How messages show a value that should have been a Tensor. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}

/** Every gradient must be a tensor of its input's shape and dtype; anomaly mode wants it finite. */
export function checkGradient(node: Node, i: number, input: Tensor, g: Tensor): void {
  if (!(g instanceof Tensor)) {
    throw new TypeError(
      `backward of ${node.op}: the gradient for input ${i} is ${describeValue(g)}, expected a Tensor of shape ${formatShape(input.shape)} and dtype ${input.dtype} (or null); wrap values with tensor(...)`,
    );
  }
  if (!sameShape(g.shape, input.shape) || g.dtype !== input.dtype) {
    throw new Error(
      `backward of ${node.op}: the gradient for input ${i} has shape ${formatShape(g.shape)} and dtype ${g.dtype}, ` +
        `but the input has shape ${formatShape(input.shape)} and dtype ${input.dtype}`,
    );
  }
  if (isAnomalyEnabled())
    checkFinite(g, `backward of ${node.op} (gradient of input ${i})`, node.createdAt);
}
