// A recorded operation: the graph is made of these. Each op's forward calls `record`, handing
// over its backward as a closure over what it saved; nothing is recorded when grad mode is off
// or no input requires grad, so inference pays nothing for autograd.

import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { checkFinite, checksForward, creationStack, isAnomalyEnabled } from "./anomaly.js";
import { isGradEnabled } from "./grad-mode.js";

/**
 * Maps the gradient of the op's output to one gradient per input (`null` where the input does
 * not need one). Written with differentiable tensor ops, so double backward works for free.
 */
export type BackwardFn = (
  gradOut: Tensor,
  needsInputGrad: readonly boolean[],
) => readonly (Tensor | null)[];

let nextNodeId = 0;

/**
 * What a node keeps of an input once backward has released it: enough to draw the graph and to
 * name the input (its node, shape, dtype and name), none of its values. Only a leaf that
 * requires grad (a parameter) stays a tensor, as PyTorch's graph keeps the leaves it accumulates
 * into; without this, a loss kept after its backward (`losses.push(loss)`) would keep every
 * intermediate tensor of its forward pass alive, and its input batch.
 */
export class ReleasedInput {
  constructor(
    /** The node that made the input (null for a constant leaf). */
    readonly gradFn: Node | null,
    /** The input's shape. */
    readonly shape: readonly number[],
    /** The input's dtype. */
    readonly dtype: DType,
    /** Whether the input required grad (true for one a node made). */
    readonly requiresGrad: boolean,
    /** The input's `name`, if it had one. */
    readonly name: string | undefined,
    /** Its storage's creation order, so that graph listings number leaves as before. */
    readonly serial: number,
  ) {}

  /** `ReleasedInput([2, 3] float32)`: what console.log shows. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ReleasedInput([${this.shape.join(", ")}] ${this.dtype})`;
  }
}

/**
 * The one ReleasedInput of each constant leaf (a tensor without gradFn that does not require
 * grad), so that a graph drawn after backward shows a constant two ops read as one leaf, as
 * before. An input a node made is told apart by that node.
 */
const releasedConstants = new WeakMap<Tensor, ReleasedInput>();

/** The ReleasedInput some released node keeps of the constant `t`, if any (for graph drawings). */
export function releasedFormOf(t: Tensor): ReleasedInput | undefined {
  return releasedConstants.get(t);
}

/** What a released node keeps of `input`: a parameter itself, a {@link ReleasedInput} of anything else. */
function releasedInput(input: Tensor | ReleasedInput): Tensor | ReleasedInput {
  if (input instanceof ReleasedInput) return input;
  const constant = input.gradFn === null;
  if (constant && input.requiresGrad) return input;
  const known = constant ? releasedConstants.get(input) : undefined;
  if (known !== undefined) return known;
  const released = new ReleasedInput(
    input.gradFn,
    input.shape,
    input.dtype,
    input.requiresGrad,
    input.name,
    input.storage.serial,
  );
  if (constant) releasedConstants.set(input, released);
  return released;
}

/**
 * One recorded operation in the autograd graph (PyTorch's `grad_fn`): a tensor's `gradFn` points
 * at the node that produced it, and the node's `inputs` lead on to their own `gradFn`s. Created
 * by {@link record}; users read nodes (graph exports, {@link traceBackward}) but never build them.
 */
export class Node {
  /** Creation order: a stable label for graph listings. */
  readonly id = nextNodeId++;
  /** Set by `retainGrad()`: the output tensor whose `.grad` should be filled. */
  retained: Tensor | null = null;
  /** The op's result, kept for graph exports until the graph is released by backward. */
  output: Tensor | null = null;
  /**
   * True when the backward returns only tensors it created and keeps no reference to (every
   * built-in op; custom ops that declare `freshGradients`), so the engine may adopt a fresh,
   * contiguous one as a leaf's first `.grad` instead of copying it. False for `record`: its
   * backward is user code, which may keep what it returns.
   */
  freshGradients = false;
  /**
   * True for the ops of ops/define.ts: their backward keeps no reference to its gradOut nor to
   * anything it makes, so the engine may recycle those arrays (autograd/dead-gradients.ts).
   * False for `record` and custom ops, whose backward is user code.
   */
  builtIn = false;
  /**
   * The derivative as a line of math (`"d/dx = g·cos x"`, from the op's definition), shown by
   * graph tools and {@link traceBackward}; null for ops recorded without one.
   */
  rule: string | null = null;
  /** Where the op was created, kept only under `detectAnomaly`. */
  readonly createdAt: string | undefined;
  private savedVersions: number[] | null;

