// How each Koubai op becomes ONNX (opset 17) nodes: one entry per registry name, composites
// (linear, batchNorm, logsumexp, pools) and primitives alike. An entry reads the traced call's
// arguments, adds nodes through the ExportContext and returns nothing; it returns false when a
// composite's own calls should be exported instead (linear on a 3-D input, batchNorm in training
// mode), and throws when the call cannot be expressed. exportOnnx descends into composites that
// have no entry. Over 300 lines because it is one table; each entry is a few lines.

import { type TracedArg, type TracedNode, TracedValue } from "@koubai/core";
import { describe, type ExportContext } from "./export-context.js";
import type { Attribute } from "./graph-builder.js";
import { ONNX_DATA_TYPE, type OnnxElementType } from "./proto.js";

/** Exports one traced call; false: export the composite's own calls instead. */
export type OpMapping = (cx: ExportContext, node: TracedNode) => boolean | undefined;

/** An error for a call exportOnnx cannot write as ONNX. */
export class OnnxExportError extends Error {
  /** Always `"OnnxExportError"`. */
  override name = "OnnxExportError";
}

function fail(node: TracedNode, why: string): never {
  const inputs = node.inputs.map(describe).join(", ");
  throw new OnnxExportError(`exportOnnx: ${node.op} (input ${inputs}): ${why}`);
}

function value(node: TracedNode, index: number): TracedValue {
  const arg = node.args[index];
  if (!(arg instanceof TracedValue)) fail(node, `argument ${index} is not a tensor`);
  return arg;
}

function outType(node: TracedNode, index = 0): OnnxElementType {
  return node.outputs[index].dtype;
}

/** A dim (possibly negative) as a non-negative axis of a rank-`rank` tensor. */
function axis(dim: number, rank: number): number {
  return dim < 0 ? dim + rank : dim;
}

