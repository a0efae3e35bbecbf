// Tracing: run a function once on example inputs and write down every op it calls, with what
// it was called on, as a graph of the registry's ops. Composites (linear, batchNorm, logsumexp)
// and custom ops appear as nodes holding the calls they made, so a consumer can take a
// composite whole (an ONNX exporter maps `linear` to Gemm) or look inside it (a
// compiler fuses the primitives). Tensors the function did not receive and no op made
// (parameters, buffers, constants) appear as captured values, named when the caller says how.

import { isAnomalyEnabled } from "../autograd/anomaly.js";
import { isGradEnabled } from "../autograd/grad-mode.js";
import type { Node } from "../autograd/node.js";
import { defaultGenerator, Generator } from "../tensor/random.js";
import { formatShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { type OpTracer, setActiveTracer, type TracedOpInfo, WithSaved } from "../tensor/tracing.js";

/**
 * Where a traced value comes from: a graph input, a tensor that existed before tracing
 * (parameter, buffer, constant), an op's output, or "untraced": a tensor made during tracing by
 * no traced call (a kernel called directly), which the graph cannot make again.
 */
export type TracedValueSource = "input" | "captured" | "op" | "untraced";

/** A tensor in a traced graph: its shape and dtype, and where it comes from. */
export class TracedValue {
  /** @internal Made by {@link trace}. */
  constructor(
    /** Position in {@link TracedGraph.values}. */
    readonly id: number,
    /** The tensor's shape. */
    readonly shape: readonly number[],
    /** The tensor's dtype. */
    readonly dtype: Tensor["dtype"],
    /** A graph input, a captured tensor (parameter, buffer, constant) or an op's output. */
    readonly source: TracedValueSource,
    /** The innermost op call that made it (source "op"), else null. */
    readonly producer: TracedNode | null,
    /**
     * The tensor itself for inputs, captured values and what creation calls made (an exporter
     * reads their data); null for other op outputs, which the graph does not keep alive.
     */
    readonly tensor: Tensor | null,
    /** The caller's name for it (inputs, named parameters and buffers), else undefined. */
    readonly name?: string,
  ) {}

  /** For an "untraced" value: the first line outside Koubai's core where it was made. */
  madeAt?: string | null;

  /**
   * @internal Whether the tensor required grad when the trace met it (for captured tensors, a
   * replay relies on it: see Plan.staleness).
   */
  requiresGrad = false;

  /** How listings refer to it: its name, else `%id`. */
  get label(): string {
    return this.name ?? `%${this.id}`;
  }
}

/** An object one call makes and a later call receives: a custom op's context for its backward. */
export class TracedHandle {
  /** @internal Made by {@link trace}. */
  constructor(
    /** Position in {@link TracedGraph.handles}. */
    readonly id: number,
    /** The call that made it. */
    readonly producer: TracedNode,
  ) {}

  /** How listings refer to it. */
  get label(): string {
    return `context${this.id}`;
  }
}

/**
 * A random generator the traced function made itself (`new Generator(seed)` inside it), so each
 * call has a new one: a replay gives the calls that received it a copy of its state when the
 * first of them ran, made once per call, instead of the traced object (whose stream has moved on).
 */
export class TracedGenerator {
  /** @internal Made by {@link trace}. */
  constructor(
    /** Position in {@link TracedGraph.generators}. */
    readonly id: number,
    /** Its state when the first traced call received it. */
    readonly initial: Generator,
  ) {}

  /** How listings refer to it. */
  get label(): string {
    return `generator${this.id}`;
  }
}

/**
 * An argument of a traced call: values where tensors were passed, arrays and plain objects
 * rebuilt around them, generators the function made as TracedGenerator, anything else (numbers,
 * typed arrays, a Generator made before the call) as given.
 */
export type TracedArg =
  | TracedValue
  | TracedHandle
  | TracedGenerator
  | number
  | string
  | boolean
  | null
  | undefined
  | readonly TracedArg[]
  | { readonly [key: string]: TracedArg }
  | object;

/** One op call in a traced graph. */
export class TracedNode {
  /** The calls this one made (composites and custom ops); empty for primitives. */
  readonly children: TracedNode[] = [];
  /** The values it returned (several for max along a dim, split, sort...). */
  outputs: TracedValue[] = [];
  /**
   * The tensors its backward reads, when the call made them itself (a mask, indices, a number
   * operand as a tensor); inputs and outputs it saves appear here too.
   */
  saved: TracedValue[] = [];
  /** The context it made for a later call (custom ops: for their backward), if any. */
  handle: TracedHandle | null = null;
  /**
   * @internal Whether the call recorded an autograd node: grad mode was on and an output
   * requires grad. A call that did not can be replayed without a graph (fused, its arrays planned).
   */
  recordsGraph = false;

  /** @internal Made by {@link trace}. */
  constructor(
    /** Position in call order among all nodes of the graph. */
    readonly id: number,
    /** The op's registry name (customOp: its name; in-place updates: `add_`, `copy_`...). */
    readonly op: string,
    /**
     * The registry's kind (elementwise, reduction, movement, opaque), or "composite", "custom"
     * (a customOp), "inplace", "creation" (zeros, randn...) or "effect" (setting `.grad`, an
     * optimizer's step).
     */
    readonly kind: string,
    /** The arguments, tensors replaced by their values; trailing undefined ones dropped. */
    readonly args: readonly TracedArg[],
    /** The composite or custom op this call was made from, or null at the top level. */
    readonly parent: TracedNode | null,
    /** @internal The function that makes this call again given the arguments. */
    readonly again: (...args: never[]) => unknown,
    /** @internal Whether grad mode was on when the call was made. */
    readonly gradEnabled: boolean,
  ) {}

  /** The values among the arguments, in order (each once). */
  get inputs(): TracedValue[] {
    const found: TracedValue[] = [];
    forEachInArgs(this.args, (x) => {
      if (x instanceof TracedValue && !found.includes(x)) found.push(x);
    });
    return found;
  }

  /** The contexts among the arguments (a custom op's backward receives its forward's). */
  get handles(): TracedHandle[] {
    const found: TracedHandle[] = [];
    forEachInArgs(this.args, (x) => {
      if (x instanceof TracedHandle) found.push(x);
    });
    return found;
  }
}

/** Calls `visit` on every value and context in `args`, through arrays and plain objects. */
export function forEachInArgs(
  args: readonly TracedArg[],
  visit: (x: TracedValue | TracedHandle) => void,
): void {
  const walk = (arg: TracedArg): void => {
    if (arg instanceof TracedValue || arg instanceof TracedHandle) visit(arg);
    else if (Array.isArray(arg)) arg.forEach(walk);
    else if (
      arg !== null &&
      typeof arg === "object" &&
      Object.getPrototypeOf(arg) === Object.prototype
    )
      Object.values(arg as Record<string, TracedArg>).forEach(walk);
  };
  args.forEach(walk);
}

/** A `.grad` a traced call read before any call assigned it. */
export interface GradRead {
  /** The tensor whose gradient was read. */
  readonly tensor: Tensor;
  /** Its `.grad` then. */
  readonly grad: Tensor | null;
}

/** What {@link trace} records: values, the top-level calls (with nested calls) and the outputs. */
export interface TracedGraph {
  /**
   * Each `.grad` the traced calls read before assigning it, with what it was then (a backward
   * pass assigns a first gradient but adds into an existing one).
   */
  readonly gradReads: readonly GradRead[];
  /**
   * The custom ops whose context kept tensors in `ctx.state` (instead of `saveForBackward`): a
   * replay cannot tell when their backward reads them.
   */
  readonly contextTensors: readonly string[];
  /**
   * True when a call ran under `detectAnomaly` (inside the function): its checks run per op,
   * which a replay would skip, so compile() runs such a function eagerly.
   */
  readonly underAnomaly: boolean;
  /** Every value, by id. */
  readonly values: readonly TracedValue[];
  /** Every context a call made for a later one (custom ops' contexts), by id. */
  readonly handles: readonly TracedHandle[];
  /** Every random generator the function made and passed to a call, by id. */
  readonly generators: readonly TracedGenerator[];
  /** The function's inputs, in order. */
  readonly inputs: readonly TracedValue[];
  /** The calls made directly by the traced function, in order. */
  readonly nodes: readonly TracedNode[];
  /** The tensors the function returned, in the order {@link tensorsIn} finds them. */
  readonly outputs: readonly TracedValue[];
  /** Every call at every depth, in call order. */
  readonly allNodes: readonly TracedNode[];
  /**
   * The calls that compute, in order: composites and backward passes opened up; primitives,
   * in-place updates, creations, custom ops and effects taken whole.
   */
  primitives(): TracedNode[];
  /** A listing, one call per line; composites show their calls indented up to `depth` levels. */
  toString(depth?: number): string;
}

/** Options of {@link trace}. */
export interface TraceOptions {
  /** Names for inputs, in order (default `input0`, `input1`, ...). */
  inputNames?: readonly string[];
  /** Names for captured tensors (default: the tensor's own `name`, which a module gives its parameters). */
  names?: ReadonlyMap<Tensor, string>;
}

/** The result of {@link trace}: the graph and what the function returned. */
export interface Traced<R> {
  /** The recorded calls. */
  readonly graph: TracedGraph;
  /** What the function returned. */
  readonly result: R;
}

/** A read of a tensor's values inside a traced function: a decision the graph cannot record. */
export class TraceError extends Error {
  /** Always `"TraceError"`. */
  override name = "TraceError";
}

/** The tensors in a result: a tensor, or arrays and plain objects holding tensors. */
export function tensorsIn(value: unknown): Tensor[] {
  const found: Tensor[] = [];
  mapTensors(value, (t) => found.push(t));
  return found;
}

/**
 * `value` rebuilt with each tensor in it (itself, or in arrays and plain objects, four levels
 * deep) replaced by `pick(tensor, index)`, index counting the tensors in {@link tensorsIn}'s order.
 */
export function mapTensors(value: unknown, pick: (t: Tensor, index: number) => unknown): unknown {
  let index = 0;
  const walk = (v: unknown, depth: number): unknown => {
    if (v instanceof Tensor) return pick(v, index++);
    if (depth > 3 || v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, depth + 1)]));
  };
  return walk(value, 0);
}

