// What an op mapping works with while a traced graph becomes ONNX: the graph being built, the
// ONNX name of every traced value (captured tensors become initializers the first time a node
// reads them, so weights a mapping does not use are left out), and operand helpers that turn
// traced arguments (values or plain numbers) into ONNX inputs of the right element type.

import { type TracedArg, type TracedNode, TracedValue } from "@koubai/core";
import { GraphBuilder } from "./graph-builder.js";
import type { OnnxElementType } from "./proto.js";

/** The state of one export, shared by the op mappings. */
export class ExportContext {
  readonly graph = new GraphBuilder();
  readonly #names = new Map<TracedValue, string>();
  /** Values some node (or the graph's inputs and initializers) already writes. */
  readonly #written = new Set<TracedValue>();

  /** Gives `value` the ONNX name `name`: a graph input, or a graph output a node will write. */
  name(value: TracedValue, name: string): void {
    this.#names.set(value, name);
    if (value.source === "input") this.#written.add(value);
  }

  /** The ONNX name holding `value`; a captured tensor becomes an initializer on first use. */
  ref(value: TracedValue): string {
    const known = this.#names.get(value);
    if (known !== undefined) return known;
    if (value.source === "captured" && value.tensor !== null) {
      const name = this.graph.reserve(value.label, `the captured tensor ${value.label}`);
      this.graph.initializer(name, value.tensor.toArray(), value.shape, value.dtype);
      this.#names.set(value, name);
      this.#written.add(value);
      return name;
    }
    throw new Error(
      `exportOnnx: ${value.label} (${describe(value)}) is used before any node computes it`,
    );
  }

  /**
   * The name a node writes `node.outputs[index]` to. A value that already has a name (an op that
   * returned one of its inputs) keeps it, and the node writes to a fresh name nobody reads.
   */
  out(node: TracedNode, index = 0): string {
    const value = node.outputs[index];
    if (value === undefined) {
      throw new Error(`exportOnnx: ${node.op} has no output ${index}`);
    }
    if (this.#written.has(value) || value.source !== "op") {
      return this.graph.fresh(`unused_${node.op}`);
    }
    this.#written.add(value);
    const known = this.#names.get(value);
    if (known !== undefined) return known;
    const name = this.graph.fresh(`t${value.id}`);
    this.#names.set(value, name);
    return name;
  }

  /** Makes `node.outputs[index]` another name for `name` (identity, detach, dropout in eval). */
  alias(node: TracedNode, name: string, index = 0): void {
    const value = node.outputs[index];
    if (this.#written.has(value)) return;
    const given = this.#names.get(value);
    this.#written.add(value);
    if (given === undefined) this.#names.set(value, name);
    else this.graph.node("Identity", [name], {}, [given]); // a graph output keeps its own name
  }

  /**
   * An ONNX input holding `arg` as `type`: a value (cast when its dtype differs) or a number or
   * boolean (a 0-d constant).
   */
  operand(arg: TracedArg, type: OnnxElementType): string {
    if (arg instanceof TracedValue) {
      const name = this.ref(arg);
      if (arg.dtype === type) return name;
      return this.graph.node("Cast", [name], { to: { i: castCode(type) } })[0];
    }
    if (typeof arg === "number" || typeof arg === "boolean") {
      return this.graph.scalar(Number(arg), type);
    }
    throw new TypeError(`exportOnnx: expected a tensor or a number, got ${JSON.stringify(arg)}`);
  }
}

function castCode(type: OnnxElementType): number {
  return { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 }[type];
}

/** `float32[2, 3]`. */
export function describe(value: TracedValue): string {
  return `${value.dtype}[${value.shape.join(", ")}]`;
}