/** The axes a reduction's `dim` argument names (every axis when omitted). */
function reducedAxes(dim: TracedArg, rank: number): number[] {
  if (dim === undefined || dim === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(dim) ? dim : [dim];
  return list.map((d) => axis(Number(d), rank));
}

/** One number per spatial dim from `n` or a list. */
function perDim(arg: TracedArg, dims: number, fallback: number[]): number[] {
  if (arg === undefined || arg === null) return fallback;
  return typeof arg === "number" ? new Array<number>(dims).fill(arg) : (arg as number[]).slice();
}

function options(node: TracedNode, index: number): Record<string, TracedArg> {
  const arg = node.args[index];
  return arg !== null &&
    typeof arg === "object" &&
    !Array.isArray(arg) &&
    !(arg instanceof TracedValue)
    ? (arg as Record<string, TracedArg>)
    : {};
}

/** Element type both operands of a comparison are brought to. */
function commonType(a: TracedArg, b: TracedArg): OnnxElementType {
  const types = [a, b].flatMap((x) => (x instanceof TracedValue ? [x.dtype] : []));
  if (types.includes("float64")) return "float64";
  if (types.includes("float32")) return "float32";
  const numbers = [a, b].filter((x) => typeof x === "number") as number[];
  if (numbers.some((n) => !Number.isInteger(n))) return "float32";
  if (types.includes("int32") || numbers.length > 0) return "int32";
  return "bool";
}

/** A binary elementwise op: both operands in the output's type (a comparison's: the common one). */
function binary(opType: string, compare = false): OpMapping {
  return (cx, node) => {
    const [a, b, alpha] = node.args;
    const type = compare ? commonType(a, b) : outType(node);
    let right = cx.operand(b, type);
    if (alpha !== undefined && alpha !== 1) {
      right = cx.graph.node("Mul", [right, cx.operand(alpha as number, type)])[0];
    }
    cx.graph.node(opType, [cx.operand(a, type), right], {}, [cx.out(node)]);
    return undefined;
  };
}

/** A unary elementwise op with optional attributes. */
function unary(opType: string, attributes: Record<string, Attribute> = {}): OpMapping {
  return (cx, node) => {
    cx.graph.node(opType, [cx.operand(value(node, 0), outType(node))], attributes, [cx.out(node)]);
    return undefined;
  };
}

/**
 * A unary op written as a small chain of ONNX nodes: `chain(cx, x, type, out)` adds them, the last
 * one writing `out`.
 */
function composed(
  chain: (cx: ExportContext, x: string, type: OnnxElementType, out: string) => void,
): OpMapping {
  return (cx, node) => {
    const type = outType(node);
    chain(cx, cx.operand(value(node, 0), type), type, cx.out(node));
    return undefined;
  };
}

/** An identity that writes no node: the output is another name for the input. */
const aliasOfInput: OpMapping = (cx, node) => {
  cx.alias(node, cx.ref(value(node, 0)));
  return undefined;
};

/** ReduceSum/ReduceMean/ReduceMax... over `dim` (axes as an input for ReduceSum in opset 17). */
function reduce(opType: string): OpMapping {
  return (cx, node) => {
    const x = value(node, 0);
    const axes = reducedAxes(node.args[1], x.shape.length);
    const keepdims = node.args[2] === true ? 1 : 0;
    const input = cx.operand(x, outType(node));
    if (opType === "ReduceSum") {
      cx.graph.node(opType, [input, cx.graph.int64s(axes)], { keepdims: { i: keepdims } }, [
        cx.out(node),
      ]);
    } else {
      cx.graph.node(opType, [input], { axes: { ints: axes }, keepdims: { i: keepdims } }, [
        cx.out(node),
      ]);
    }
    return undefined;
  };
}

/** Reshape's target: dim 0 kept from the input (0) when it is the input's, so a batch can vary. */
function reshapeTarget(x: TracedValue, shape: readonly number[]): number[] {
  const target = shape.slice();
  if (target.length > 0 && x.shape.length > 0 && target[0] === x.shape[0]) target[0] = 0;
  return target;
}

function convolution(cx: ExportContext, node: TracedNode): undefined {
  const x = value(node, 0);
  const g = options(node, 3) as unknown as {
    stride: number[];
    padding: number[];
    paddingAfter: number[];
    dilation: number[];
    groups: number;
    transposed: boolean;
  };
  const w = value(node, 1);
  const type = outType(node);
  const inputs = [cx.operand(x, type), cx.operand(w, type)];
  if (node.args[2] instanceof TracedValue) inputs.push(cx.operand(node.args[2], type));
  const attributes: Record<string, Attribute> = {
    kernel_shape: { ints: w.shape.slice(2) },
    strides: { ints: g.stride },
    dilations: { ints: g.dilation },
    group: { i: g.groups },
  };
  if (!g.transposed) {
    attributes.pads = { ints: [...g.padding, ...g.paddingAfter] };
    cx.graph.node("Conv", inputs, attributes, [cx.out(node)]);
    return undefined;
  }
  // A transposed convolution's outputPadding lowered paddingAfter below padding; ONNX has no
  // negative pads, so what is below 0 becomes output_padding.
  attributes.pads = { ints: [...g.padding, ...g.paddingAfter.map((p) => Math.max(p, 0))] };
  attributes.output_padding = { ints: g.paddingAfter.map((p) => Math.max(-p, 0)) };
  cx.graph.node("ConvTranspose", inputs, attributes, [cx.out(node)]);
  return undefined;
}

function maxPool(spatial: number): OpMapping {
  return (cx, node) => {
    const x = value(node, 0);
    if (x.shape.length !== spatial + 2) {
      fail(node, `ONNX MaxPool needs a batched input [N, C, ...] of rank ${spatial + 2}`);
    }
    const o = options(node, 2);
    if (o.returnIndices === true) fail(node, "returnIndices is not supported");
    const kernel = perDim(node.args[1], spatial, []);
    const padding = perDim(o.padding, spatial, new Array<number>(spatial).fill(0));
    cx.graph.node(
      "MaxPool",
      [cx.ref(x)],
      {
        kernel_shape: { ints: kernel },
        strides: { ints: perDim(o.stride, spatial, kernel) },
        pads: { ints: [...padding, ...padding] },
        dilations: { ints: perDim(o.dilation, spatial, new Array<number>(spatial).fill(1)) },
        ceil_mode: { i: o.ceilMode === true ? 1 : 0 },
      },
      [cx.out(node)],
    );
    return undefined;
  };
}

function avgPool(spatial: number): OpMapping {
  return (cx, node) => {
    const x = value(node, 0);
    if (x.shape.length !== spatial + 2) {
      fail(node, `ONNX AveragePool needs a batched input [N, C, ...] of rank ${spatial + 2}`);
    }
    const o = options(node, 2);
    if (o.divisorOverride !== undefined && o.divisorOverride !== null) {
      fail(node, "divisorOverride has no ONNX equivalent");
    }
    const kernel = perDim(node.args[1], spatial, []);
    const padding = perDim(o.padding, spatial, new Array<number>(spatial).fill(0));
    cx.graph.node(
      "AveragePool",
      [cx.ref(x)],
      {
        kernel_shape: { ints: kernel },
        strides: { ints: perDim(o.stride, spatial, kernel) },
        pads: { ints: [...padding, ...padding] },
        ceil_mode: { i: o.ceilMode === true ? 1 : 0 },
        count_include_pad: { i: o.countIncludePad === false ? 0 : 1 },
      },
      [cx.out(node)],
    );
    return undefined;
  };
}

/** Adaptive average pooling: global when every output size is 1, plain when sizes divide. */
function adaptiveAvgPool(cx: ExportContext, node: TracedNode): undefined {
  const x = value(node, 0);
  const inSizes = x.shape.slice(2);
  const outSizes = node.outputs[0].shape.slice(2);
  if (outSizes.every((s) => s === 1)) {
    cx.graph.node("GlobalAveragePool", [cx.ref(x)], {}, [cx.out(node)]);
    return undefined;
  }
  if (inSizes.some((s, i) => s % outSizes[i] !== 0)) {
    fail(
      node,
      `output size [${outSizes.join(", ")}] does not divide the input's [${inSizes.join(", ")}]: ` +
        "its windows differ in size, which ONNX AveragePool cannot express",
    );
  }
  const kernel = inSizes.map((s, i) => s / outSizes[i]);
  cx.graph.node(
    "AveragePool",
    [cx.ref(x)],
    { kernel_shape: { ints: kernel }, strides: { ints: kernel } },
    [cx.out(node)],
  );
  return undefined;
}

function batchNorm(cx: ExportContext, node: TracedNode): boolean | undefined {
  const [x, mean, variance, weight, bias, training, , eps] = node.args;
  if (training === true || !(mean instanceof TracedValue) || !(variance instanceof TracedValue)) {
    return false; // batch statistics: export the composite's own calls
  }
  const type = outType(node);
  const channels = (x as TracedValue).shape[1];
  const scale =
    weight instanceof TracedValue
      ? cx.operand(weight, type)
      : cx.graph.constant(new Array<number>(channels).fill(1), type);
  const shift =
    bias instanceof TracedValue
      ? cx.operand(bias, type)
      : cx.graph.constant(new Array<number>(channels).fill(0), type);
  cx.graph.node(
    "BatchNormalization",
    [cx.operand(x, type), scale, shift, cx.operand(mean, type), cx.operand(variance, type)],
    { epsilon: { f: typeof eps === "number" ? eps : 1e-5 } },
    [cx.out(node)],
  );
  return undefined;
}

/** PyTorch's softplus: x where βx > threshold, else log(1 + e^(βx))/β. */
function softplus(cx: ExportContext, node: TracedNode): undefined {
  const type = outType(node);
  const beta = typeof node.args[1] === "number" ? node.args[1] : 1;
  const threshold = typeof node.args[2] === "number" ? node.args[2] : 20;
  const x = cx.operand(value(node, 0), type);
  const g = cx.graph;
  const bx = g.node("Mul", [x, g.scalar(beta, type)])[0];
  const soft = g.node("Div", [g.node("Softplus", [bx])[0], g.scalar(beta, type)])[0];
  const above = g.node("Greater", [bx, g.scalar(threshold, type)])[0];
  g.node("Where", [above, x, soft], {}, [cx.out(node)]);
  return undefined;
}

function clip(minIndex: number, maxIndex: number): OpMapping {
  return (cx, node) => {
    const type = outType(node);
    const bound = (arg: TracedArg): string =>
      arg === undefined || arg === null ? "" : cx.operand(arg, type);
    const inputs = [
      cx.operand(value(node, 0), type),
      bound(node.args[minIndex]),
      bound(node.args[maxIndex]),
    ];
    while (inputs.at(-1) === "") inputs.pop();
    cx.graph.node("Clip", inputs, {}, [cx.out(node)]);
    return undefined;
  };
}

/** Every mapping, by the registry name of the op it exports. */
export const MAPPINGS: Readonly<Record<string, OpMapping>> = {
  // Elementwise.
  add: binary("Add"),
  sub: binary("Sub"),
  mul: binary("Mul"),
  // input + value·t1·t2 as Koubai rounds it: (value·t1)·t2, then the sum.
  addcmul: (cx, node) => {
    const [input, t1, t2, scale = 1] = node.args;
    const type = outType(node);
    let product = cx.operand(t1, type);
    if (scale !== 1)
      product = cx.graph.node("Mul", [cx.operand(scale as number, type), product])[0];
    product = cx.graph.node("Mul", [product, cx.operand(t2, type)])[0];
    cx.graph.node("Add", [cx.operand(input, type), product], {}, [cx.out(node)]);
    return undefined;
  },
  div: (cx, node) => {
    if (node.args[2] !== undefined) fail(node, "a rounding mode is not supported");
    return binary("Div")(cx, node);
  },
  pow: binary("Pow"),
  maximum: binary("Max"),
  minimum: binary("Min"),
  gt: binary("Greater", true),
  lt: binary("Less", true),
  ge: binary("GreaterOrEqual", true),
  le: binary("LessOrEqual", true),
  eq: binary("Equal", true),
  ne: (cx, node) => {
    const [a, b] = node.args;
    const type = commonType(a, b);
    const equal = cx.graph.node("Equal", [cx.operand(a, type), cx.operand(b, type)])[0];
    cx.graph.node("Not", [equal], {}, [cx.out(node)]);
    return undefined;
  },
  where: (cx, node) => {
    const [condition, a, b] = node.args;
    const type = outType(node);
    const inputs = [cx.operand(condition, "bool"), cx.operand(a, type), cx.operand(b, type)];
    cx.graph.node("Where", inputs, {}, [cx.out(node)]);
    return undefined;
  },
  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  sin: unary("Sin"),
  cos: unary("Cos"),
  tan: unary("Tan"),
  erf: unary("Erf"),
  relu: unary("Relu"),
  sigmoid: unary("Sigmoid"),
  tanh: unary("Tanh"),
  rsqrt: composed((cx, x, _, out) => {
    cx.graph.node("Reciprocal", [cx.graph.node("Sqrt", [x])[0]], {}, [out]);
  }),
  square: composed((cx, x, _, out) => {
    cx.graph.node("Mul", [x, x], {}, [out]);
  }),
  expm1: composed((cx, x, type, out) => {
    cx.graph.node("Sub", [cx.graph.node("Exp", [x])[0], cx.graph.scalar(1, type)], {}, [out]);
  }),
  log1p: composed((cx, x, type, out) => {
    cx.graph.node("Log", [cx.graph.node("Add", [x, cx.graph.scalar(1, type)])[0]], {}, [out]);
  }),
  leakyRelu: (cx, node) =>
    unary("LeakyRelu", { alpha: { f: typeof node.args[1] === "number" ? node.args[1] : 0.01 } })(
      cx,
      node,
    ),
  elu: (cx, node) =>
    unary("Elu", { alpha: { f: typeof node.args[1] === "number" ? node.args[1] : 1 } })(cx, node),
  selu: unary("Selu", { alpha: { f: 1.6732632423543772 }, gamma: { f: 1.0507009873554805 } }),
  softplus,
  clamp: clip(1, 2),
  hardtanh: (cx, node) => {
    const [x, min = -1, max = 1] = node.args;
    const type = outType(node);
    cx.graph.node("Clip", [cx.operand(x, type), cx.operand(min, type), cx.operand(max, type)], {}, [
      cx.out(node),
    ]);
    return undefined;
  },
  detach: aliasOfInput,
  dropout: (cx, node) => {
    if (options(node, 1).training === true)
      fail(node, "dropout in training mode is random; export in eval mode");
    return aliasOfInput(cx, node);
  },

  // Softmax family and reductions.
  softmax: (cx, node) => {
    const x = value(node, 0);
    cx.graph.node(
      "Softmax",
      [cx.ref(x)],
      { axis: { i: axis(Number(node.args[1]), x.shape.length) } },
      [cx.out(node)],
    );
    return undefined;
  },
  logSoftmax: (cx, node) => {
    const x = value(node, 0);
    cx.graph.node(
      "LogSoftmax",
      [cx.ref(x)],
      { axis: { i: axis(Number(node.args[1]), x.shape.length) } },
      [cx.out(node)],
    );
    return undefined;
  },
  sum: reduce("ReduceSum"),
  mean: reduce("ReduceMean"),
  amax: reduce("ReduceMax"),
  amin: reduce("ReduceMin"),
  logsumexp: reduce("ReduceLogSumExp"),
  var: (cx, node) => {
    // Σ(x - mean)² / (n - correction), n counted at run time so a varying batch is counted right.
    const x = value(node, 0);
    const o = options(node, 2);
    const axes = reducedAxes(node.args[1], x.shape.length);
    const correction = typeof o.correction === "number" ? o.correction : 1;
    const type = outType(node);
    const g = cx.graph;
    const input = cx.ref(x);
    const keepdims = { i: o.keepdim === true ? 1 : 0 };
    const mean = g.node("ReduceMean", [input], { axes: { ints: axes }, keepdims: { i: 1 } })[0];
    const d = g.node("Sub", [input, mean])[0];
    const sq = g.node("Mul", [d, d])[0];
    if (correction === 0) {
      g.node("ReduceMean", [sq], { axes: { ints: axes }, keepdims }, [cx.out(node)]);
      return undefined;
    }
    const to = { to: { i: ONNX_DATA_TYPE[type] } };
    const size = (name: string) => g.node("Cast", [g.node("Size", [name])[0]], to)[0];
    const n = g.node("Div", [size(input), size(mean)])[0];
    const denominator = g.node("Sub", [n, g.scalar(correction, type)])[0];
    const total = g.node("ReduceSum", [sq, g.int64s(axes)], { keepdims })[0];
    g.node("Div", [total, denominator], {}, [cx.out(node)]);
    return undefined;
  },
  center: (cx, node) => {
    const x = value(node, 0);
    const axes = reducedAxes(node.args[1], x.shape.length);
    const input = cx.ref(x);
    const mean = cx.graph.node("ReduceMean", [input], {
      axes: { ints: axes },
      keepdims: { i: 1 },
    })[0];
    cx.graph.node("Sub", [input, mean], {}, [cx.out(node)]);
    return undefined;
  },

  // Shapes.
  reshape: (cx, node) => {
    const x = value(node, 0);
    const shape = reshapeTarget(x, node.outputs[0].shape);
    cx.graph.node("Reshape", [cx.ref(x), cx.graph.int64s(shape)], {}, [cx.out(node)]);
    return undefined;
  },
  flatten: (cx, node) => {
    const x = value(node, 0);
    const rank = x.shape.length;
    const start = axis(Number(node.args[1] ?? 0), rank);
    const end = axis(Number(node.args[2] ?? -1), rank);
    if (start !== 1 || end !== rank - 1) return false; // ONNX Flatten always gives 2-D
    cx.graph.node("Flatten", [cx.ref(x)], { axis: { i: 1 } }, [cx.out(node)]);
    return undefined;
  },
  transpose: (cx, node) => {
    const x = value(node, 0);
    const rank = x.shape.length;
    const perm = Array.from({ length: rank }, (_, i) => i);
    const a = axis(Number(node.args[1]), rank);
    const b = axis(Number(node.args[2]), rank);
    [perm[a], perm[b]] = [perm[b], perm[a]];
    cx.graph.node("Transpose", [cx.ref(x)], { perm: { ints: perm } }, [cx.out(node)]);
    return undefined;
  },
  permute: (cx, node) => {
    const x = value(node, 0);
    const perm = (node.args[1] as number[]).map((d) => axis(d, x.shape.length));
    cx.graph.node("Transpose", [cx.ref(x)], { perm: { ints: perm } }, [cx.out(node)]);
    return undefined;
  },
  squeeze: (cx, node) => {
    const x = value(node, 0);
    const axes =
      node.args[1] === undefined || node.args[1] === null
        ? x.shape.flatMap((s, i) => (s === 1 ? [i] : []))
        : reducedAxes(node.args[1], x.shape.length).filter((a) => x.shape[a] === 1);
    cx.graph.node("Squeeze", [cx.ref(x), cx.graph.int64s(axes)], {}, [cx.out(node)]);
    return undefined;
  },
  unsqueeze: (cx, node) => {
    const x = value(node, 0);
    const dim = axis(Number(node.args[1]), x.shape.length + 1);
    cx.graph.node("Unsqueeze", [cx.ref(x), cx.graph.int64s([dim])], {}, [cx.out(node)]);
    return undefined;
  },
  expand: (cx, node) => {
    // Where the target equals x's own size, 1 broadcasts the same and lets a batch vary.
    const x = value(node, 0);
    const target = node.outputs[0].shape.slice();
    const offset = target.length - x.shape.length;
    x.shape.forEach((s, i) => {
      if (target[i + offset] === s) target[i + offset] = 1;
    });
    cx.graph.node("Expand", [cx.ref(x), cx.graph.int64s(target)], {}, [cx.out(node)]);
    return undefined;
  },
  cat: (cx, node) => {
    const parts = node.args[0] as TracedArg[];
    const type = outType(node);
    const rank = node.outputs[0].shape.length;
    const inputs = parts.map((p) => cx.operand(p, type));
    cx.graph.node("Concat", inputs, { axis: { i: axis(Number(node.args[1] ?? 0), rank) } }, [
      cx.out(node),
    ]);
    return undefined;
  },
  indexSelect: (cx, node) => {
    const x = value(node, 0);
    const dim = axis(Number(node.args[1]), x.shape.length);
    cx.graph.node("Gather", [cx.ref(x), cx.ref(value(node, 2))], { axis: { i: dim } }, [
      cx.out(node),
    ]);
    return undefined;
  },
  embedding: (cx, node) => {
    const ids = value(node, 0);
    cx.graph.node("Gather", [cx.ref(value(node, 1)), cx.ref(ids)], { axis: { i: 0 } }, [
      cx.out(node),
    ]);
    return undefined;
  },

  // Layers.
  matmul: (cx, node) => {
    const type = outType(node);
    cx.graph.node("MatMul", [cx.operand(node.args[0], type), cx.operand(node.args[1], type)], {}, [
      cx.out(node),
    ]);
    return undefined;
  },
  linear: (cx, node) => {
    const x = value(node, 0);
    if (x.shape.length !== 2) return false; // MatMul and Add, as the composite does
    const type = outType(node);
    const inputs = [cx.operand(x, type), cx.operand(value(node, 1), type)];
    if (node.args[2] instanceof TracedValue) inputs.push(cx.operand(node.args[2], type));
    cx.graph.node("Gemm", inputs, { transB: { i: 1 } }, [cx.out(node)]);
    return undefined;
  },
  convolution,
  batchNorm,
  maxPool2d: maxPool(2),
  avgPool1d: avgPool(1),
  avgPool2d: avgPool(2),
  adaptiveAvgPool1d: adaptiveAvgPool,
  adaptiveAvgPool2d: adaptiveAvgPool,
};
