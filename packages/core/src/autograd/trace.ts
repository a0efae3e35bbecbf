// Tracing a backward pass step by step (for teaching and debugging): while `traceBackward` runs,
// the engine reports every node whose backward it applies, with what went in and came out.

import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Node, ReleasedInput } from "./node.js";

/** At most this many values of a tensor are printed by {@link BackwardStep.toString}. */
const SHOWN_VALUES = 6;

function values(t: Tensor): string {
  const all = t.toArray();
  const shown = Array.from(all.slice(0, SHOWN_VALUES), (v) =>
    Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString(),
  );
  return `[${shown.join(", ")}${all.length > SHOWN_VALUES ? ", …" : ""}]`;
}

/** How an input is called in a step: its name, the node that made it (`#3`), or its position. */
function inputLabel(t: Tensor | ReleasedInput, i: number): string {
  if (t.name !== undefined) return t.name;
  if (t.gradFn !== null) return `${t.gradFn.op} #${t.gradFn.id}`;
  return `input ${i}`;
}

/** One step of a traced backward pass: the node, the gradient it received, what it produced. */
export class BackwardStep {
  /** @internal Made by the engine while {@link traceBackward} runs. */
  constructor(
    /** The op whose backward ran. */
    readonly node: Node,
    /** The gradient of the loss with respect to the node's output (summed over all its uses). */
    readonly gradOut: Tensor,
    /** What the node's backward returned: one gradient per input, null where none was needed. */
    readonly inputGrads: readonly (Tensor | null)[],
    /** The local derivative as a line of math, from the op's definition (`"d/dx = g·cos x"`). */
    readonly rule: string,
  ) {}

  /**
   * The step as a learner reads it: op and output, the rule, the gradient that came in and the
   * gradient each input receives (at most six values each).
   */
  toString(): string {
    const lines = [
      `${this.node.op} #${this.node.id} -> ${formatShape(this.node.outputShape)} ${this.node.outputDType}`,
      `  rule: ${this.rule}`,
      `  gradient in: ${values(this.gradOut)}`,
    ];
    this.node.inputs.forEach((input, i) => {
      const g = this.inputGrads[i];
      const label = inputLabel(input, i);
      lines.push(
        `  to ${label}: ${g === null || g === undefined ? "none (not needed)" : values(g)}`,
      );
    });
    return lines.join("\n");
  }

  /** `util.inspect` (and so `console.log`) prints {@link BackwardStep.toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
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
