// The ONNX graph under construction: nodes in order, initializers (weights and the constants the
// op mappings need), and unique names for both. Knows nothing of Koubai's ops; export-context.ts
// and mappings.ts decide what to add.

import type { AttributeMessage, NodeMessage, OnnxElementType, TensorMessage } from "./proto.js";
import { ONNX_DATA_TYPE } from "./proto.js";

/** An attribute value, tagged with its ONNX kind. */
export type Attribute =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] };

/** The little-endian bytes of `values` stored as `type`. */
export function rawBytes(values: ArrayLike<number | boolean>, type: OnnxElementType): Uint8Array {
  const width = { float32: 4, float64: 8, int32: 4, int64: 8, bool: 1 }[type];
  const bytes = new Uint8Array(values.length * width);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (type === "float32") view.setFloat32(i * 4, v, true);
    else if (type === "float64") view.setFloat64(i * 8, v, true);
    else if (type === "int32") view.setInt32(i * 4, v, true);
    else if (type === "int64") view.setBigInt64(i * 8, BigInt(v), true);
    else view.setUint8(i, v === 0 ? 0 : 1);
  }
  return bytes;
}

function attributeMessage(name: string, value: Attribute): AttributeMessage {
  if ("i" in value) return { name, type: "INT", i: value.i };
  if ("f" in value) return { name, type: "FLOAT", f: value.f };
  if ("s" in value) return { name, type: "STRING", s: new TextEncoder().encode(value.s) };
  if ("ints" in value) return { name, type: "INTS", ints: [...value.ints] };
  return { name, type: "FLOATS", floats: [...value.floats] };
}

/** Nodes and initializers of one ONNX graph, with the names they use. */
export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  readonly initializers: TensorMessage[] = [];
  readonly #taken = new Set<string>();
  readonly #counts = new Map<string, number>();
  readonly #constants = new Map<string, string>();

  /** Marks `name` as used (graph inputs, outputs, weights); throws on a second use. */
  reserve(name: string, what: string): string {
    if (this.#taken.has(name)) {
      throw new RangeError(`exportOnnx: the name "${name}" of ${what} is used twice in the graph`);
    }
    this.#taken.add(name);
    return name;
  }

  /** A new name `base`, `base_1`, `base_2`, ... not used yet. */
  fresh(base: string): string {
    let n = this.#counts.get(base) ?? 0;
    let name = n === 0 ? base : `${base}_${n}`;
    while (this.#taken.has(name)) name = `${base}_${++n}`;
    this.#counts.set(base, n + 1);
    this.#taken.add(name);
    return name;
  }

  /**
   * Adds a node computing `outputs` (names, or how many fresh names to make) from `inputs` ("" for
   * an omitted optional input); returns the output names.
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, Attribute>> = {},
    outputs: readonly string[] | number = 1,
  ): string[] {
    const out =
      typeof outputs === "number"
        ? Array.from({ length: outputs }, () => this.fresh(`${opType}_out`))
        : [...outputs];
    this.nodes.push({
      name: this.fresh(opType),
      op_type: opType,
      input: [...inputs],
      output: out,
      attribute: Object.entries(attributes).map(([k, v]) => attributeMessage(k, v)),
    });
    return out;
  }

  /** Adds an initializer `name` (already reserved) holding `values` with `dims`. */
  initializer(
    name: string,
    values: ArrayLike<number | boolean>,
    dims: readonly number[],
    type: OnnxElementType,
  ): string {
    this.initializers.push({
      name,
      dims: [...dims],
      data_type: ONNX_DATA_TYPE[type],
      raw_data: rawBytes(values, type),
    });
    return name;
  }

  /** A constant initializer (one per distinct value, type and shape). */
  constant(
    values: readonly number[],
    type: OnnxElementType,
    dims: readonly number[] = [values.length],
  ): string {
    const key = `${type}|${dims.join(",")}|${values.map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",")}`;
    const known = this.#constants.get(key);
    if (known !== undefined) return known;
    const name = this.initializer(
      this.fresh(dims.length === 0 ? "scalar" : "constant"),
      values,
      dims,
      type,
    );
    this.#constants.set(key, name);
    return name;
  }

  /** A 0-d constant. */
  scalar(value: number, type: OnnxElementType): string {
    return this.constant([value], type, []);
  }

  /** A 1-d int64 constant (shapes, axes). */
  int64s(values: readonly number[]): string {
    return this.constant(values, "int64");
  }
}
