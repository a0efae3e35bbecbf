// The public API of @koubai/optim. Only re-exports live here.

export {
  Adam,
  type AdamOptions,
  type AdamParamGroup,
  type AdamState,
} from "./adam.js";
export { AdamW } from "./adamw.js";
export { type ClipGradNormOptions, clipGradNorm, clipGradValue } from "./clip-grad.js";
export { CosineAnnealingLR } from "./lr-scheduler/cosine-annealing-lr.js";
export {
  LambdaLR,
  type LambdaLROptions,
  type LrLambda,
  MultiplicativeLR,
} from "./lr-scheduler/lambda-lr.js";
export { LinearLR, type LinearLROptions } from "./lr-scheduler/linear-lr.js";
export { LRScheduler, type SchedulerStateDict } from "./lr-scheduler/lr-scheduler.js";
export { OneCycleLR, type OneCycleLROptions } from "./lr-scheduler/one-cycle-lr.js";
export {
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
} from "./lr-scheduler/reduce-lr-on-plateau.js";
export { SequentialLR } from "./lr-scheduler/sequential-lr.js";
export { ExponentialLR, MultiStepLR, StepLR } from "./lr-scheduler/step-lr.js";
export {
  type GroupOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type Params,
  type StateValue,
} from "./optimizer.js";
export type { SerializedTensor } from "./serialize.js";
export { SGD, type SGDOptions, type SGDParamGroup, type SGDState } from "./sgd.js";
