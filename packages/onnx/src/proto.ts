// The ONNX messages exportOnnx writes, as plain objects shaped like onnx.proto's (field names in
// the schema's snake_case), and their encoding to bytes with protobufjs from the schema text in
// onnx-proto.ts. Only the fields the exporter fills are typed; decodeModel reads a file back
// (tests and tools inspect what was written).

import protobuf from "protobufjs";
import { ONNX_PROTO } from "./onnx-proto.js";

/** onnx.TensorProto.DataType: the element types exportOnnx writes. */
export const ONNX_DATA_TYPE = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
} as const;

/** An element type exportOnnx can write. */
export type OnnxElementType = keyof typeof ONNX_DATA_TYPE;

/** onnx.AttributeProto (the kinds the exporter writes). */
export interface AttributeMessage {
  name: string;
  type: "FLOAT" | "INT" | "STRING" | "FLOATS" | "INTS";
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** onnx.NodeProto. */
export interface NodeMessage {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
}

/** onnx.TensorProto with its data as little-endian raw bytes. */
export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** onnx.TensorShapeProto.Dimension: a size or a symbolic name. */
export type DimensionMessage = { dim_value: number } | { dim_param: string };

/** onnx.ValueInfoProto of a tensor. */
export interface ValueInfoMessage {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionMessage[] } } };
}

/** onnx.GraphProto. */
export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
}

/** onnx.ModelProto. */
export interface ModelMessage {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  graph: GraphMessage;
}

let modelType: protobuf.Type | null = null;

/** onnx.ModelProto's type, parsed from the schema on first use. */
function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

/** The bytes of an .onnx file holding `model`. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const type = modelProto();
  return type.encode(type.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/**
 * An .onnx file's model as a plain object (64-bit integers as numbers, enums as names), for inspecting what exportOnnx wrote.
 */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const type = modelProto();
  return type.toObject(type.decode(bytes), {
    longs: Number,
    enums: String,
    defaults: false,
    arrays: true,
  }) as ModelMessage;
}
