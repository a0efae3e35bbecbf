// The hook through which a tracer (compile/trace.ts) sees every op call. It lives in the lowest
// layer that needs it: ops report their calls here, and the Tensor class reports reads of its
// values (item, tolist, toArray), which a traced function may not base a decision on. With no
// tracer active every check is one comparison with null.

import type { Node } from "../autograd/node.js";
import type { Tensor } from "./tensor.js";

/** What an op call looks like to a tracer: the registry's name and kind of the op. */
export interface TracedOpInfo {
  readonly name: string;
  /**
   * The registry's kind, "composite", "custom" (a customOp), "inplace" (an in-place update),
   * "creation" (zeros, randn, tensor...) or "effect" (a change of state outside tensors' values:
   * setting `.grad`, an optimizer's step).
   */
  readonly kind: string;
}

/** Receives op calls while a function is traced. */
export interface OpTracer {
  /**
   * An op is about to run with these arguments (composites: their calls follow, nested);
   * `again(...args)` makes the same call again (for a compiled function to replay it).
   */
  enter(op: TracedOpInfo, args: readonly unknown[], again: (...args: never[]) => unknown): void;
  /** The op entered last returned `result`. */
  leave(result: unknown): void;
  /** The op entered last threw. */
  abort(): void;
  /** `tensor`'s values are being read by `method` (item, tolist, toArray). */
  read(method: string, tensor: Tensor): void;
  /** A tensor object was constructed (an op's output, a view, a creation function's result...). */
  created(tensor: Tensor): void;
  /** A random generator was constructed (random ops may receive it). */
  createdGenerator(generator: object): void;
  /** `generator` is being reseeded or cloned by `method` (manualSeed, cloneState). */
  generatorUsed?(generator: object, method: string): void;
  /** `tensor.grad` was read, and is `grad`. */
  gradRead(tensor: Tensor, grad: Tensor | null): void;
  /** A backward pass is about to start and may run `node`'s backward (told of each first). */
  backwardWillRun?(node: Node): void;
}

/**
 * What a traced op call returns to its tracer: the result, and the tensors its backward will
 * read that the call made itself (a mask, indices, a scalar operand), which a replay must make too.
 * An op may hand out the same object (and saved list) on every call, filled anew: whoever
 * receives it reads it at once and keeps neither.
 */
export class WithSaved<R = unknown> {
  /**
   * How many of `saved`'s first entries are this call's (a list an op reuses may be longer:
   * see defineOp).
   */
  savedCount: number;

  constructor(
    public result: R,
    public saved: readonly Tensor[],
    /** An object a later traced call receives (a custom op's context for its backward). */
    readonly handle?: object,
  ) {
    this.savedCount = saved.length;
  }

  /**
   * Called by whoever received it, once read: a reply an op reuses lets go of the call's
   * tensors here (so that the op does not keep its last traced result alive).
   */
  release(): void {
    this.result = undefined as R;
    this.saved = NONE_SAVED;
    this.savedCount = 0;
  }
}

const NONE_SAVED: readonly Tensor[] = Object.freeze([]);

let active: OpTracer | null = null;

/** The tracer of the innermost trace in progress, or null. */
export function activeTracer(): OpTracer | null {
  return active;
}

/** Makes `tracer` the active one (null: none); returns the one it replaces. */
export function setActiveTracer(tracer: OpTracer | null): OpTracer | null {
  const previous = active;
  active = tracer;
  return previous;
}

/**
 * `fn`, seen by a tracer as one call of `op` (or of what `op` says given the arguments), which a
 * replay makes again by calling `fn`; with no tracer active, `fn` runs as is.
 * The returned function carries `fn`'s name.
 */
export function traceable<F extends (...args: never[]) => unknown>(
  op: TracedOpInfo | ((args: Parameters<F>) => TracedOpInfo),
  fn: F,
): F {
  const traced = (...args: Parameters<F>): ReturnType<F> => {
    const tracer = active;
    if (tracer === null) return fn(...args) as ReturnType<F>;
    const info = typeof op === "function" ? op(args) : op;
    // A replay calls `fn` itself (no tracer is active while a replay runs, so `traced` would
    // only call it): `traced`'s rest parameter would make an argument list per replayed call.
    return tracedCall(tracer, info, args, () => fn(...args) as ReturnType<F>, fn);
  };
  Object.defineProperty(traced, "name", { value: fn.name });
  Object.defineProperty(traced, "length", { value: fn.length });
  return traced as unknown as F;
}

/**
 * Runs `run()` as one traced call of `op`: the tracer sees it begin, end or throw. `again` is the
 * function that makes this call given `args` (the op's public function, usually).
 */
export function tracedCall<R>(
  tracer: OpTracer,
  op: TracedOpInfo,
  args: readonly unknown[],
  run: () => R,
  again: (...args: never[]) => unknown,
): R {
  tracer.enter(op, args, again);
  let result: R;
  try {
    result = run();
  } catch (error) {
    tracer.abort();
    throw error;
  }
  tracer.leave(result);
  return result;
}
