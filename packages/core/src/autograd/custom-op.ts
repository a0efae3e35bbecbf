// User-defined ops with a hand-written backward, the analogue of torch.autograd.Function:
// forward runs without recording, may save tensors on the context, and backward maps the output
// gradient to one gradient per input. The engine checks their count, shapes and dtypes.

import { formatShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { activeTracer, tracedCall, WithSaved } from "../tensor/tracing.js";
import { noGrad } from "./grad-mode.js";
import { record } from "./node.js";

/** What forward can stash for backward (`ctx` in PyTorch). */
export class OpContext {
  private savedTensors: Tensor[] = [];
  /** Which inputs need a gradient in this backward call; skip the work for the others. */
  needsInputGrad: readonly boolean[] = [];
  /** @internal The inputs' shapes, for the check of what backward returns. */
  inputShapes: readonly (readonly number[])[] = [];
  /** Free-form non-tensor state (sizes, flags, numbers) for backward. */
  readonly state: Record<string, unknown> = {};

  /** Keeps tensors for backward; changing them in place afterwards is caught. */
  saveForBackward(...tensors: Tensor[]): void {
    this.savedTensors = tensors;
  }

  /** The tensors passed to `saveForBackward`, in order. */
  get saved(): readonly Tensor[] {
    return this.savedTensors;
  }
}

/** The name, forward and backward of a user-defined op, as given to {@link customOp}. */
export interface CustomOpDefinition {
  /** Shown in errors and graph exports. */
  name: string;
  /** Computes the output from tensor inputs; runs with grad mode off. */
  forward: (ctx: OpContext, ...inputs: Tensor[]) => Tensor;
  /**
   * Returns one gradient (or null) per input. Write it with tensor ops to make the op twice
   * differentiable: it is recorded when backward runs with `createGraph`.
   */
  backward: (ctx: OpContext, gradOut: Tensor) => readonly (Tensor | null)[];
  /**
   * Promise that backward returns tensors it created itself and keeps no reference to (not saved
   * tensors, not `gradOut` or views of it, nothing stashed on `ctx`). A leaf's first `.grad` may
   * then be such a tensor itself instead of a copy. Default false.
   */
  freshGradients?: boolean;
  /**
   * The derivative as a line of math (`"d/dx = 3x²·g"`), shown beside the op by graph tools and
   * `traceBackward`. Optional.
   */
  rule?: string;
}

/**
 * Turns a forward/backward pair into a differentiable function of tensors, like subclassing
 * `torch.autograd.Function`. Forward runs with grad mode off; backward receives `gradOut` (the
 * output's shape) and returns one gradient per input, each checked by the engine against that
 * input's shape and dtype.
 *
 * @throws TypeError when the definition lacks a string `name` or `forward`/`backward` functions;
 * the returned function throws when given a non-tensor or when forward returns one.
 *
 * @example
 * ```ts
 * // cube(x) = x³, d/dx = 3x²
 * const cube = customOp({
 *   name: "cube",
 *   forward: (ctx, x) => {
 *     ctx.saveForBackward(x);
 *     return x.pow(3);
 *   },
 *   backward: (ctx, gradOut) => {
 *     const [x] = ctx.saved;
 *     return [gradOut.mul(x.square().mul(3))];
 *   },
 * });
 * const x = tensor([2], { dtype: "float64", requiresGrad: true });
 * cube(x).sum().backward(); // x.grad = [12]
 * ```
 */
export function customOp(definition: CustomOpDefinition): (...inputs: Tensor[]) => Tensor {
  const { name, forward, backward } = definition;
  if (typeof name !== "string" || typeof forward !== "function" || typeof backward !== "function") {
    throw new TypeError(
      "customOp: expected { name: string, forward: function, backward: function }",
    );
  }
  const info = { name, kind: "custom" };
  // `keep`, when given, receives the tensors forward saved (for a tracer: see WithSaved).
  const call = (inputs: Tensor[], keep?: Tensor[], contexts?: OpContext[]): Tensor => {
    inputs.forEach((t, i) => {
      if (!(t instanceof Tensor))
        throw new TypeError(`${name}: input ${i} must be a Tensor, got ${typeof t}`);
    });
    const ctx = new OpContext();
    ctx.inputShapes = inputs.map((t) => t.shape);
    contexts?.push(ctx);
    const out = noGrad(() => forward(ctx, ...inputs));
    if (!(out instanceof Tensor))
      throw new TypeError(`${name}: forward must return a Tensor, got ${typeof out}`);
    // A forward that returned an input, a captured tensor that requires grad, or a view of one
    // must not have a graph node attached to it: give the op its own tensor.
    const result = out.requiresGrad || inputs.includes(out) ? out.detach() : out;
    const recorded = record(
      name,
      result,
      inputs,
      (gradOut, needsInputGrad) => {
        const tracer = activeTracer();
        if (tracer === null) return runBackward(ctx, gradOut, needsInputGrad);
        // A tracer sees the backward as one call too: its body may use kernels directly.
        return tracedCall(
          tracer,
          backwardInfo,
          [ctx, gradOut, needsInputGrad],
          () => runBackward(ctx, gradOut, needsInputGrad),
          runBackward,
        );
      },
      ctx.saved,
    );
    if (recorded.gradFn !== null) {
      recorded.gradFn.freshGradients = definition.freshGradients === true;
      recorded.gradFn.rule = definition.rule ?? null;
    }
    keep?.push(...ctx.saved);
    return recorded;
  };
  const runBackward = (ctx: OpContext, gradOut: Tensor, needsInputGrad: readonly boolean[]) => {
    ctx.needsInputGrad = needsInputGrad;
    const grads = backward(ctx, gradOut);
    const count = ctx.inputShapes.length;
    if (!Array.isArray(grads) || grads.length !== count) {
      throw new Error(
        `${name}: backward returned ${Array.isArray(grads) ? grads.length : typeof grads} gradients, expected ${count} (one per input: ${ctx.inputShapes
          .map(formatShape)
          .join(", ")})`,
      );
    }
    return grads;
  };
  const backwardInfo = { name: `${name}.backward`, kind: "custom" };
  // For a tracer: the result, the tensors forward saved, and the context backward will read.
  const callWithSaved = (...inputs: Tensor[]) => {
    const saved: Tensor[] = [];
    const contexts: OpContext[] = [];
    const out = call(inputs, saved, contexts);
    return new WithSaved(out, saved, contexts[0]);
  };
  // A tracer sees the op as one call, whatever its forward runs inside.
  const op = (...inputs: Tensor[]): Tensor => {
    const tracer = activeTracer();
    if (tracer === null) return call(inputs);
    return tracedCall(tracer, info, inputs, () => callWithSaved(...inputs), callWithSaved).result;
  };
  return op;
}
