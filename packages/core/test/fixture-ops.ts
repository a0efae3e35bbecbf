// Reading torch-ops.json (format documented in fixtures/generate_torch_ops.py) and mapping each
// fixture op name to the Koubai call that mirrors the PyTorch call the generator made.

import { decodeValues, type EncodedTensor, readJson } from "@koubai/test-utils";
import type { Dims, MaxFunction, Reduction, Tensor, VarianceOptions } from "../src/index.js";
import * as core from "../src/index.js";

export type { EncodedTensor };

export interface FixtureCase {
  name: string;
  op: string;
  inputs: EncodedTensor[];
  args: Record<string, unknown>;
  outputs: EncodedTensor[];
  gradOutputs: (EncodedTensor | null)[];
  grads: (EncodedTensor | null)[];
  /**
   * For float32 cases with long sums (convolutions): four times PyTorch's own float32 error
   * against float64 on this case, the absolute tolerance replacing the default when larger.
   */
  float32Atol?: number;
  secondOrder?: {
    gradGradInputs: (EncodedTensor | null)[];
    gradGrads: (EncodedTensor | null)[];
  };
}

export function loadFixtures(): { torchVersion: string; cases: FixtureCase[] } {
  return readJson(new URL("./fixtures/torch-ops.json", import.meta.url));
}

/** A fresh Koubai tensor (a leaf, requiring grad if the fixture says so). */
export function decode(encoded: EncodedTensor): Tensor {
  const t = core.tensor(decodeValues(encoded), { dtype: encoded.dtype, shape: encoded.shape });
  return encoded.requiresGrad ? t.requiresGrad_(true) : t;
}

type Args = Record<string, unknown>;
type OpCall = (inputs: Tensor[], args: Args) => Tensor | Tensor[];

const num = (args: Args, key: string): number => args[key] as number;
const dims = (args: Args): number | number[] | undefined =>
  args.dim as number | number[] | undefined;
const keepdim = (args: Args): boolean => (args.keepdim as boolean | undefined) ?? false;
const reduction = (args: Args): { reduction: Reduction } => ({
  reduction: args.reduction as Reduction,
});

const binary = (fn: (a: Tensor, b: Tensor) => Tensor): OpCall => {
  return ([a, b]) => fn(a, b);
};
const unary = (fn: (x: Tensor) => Tensor): OpCall => {
  return ([x]) => fn(x);
};
const reduce = (fn: (x: Tensor, dim?: number | number[], keepdim?: boolean) => Tensor): OpCall => {
  return ([x], args) => fn(x, dims(args), keepdim(args));
};
const valuesIndices = (fn: MaxFunction): OpCall => {
  return ([x], args) => {
    if (args.dim === undefined) return fn(x);
    const { values, indices } = fn(x, num(args, "dim"), keepdim(args));
    return [values, indices];
  };
};
const argExtreme = (fn: (x: Tensor, dim?: number, keepdim?: boolean) => Tensor): OpCall => {
  return ([x], args) => (args.dim === undefined ? fn(x) : fn(x, num(args, "dim"), keepdim(args)));
};
const varianceLike = (fn: (x: Tensor, dim?: Dims, options?: VarianceOptions) => Tensor): OpCall => {
  return ([x], args) =>
    fn(x, dims(args), { correction: num(args, "correction"), keepdim: keepdim(args) });
};

