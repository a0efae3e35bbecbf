// exportOnnx: trace a module's forward on example inputs (in eval mode, without gradients) and
// write the traced calls as an ONNX model, opset 17. Each call is written by its entry in
// mappings.ts; a composite without one is written through the calls it made; anything else is an
// OnnxExportError naming the op. The module's parameters and buffers become initializers under
// their state-dict names.

import { noGrad, Tensor, type TracedGraph, type TracedNode, trace } from "@koubai/core";
import { Module, stateKey } from "@koubai/layers";
import { describe, ExportContext } from "./export-context.js";
import { MAPPINGS, OnnxExportError } from "./mappings.js";
import { encodeModel, ONNX_DATA_TYPE, type ValueInfoMessage } from "./proto.js";

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Names of the graph's inputs, in order (default `input0`, `input1`, ...). */
  readonly inputNames?: readonly string[];
  /** Names of the graph's outputs, in order (default `output0`, `output1`, ...). */
  readonly outputNames?: readonly string[];
  /**
   * Make dim 0 of every input (and of every output whose dim 0 is the batch) the symbolic size
   * `batch`, so the model runs on any batch size. Default false: the example's shapes exactly.
   */
  readonly dynamicBatch?: boolean;
}

/** The ONNX version numbers exportOnnx writes. */
export const ONNX_OPSET = 17;
/** The ONNX IR version exportOnnx writes (the one that goes with opset 17). */
export const ONNX_IR_VERSION = 8;

/**
 * Writes `module` as an ONNX model (an `.onnx` file's bytes) for ONNX Runtime and other ONNX
 * tools: opset 17, IR version 8, producer `koubai`. The module runs once on `exampleInputs` in
 * eval mode without gradients (its training mode is restored afterwards), and every op it calls
 * becomes ONNX nodes: `Linear` a Gemm, `Conv2d` a Conv, BatchNorm a BatchNormalization with the
 * running statistics, pooling MaxPool/AveragePool, activations and elementwise ops their ONNX
 * twins. Parameters and buffers are stored as initializers named as in `stateDict()`
 * (`0.weight`, `1.running_mean`, ...). float32 models are written as FLOAT, float64 as DOUBLE.
 *
 * The graph is what this one run did: branches the forward takes on shapes or options are fixed,
 * and with `dynamicBatch` only dim 0 may change.
 *
 * @param module The model; its `forward` takes the example inputs as arguments.
 * @param exampleInputs A tensor or an array of tensors: the forward's arguments.
 * @returns The bytes of the `.onnx` file.
 * @throws OnnxExportError for an op with no ONNX form (the message names it, its input shapes
 * and the ops that are supported), or an option ONNX cannot express.
 * @throws TypeError for a module that is not a Module, or inputs that are not tensors.
 *
 * @example
 * ```ts
 * import { randn } from "@koubai/core";
 * import { Linear, ReLU, Sequential } from "@koubai/layers";
 * import { exportOnnx } from "@koubai/onnx";
 *
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * const bytes = exportOnnx(model, randn([1, 4]), { dynamicBatch: true });
 * ```
 */
