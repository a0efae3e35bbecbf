// The backward pass. Collects the nodes reachable from the outputs with an iterative DFS,
// orders them topologically (Kahn's algorithm, no recursion, so deep graphs cannot overflow
// the stack), then walks them once, summing gradients per node and checking each gradient's
// shape and dtype against the input it belongs to.

import { formatShape, sameShape } from "../tensor/shape.js";
import { Storage } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import { checkFinite, inBackward, isAnomalyEnabled } from "./anomaly.js";
import { setGradEnabled } from "./grad-mode.js";
import type { BackwardFn, Node } from "./node.js";

/** Options of `Tensor.backward`, as in `torch.Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again. Default: `createGraph`. */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients. Default false. */
  createGraph?: boolean;
}

interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** Compute gradients for these tensors only and return them (torch.autograd.grad); else accumulate into leaves. */
  inputs: readonly Tensor[] | null;
}

/** Topological order of the nodes reachable from `roots`, outputs first. */
export function topologicalOrder(roots: readonly Node[]): Node[] {
  const dependents = new Map<Node, number>();
  const stack: Node[] = [];
  for (const root of roots) {
    if (!dependents.has(root)) {
      dependents.set(root, 0);
      stack.push(root);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const input of node.inputs) {
      const next = input.gradFn;
      if (next === null) continue;
      const count = dependents.get(next);
      if (count === undefined) {
        dependents.set(next, 1);
        stack.push(next);
      } else dependents.set(next, count + 1);
    }
  }
  const order: Node[] = [];
  const ready = [...new Set(roots)].filter((r) => dependents.get(r) === 0);
  while (ready.length > 0) {
    const node = ready.pop()!;
    order.push(node);
    for (const input of node.inputs) {
      const next = input.gradFn;
      if (next === null) continue;
      const left = dependents.get(next)! - 1;
      dependents.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return order;
}

/** One step of a traced backward pass: the node, the gradient it received, what it produced. */
export interface BackwardStep {
  /** The op whose backward ran. */
  node: Node;
  /** The gradient of the loss with respect to the node's output (summed over all its uses). */
  gradOut: Tensor;
  /** What the node's backward returned: one gradient per input, null where none was needed. */
  inputGrads: readonly (Tensor | null)[];
  /** The backward function that was applied (its source reads as the local gradient rule). */
  rule: BackwardFn;
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

export function runBackward(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  options: RunOptions,
): (Tensor | null)[] {
  const { createGraph, retainGraph, inputs } = options;
  const results: (Tensor | null)[] = inputs ? inputs.map(() => null) : [];
  const targetIndex = new Map<Tensor, number[]>();
  if (inputs) {
    inputs.forEach((t, i) => {
      targetIndex.set(t, [...(targetIndex.get(t) ?? []), i]);
    });
  }

  const addResult = (t: Tensor, g: Tensor) => {
    for (const i of targetIndex.get(t) ?? [])
      results[i] = results[i] === null ? g : results[i]!.add(g);
  };

  const grads = new Map<Node, Tensor>();
  const roots: Node[] = [];
  for (let i = 0; i < outputs.length; i++) {
    const out = outputs[i];
    const g = gradOutputs[i];
    // An output that is also an input gets its seed as (part of) its gradient.
    if (inputs) addResult(out, g);
    if (out.gradFn === null) {
      if (!inputs) accumulateLeaf(out, g, createGraph);
      continue;
    }
    grads.set(out.gradFn, grads.has(out.gradFn) ? grads.get(out.gradFn)!.add(g) : g);
    roots.push(out.gradFn);
  }

  const order = topologicalOrder(roots);
  // With explicit inputs, only nodes on a path to one of them need to run.
  let needed: Set<Node> | null = null;
  if (inputs) {
    needed = new Set();
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      for (const input of node.inputs) {
        if (targetIndex.has(input) || (input.gradFn !== null && needed.has(input.gradFn))) {
          needed.add(node);
          break;
        }
      }
    }
  }

  // Sums this loop allocated while adding up a node's incoming gradients. Nothing outside the
  // loop can hold one until it is handed to its node's backward, so later contributions are added
  // in place (one full-size allocation per extra contribution saved). Without createGraph only:
  // with it, the sums are graph nodes themselves.
  const ownSums = new Set<Tensor>();
  const previousMode = setGradEnabled(createGraph);
  try {
    for (const node of order) {
      const gradOut = grads.get(node);
      grads.delete(node);
      if (gradOut !== undefined) ownSums.delete(gradOut);
      if (node.retained !== null && gradOut !== undefined)
        accumulateLeaf(node.retained, gradOut, createGraph);
      if (gradOut === undefined || (needed !== null && !needed.has(node))) {
        if (!retainGraph) node.release();
        continue;
      }
      const backwardFn = node.backwardFn;
      if (backwardFn === null) {
        throw new Error(
          `backward through ${node.op} a second time: its saved values were freed after the first backward. ` +
            "Call the first one as backward({ retainGraph: true }) to keep them.",
        );
      }
      node.checkSavedVersions();
      const needsInputGrad = node.inputs.map(
        (t) =>
          t.requiresGrad &&
          (needed === null || targetIndex.has(t) || (t.gradFn !== null && needed.has(t.gradFn))),
      );
      const firstFresh = Storage.nextSerial();
      const inputGrads = isAnomalyEnabled()
        ? inBackward(() => backwardFn(gradOut, needsInputGrad))
        : backwardFn(gradOut, needsInputGrad);
      if (backwardTrace !== null) backwardTrace({ node, gradOut, inputGrads, rule: backwardFn });
      if (!retainGraph) node.release();
      if (!Array.isArray(inputGrads) || inputGrads.length !== node.inputs.length) {
        const got = Array.isArray(inputGrads) ? inputGrads.length : describeValue(inputGrads);
        throw new Error(
          `backward of ${node.op} returned ${got} gradients for ${node.inputs.length} inputs (expected an array with one Tensor or null per input)`,
        );
      }
      for (let i = 0; i < node.inputs.length; i++) {
        const input = node.inputs[i];
        const g = inputGrads[i];
        if (!needsInputGrad[i] || g === null || g === undefined) continue;
        checkGradient(node, i, input, g);
        if (isAnomalyEnabled())
          checkFinite(g, `backward of ${node.op} (gradient of input ${i})`, node.createdAt);
        if (targetIndex.has(input)) addResult(input, g);
        if (input.gradFn !== null) {
          const previous = grads.get(input.gradFn);
          if (previous === undefined) grads.set(input.gradFn, g);
          else if (ownSums.has(previous)) previous.add_(g);
          else {
            const total = previous.add(g);
            if (!createGraph) ownSums.add(total);
            grads.set(input.gradFn, total);
          }
        } else if (!inputs) {
          const own = !createGraph && isFresh(node, g, i, inputGrads, firstFresh);
          if (own && input.grad === null) input.grad = g;
          else accumulateLeaf(input, g, createGraph);
        }
      }
    }
  } finally {
    setGradEnabled(previousMode);
  }
  return results;
}

/** How messages show a value that should have been a Tensor. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value === null ? "null" : typeof value;
}

function checkGradient(node: Node, i: number, input: Tensor, g: Tensor): void {
  if (!(g instanceof Tensor)) {
    throw new TypeError(
      `backward of ${node.op}: the gradient for input ${i} is ${describeValue(g)}, expected a Tensor of shape ${formatShape(input.shape)} and dtype ${input.dtype} (or null); wrap values with tensor(...)`,
    );
  }
  const shapeOk = sameShape(g.shape, input.shape);
  if (!shapeOk || g.dtype !== input.dtype) {
    throw new Error(
      `backward of ${node.op}: the gradient for input ${i} has shape ${formatShape(g.shape)} and dtype ${g.dtype}, ` +
        `but the input has shape ${formatShape(input.shape)} and dtype ${input.dtype}`,
    );
  }
}

/**
 * True when gradient `i` of `node` can become a leaf's `.grad` without a copy, because nothing
 * else can hold its buffer: the op promises fresh gradients, the buffer was allocated during this
 * backward call (its storage serial is at least `firstFresh`), `g` covers all of it contiguously,
 * no other gradient of the call shares it (add hands one tensor to both inputs), and no trace
 * keeps the step.
 */
function isFresh(
  node: Node,
  g: Tensor,
  i: number,
  inputGrads: readonly (Tensor | null)[],
  firstFresh: number,
): boolean {
  if (!node.freshGradients || backwardTrace !== null || g.storage.serial < firstFresh) return false;
  if (g.requiresGrad || g.offset !== 0 || g.numel() !== g.data.length || !g.isContiguous())
    return false;
  for (let j = 0; j < inputGrads.length; j++) {
    if (j !== i && inputGrads[j]?.storage === g.storage) return false;
  }
  return true;
}

/** Adds `g` into `t.grad` (a leaf, or a non-leaf that asked for `retainGrad()`). */
function accumulateLeaf(t: Tensor, g: Tensor, createGraph: boolean): void {
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
