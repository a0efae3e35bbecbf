// Seeing the graph: Graphviz DOT (each node labelled with op, shape and dtype, optionally
// values and gradients) and a compact text listing in topological order, for teaching.

import { topologicalOrder } from "../autograd/engine.js";
import { type Node, ReleasedInput, releasedFormOf } from "../autograd/node.js";
import { formatShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** What {@link toDot} draws besides op, shape and dtype. */
export interface GraphOptions {
  /** Show tensor values (up to `maxValues` of them). Default false. */
  values?: boolean;
  /** Show `.grad` of leaves and retained tensors. Default false. */
  grads?: boolean;
  /** Most values shown per tensor when `values` is on. Default 6. */
  maxValues?: number;
  /** Layout direction: "LR" (left to right, the default) or "TB" (top to bottom, better for long graphs). */
  direction?: "LR" | "TB";
}

function preview(t: Tensor | ReleasedInput | null | undefined, max: number): string {
  if (!t) return "";
  if (t instanceof ReleasedInput) return "(freed by backward)";
  const values = Array.from(t.toArray().slice(0, max), (v) =>
    Number.isInteger(v) ? String(v) : v.toPrecision(4),
  );
  return `[${values.join(", ")}${t.numel() > max ? ", …" : ""}]`;
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/**
 * A leaf of the graph: a tensor, or what a node an earlier backward released keeps of a
 * constant (its shape, dtype and name, not its values).
 */
type Leaf = Tensor | ReleasedInput;

interface Walk {
  order: Node[];
  /** The graph's leaves in creation order. */
  leaves: Leaf[];
  /** Each leaf's label: its `name`, else `leaf0`, `leaf1`, ... in creation order. */
  names: Map<Leaf, string>;
  /**
   * The leaf a node's input stands for: the input itself, or for what a released node keeps of
   * a constant that a node not released still reads, that constant (drawn once, with values).
   */
  leafOf: (input: Leaf) => Leaf;
}

/** The creation order of a leaf's storage. */
function serialOf(leaf: Leaf): number {
  return leaf instanceof ReleasedInput ? leaf.serial : leaf.storage.serial;
}

function walk(root: Tensor): Walk {
  const order = root.gradFn ? topologicalOrder([root.gradFn]) : [];
  const leaves: Leaf[] = [];
  const seen = new Set<Leaf>();
  if (!root.gradFn) leaves.push(root);
  for (const node of order) {
    for (const input of node.inputs) {
      if (input.gradFn === null && !seen.has(input)) {
        seen.add(input);
        leaves.push(input);
      }
    }
  }
  // A graph partly released by an earlier backward: a constant read by a released node and by
  // one still whole is one leaf, the tensor.
  const alias = new Map<Leaf, Leaf>();
  for (const leaf of leaves) {
    if (leaf instanceof ReleasedInput) continue;
    const released = releasedFormOf(leaf);
    if (released !== undefined && seen.has(released)) alias.set(released, leaf);
  }
  const distinct = alias.size === 0 ? leaves : leaves.filter((leaf) => !alias.has(leaf));
  // Creation order (the order of their storage; a stable sort keeps walk order among views of
  // one storage), so `a` made before `b` is listed, and numbered, first.
  distinct.sort((a, b) => serialOf(a) - serialOf(b));
  const names = new Map<Leaf, string>();
  let unnamed = 0;
  for (const leaf of distinct) names.set(leaf, leaf.name ?? `leaf${unnamed++}`);
  const leafOf = (input: Leaf) => alias.get(input) ?? input;
  return { order, leaves: distinct, names, leafOf };
}

/** `parameter` for a leaf that requires grad, `constant` otherwise. */
function kindOf(leaf: Leaf): string {
  return leaf.requiresGrad ? "parameter" : "constant";
}

/** The graph that produced `root` as Graphviz DOT source (render it with any Graphviz). */
export function toDot(root: Tensor, options: GraphOptions = {}): string {
  const max = options.maxValues ?? 6;
  const { order, leaves, names, leafOf } = walk(root);
  const lines = [
    "digraph koubai {",
    `  rankdir="${options.direction ?? "LR"}";`,
    '  node [fontname="Helvetica", fontsize=10];',
  ];
  const leafId = new Map<Leaf, string>();
  leaves.forEach((leaf, i) => {
    const id = `leaf${i}`;
    leafId.set(leaf, id);
    const parts = [
      `${names.get(leaf)} (${kindOf(leaf)})`,
      `${formatShape(leaf.shape)} ${leaf.dtype}`,
    ];
    if (options.values) parts.push(`value ${preview(leaf, max)}`);
    const grad = leaf instanceof ReleasedInput ? null : leaf.grad;
    if (options.grads && grad) parts.push(`grad ${preview(grad, max)}`);
    const style = leaf.requiresGrad
      ? 'style=filled, fillcolor="#dbeafe"'
      : 'style=filled, fillcolor="#f3f4f6"';
    lines.push(`  ${id} [shape=box, ${style}, label="${parts.map(escapeLabel).join("\\n")}"];`);
  });
  for (const node of order) {
    const parts = [node.op, `${formatShape(node.outputShape)} ${node.outputDType}`];
    if (options.values && node.output) parts.push(`value ${preview(node.output, max)}`);
    if (options.grads && node.retained?.grad)
      parts.push(`grad ${preview(node.retained.grad, max)}`);
    lines.push(`  node${node.id} [shape=ellipse, label="${parts.map(escapeLabel).join("\\n")}"];`);
    for (const input of node.inputs) {
      if (input.gradFn) lines.push(`  node${input.gradFn.id} -> node${node.id};`);
      else lines.push(`  ${leafId.get(leafOf(input))} -> node${node.id};`);
    }
  }
  lines.push("}");
  return lines.join("\n");
}

/**
 * One line per leaf (in creation order) and per op (inputs before the ops that use them), like
 * `%3 = mul(w, x) -> [2] float32`. Leaves are called by their `name` (layers name parameters by
 * their path, `0.weight`), else `leaf0`, `leaf1`, ... in creation order. With `values` and
 * `grads` each line also shows the tensor's values and its `.grad` (leaves, and outputs kept
 * with `retainGrad()`).
 */
export function graphListing(root: Tensor, options: GraphOptions = {}): string {
  const max = options.maxValues ?? 6;
  const { order, leaves, names, leafOf } = walk(root);
  const extras = (value: Leaf | null, grad: Tensor | null | undefined): string => {
    let text = "";
    if (options.values && value) text += ` = ${preview(value, max)}`;
    if (options.grads && grad) text += `, grad ${preview(grad, max)}`;
    return text;
  };
  const lines: string[] = [];
  for (const leaf of leaves) {
    lines.push(
      `${names.get(leaf)} = ${kindOf(leaf)} ${formatShape(leaf.shape)} ${leaf.dtype}${extras(leaf, leaf instanceof ReleasedInput ? null : leaf.grad)}`,
    );
  }
  for (const node of [...order].reverse()) {
    const args = node.inputs.map((t) => (t.gradFn ? `%${t.gradFn.id}` : names.get(leafOf(t))));
    lines.push(
      `%${node.id} = ${node.op}(${args.join(", ")}) -> ${formatShape(node.outputShape)} ${node.outputDType}` +
        extras(node.output, node.retained?.grad),
    );
  }
  return lines.join("\n");
}
