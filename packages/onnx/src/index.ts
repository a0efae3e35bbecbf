// The public API of @koubai/onnx. Only re-exports live here.

export {
  exportOnnx,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  type OnnxExportOptions,
} from "./export-onnx.js";
export { OnnxExportError } from "./mappings.js";
