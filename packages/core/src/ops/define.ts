// The building block of the op registry: every op is one `defineOp` block holding its name, what
// a compiler or an exporter may assume about it (its kind and shape rule), its forward (argument
// checks and the kernel it runs) and its backward, written with differentiable ops so that
// gradients of gradients come for free. The block returns the exported function; registry.ts
// collects the blocks by name. Composites (expressible with other ops) are registered with
// `defineComposite` and need no backward; ops without a gradient with `defineNonDifferentiable`.
//
// What backward may read is exactly what forward returns as `saved`: the backward is not a
// closure over the forward's variables, so the compiler rejects a read of anything else, and
// every tensor in `saved` is checked for in-place changes before the backward runs.

import { attachNode, recordsGraph } from "../autograd/node.js";
import type { DType } from "../tensor/dtype.js";
import { formatShape, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { activeTracer, traceable, tracedCall, WithSaved } from "../tensor/tracing.js";

/**
 * What an op does to elements, for a compiler or an exporter: `elementwise` (output element i
 * reads input elements i, after broadcasting), `reduction` (folds dims of one input), `movement`
 * (moves or copies elements without arithmetic: views, concatenation, copies) or `opaque`
 * (anything else: matmul, indexing).
 */
export type OpKind = "elementwise" | "reduction" | "movement" | "opaque";

/** The shape and dtype of a tensor: what a backward needs of an input it does not read. */
export interface TensorMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** `x`'s shape and dtype, without keeping `x` (whose later in-place changes then do not matter). */
export function meta(x: TensorMeta): TensorMeta {
  return { shape: x.shape, dtype: x.dtype };
}

/** A value forward may keep for backward: tensors (checked for in-place changes) and plain data. */
export type SavedValue =
  | Tensor
  | TensorMeta
  | readonly TensorMeta[]
  | number
  | boolean
  | string
  | null
  | undefined
  | readonly number[]
  | Float64Array;

/** Everything an op's backward reads, by name. */
export type Saved = { readonly [name: string]: SavedValue };

/** What a forward returns when its result is to be recorded. */
export interface Recorded<S extends Saved, R> {
  /** The op's output, to which the graph node is attached. */
  readonly out: Tensor;
  /** The differentiable inputs, in the order backward returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** What backward reads. */
  readonly saved: S;
  /**
   * What the function returns when it is not `out` itself, made from the recorded `out` (max
   * along a dim: values and indices; matmul of a 1-D operand: `out` without the added dim).
   */
  readonly result?: (out: Tensor) => R;
}

/** The arguments of an op: at most five (the registry's calls pass exactly five). */
export type OpArgs = [unknown?, unknown?, unknown?, unknown?, unknown?];

/** The gradients of the inputs, given the output's gradient and what forward saved. */
export type OpBackward<S extends Saved> = (
  saved: S,
  gradOut: Tensor,
  needsInputGrad: readonly boolean[],
) => readonly (Tensor | null)[];

/** One op's definition block. */
export interface OpDefinition<
  Name extends string,
  Args extends OpArgs,
  S extends Saved,
  R,
  Internal extends boolean = false,
> {
  /** The exported function's name; also the graph node's label and the registry key. */
  readonly name: Name;
  /**
   * The derivative as a line of math in terms of the incoming gradient g (`"d/dx = g·cos x"`):
   * what graph tools and `traceBackward` show beside each step.
   */
  readonly rule: string;
  readonly kind: OpKind;
  /**
   * The shape of the returned tensor (of `out` when the function returns more than a tensor)
   * for these arguments, reading only shapes: what a compiler computes without running anything.
   */
  readonly shape: (...args: NoInfer<Args>) => readonly number[];
  /** Checks the arguments and runs the kernel; returns a plain tensor when nothing is recorded. */
  readonly forward: (...args: Args) => Recorded<S, R> | Tensor;
  /** Written with differentiable ops; reads only `saved`. */
  readonly backward: OpBackward<NoInfer<S>>;
  /** True for ops only the ops' own backwards record (not exported from the package). */
  readonly internal?: Internal;
}

/** What the registry knows of every op: name, kind and whether it has a gradient. */
export interface OpInfo<Name extends string = string> {
  readonly name: Name;
  readonly kind: OpKind | "composite";
  readonly differentiable: boolean;
  /** True for ops only the ops' own backwards record (not exported from the package). */
  readonly internal?: boolean;
  /** The shape rule (primitives only). */
  shape?(...args: OpArgs): readonly number[];
  /** The derivative as text (primitives with a gradient only). */
  readonly rule?: string;
}

/** An op: its function, carrying its definition. */
export type Op<F, Info extends OpInfo = OpInfo> = F & {
  /**
   * @internal What the registry knows of the op (see `@koubai/core/internal`); not part of the
   * public API.
   */
  readonly definition: Info;
};

let checkingShapes = false;

/**
 * For tests: while on, every op call compares its output's shape with its shape rule and throws
 * on a difference, so that the rules a compiler would rely on are checked on every sample.
 */
export function setShapeChecks(on: boolean): void {
  checkingShapes = on;
}

function checkShape(info: OpInfo, args: OpArgs, out: Tensor): void {
  const expected = info.shape?.(...args) ?? out.shape;
  if (!sameShape(expected, out.shape)) {
    throw new Error(
      `${info.name}: the shape rule gives ${formatShape(expected)}, but forward returned ${formatShape(out.shape)}`,
    );
  }
}

/**
 * The tensors among `saved`'s values: what the graph node checks for in-place changes; null when
 * there are none (the node then keeps no version list).
 */
function savedTensors(saved: Saved): Tensor[] | null {
  let tensors: Tensor[] | null = null;
  for (const key in saved) {
    const value = saved[key];
    if (!(value instanceof Tensor)) continue;
    if (tensors === null) tensors = [value];
    else tensors.push(value);
  }
  return tensors;
}

/**
 * Writes the tensors among `saved`'s values into `into` from its start (a list reused call after
 * call, never shortened); returns how many.
 */
function writeSavedTensors(saved: Saved, into: (Tensor | undefined)[]): number {
  let n = 0;
  for (const key in saved) {
    const value = saved[key];
    if (value instanceof Tensor) into[n++] = value;
  }
  return n;
}

/**
 * Records the graph node of an op's call. A function of its own, so that the call's frame
 * allocates no context for the backward closure when no graph is recorded.
 */
function attachOpNode<S extends Saved>(
  name: string,
  r: Recorded<S, unknown>,
  backward: OpBackward<S>,
  rule: string,
): void {
  const { out, saved } = r;
  // An anonymous closure: a named one costs a defineProperty per call where esbuild keeps
  // names (tsx, Vitest).
  attachNode(
    name,
    out,
    r.inputs,
    (g, needs) => backward(saved, g, needs),
    savedTensors(saved),
    rule,
  );
  const node = out.gradFn!;
  node.builtIn = true;
  node.freshGradients = true;
}

/** A differentiable primitive: its function records a graph node whose backward is `backward`. */
export function defineOp<
  const Name extends string,
  Args extends OpArgs,
  S extends Saved,
  R = Tensor,
  const Internal extends boolean = false,
>(
  definition: OpDefinition<Name, Args, S, R, Internal>,
): Op<
  (...args: Args) => R | Tensor,
  OpInfo<Name> & { readonly differentiable: true; readonly internal: Internal }
> {
  const { name, forward, backward, rule } = definition;
  const info = {
    name,
    kind: definition.kind,
    differentiable: true,
    internal: (definition.internal ?? false) as Internal,
    shape: definition.shape,
    rule,
  } as const;
  const run = forward as (...args: OpArgs) => Recorded<S, R> | Tensor;
  // The call as a tracer sees it: the result, then every tensor backward will read, so that a
  // replay makes the tensors forward made for backward (masks, indices, scalar operands) too.
  // One reply and one saved list for every traced or replayed call of this op, filled anew by
  // each: a tracer's leave() and a replay take what they need from them before the op can be
  // called again (a call of the same op inside this one's forward is read before this one
  // fills them), keep neither, and release the reply once read (so that it holds no tensor
  // between calls). A replayed step then makes no wrapper per call.
  // The saved list only grows: emptying an array (length = 0) lets go of its backing store, so
  // the next call would allocate it again.
  const reply = new WithSaved<R | Tensor>(undefined as R, []);
  const savedList: (Tensor | undefined)[] = [];
  const callWithSaved = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown) => {
    const r = run(a, b, c, d, e);
    if (r instanceof Tensor) {
      reply.savedCount = 0;
      reply.result = r;
    } else {
      const result = finish(r, a, b, c, d, e); // may call ops (of the result's views): first
      reply.savedCount = writeSavedTensors(r.saved, savedList);
      reply.result = result;
    }
    reply.saved = savedList as Tensor[];
    return reply;
  };
  reply.release = () => {
    reply.result = undefined as R;
    savedList.fill(undefined, 0, reply.savedCount);
    reply.savedCount = 0;
  };
  const finish = (
    r: Recorded<S, R>,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
    e: unknown,
  ) => {
    const { out } = r;
    if (recordsGraph(name, out, r.inputs)) attachOpNode(name, r, backward, rule);
    const result = r.result === undefined ? out : r.result(out);
    if (checkingShapes) checkShape(info, [a, b, c, d, e], result instanceof Tensor ? result : out);
    return result;
  };
  const op = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown) => {
    const tracer = activeTracer();
    if (tracer === null) {
      const r = run(a, b, c, d, e);
      return r instanceof Tensor ? r : finish(r, a, b, c, d, e);
    }
    const traced = tracedCall(
      tracer,
      info,
      [a, b, c, d, e],
      () => callWithSaved(a, b, c, d, e),
      callWithSaved,
    );
    const result = traced.result;
    traced.release();
    return result;
  };
  Object.defineProperty(op, "name", { value: name }); // stack traces and tools show the op
  return Object.assign(op as unknown as (...args: Args) => R | Tensor, { definition: info });
}

