// Weight initialisers, torch.nn.init in camelCase: each fills a tensor in place (under noGrad)
// and returns it. Random ones draw from core's seedable Generator (`generator` option, the
// default generator otherwise); fans and gains follow PyTorch exactly.

import { type Generator, noGrad, rand, randn, type Tensor } from "@koubai/core";

/** Activations `calculateGain` knows (PyTorch's names in camelCase). */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "selu";

/** Options of the random initialisers (`uniform`, `normal`, `xavier*`, `kaiming*`). */
export interface RandomInitOptions {
  /** Source of randomness; default core's default generator (seed it with `manualSeed`). */
  generator?: Generator;
}

/** Options of `kaimingUniform` and `kaimingNormal`, as in `torch.nn.init.kaiming_*_`. */
export interface KaimingOptions extends RandomInitOptions {
  /** Negative slope of the leaky ReLU that follows (used when nonlinearity is "leakyRelu"). Default 0. */
  a?: number;
  /** "fanIn" (default) preserves the forward variance, "fanOut" the backward one. */
  mode?: "fanIn" | "fanOut";
  /** Default "leakyRelu" (with a = 0 that is ReLU's gain √2). */
  nonlinearity?: Nonlinearity;
}

/**
 * The recommended gain for an activation: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leakyRelu (slope = `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "convTranspose1d":
    case "convTranspose2d":
    case "convTranspose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope))
        throw new RangeError(`calculateGain: negative slope must be a finite number, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new RangeError(
        `calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}; expected linear, conv1d/2d/3d, convTranspose1d/2d/3d, sigmoid, tanh, relu, leakyRelu or selu`,
      );
  }
}

/**
 * PyTorch's fans of a weight of shape [out, in, ...kernel]: fanIn = in·∏kernel,
 * fanOut = out·∏kernel. Needs at least 2 dimensions.
 *
 * @throws RangeError when `tensor` has fewer than 2 dims.
 */
export function calculateFanInAndFanOut(tensor: Tensor): {
  /** `in·∏kernel`: inputs feeding each output unit. */
  fanIn: number;
  /** `out·∏kernel`: outputs fed by each input unit. */
  fanOut: number;
} {
  if (tensor.ndim < 2) {
    throw new RangeError(
      `calculateFanInAndFanOut: fans cannot be computed for a tensor with fewer than 2 dimensions (shape [${tensor.shape.join(", ")}])`,
    );
  }
  const receptive = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: tensor.shape[1] * receptive, fanOut: tensor.shape[0] * receptive };
}

function requireFloat(tensor: Tensor, op: string): void {
  if (tensor.dtype !== "float32" && tensor.dtype !== "float64") {
    throw new TypeError(`init.${op}: needs a float32/float64 tensor, got ${tensor.dtype}`);
  }
}

function fill(tensor: Tensor, values: Tensor | number): Tensor {
  noGrad(() => tensor.copy_(values));
  return tensor;
}

/** Fills with samples of U(a, b) (drawn in float64, then rounded to the tensor's dtype). */
export function uniform(tensor: Tensor, a = 0, b = 1, options: RandomInitOptions = {}): Tensor {
  requireFloat(tensor, "uniform");
  if (!(Number.isFinite(a) && Number.isFinite(b) && a <= b))
    throw new RangeError(`init.uniform: need finite a <= b, got a ${a} and b ${b}`);
  const u = rand(tensor.shape, { dtype: "float64", generator: options.generator });
  return fill(tensor, u.mul(b - a).add(a));
}

/** Fills with samples of N(mean, std²). */
export function normal(tensor: Tensor, mean = 0, std = 1, options: RandomInitOptions = {}): Tensor {
  requireFloat(tensor, "normal");
  if (!(Number.isFinite(mean) && Number.isFinite(std) && std >= 0))
    throw new RangeError(
      `init.normal: need finite mean and std >= 0, got mean ${mean} and std ${std}`,
    );
  const z = randn(tensor.shape, { dtype: "float64", generator: options.generator });
  return fill(tensor, z.mul(std).add(mean));
}

/** Fills with `value`. */
export function constant(tensor: Tensor, value: number): Tensor {
  return fill(tensor, value);
}

/** Fills with 0. */
export function zeros(tensor: Tensor): Tensor {
  return fill(tensor, 0);
}

/** Fills with 1. */
export function ones(tensor: Tensor): Tensor {
  return fill(tensor, 1);
}

function kaimingStd(tensor: Tensor, options: KaimingOptions, op: string): number {
  const { a = 0, mode = "fanIn", nonlinearity = "leakyRelu" } = options;
  if (mode !== "fanIn" && mode !== "fanOut")
    throw new RangeError(
      `init.${op}: mode must be "fanIn" or "fanOut", got ${JSON.stringify(mode)}`,
    );
  const fans = calculateFanInAndFanOut(tensor);
  const fan = mode === "fanIn" ? fans.fanIn : fans.fanOut;
  if (fan === 0)
    throw new RangeError(
      `init.${op}: cannot initialise a tensor with a zero fan (shape [${tensor.shape.join(", ")}])`,
    );
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/**
 * He/Kaiming uniform: U(-bound, bound) with bound = gain·√(3 / fan), gain = calculateGain(nonlinearity, a).
 * `nn.Linear` uses a = √5, which gives bound = 1/√fanIn.
 */
export function kaimingUniform(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  requireFloat(tensor, "kaimingUniform");
  const bound = Math.sqrt(3) * kaimingStd(tensor, options, "kaimingUniform");
  return uniform(tensor, -bound, bound, options);
}

/** He/Kaiming normal: N(0, std²) with std = gain / √fan. */
export function kaimingNormal(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  requireFloat(tensor, "kaimingNormal");
  return normal(tensor, 0, kaimingStd(tensor, options, "kaimingNormal"), options);
}

function xavierStd(tensor: Tensor, gain: number): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(tensor);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

/** Glorot/Xavier uniform: U(-a, a) with a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(
  tensor: Tensor,
  options: RandomInitOptions & { gain?: number } = {},
): Tensor {
  requireFloat(tensor, "xavierUniform");
  const bound = Math.sqrt(3) * xavierStd(tensor, options.gain ?? 1);
  return uniform(tensor, -bound, bound, options);
}

/** Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fanIn + fanOut)). */
export function xavierNormal(
  tensor: Tensor,
  options: RandomInitOptions & { gain?: number } = {},
): Tensor {
  requireFloat(tensor, "xavierNormal");
  return normal(tensor, 0, xavierStd(tensor, options.gain ?? 1), options);
}
