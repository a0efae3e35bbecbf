// Stateless layers wrapping core's activations and shape ops: no parameters, no buffers.

import { dropout, type Generator, gelu, logSoftmax, softmax, type Tensor } from "@koubai/core";
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