export function exportOnnx(
  module: Module,
  exampleInputs: Tensor | readonly Tensor[],
  options: OnnxExportOptions = {},
): Uint8Array {
  if (!(module instanceof Module)) {
    throw new TypeError(`exportOnnx: expected a Module, got ${typeName(module)}`);
  }
  const inputs = checkInputs(exampleInputs);
  const { inputNames = [], outputNames = [], dynamicBatch = false } = options;
  const names = new Map<Tensor, string>();
  for (const [path, t] of module.namedParameters()) names.set(t, stateKey(path));
  for (const [path, t] of module.namedBuffers()) names.set(t, stateKey(path));
  const modes = module.modules().map((m) => [m, m.training] as const);
  module.eval();
  let graph: TracedGraph;
  try {
    graph = noGrad(
      () =>
        trace((...xs) => module.forward(...xs), inputs, {
          names,
          inputNames: inputs.map((_, i) => inputNames[i] ?? `input${i}`),
        }).graph,
    );
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  return encodeModel(toModel(graph, outputNames, dynamicBatch));
}

function typeName(x: unknown): string {
  if (x === null) return "null";
  if (typeof x !== "object") return typeof x;
  return (x as object).constructor?.name ?? "an object";
}

function checkInputs(exampleInputs: unknown): Tensor[] {
  const list = Array.isArray(exampleInputs) ? exampleInputs : [exampleInputs];
  list.forEach((x, i) => {
    if (!(x instanceof Tensor)) {
      throw new TypeError(
        `exportOnnx: example input ${i} is ${typeName(x)}, not a Tensor; the exported graph takes tensors only, so fix other arguments inside the module (or wrap it in a Module whose forward takes tensors)`,
      );
    }
  });
  if (list.length === 0) throw new TypeError("exportOnnx: give at least one example input");
  return list as Tensor[];
}

function valueInfo(
  name: string,
  dtype: keyof typeof ONNX_DATA_TYPE,
  shape: readonly number[],
  batch: number | null,
): ValueInfoMessage {
  const dim = shape.map((size, i) =>
    i === 0 && batch !== null && size === batch ? { dim_param: "batch" } : { dim_value: size },
  );
  return { name, type: { tensor_type: { elem_type: ONNX_DATA_TYPE[dtype], shape: { dim } } } };
}

function toModel(graph: TracedGraph, outputNames: readonly string[], dynamicBatch: boolean) {
  if (graph.outputs.length === 0) {
    throw new TypeError("exportOnnx: the module's forward returned no tensor");
  }
  const cx = new ExportContext();
  const batch = dynamicBatch ? (graph.inputs[0].shape[0] ?? null) : null;
  const input = graph.inputs.map((v) => {
    cx.name(v, cx.graph.reserve(v.label, "a graph input"));
    return valueInfo(
      v.label,
      v.dtype,
      v.shape,
      dynamicBatch && v.shape.length > 0 ? v.shape[0] : null,
    );
  });
  const outputs = graph.outputs.map((v, i) => {
    const name = cx.graph.reserve(outputNames[i] ?? `output${i}`, "a graph output");
    const first = graph.outputs.indexOf(v) === i && v.source === "op";
    if (first) cx.name(v, name);
    return { value: v, name, first };
  });
  for (const node of graph.nodes) exportNode(cx, node);
  for (const { value, name, first } of outputs) {
    if (!first) cx.graph.node("Identity", [cx.ref(value)], {}, [name]);
  }
  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: "", version: ONNX_OPSET }],
    producer_name: "koubai",
    graph: {
      name: "koubai",
      node: cx.graph.nodes,
      initializer: cx.graph.initializers,
      input,
      output: outputs.map(({ value, name }) => valueInfo(name, value.dtype, value.shape, batch)),
    },
  };
}

function exportNode(cx: ExportContext, node: TracedNode): void {
  // Whether a tensor requires grad changes no value an inference graph computes.
  if (node.kind === "effect" && node.op === "requiresGrad_") return;
  const mapping = MAPPINGS[node.op];
  if (mapping !== undefined && mapping(cx, node) !== false) return;
  if (node.kind === "creation") {
    // zeros, tensor(...), arange made while tracing: constants of the exported graph.
    node.outputs.forEach((value, i) => {
      const name = cx.out(node, i);
      cx.graph.initializer(name, value.tensor!.toArray(), value.shape, value.dtype);
    });
    return;
  }
  if (node.kind === "composite" || node.kind === "custom") {
    if (node.children.length === 0 && node.outputs.some((v) => v.source === "op")) {
      throw new OnnxExportError(`exportOnnx: ${node.op} recorded no calls to export`);
    }
    for (const child of node.children) exportNode(cx, child);
    return;
  }
  const inputs = node.inputs.map(describe).join(", ");
  throw new OnnxExportError(
    `exportOnnx: no ONNX mapping for op "${node.op}" (input ${inputs}); supported: ${Object.keys(MAPPINGS).sort().join(", ")}`,
  );
}