/** One entry per fixture op name; the name equals the Koubai function name. */
export const FIXTURE_OPS: Record<string, OpCall> = {
  add: binary(core.add),
  sub: binary(core.sub),
  mul: binary(core.mul),
  div: binary(core.div),
  maximum: binary(core.maximum),
  minimum: binary(core.minimum),
  pow: ([a, b], args) =>
    args.exponent === undefined ? core.pow(a, b) : core.pow(a, num(args, "exponent")),
  neg: unary(core.neg),
  exp: unary(core.exp),
  log: unary(core.log),
  log1p: unary(core.log1p),
  sin: unary(core.sin),
  cos: unary(core.cos),
  sqrt: unary(core.sqrt),
  rsqrt: unary(core.rsqrt),
  abs: unary(core.abs),
  tanh: unary(core.tanh),
  sigmoid: unary(core.sigmoid),
  relu: unary(core.relu),
  square: unary(core.square),
  leakyRelu: ([x], args) => core.leakyRelu(x, num(args, "negativeSlope")),
  softplus: ([x], args) => core.softplus(x, num(args, "beta"), num(args, "threshold")),
  gelu: ([x], args) => core.gelu(x, { approximate: args.approximate as "none" | "tanh" }),
  clamp: ([x], args) =>
    core.clamp(x, args.min as number | undefined, args.max as number | undefined),
  where: ([c, a, b]) => core.where(c, a, b),
  eq: binary(core.eq),
  ne: binary(core.ne),
  lt: binary(core.lt),
  le: binary(core.le),
  gt: binary(core.gt),
  ge: binary(core.ge),
  sum: reduce(core.sum),
  mean: reduce(core.mean),
  amax: reduce(core.amax),
  amin: reduce(core.amin),
  logsumexp: reduce(core.logsumexp),
  prod: ([x], args) => core.prod(x, args.dim as number | undefined, keepdim(args)),
  max: valuesIndices(core.max),
  min: valuesIndices(core.min),
  argmax: argExtreme(core.argmax),
  argmin: argExtreme(core.argmin),
  var: varianceLike(core.var),
  std: varianceLike(core.std),
  matmul: binary(core.matmul),
  reshape: ([x], args) => core.reshape(x, args.shape as number[]),
  transpose: ([x], args) => core.transpose(x, num(args, "dim0"), num(args, "dim1")),
  permute: ([x], args) => core.permute(x, args.dims as number[]),
  expand: ([x], args) => core.expand(x, args.shape as number[]),
  squeeze: ([x], args) => core.squeeze(x, args.dim as number | undefined),
  unsqueeze: ([x], args) => core.unsqueeze(x, num(args, "dim")),
  flatten: ([x], args) => core.flatten(x, num(args, "startDim"), num(args, "endDim")),
  narrow: ([x], args) => core.narrow(x, num(args, "dim"), num(args, "start"), num(args, "length")),
  slice: ([x], args) =>
    core.slice(x, num(args, "dim"), num(args, "start"), num(args, "stop"), num(args, "step")),
  select: ([x], args) => core.select(x, num(args, "dim"), num(args, "index")),
  cat: (xs, args) => core.cat(xs, num(args, "dim")),
  stack: (xs, args) => core.stack(xs, num(args, "dim")),
  split: ([x], args) => core.split(x, args.splitSize as number | number[], num(args, "dim")),
  chunk: ([x], args) => core.chunk(x, num(args, "chunks"), num(args, "dim")),
  indexSelect: ([x, index], args) => core.indexSelect(x, num(args, "dim"), index),
  gather: ([x, index], args) => core.gather(x, num(args, "dim"), index),
  softmax: ([x], args) => core.softmax(x, num(args, "dim")),
  logSoftmax: ([x], args) => core.logSoftmax(x, num(args, "dim")),
  linear: ([x, w, b]) => core.linear(x, w, b),
  mseLoss: ([a, b], args) => core.mseLoss(a, b, reduction(args)),
  l1Loss: ([a, b], args) => core.l1Loss(a, b, reduction(args)),
  nllLoss: ([x, y], args) =>
    core.nllLoss(x, y, {
      ...reduction(args),
      ignoreIndex: args.ignoreIndex as number | undefined,
      weight: args.weight === undefined ? undefined : decode(args.weight as EncodedTensor),
    }),
  crossEntropy: ([x, y], args) =>
    core.crossEntropy(x, y, {
      ...reduction(args),
      ignoreIndex: args.ignoreIndex as number | undefined,
      labelSmoothing: args.labelSmoothing as number | undefined,
      weight: args.weight === undefined ? undefined : decode(args.weight as EncodedTensor),
    }),
  binaryCrossEntropyWithLogits: ([x, y], args) =>
    core.binaryCrossEntropyWithLogits(x, y, {
      ...reduction(args),
      posWeight: args.posWeight === undefined ? undefined : decode(args.posWeight as EncodedTensor),
    }),
  conv1d: ([x, w, b], args) => core.conv1d(x, w, b ?? null, args as core.ConvOptions),
  conv2d: ([x, w, b], args) => core.conv2d(x, w, b ?? null, args as core.ConvOptions),
  convTranspose1d: ([x, w, b], args) =>
    core.convTranspose1d(x, w, b ?? null, args as core.ConvTransposeOptions),
  convTranspose2d: ([x, w, b], args) =>
    core.convTranspose2d(x, w, b ?? null, args as core.ConvTransposeOptions),
  maxPool1d: ([x], { kernelSize, ...options }) =>
    withIndices(core.maxPool1d(x, kernelSize as number, options as core.MaxPoolOptions)),
  maxPool2d: ([x], { kernelSize, ...options }) =>
    withIndices(core.maxPool2d(x, kernelSize as number, options as core.MaxPoolOptions)),
  avgPool1d: ([x], { kernelSize, ...options }) =>
    core.avgPool1d(x, kernelSize as number, options as core.AvgPoolOptions),
  avgPool2d: ([x], { kernelSize, ...options }) =>
    core.avgPool2d(x, kernelSize as number, options as core.AvgPoolOptions),
  adaptiveAvgPool1d: ([x], args) => core.adaptiveAvgPool1d(x, num(args, "outputSize")),
  adaptiveAvgPool2d: ([x], args) =>
    core.adaptiveAvgPool2d(x, args.outputSize as number | (number | null)[]),
  flip: ([x], args) => core.flip(x, numbers(args.dims)),
  roll: ([x], args) =>
    core.roll(x, numbers(args.shifts), args.dims === undefined ? undefined : numbers(args.dims)),
  repeat: ([x], args) => core.repeat(x, args.repeats as number[]),
  tile: ([x], args) => core.tile(x, args.reps as number[]),
  pad: ([x], args) =>
    core.pad(x, args.pad as number[], args.mode as core.PadMode, num(args, "value")),
  cumsum: ([x], args) => core.cumsum(x, num(args, "dim")),
  cumprod: ([x], args) => core.cumprod(x, num(args, "dim")),
  sort: ([x], args) =>
    pair(core.sort(x, num(args, "dim"), { descending: args.descending as boolean })),
  argsort: ([x], args) => core.argsort(x, num(args, "dim"), args.descending as boolean),
  topk: ([x], args) =>
    pair(core.topk(x, num(args, "k"), num(args, "dim"), { largest: args.largest as boolean })),
  tan: unary(core.tan),
  asin: unary(core.asin),
  acos: unary(core.acos),
  atan: unary(core.atan),
  sinh: unary(core.sinh),
  cosh: unary(core.cosh),
  expm1: unary(core.expm1),
  log2: unary(core.log2),
  log10: unary(core.log10),
  exp2: unary(core.exp2),
  silu: unary(core.silu),
  mish: unary(core.mish),
  selu: unary(core.selu),
  elu: ([x], args) => core.elu(x, num(args, "alpha")),
  hardtanh: ([x], args) => core.hardtanh(x, num(args, "minVal"), num(args, "maxVal")),
  atan2: binary(core.atan2),
  hypot: binary(core.hypot),
  center: ([x], args) => core.center(x, dims(args)),
  addcmul: ([input, t1, t2], args) => core.addcmul(input, t1, t2, num(args, "value")),
  interpolate: ([x], args) => core.interpolate(x, args as core.InterpolateOptions),
  varMean: ([x], args) =>
    core.varMean(x, dims(args), {
      correction: args.correction as number | undefined,
      keepdim: keepdim(args),
    }),
  embedding: ([indices, weight], args) =>
    core.embedding(indices, weight, (args.paddingIdx as number | undefined) ?? null),
  groupNorm: ([x, w, b], args) =>
    core.groupNorm(x, num(args, "numGroups"), w ?? null, b ?? null, (args.eps as number) ?? 1e-5),
  batchNorm: ([x, w, b], args) => {
    const running = args.running as boolean;
    const runningMean = running ? decode(args.runningMean as EncodedTensor) : null;
    const runningVar = running ? decode(args.runningVar as EncodedTensor) : null;
    const y = core.batchNorm(
      x,
      runningMean,
      runningVar,
      w ?? null,
      b ?? null,
      args.training as boolean,
      num(args, "momentum"),
      num(args, "eps"),
    );
    return running ? [y, runningMean as Tensor, runningVar as Tensor] : y;
  },
};

const pair = ({ values, indices }: core.ValuesIndices): Tensor[] => [values, indices];
const numbers = (value: unknown): number | number[] => value as number | number[];

/** A pooling result as the fixture lists its outputs: values, then indices when returned. */
function withIndices(result: Tensor | core.ValuesIndices): Tensor | Tensor[] {
  return "values" in result ? [result.values, result.indices] : result;
}
