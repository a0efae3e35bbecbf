// The backward pass. Collects the nodes reachable from the outputs with an iterative DFS,
// orders them topologically (Kahn's algorithm, no recursion, so deep graphs cannot overflow
// the stack), then walks them once: each node's backward runs on the sum of its incoming
// gradients, and each gradient it returns is checked against its input's shape and dtype before
// it flows on. How gradients are summed and stored (and buffers reused) is accumulate.ts's job.

import { Storage } from "../tensor/storage.js";
import type { Tensor } from "../tensor/tensor.js";
import { activeTracer, type OpTracer } from "../tensor/tracing.js";
import {
  accumulateLeaf,
  deliverToLeaf,
  GradientResults,
  GradientSums,
  isFresh,
  isUnshared,
} from "./accumulate.js";
import { inBackward, isAnomalyEnabled } from "./anomaly.js";
import { DeadGradients } from "./dead-gradients.js";
import { setGradEnabled } from "./grad-mode.js";
import { checkCount, checkGradient } from "./gradient-checks.js";
import type { Node } from "./node.js";
import { BackwardStep, currentTrace } from "./trace.js";

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

/**
 * Runs backward from `outputs`, seeded with `gradOutputs`: walks the graph in topological order,
 * runs each node's backward on the sum of the gradients it received, checks every gradient
 * against its input, and passes it on (to the input's node, a leaf's `.grad`, or the results
 * when `inputs` is given). Returns the gradients of `inputs` (empty when accumulating).
 */
export function runBackward(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  options: RunOptions,
): (Tensor | null)[] {
  const { createGraph } = options;
  const results = options.inputs === null ? null : new GradientResults(options.inputs);
  const trace = currentTrace();
  const tracer = activeTracer();
  const dead = createGraph || trace !== null || tracer !== null ? null : new DeadGradients();
  try {
    return walk(outputs, gradOutputs, options, results, trace, dead, tracer);
  } finally {
    dead?.finish();
  }
}

function walk(
  outputs: readonly Tensor[],
  gradOutputs: readonly Tensor[],
  options: RunOptions,
  results: GradientResults | null,
  trace: ReturnType<typeof currentTrace>,
  dead: DeadGradients | null,
  tracer: OpTracer | null,
): (Tensor | null)[] {
  const { createGraph, retainGraph } = options;
  const sums = new GradientSums(createGraph, dead);
  const canAdopt = !createGraph && trace === null;
  const roots: Node[] = [];
  for (let i = 0; i < outputs.length; i++) {
    const out = outputs[i];
    // An output that is also an input gets its seed as (part of) its gradient.
    if (results?.has(out)) {
      results.add(out, gradOutputs[i]);
      for (const r of results.resultsOf(out)) dead?.escape(r);
    }
    if (out.gradFn !== null) {
      sums.seed(out.gradFn, gradOutputs[i]);
      roots.push(out.gradFn);
    } else if (results === null) {
      accumulateLeaf(out, gradOutputs[i], createGraph);
      dead?.escape(out.grad);
    }
  }
  const order = topologicalOrder(roots);
  const needed = results === null ? null : nodesLeadingTo(order, results);
  // A tracer sees every node the pass may run before anything runs, so that it can refuse the
  // pass without having changed a gradient.
  if (tracer?.backwardWillRun !== undefined) {
    for (const node of order) if (needed === null || needed.has(node)) tracer.backwardWillRun(node);
  }
  const needs = (t: Tensor) =>
    t.requiresGrad &&
    (needed === null || results!.has(t) || (t.gradFn !== null && needed.has(t.gradFn)));

  const previousMode = setGradEnabled(createGraph);
  try {
    for (const node of order) {
      const unsharedOut = sums.isUnshared(node);
      const gradOut = sums.take(node);
      if (node.retained !== null && gradOut !== undefined) {
        accumulateLeaf(node.retained, gradOut, createGraph);
        dead?.escape(node.retained.grad);
      }
      if (gradOut === undefined || (needed !== null && !needed.has(node))) {
        if (!retainGraph) node.release();
        dead?.sweep();
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
      // Read before the node is released, which lets go of its inputs.
      const inputs = node.tensorInputs();
      // A built-in backward keeps no gradOut: when nothing else holds its buffer either, the
      // views of it the backward hands on (transpose, reshape) hold no other's buffer.
      const passedOn = node.builtIn && unsharedOut ? gradOut.storage : null;
      const needsInputGrad = inputs.map(needs);
      const firstFresh = Storage.nextSerial();
      const inputGrads = isAnomalyEnabled()
        ? inBackward(() => backwardFn(gradOut, needsInputGrad))
        : backwardFn(gradOut, needsInputGrad);
      // User code (a custom op, `record`) saw gradOut and made what it returned.
      if (!node.builtIn) dead?.escapeAll();
      trace?.(
        new BackwardStep(
          node,
          gradOut,
          inputGrads,
          node.rule ?? "(a backward without a written rule)",
        ),
      );
      if (!retainGraph) node.release();
      checkCount(node, inputGrads);
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        const g = inputGrads[i];
        if (!needsInputGrad[i] || g === null || g === undefined) continue;
        checkGradient(node, i, input, g);
        if (results?.has(input)) {
          results.add(input, g);
          for (const r of results.resultsOf(input)) dead?.escape(r);
        }
        // Handed on without a copy: not to a watching trace (its steps keep every gradient) nor
        // when it also went to the results.
        const handOn = canAdopt && !results?.has(input);
        if (input.gradFn !== null) {
          sums.add(
            input.gradFn,
            g,
            handOn && isUnshared(node, g, i, inputGrads, firstFresh, passedOn),
          );
        } else if (results === null) {
          const fresh = handOn && isFresh(node, g, i, inputGrads, firstFresh, passedOn);
          deliverToLeaf(input, g, fresh, createGraph);
          dead?.escape(input.grad);
        }
      }
      dead?.sweep();
    }
  } finally {
    setGradEnabled(previousMode);
  }
  return results?.values ?? [];
}

/** The nodes of `order` (outputs first) that lie on a path to one of the requested inputs. */
function nodesLeadingTo(order: readonly Node[], results: GradientResults): Set<Node> {
  const needed = new Set<Node>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    for (const input of node.inputs) {
      if (results.has(input) || (input.gradFn !== null && needed.has(input.gradFn))) {
        needed.add(node);
        break;
      }
    }
  }
  return needed;
}
