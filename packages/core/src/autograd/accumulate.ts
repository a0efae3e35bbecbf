// Where the backward walk puts gradients: the running sum of each node's incoming gradients, the
// leaves' `.grad`, and the results of `autogradGrad`. The engine decides what flows where; this
// module decides how it is added up, and in particular when a buffer may be reused instead of
// copied (the allocations that matter for speed), without changing a single result.

import { sameShape } from "../tensor/shape.js";
import type { Storage } from "../tensor/storage.js";
import type { Tensor } from "../tensor/tensor.js";
import type { DeadGradients } from "./dead-gradients.js";
import { type Node, ReleasedInput } from "./node.js";

/**
 * The sum of the gradients each node has received so far. A sum this object allocated is
 * private until {@link take} hands it to the node's backward, so later contributions are added
 * into it in place (one full-size allocation saved per extra contribution). Not with
 * `createGraph`: then every sum is a graph node of its own.
 *
 * A node's sum is also *unshared* when nothing but this object can reach its buffer: a sum it
 * allocated, or a single gradient that its maker passed on as unshared (see {@link isUnshared}).
 * A built-in backward that hands on a view of an unshared gradient (transpose, reshape) hands on
 * a buffer nobody else holds, which a leaf may then adopt, as PyTorch's AccumulateGrad steals a
 * gradient nothing else references.
 */
export class GradientSums {
  private readonly sums = new Map<Node, Tensor>();
  private readonly own = new Set<Tensor>();
  /** Single gradients their maker passed on as unshared (the sums in `own` are unshared too). */
  private readonly unshared = new Set<Tensor>();

  constructor(
    private readonly createGraph: boolean,
    /** Told which gradients wait here, so that no array in use is recycled. */
    private readonly dead: DeadGradients | null = null,
  ) {}

  /** Adds one output's seed: out of place, as the user may hold it. */
  seed(node: Node, g: Tensor): void {
    const previous = this.sums.get(node);
    this.set(node, previous === undefined ? g : previous.add(g), previous);
  }

  /**
   * Adds a gradient flowing into `node` from one of its consumers; `unshared` when nothing else
   * can reach its buffer (see {@link isUnshared}).
   */
  add(node: Node, g: Tensor, unshared = false): void {
    const previous = this.sums.get(node);
    if (previous === undefined) {
      this.set(node, g, undefined);
      if (unshared && !this.createGraph) this.unshared.add(g);
    } else if (this.own.has(previous)) previous.add_(g);
    else {
      const total = previous.add(g);
      this.unshared.delete(previous);
      if (!this.createGraph) this.own.add(total);
      this.set(node, total, previous);
    }
  }

  /** True when the sum waiting for `node` is unshared: no buffer but this object's holds it. */
  isUnshared(node: Node): boolean {
    const g = this.sums.get(node);
    return g !== undefined && (this.own.has(g) || this.unshared.has(g));
  }

  /** Removes and returns the node's total gradient (undefined when it received none). */
  take(node: Node): Tensor | undefined {
    const g = this.sums.get(node);
    if (g === undefined) return undefined;
    this.sums.delete(node);
    this.own.delete(g);
    this.unshared.delete(g);
    this.dead?.drop(g);
    return g;
  }

  private set(node: Node, g: Tensor, replaced: Tensor | undefined): void {
    if (replaced !== undefined) this.dead?.drop(replaced);
    this.dead?.hold(g);
    this.sums.set(node, g);
  }
}

/**
 * The gradients `autogradGrad` returns, one slot per requested input (an input listed twice gets
 * the same sum in both slots).
 */
export class GradientResults {
  readonly values: (Tensor | null)[];
  private readonly slots = new Map<Tensor, number[]>();

  constructor(inputs: readonly Tensor[]) {
    this.values = inputs.map(() => null);
    inputs.forEach((t, i) => {
      this.slots.set(t, [...(this.slots.get(t) ?? []), i]);
    });
  }

  /**
   * Whether `t` is one of the requested inputs; for the input of a node an earlier backward
   * released, whether a requested input was made by the same node (the made tensor is all a
   * released input still tells of it).
   */
  has(t: Tensor | ReleasedInput): boolean {
    if (!(t instanceof ReleasedInput)) return this.slots.has(t);
    if (t.gradFn === null) return false;
    for (const requested of this.slots.keys()) if (requested.gradFn === t.gradFn) return true;
    return false;
  }

