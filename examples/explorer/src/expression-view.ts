// The Expression view: type an expression over named values, see its graph with every value
// and gradient, and step the backward pass one node at a time: the node's derivative rule, the
// gradient that came in, and the gradients accumulating into the inputs.

import {
  type BackwardStep,
  type Tensor,
  toDot,
  topologicalOrder,
  traceBackward,
} from "@koubai/core";
import { instance } from "@viz-js/viz";
import { button, el, formatValues } from "./dom.js";
import { evaluate, parseVariables } from "./parse.js";

interface State {
  variables: Map<string, Tensor>;
  loss: Tensor;
  steps: BackwardStep[];
  /** How many steps are shown (0: none yet). */
  shown: number;
  backwardCalls: number;
}

export function expressionView(): HTMLElement {
  const variablesBox = el("textarea", { id: "expr-variables", rows: "4", cols: "40" });
  variablesBox.value = "a = 2\nb = -3\nc = 10";
  const expressionBox = el("input", { id: "expr-input", size: "40" });
  expressionBox.value = "(a*b + c).tanh()";
  const errorBox = el("p", { class: "error", id: "expr-error" });
  const graphBox = el("div", { class: "graph", id: "expr-graph" });
  const stepBox = el("pre", { class: "step", id: "expr-step" });
  const gradsBox = el("table", { class: "grads", id: "expr-grads" });
  const note = el("p", { class: "note", id: "expr-note" });
  let state: State | null = null;

  const render = async (highlight: number | null) => {
    if (state === null) return;
    let dot = toDot(state.loss, {
      values: true,
      grads: state.shown > 0 || state.backwardCalls > 0,
      maxValues: 4,
      direction: "LR",
    });
    if (highlight !== null) {
      dot = dot.replace(
        `  node${highlight} [shape=ellipse, `,
        `  node${highlight} [shape=ellipse, color="#dc2626", penwidth=3, `,
      );
    }
    const viz = await instance();
    graphBox.innerHTML = viz.renderString(dot, { format: "svg" });
  };

  /** Each variable's gradient as accumulated by the first `count` steps of the traced pass. */
  const gradsSoFar = (count: number): Map<string, number[]> => {
    const sums = new Map<string, number[]>();
    if (state === null) return sums;
    for (const step of state.steps.slice(0, count)) {
      step.node.inputs.forEach((input, i) => {
        const g = step.inputGrads[i];
        if (
          input.gradFn !== null ||
          input.name === undefined ||
          g === null ||
          !state?.variables.has(input.name)
        )
          return;
        const values = Array.from(g.toArray());
        const before = sums.get(input.name);
        sums.set(input.name, before === undefined ? values : before.map((v, k) => v + values[k]));
      });
    }
    return sums;
  };

  const showGrads = (rows: Map<string, number[] | null>, caption: string) => {
    gradsBox.replaceChildren(
      el("caption", {}, caption),
      el("tr", {}, el("th", {}, "name"), el("th", {}, "value"), el("th", {}, "grad")),
    );
    for (const [name, t] of state?.variables ?? []) {
      const g = rows.get(name) ?? null;
      gradsBox.append(
        el(
          "tr",
          { "data-name": name },
          el("td", {}, name),
          el("td", {}, formatValues(t.toArray())),
          el(
            "td",
            { class: "grad", "data-grad": JSON.stringify(g) },
            g === null ? "0 (nothing yet)" : formatValues(g),
          ),
        ),
      );
    }
  };

  const build = async () => {
    const variables = parseVariables(variablesBox.value);
    const out = evaluate(expressionBox.value, variables);
    const loss = out.ndim === 0 ? out : out.sum();
    note.textContent =
      out.ndim === 0
        ? `Forward pass done: the expression is ${formatValues(out.toArray())}. Press "Step backward".`
        : `The expression gives shape [${out.shape.join(", ")}]; backward starts from its sum.`;
    if (loss.gradFn !== null)
      for (const node of topologicalOrder([loss.gradFn])) node.output?.retainGrad();
    state = { variables, loss, steps: [], shown: 0, backwardCalls: 0 };
    stepBox.textContent = "";
    showGrads(
      new Map(),
      "Gradients: none until backward runs (a gradient reads 0 before backward, it is not computed yet)",
    );
    await render(null);
  };

  const step = async () => {
    if (state === null) await build();
    const s = state as State;
    if (s.steps.length === 0 && s.backwardCalls === 0) {
      traceBackward(
        () => s.loss.backward({ retainGraph: true }),
        (t) => s.steps.push(t),
      );
      s.backwardCalls = 1;
    }
    if (s.shown >= s.steps.length) {
      note.textContent = "Every node has passed its gradient on: the backward pass is done.";
      return;
    }
    s.shown++;
    const current = s.steps[s.shown - 1];
    stepBox.textContent = `Step ${s.shown} of ${s.steps.length} (nodes in reverse topological order: each runs after every node that uses its output)\n${String(current)}`;
    showGrads(gradsSoFar(s.shown), `Gradients accumulated after ${s.shown} step(s)`);
    note.textContent =
      s.shown === s.steps.length
        ? "Every node has passed its gradient on: the backward pass is done. These are the .grad values backward() leaves."
        : "Each node runs only after every node that uses its output: its incoming gradient is then complete.";
    await render(current.node.id);
  };

  const runAll = async () => {
    if (state === null) await build();
    while ((state as State).shown < Math.max(1, (state as State).steps.length)) await step();
  };

  const again = async () => {
    if (state === null) await build();
    const s = state as State;
    if (s.backwardCalls === 0) await runAll();
    s.loss.backward({ retainGraph: true });
    s.backwardCalls++;
    const rows = new Map<string, number[] | null>();
    for (const [name, t] of s.variables)
      rows.set(name, t.grad === null ? null : Array.from(t.grad.toArray()));
    showGrads(
      rows,
      `.grad after ${s.backwardCalls} backward() calls: gradients ADD UP until you zero them`,
    );
    note.textContent =
      "backward() adds into .grad; it does not overwrite it. That is why training loops call zeroGrad() before each backward.";
    await render(null);
  };

  const zero = async () => {
    if (state === null) return;
    for (const t of state.variables.values()) t.grad = null;
    state.backwardCalls = 0;
    state.steps = [];
    state.shown = 0;
    showGrads(new Map(), "After zeroGrad(): every .grad is cleared");
    note.textContent = "zeroGrad() cleared the gradients; the next backward starts from zero.";
    await render(null);
  };

  return el(
    "section",
    { id: "view-expression" },
    el("h2", {}, "Expression: watch backward run, node by node"),
    el("p", {}, "Values (one per line, numbers or [lists]):"),
    variablesBox,
    el(
      "p",
      {},
      "Expression (+ - * / @, .tanh() .relu() .sigmoid() .exp() .log() .sum() …, softmax(x, dim)):",
    ),
    expressionBox,
    el(
      "div",
      { class: "buttons" },
      button("Build graph", "expr-build", build, errorBox),
      button("Step backward", "expr-step-button", step, errorBox),
      button("Run to the end", "expr-run-all", runAll, errorBox),
      button("Call backward again", "expr-again", again, errorBox),
      button("zeroGrad", "expr-zero", zero, errorBox),
    ),
    errorBox,
    note,
    graphBox,
    stepBox,
    gradsBox,
  );
}