/**
 * Where in `value` (named `name`) the first tensor `wanted` accepts is, looking into arrays,
 * Maps, Sets and objects up to six levels deep (`result.m.get("h")`, `result[0].t`); null if none.
 */
export function findTensor(
  value: unknown,
  name: string,
  wanted: (t: Tensor) => boolean,
): string | null {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): string | null => {
    if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || seen.has(v)) return null;
    if (depth > 6) return null;
    seen.add(v);
    if (v instanceof Tensor) return wanted(v) ? path : null;
    let found: string | null = null;
    if (v instanceof Map) {
      for (const [key, item] of v) {
        found ??= walk(item, `${path}.get(${JSON.stringify(String(key))})`, depth + 1);
      }
    } else if (v instanceof Set) {
      for (const item of v) found ??= walk(item, `${path} (a Set)`, depth + 1);
    } else {
      for (const [key, item] of Object.entries(v)) {
        found ??= walk(item, Array.isArray(v) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
      }
    }
    return found;
  };
  return walk(value, name, 0);
}

/** The first line of the current stack outside this package: where the user's code read. */
function callerLine(): string | null {
  return firstLineOutside(new Error().stack ?? "");
}

/** The first line of `stack` that is not inside this package. */
function firstLineOutside(stack: string): string | null {
  const here = import.meta.url.replace(/\/compile\/trace\.[jt]s$/, "/");
  // Koubai's other packages sit beside this one (packages/optim/src/, @koubai/optim/dist/): a
  // read they make for the user (clipGradNorm) is reported at the user's line.
  const packages = ["core", "layers", "optim", "onnx"].map((name) =>
    here.replace(/core\/(src|dist)\/$/, `${name}/$1/`),
  );
  const paths = [...packages, ...packages.map((p) => p.replace(/^file:\/\//, ""))];
  const lines = stack.split("\n").slice(1);
  for (const line of lines) {
    const at = line.trim();
    if (!at.startsWith("at ")) continue;
    if (paths.some((p) => at.includes(p)) || at.includes("node:internal")) continue;
    return at.slice(3);
  }
  return null;
}

/**
 * A copy of the arrays and plain objects in `value` (what a replay keeps, and freezes, must not
 * be the caller's own, which it may refill); anything else is kept as it is. `value` lies deeper
 * in a call's arguments than a trace replaces tensors, so a tensor in it is refused.
 */
function copyPlain(value: unknown, depth = 0): unknown {
  if (value instanceof Tensor) {
    throw new TraceError(
      "a call's argument holds a tensor nested more than four arrays or objects deep, which a replay could not replace by the next call's; pass it less deeply nested",
    );
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > 64) {
    throw new TraceError(
      "a call's argument is nested more than 64 arrays or objects deep (or refers to itself), which a trace cannot copy",
    );
  }
  if (Array.isArray(value)) return value.map((v) => copyPlain(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = copyPlain(v, depth + 1);
  return out;
}

/** Records op calls into a graph; the tracer {@link trace} installs. */
class GraphBuilder implements OpTracer {
  readonly values: TracedValue[] = [];
  readonly handles: TracedHandle[] = [];
  readonly #handleOf = new Map<object, TracedHandle>();
  readonly generators: TracedGenerator[] = [];
  /** Generators constructed while tracing, and the traced form of those a call received. */
  readonly #madeGenerators = new WeakSet<object>();
  readonly #generatorOf = new Map<object, TracedGenerator>();
  /** Tensors whose `.grad` was read or written. */
  readonly #gradSeen = new Set<Tensor>();
  /** Each `.grad` read before any write, with what it was: what the trace depends on. */
  readonly gradReads: { tensor: Tensor; grad: Tensor | null }[] = [];
  readonly contextTensors: string[] = [];
  readonly nodes: TracedNode[] = [];
  readonly allNodes: TracedNode[] = [];
  readonly inputs: TracedValue[] = [];
  readonly #byTensor = new Map<Tensor, TracedValue>();
  readonly #stack: TracedNode[] = [];
  /** Every tensor constructed while tracing: captured ones among them are "untraced". */
  readonly #made = new WeakMap<Tensor, string>();
  /** The node that made each input with a graph, made before the trace: by node, the input's position. */
  readonly #inputNodes = new Map<Node, number>();
  #captured = 0;
  /** Whether a call ran under detectAnomaly, whose checks a replay would skip. */
  underAnomaly = false;

  constructor(
    inputs: readonly Tensor[],
    inputNames: readonly string[],
    private readonly names: ReadonlyMap<Tensor, string>,
  ) {
    inputs.forEach((t, i) => {
      if (this.#byTensor.has(t)) {
        throw new TypeError(
          `trace: input ${i} is the same tensor as an earlier input; pass each tensor once`,
        );
      }
      const name = inputNames[i] ?? `input${i}`;
      this.inputs.push(this.#add(t, "input", null, name));
      if (t.gradFn !== null) this.#inputNodes.set(t.gradFn, i);
    });
  }

  #add(t: Tensor, source: TracedValueSource, producer: TracedNode | null, name?: string) {
    // Op outputs are not kept alive, except what creation calls make (constants to an exporter).
    const keep = source === "op" && producer?.kind !== "creation" ? null : t;
    const value = new TracedValue(
      this.values.length,
      t.shape,
      t.dtype,
      source,
      producer,
      keep,
      name,
    );
    value.requiresGrad = t.requiresGrad;
    this.values.push(value);
    this.#byTensor.set(t, value);
    return value;
  }

  /** The value of a tensor an op was called on: known, or captured now. */
  valueFor(t: Tensor): TracedValue {
    const known = this.#byTensor.get(t);
    if (known !== undefined) return known;
    const name = this.names.get(t) ?? t.name ?? `captured${this.#captured++}`;
    const made = this.#made.get(t);
    const value = this.#add(t, made === undefined ? "captured" : "untraced", null, name);

    if (made !== undefined) value.madeAt = firstLineOutside(made);
    return value;
  }

  gradRead(t: Tensor, grad: Tensor | null): void {
    // A tensor made while tracing is made again by every replay, its .grad as it was then: the
    // trace depends only on the .grad of tensors that were there before (parameters, inputs).
    if (this.#gradSeen.has(t) || this.#made.has(t)) return;
    this.#gradSeen.add(t);
    this.gradReads.push({ tensor: t, grad });
  }

  /**
   * Refuses, before it starts, a backward pass that would run on into the graph that made an
   * input outside the function: a replay would run that part again on the traced call's
   * tensors, not on the next input's graph, so its gradients would be wrong.
   */
  backwardWillRun(node: Node): void {
    const input = this.#inputNodes.get(node);
    if (input === undefined) return;
    throw new TraceError(
      `backward() inside the traced function would reach ${node.op} #${node.id}, which made ${this.inputs[input].label} ` +
        "before the function was called: a replay would run that part of the backward again on the traced call's tensors, " +
        "not on the graph of the next call's input. Trace the whole step, the forward that makes the input included " +
        "(a view of a parameter, say: take the view inside the function), or pass the input detached (input.detach()) " +
        "and run its part of the backward outside the function.",
    );
  }

  created(t: Tensor): void {
    this.#made.set(t, new Error().stack ?? "");
  }

  createdGenerator(generator: object): void {
    this.#madeGenerators.add(generator);
  }

  /**
   * Refuses reseeding or cloning a generator while tracing, except one the function made and has
   * not drawn from yet (a replay makes it again in the state of its first draw): a replay runs no
   * JavaScript, so it would neither reseed nor clone, and would draw on along the stream.
   */
  generatorUsed(generator: object, method: string): void {
    if (this.#madeGenerators.has(generator) && !this.#generatorOf.has(generator)) return;
    const at = callerLine();
    const which =
      generator === defaultGenerator
        ? "the default generator"
        : this.#madeGenerators.has(generator)
          ? "a generator the function made and has drawn from"
          : "a generator made outside the function";
    throw new TraceError(
      `${method}() on ${which} while the function is traced${at === null ? "" : ` at ${at}`}: a replay does not run it, so it would draw on along the stream instead. ` +
        "Seed outside the compiled function, or make a new Generator(seed) inside it (a replay makes it again in that state).",
    );
  }

  /** The traced form of a generator the function made, from its state now (its first use). */
  #generator(generator: Generator): TracedGenerator {
    let traced = this.#generatorOf.get(generator);
    if (traced === undefined) {
      traced = new TracedGenerator(this.generators.length, generator.cloneState());
      this.generators.push(traced);
      this.#generatorOf.set(generator, traced);
    }
    return traced;
  }

  #arg(arg: unknown, depth: number): TracedArg {
    if (arg instanceof Tensor) return this.valueFor(arg);
    if (arg === null || typeof arg !== "object") return arg as TracedArg;
    const handle = this.#handleOf.get(arg);
    if (handle !== undefined) return handle;
    if (arg instanceof Generator && this.#madeGenerators.has(arg)) return this.#generator(arg);
    // Deeper than a call's arguments reach for tensors (a 5-d literal's innermost rows): copied
    // as they are, which a replay passes again; a tensor that deep could not be replaced.
    if (depth > 3) return copyPlain(arg) as TracedArg;
    if (Array.isArray(arg)) return arg.map((a) => this.#arg(a, depth + 1));
    // Typed arrays, generators and other class instances are kept as they are.
    if (Object.getPrototypeOf(arg) !== Object.prototype) return arg;
    const out: Record<string, TracedArg> = {};
    for (const [key, v] of Object.entries(arg)) out[key] = this.#arg(v, depth + 1);
    return out;
  }

  enter(op: TracedOpInfo, args: readonly unknown[], again: (...args: never[]) => unknown): void {
    if (isAnomalyEnabled()) this.underAnomaly = true;
    let n = args.length;
    while (n > 0 && args[n - 1] === undefined) n--;
    const traced = args.slice(0, n).map((a) => this.#arg(a, 0));
    if (op.name === "setGrad" && args[0] instanceof Tensor && !this.#gradSeen.has(args[0])) {
      this.#gradSeen.add(args[0]); // written before read: what it was does not matter
    }
    const parent = this.#stack.at(-1) ?? null;
    const node = new TracedNode(
      this.allNodes.length,
      op.name,
      op.kind,
      traced,
      parent,
      again,
      isGradEnabled(),
    );
    this.allNodes.push(node);
    (parent === null ? this.nodes : parent.children).push(node);
    this.#stack.push(node);
  }

  leave(result: unknown): void {
    const node = this.#stack.pop()!;
    const toValue = (t: Tensor) => this.#byTensor.get(t) ?? this.#add(t, "op", node);
    const made = tensorsIn(result instanceof WithSaved ? result.result : result);
    node.outputs = made.map(toValue);
    node.recordsGraph = node.gradEnabled && made.some((t) => t.requiresGrad);
    if (result instanceof WithSaved) {
      node.saved = result.saved.slice(0, result.savedCount).map(toValue);
      if (result.handle !== undefined) {
        node.handle = new TracedHandle(this.handles.length, node);
        this.handles.push(node.handle);
        this.#handleOf.set(result.handle, node.handle);
        const state = (result.handle as { state?: unknown }).state;
        const kept = findTensor(state, "ctx.state", () => true) !== null;
        if (kept && !this.contextTensors.includes(node.op)) {
          this.contextTensors.push(node.op);
        }
      }
    }
  }

  abort(): void {
    const node = this.#stack.pop()!;
    const siblings = node.parent === null ? this.nodes : node.parent.children;
    siblings.splice(siblings.indexOf(node), 1);
    this.allNodes.splice(this.allNodes.indexOf(node), 1);
  }

  read(method: string, t: Tensor): void {
    if (this.#stack.length > 0) return; // an op reading its own inputs (index checks) is fine
    const value = this.#byTensor.get(t);
    const what =
      value === undefined
        ? `a tensor of shape ${formatShape(t.shape)}`
        : value.source === "op"
          ? `the output of ${value.producer!.op} (shape ${formatShape(t.shape)})`
          : `${value.label} (shape ${formatShape(t.shape)})`;
    const line = callerLine();
    throw new TraceError(
      `${method}() reads ${what} while the function is traced${line === null ? "" : ` at ${line}`}: ` +
        "a traced function runs as a graph of ops, so it cannot branch on or copy out tensor values. " +
        "Choose between values with where(condition, a, b), or move the read out of the traced function.",
    );
  }

  graph(outputs: TracedValue[]): TracedGraph {
    const { values, handles, generators, inputs, nodes, allNodes, gradReads, contextTensors } =
      this;
    return {
      underAnomaly: this.underAnomaly,
      gradReads,
      contextTensors,
      values,
      handles,
      generators,
      inputs,
      nodes,
      outputs,
      allNodes,
      primitives: () => primitivesOf(nodes),
      toString: (depth = 1) => listing(inputs, nodes, outputs, depth),
    };
  }
}

/** The computing calls under `nodes`: composites and backward passes opened, the rest whole. */
function primitivesOf(nodes: readonly TracedNode[]): TracedNode[] {
  const out: TracedNode[] = [];
  const walk = (node: TracedNode): void => {
    if (node.kind === "composite" || node.kind === "backward") node.children.forEach(walk);
    else out.push(node);
  };
  nodes.forEach(walk);
  return out;
}

function formatArg(arg: TracedArg): string {
  if (arg instanceof TracedValue || arg instanceof TracedHandle) return arg.label;
  if (arg instanceof TracedGenerator) return `${arg.label} (made by the function)`;
  if (arg instanceof Generator) return "Generator";
  if (Array.isArray(arg)) return `[${arg.map(formatArg).join(", ")}]`;
  if (arg !== null && typeof arg === "object") {
    const entries = Object.entries(arg as Record<string, TracedArg>).filter(
      ([, v]) => v !== undefined,
    );
    return `{ ${entries.map(([k, v]) => `${k}: ${formatArg(v)}`).join(", ")} }`;
  }
  if (typeof arg === "number") return Object.is(arg, -0) ? "-0" : String(arg);
  return arg === undefined ? "undefined" : JSON.stringify(arg);
}

function typeOf(v: TracedValue): string {
  return `${v.dtype}${formatShape(v.shape)}`;
}

function listing(
  inputs: readonly TracedValue[],
  nodes: readonly TracedNode[],
  outputs: readonly TracedValue[],
  depth: number,
): string {
  const lines = [`graph(${inputs.map((v) => `${v.label}: ${typeOf(v)}`).join(", ")})`];
  const write = (node: TracedNode, level: number): void => {
    const outs = node.outputs.map((v) => `${v.label}: ${typeOf(v)}`).join(", ");
    const call = `${node.op}(${node.args.map(formatArg).join(", ")})`;
    const kind = ["composite", "custom", "backward", "effect", "creation", "inplace"].includes(
      node.kind,
    )
      ? `  [${node.kind}]`
      : "";
    lines.push(`${"  ".repeat(level + 1)}${outs === "" ? "" : `${outs} = `}${call}${kind}`);
    if (level < depth) for (const child of node.children) write(child, level + 1);
  };
  for (const node of nodes) write(node, 0);
  lines.push(`  return ${outputs.map((v) => v.label).join(", ")}`);
  return lines.join("\n");
}

/**
 * Runs `fn(...inputs)` once and records every op it calls. The function runs for real (its
 * result is returned beside the graph); while it runs, reading a tensor's values (`item()`,
 * `tolist()`, `toArray()`) outside an op throws a {@link TraceError} naming the line, since the
 * graph could not record a decision made on them.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]]);
 * const { graph } = trace((x) => x.matmul(w).relu().sum(), [tensor([[1, -1]])], {
 *   names: new Map([[w, "w"]]),
 * });
 * console.log(graph.toString());
 * // graph(input0: float32[1, 2])
 * //   %2: float32[1, 2] = matmul(input0, w)
 * //   ...
 * ```
 */
export function trace<R>(
  fn: (...inputs: Tensor[]) => R,
  inputs: readonly Tensor[],
  options: TraceOptions = {},
): Traced<R> {
  if (typeof fn !== "function") throw new TypeError(`trace: expected a function, got ${typeof fn}`);
  if (!Array.isArray(inputs) || inputs.some((t) => !(t instanceof Tensor))) {
    throw new TypeError("trace: inputs must be an array of tensors");
  }
  const builder = new GraphBuilder(inputs, options.inputNames ?? [], options.names ?? new Map());
  const previous = setActiveTracer(builder);
  let result: R;
  try {
    result = fn(...inputs);
  } finally {
    setActiveTracer(previous);
  }
  if (result instanceof Promise) {
    throw new TypeError(
      "trace: the function returned a Promise; traced functions must be synchronous",
    );
  }
  const outputs = tensorsIn(result).map((t) => builder.valueFor(t));
  return { graph: builder.graph(outputs), result };
}