  /** The results so far for `t`, one per slot it was requested in. */
  resultsOf(t: Tensor): (Tensor | null)[] {
    return (this.slots.get(t) ?? []).map((i) => this.values[i]);
  }

  /** Adds `g` to the result of `t` (nothing when `t` was not requested). */
  add(t: Tensor, g: Tensor): void {
    for (const i of this.slots.get(t) ?? []) {
      const previous = this.values[i];
      this.values[i] = previous === null ? g : previous.add(g);
    }
  }
}

/**
 * Gives leaf `input` gradient `g`, the `i`-th of what `node`'s backward returned. The first
 * gradient of a leaf becomes its `.grad` without a copy when `fresh` (nothing else can hold its
 * buffer: see {@link isFresh}); otherwise it is added as {@link accumulateLeaf} does.
 */
export function deliverToLeaf(
  input: Tensor,
  g: Tensor,
  fresh: boolean,
  createGraph: boolean,
): void {
  if (fresh && !createGraph && input.grad === null) input.grad = g;
  else accumulateLeaf(input, g, createGraph);
}

/**
 * True when nothing but the engine can hold the buffer of gradient `i` of `node`, so that it may
 * wait in the sums as unshared: either the op promises fresh gradients and the buffer was
 * allocated during this backward call (its storage serial is at least `firstFresh`), or the
 * buffer is `passedOn`, that of the unshared gradient a built-in backward received (a transpose
 * or reshape hands on a view); it needs no grad; and no other gradient of the call shares it
 * (add hands one tensor to both inputs, a split hands views of one buffer to each).
 */
export function isUnshared(
  node: Node,
  g: Tensor,
  i: number,
  inputGrads: readonly (Tensor | null)[],
  firstFresh: number,
  passedOn: Storage | null = null,
): boolean {
  const made = node.freshGradients && g.storage.serial >= firstFresh;
  if ((!made && g.storage !== passedOn) || g.requiresGrad) return false;
  for (let j = 0; j < inputGrads.length; j++) {
    if (j !== i && inputGrads[j]?.storage === g.storage) return false;
  }
  return true;
}

/**
 * True when gradient `i` of `node` can become a leaf's `.grad` without a copy: it is unshared
 * (see {@link isUnshared}) and covers all of its buffer contiguously.
 */
export function isFresh(
  node: Node,
  g: Tensor,
  i: number,
  inputGrads: readonly (Tensor | null)[],
  firstFresh: number,
  passedOn: Storage | null = null,
): boolean {
  return (
    g.offset === 0 &&
    g.numel() === g.data.length &&
    g.isContiguous() &&
    isUnshared(node, g, i, inputGrads, firstFresh, passedOn)
  );
}

/** Adds `g` into `t.grad` (a leaf, or a non-leaf that asked for `retainGrad()`). */
export function accumulateLeaf(t: Tensor, g: Tensor, createGraph: boolean): void {
  if (createGraph) {
    // A differentiable copy, for the same aliasing reasons as below.
    t.grad = t.grad === null ? g.clone() : t.grad.add(g);
    return;
  }
  // A private contiguous copy: gradients may alias each other (add passes one tensor to both
  // inputs) or be stride-0 expansions, and users modify .grad in place (clipping, optimizers).
  if (t.grad === null) t.grad = g.detach().clone();
  else if (addsInPlace(t, t.grad, g)) t.grad.add_(g.detach());
  else t.grad = t.grad.detach().add(g.detach());
}

/**
 * True when a leaf's later gradient `g` may be added into its existing `.grad` in place, as
 * PyTorch's AccumulateGrad does (`grad += new_grad`): no full-size allocation per contribution.
 * Not for a retained non-leaf gradient (torch adds those out of place), nor when `.grad` shares
 * `g`'s memory, needs grad, or is not contiguous (a stride-0 one the user set, say). Shape and
 * dtype always match: the `grad` setter checks them.
 */
function addsInPlace(t: Tensor, grad: Tensor, g: Tensor): boolean {
  return (
    t.gradFn === null &&
    !grad.requiresGrad &&
    grad.isContiguous() &&
    grad.dtype === g.dtype &&
    sameShape(grad.shape, g.shape) &&
    grad.storage !== g.storage
  );
}
