// A tiny network with a BatchNorm, its computation graph with values and gradients on every node
// (like micrograd's draw_dot), and its backward pass traced step by step.

import {
  type BackwardStep,
  Generator,
  manualSeed,
  type Tensor,
  tensor,
  toDot,
  topologicalOrder,
  traceBackward,
} from "@koubai/core";
import { BatchNorm1d, Linear, ReLU, Sequential } from "@koubai/layers";

export interface TracedStep {
  op: string;
  /** The local derivative as the op's definition writes it (`"d/dA = g·Bᵀ, d/dB = Aᵀ·g"`). */
  rule: string;
  gradOutShape: readonly number[];
  /** Gradients produced for the node's inputs (null where an input needs none). */
  inputGrads: (number[] | null)[];
}

export interface GraphRun {
  model: Sequential;
  x: Tensor;
  loss: Tensor;
  dot: string;
  steps: TracedStep[];
}

/** x: [4, 3] → Linear(3, 2) → BatchNorm1d(2) → ReLU → mean, with every node's gradient kept. */
export function runTinyNetwork(seed = 3): GraphRun {
  manualSeed(seed);
  const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2), new ReLU());
  model.parameters(); // names each parameter by its path (0.weight, ...), as an optimizer would
  const generator = new Generator(seed);
  const x = tensor(
    Array.from({ length: 12 }, () => Math.round((generator.uniform() * 4 - 2) * 10) / 10),
    { shape: [4, 3] },
  );
  x.name = "x";
  const loss = model.forward(x).mean();
  // Keep .grad on every intermediate so the graph can show it, and keep the graph for toDot.
  for (const node of topologicalOrder([loss.gradFn!])) node.output?.retainGrad();
  const steps: TracedStep[] = [];
  traceBackward(
    () => loss.backward(undefined, { retainGraph: true }),
    (step: BackwardStep) =>
      steps.push({
        op: step.node.op,
        rule: step.rule,
        gradOutShape: step.gradOut.shape,
        inputGrads: step.inputGrads.map((g) => (g === null ? null : Array.from(g.toArray()))),
      }),
  );
  return {
    model,
    x,
    loss,
    dot: toDot(loss, { values: true, grads: true, maxValues: 4, direction: "TB" }),
    steps,
  };
}

/** One numbered line per backward step: op, gradient in, rule, gradients out. */
export function formatSteps(steps: readonly TracedStep[]): string {
  const fmt = (values: number[] | null) =>
    values === null
      ? "-"
      : `[${values
          .slice(0, 4)
          .map((v) => v.toPrecision(3))
          .join(", ")}${values.length > 4 ? `, … (${values.length})` : ""}]`;
  return steps
    .map((s, i) => {
      return [
        `${String(i + 1).padStart(2)}. ${s.op}  (gradient in: [${s.gradOutShape.join(", ")}])`,
        `    rule: ${s.rule}`,
        `    gradients out: ${s.inputGrads.map(fmt).join("  ")}`,
      ].join("\n");
    })
    .join("\n");
}
