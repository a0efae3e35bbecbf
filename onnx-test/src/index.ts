// Running exported models in ONNX Runtime. Only re-exports live here.

export { compareWithOnnxRuntime, type OnnxComparison, runOnnx } from "./onnx-runtime.js";