  /**
   * The op's inputs, in order; the engine follows those that require grad. Tensors until
   * backward releases the node; from then on parameters stay tensors and every other input is a
   * {@link ReleasedInput} (its node, shape and dtype, not its values).
   */
  get inputs(): readonly (Tensor | ReleasedInput)[] {
    return this.#inputs;
  }

  #inputs: readonly (Tensor | ReleasedInput)[];
  #released = false;
  /** The tensors the backward reads, checked for in-place changes; null once released. */
  #saved: readonly Tensor[] | null;

  constructor(
    /** The op's name, equal to its exported function name. */
    readonly op: string,
    inputs: readonly Tensor[],
    /** Released (set to null) after backward unless the graph is retained. */
    public backwardFn: BackwardFn | null,
    /** Shape of the op's output: every incoming `gradOut` has it. */
    readonly outputShape: readonly number[],
    /** Dtype of the op's output: every incoming `gradOut` has it. */
    readonly outputDType: DType,
    saved: readonly Tensor[] | null,
  ) {
    this.#inputs = inputs;
    this.#saved = saved;
    this.savedVersions = saved === null ? null : saved.map((t) => t.storage.version);
    this.createdAt = isAnomalyEnabled() ? creationStack() : undefined;
  }

  /**
   * The inputs as tensors, for the engine running this node's backward.
   * @throws Error once the node was released (its inputs' values may be gone).
   */
  tensorInputs(): readonly Tensor[] {
    if (this.#released) {
      throw new Error(`${this.op} #${this.id}: its inputs were released by backward`);
    }
    return this.#inputs as readonly Tensor[];
  }

  /** `mul #3 -> [2, 3] float32`: the op, its id and its output, without the engine's internals. */
  toString(): string {
    return `${this.op} #${this.id} -> [${this.outputShape.join(", ")}] ${this.outputDType}`;
  }

  /** Node's `util.inspect` (and so `console.log`) prints {@link Node.toString}. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Node(${this.toString()})`;
  }

  /**
   * Frees what backward needed, and the node's hold on its inputs' values (see
   * {@link ReleasedInput}); a later backward through this node is an error.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.backwardFn = null;
    this.output = null;
    // The tensor retainGrad() asked to fill has its .grad now; the node no longer needs it.
    this.retained = null;
    this.#saved = null;
    this.savedVersions = null;
    this.#inputs = this.#inputs.map(releasedInput);
  }

  /** Throws if a tensor saved for backward was modified in place after the forward pass. */
  checkSavedVersions(): void {
    const saved = this.#saved;
    if (saved === null || this.savedVersions === null) return;
    for (let i = 0; i < saved.length; i++) {
      const now = saved[i].storage.version;
      if (now !== this.savedVersions[i]) {
        throw new Error(
          `backward of ${this.op}: a tensor of shape [${saved[i].shape.join(", ")}] saved for the ` +
            `gradient was modified in place after the forward pass (version ${this.savedVersions[i]} -> ${now}). ` +
            "Clone it before changing it, or change it outside the graph.",
        );
      }
    }
  }
}

/**
 * Attaches a graph node to `out` when grad mode is on and some input requires grad, and returns
 * `out`. `saved` lists the tensors the backward closure reads, so in-place changes to them are
 * caught instead of silently corrupting the gradient.
 */
export function record(
  op: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] | null = null,
): Tensor {
  if (recordsGraph(op, out, inputs)) attachNode(op, out, inputs, backward, saved, null);
  return out;
}

/**
 * Whether `out`, computed by `op` from `inputs`, gets a graph node: grad mode is on and some
 * input requires grad. Under anomaly detection it first checks `out` for NaN and infinities.
 */
export function recordsGraph(op: string, out: Tensor, inputs: readonly Tensor[]): boolean {
  if (checksForward()) checkFinite(out, `forward of ${op}`, undefined);
  if (!isGradEnabled()) return false;
  for (let i = 0; i < inputs.length; i++) if (inputs[i].requiresGrad) return true;
  return false;
}

/** Attaches the graph node of `op` to `out`, once {@link recordsGraph} said so. */
export function attachNode(
  op: string,
  out: Tensor,
  inputs: readonly Tensor[],
  backward: BackwardFn,
  saved: readonly Tensor[] | null,
  rule: string | null,
): void {
  const node = new Node(op, inputs, backward, out.shape, out.dtype, saved);
  node.output = out;
  node.rule = rule;
  out.gradFn = node;
  out.requiresGradFlag = true;
}
