// @koubai/core/internal: kernels, the op registry and switches that Koubai's own packages, tools
// and tests need but users do not. Not part of the public API: anything here may change or
// disappear in any release. @koubai/layers runs its fused BatchNorm on the BatchNorm kernels,
// @koubai/optim its SGD on the SGD kernel, and tests reach the test-only switches here instead of
// through production imports.

import "./methods.js";

export { invalidateTraces } from "./compile/compile.js";
export {
  type BatchNormForwardStats,
  type BatchNormGradSums,
  batchNormBackwardF32,
  batchNormForwardF32,
  wasmBatchNormAvailable,
} from "./kernels/batch-norm-wasm.js";
export {
  setMainThreadClaims,
  setThreadsMinMultiplyAdds,
  THREADS_MIN_MULTIPLY_ADDS,
} from "./kernels/gemm-threads.js";
export { sgdMomentumF32, wasmSgdAvailable } from "./kernels/sgd-wasm.js";
export {
  type OpBackward,
  type OpDefinition,
  type OpInfo,
  type OpKind,
  type Recorded,
  type Saved,
  setShapeChecks,
  type TensorMeta,
} from "./ops/define.js";
export {
  type DifferentiableOpName,
  OP_FAMILIES,
  OPS,
  type OpName,
  type OpRegistry,
  type PublicOpName,
} from "./registry.js";
export { setUnfilledPoison } from "./tensor/dtype.js";
export { peekGrad } from "./tensor/tensor.js";
export {
  activeTracer,
  type OpTracer,
  setActiveTracer,
  type TracedOpInfo,
  tracedCall,
} from "./tensor/tracing.js";
