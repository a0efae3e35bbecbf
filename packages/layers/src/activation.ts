// Stateless layers wrapping core's activations and shape ops: no parameters, no buffers.

import {
  dropout,
  elu,
  type Generator,
  gelu,
  hardtanh,
  logSoftmax,
  mish,
  selu,
  silu,
  softmax,
  softplus,
  type Tensor,
} from "@koubai/core";
import { Module } from "./module.js";

/** relu(x) = max(x, 0), elementwise. */
export class ReLU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ReLU";

  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** leakyRelu(x) = x for x ≥ 0, negativeSlope·x otherwise (default slope 0.01). */
export class LeakyReLU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "LeakyReLU";

  constructor(
    /** Slope for negative inputs. */
    readonly negativeSlope = 0.01,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
}

/** tanh(x), elementwise. */
export class Tanh extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Tanh";

  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** σ(x) = 1 / (1 + e^(-x)), elementwise. */
export class Sigmoid extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Sigmoid";

  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** GELU(x) = x·Φ(x) (or the tanh approximation with `approximate: "tanh"`). */
export class GELU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "GELU";

  constructor(
    /** `"none"`: exact x/2·(1 + erf(x/√2)); `"tanh"`: x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))). */
    readonly approximate: "none" | "tanh" = "none",
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** softmax along `dim`: e^(x_i) / Σ_j e^(x_j), computed stably. */
export class Softmax extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Softmax";

  constructor(
    /** The dim whose entries sum to 1 (e.g. 1 for `[N, C]`); negative counts from the end. */
    readonly dim: number,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** log softmax along `dim`: x - logsumexp(x). */
export class LogSoftmax extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "LogSoftmax";

  constructor(
    /** The dim normalised over (e.g. 1 for `[N, C]`); negative counts from the end. */
    readonly dim: number,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by
 * 1/(1-p); the identity in eval mode.
 */
export class Dropout extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Dropout";

  /** @throws RangeError when `p` is outside [0, 1]. */
  constructor(
    /** Probability of zeroing an element. */
    readonly p = 0.5,
    /** Construction options. */
    readonly options: {
      /** Source of the random masks (default core's default generator). */
      generator?: Generator;
    } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, generator: this.options.generator });
  }
}

/** Flattens dims startDim..endDim into one (default 1..-1: [N, ...] → [N, rest]). */
export class Flatten extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Flatten";

  constructor(
    /** First dim merged (default 1, keeping the batch dim). */
    readonly startDim = 1,
    /** Last dim merged, inclusive (default -1, the last). */
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** Returns its input unchanged. */
export class Identity extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Identity";

  forward(x: Tensor): Tensor {
    return x;
  }
}

/** softplus(x) = log(1 + e^(β·x))/β, and x itself where β·x > threshold (as `nn.Softplus`). */
export class Softplus extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Softplus";

  constructor(
    /** β: sharpness. Default 1. */
    readonly beta = 1,
    /** Above β·x > threshold the layer is linear. Default 20. */
    readonly threshold = 20,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }
}

/** SiLU (swish): x·σ(x), elementwise (as `nn.SiLU`). */
export class SiLU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "SiLU";

  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Mish: x·tanh(softplus(x)), elementwise (as `nn.Mish`). */
export class Mish extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Mish";

  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/** ELU: x for x > 0, alpha·(eˣ - 1) otherwise (as `nn.ELU`). */
export class ELU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "ELU";

  constructor(
    /** The negative side's saturation value. Default 1. */
    readonly alpha = 1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
}

/** SELU: PyTorch's scaled ELU with fixed alpha ≈ 1.6733 and scale ≈ 1.0507 (as `nn.SELU`). */
export class SELU extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "SELU";

  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** HardTanh: x clamped to [minVal, maxVal] (as `nn.Hardtanh`). */
export class Hardtanh extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Hardtanh";

  /** @throws RangeError when minVal > maxVal. */
  constructor(
    /** The lower end. Default -1. */
    readonly minVal = -1,
    /** The upper end. Default 1. */
    readonly maxVal = 1,
  ) {
    super();
    if (!(minVal <= maxVal)) {
      throw new RangeError(
        `Hardtanh: minVal cannot be greater than maxVal, got minVal ${minVal} and maxVal ${maxVal}`,
      );
    }
  }
  forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }
}
