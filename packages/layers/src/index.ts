// The public API of @koubai/layers. Only re-exports live here.

export {
  Dropout,
  ELU,
  Flatten,
  GELU,
  Hardtanh,
  Identity,
  LeakyReLU,
  LogSoftmax,
  Mish,
  ReLU,
  SELU,
  Sigmoid,
  SiLU,
  Softmax,
  Softplus,
  Tanh,
} from "./activation.js";
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNormBase,
  type BatchNormOptions,
  FusedBatchNorm1d,
  FusedBatchNorm2d,
} from "./batch-norm.js";
export {
  type BatchNormGrads,
  type BatchNormSaved,
  type BatchNormStats,
  batchNormBackward,
  fusedBatchNorm,
} from "./batch-norm-backward.js";
export {
  Conv1d,
  Conv2d,
  ConvBase,
  type ConvLayerOptions,
  ConvTranspose1d,
  ConvTranspose2d,
  type ConvTransposeLayerOptions,
} from "./conv.js";
export { Embedding, type EmbeddingOptions } from "./embedding.js";
export { GroupNorm, type GroupNormOptions } from "./group-norm.js";
export * as init from "./init.js";
export { LayerNorm, type LayerNormOptions } from "./layer-norm.js";
export { Linear, type LinearOptions } from "./linear.js";
export {
  BCEWithLogitsLoss,
  type BCEWithLogitsLossOptions,
  CrossEntropyLoss,
  type CrossEntropyLossOptions,
  L1Loss,
  MSELoss,
  NLLLoss,
  type NLLLossOptions,
} from "./loss.js";
export { Module, type ModuleEntry } from "./module.js";
export { ModuleDict, type ModuleDictInit } from "./module-dict.js";
export { ModuleList } from "./module-list.js";
export { Parameter } from "./parameter.js";
export {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AvgPool1d,
  AvgPool2d,
  MaxPool1d,
  MaxPool2d,
  type MaxPoolLayerOptions,
  Upsample,
} from "./pool.js";
export { loadSafetensors, safetensorsMetadata, saveSafetensors } from "./safetensors.js";
export { Sequential } from "./sequential.js";
export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  stateKey,
  toSnakeCase,
} from "./state-dict.js";
