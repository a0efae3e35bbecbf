// The public API of @koubai/core. Only re-exports live here, and the import that attaches the
// Tensor methods.

import "./methods.js";

export { AnomalyError, detectAnomaly } from "./autograd/anomaly.js";
export { type CustomOpDefinition, customOp, OpContext } from "./autograd/custom-op.js";
export { type BackwardOptions, topologicalOrder } from "./autograd/engine.js";
export type { TensorFunction } from "./autograd/functional.js";
export {
  type AutogradGradOptions,
  autogradGrad,
  grad,
  valueAndGrad,
  vjp,
} from "./autograd/functional.js";
export { enableGrad, isGradEnabled, noGrad } from "./autograd/grad-mode.js";
export { type BackwardFn, Node, ReleasedInput, record } from "./autograd/node.js";
export { BackwardStep, traceBackward } from "./autograd/trace.js";
export {
  type CompiledFunction,
  CompileError,
  type CompileOptions,
  compile,
} from "./compile/compile.js";
export {
  type GradRead,
  type Traced,
  type TracedArg,
  TracedGenerator,
  type TracedGraph,
  TracedHandle,
  TracedNode,
  TracedValue,
  type TracedValueSource,
  TraceError,
  type TraceOptions,
  tensorsIn,
  trace,
} from "./compile/trace.js";
export {
  type CompareOptions,
  compareGradients,
  compareTensors,
  firstDisagreement,
  formatComparison,
  type GradientComparison,
} from "./debug/compare.js";
export type { CheckedFunction } from "./debug/gradcheck.js";
export {
  GradcheckError,
  type GradcheckOptions,
  gradcheck,
  gradgradcheck,
} from "./debug/gradcheck.js";
export { type GraphOptions, graphListing, toDot } from "./debug/graph.js";
export {
  type DropoutOptions,
  dropout,
  elu,
  gelu,
  hardtanh,
  mish,
  selu,
  silu,
} from "./functional/activation.js";
export {
  type BceWithLogitsOptions,
  binaryCrossEntropyWithLogits,
  type CrossEntropyOptions,
  crossEntropy,
  l1Loss,
  linear,
  mseLoss,
} from "./functional/loss.js";
export { batchNorm, groupNorm } from "./functional/normalization.js";
export { getKernelBackend, type KernelBackend, setKernelBackend } from "./kernels/backend.js";
export {
  getKernelThreads,
  kernelThreadsAvailable,
  setKernelThreads,
} from "./kernels/gemm-threads.js";
export {
  add,
  addcmul,
  atan2,
  div,
  hypot,
  maximum,
  minimum,
  mul,
  pow,
  sub,
  where,
} from "./ops/binary.js";
export { eq, ge, gt, le, lt, ne } from "./ops/compare.js";
export {
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
} from "./ops/conv.js";
export { embedding, gather, indexAdd, indexSelect, scatterAdd } from "./ops/indexing.js";
export { cat, chunk, split, stack } from "./ops/join.js";
export { matmul } from "./ops/matmul.js";
export { type NllLossOptions, nllLoss, type Reduction } from "./ops/nll-loss.js";
export {
  type AvgPoolOptions,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  type InterpolateOptions,
  interpolate,
  type MaxPool1dFunction,
  type MaxPool2dFunction,
  type MaxPoolOptions,
  maxPool1d,
  maxPool2d,
} from "./ops/pool.js";
export { flip, type PadMode, pad, repeat, roll, tile } from "./ops/rearrange.js";
export {
  amax,
  amin,
  argmax,
  argmin,
  center,
  logsumexp,
  type MaxFunction,
  type MinFunction,
  max,
  mean,
  min,
  prod,
  std,
  sum,
  type ValuesIndices,
  type VarianceOptions,
  variance,
  variance as var,
  varMean,
} from "./ops/reduce.js";
export { cumprod, cumsum } from "./ops/scan.js";
export { logSoftmax, softmax } from "./ops/softmax.js";
export { argsort, type SortOptions, sort, type TopkOptions, topk } from "./ops/sort.js";
export {
  abs,
  acos,
  asin,
  atan,
  clamp,
  cos,
  cosh,
  erf,
  exp,
  exp2,
  expm1,
  leakyRelu,
  log,
  log1p,
  log2,
  log10,
  neg,
  relu,
  rsqrt,
  sigmoid,
  sign,
  sin,
  sinh,
  softplus,
  sqrt,
  square,
  tan,
  tanh,
} from "./ops/unary.js";
export {
  cast,
  clone,
  contiguous,
  expand,
  flatten,
  narrow,
  permute,
  reshape,
  select,
  slice,
  sliceScatter,
  squeeze,
  t,
  transpose,
  unsqueeze,
  view,
} from "./ops/view.js";
export { emptyCache } from "./tensor/array-cache.js";
export {
  arange,
  type CreateOptions,
  empty,
  emptyLike,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  type RandomOptions,
  rand,
  randint,
  randn,
  type TensorOptions,
  tensor,
  zeros,
  zerosLike,
} from "./tensor/creation.js";
export { DTYPES, type DType, promoteTypes, type TypedArray } from "./tensor/dtype.js";
export { defaultGenerator, Generator, manualSeed } from "./tensor/random.js";
export { Storage } from "./tensor/storage.js";
export type { Dims, TensorLike } from "./tensor/tensor.js";
export { type NestedArray, Tensor } from "./tensor/tensor.js";
