// Tracing a backward pass step by step (for teaching and debugging): while `traceBackward` runs,
// the engine reports every node whose backward it applies, with what went in and came out.

import type { Tensor } from "../tensor/tensor.js";
import type { BackwardRule, Node } from "./node.js";

/** One step of a traced backward pass: the node, the gradient it received, what it produced. */
export interface BackwardStep {
  /** The op whose backward ran. */
  node: Node;
  /** The gradient of the loss with respect to the node's output (summed over all its uses). */
  gradOut: Tensor;
  /** What the node's backward returned: one gradient per input, null where none was needed. */
  inputGrads: readonly (Tensor | null)[];
  /** The backward rule that was applied: the op's own, whose source reads as the local gradient rule. */
  rule: BackwardRule;
}

let backwardTrace: ((step: BackwardStep) => void) | null = null;

/** Runs `fn` and reports every backward step it performs to `onStep` (for teaching and debugging). */
export function traceBackward<T>(fn: () => T, onStep: (step: BackwardStep) => void): T {
  const previous = backwardTrace;
  backwardTrace = onStep;
  try {
    return fn();
  } finally {
    backwardTrace = previous;
  }
}

/** The listener of the innermost `traceBackward`, or null when no backward pass is traced. */
export function currentTrace(): ((step: BackwardStep) => void) | null {
  return backwardTrace;
}