/**
 * A composite: a function of other ops, whose gradient (and every higher one) autograd derives
 * from theirs, so it has no backward, kind or shape rule of its own.
 */
export function defineComposite<const Name extends string, F extends (...args: never[]) => unknown>(
  name: Name,
  fn: F,
): Op<F, OpInfo<Name> & { readonly differentiable: true }> {
  const info = { name, kind: "composite", differentiable: true } as const;
  const traced = traceable(info, fn);
  Object.defineProperty(traced, "name", { value: name });
  return Object.assign(traced, { definition: info });
}

/** An op without a gradient (comparisons, argmax): its outputs never require grad. */
export function defineNonDifferentiable<
  const Name extends string,
  Args extends OpArgs,
>(definition: {
  readonly name: Name;
  readonly kind: OpKind;
  readonly shape: (...args: NoInfer<Args>) => readonly number[];
  readonly forward: (...args: Args) => Tensor;
}): Op<(...args: Args) => Tensor, OpInfo<Name> & { readonly differentiable: false }> {
  const { name, forward } = definition;
  const info = {
    name,
    kind: definition.kind,
    differentiable: false,
    shape: definition.shape,
  } as const;
  const run = forward as (...args: OpArgs) => Tensor;
  const call = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown) => {
    const out = run(a, b, c, d, e);
    if (checkingShapes) checkShape(info, [a, b, c, d, e], out);
    return out;
  };
  const op = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown) => {
    const tracer = activeTracer();
    if (tracer === null) return call(a, b, c, d, e);
    return tracedCall(tracer, info, [a, b, c, d, e], () => call(a, b, c, d, e), op);
  };
  Object.defineProperty(op, "name", { value: name });
  return Object.assign(op as unknown as (...args: Args) => Tensor, { definition: info });
}
