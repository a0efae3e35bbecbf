// BatchNorm1d/2d with PyTorch's exact semantics. The default forward is composed from core
// primitives (autograd derives the gradient); `fused: true` uses fusedBatchNorm, whose backward is
// the hand-derived batchNormBackward. Both share the running-statistics update below.

import { batchNorm, div, noGrad, ones, type Tensor, tensor, zeros } from "@koubai/core";
import { fusedBatchNorm } from "./batch-norm-backward.js";
import { creating, dtypeMismatch, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}, as the keyword arguments of `nn.BatchNorm1d`. */
export interface BatchNormOptions {
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the NEW batch statistic in the running average: r ← (1 - momentum)·r + momentum·s.
   * Default 0.1; null for a cumulative average (momentum = 1 / numBatchesTracked).
   */
  momentum?: number | null;
  /** Learn γ (init 1) and β (init 0). Default true. */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode. Default true. */
  trackRunningStats?: boolean;
  /** Dtype of the parameters and running statistics. Default float32. */
  dtype?: "float32" | "float64";
  /** Use the one-op forward with the hand-derived backward. Default false (composite). */
  fused?: boolean;
}

/**
 * Shared implementation of BatchNorm1d/2d. Training (or no running statistics): normalise each
 * channel with the batch mean and BIASED batch variance, y = (x - μ)/√(σ² + eps)·γ + β, and
 * (when tracking) update, under noGrad and in place:
 * runningMean ← (1 - f)·runningMean + f·μ, runningVar ← (1 - f)·runningVar + f·σ²·m/(m - 1)
 * (the UNBIASED variance), numBatchesTracked += 1, with f = momentum, or 1/numBatchesTracked
 * when momentum is null. Eval with tracking: normalise with runningMean and runningVar.
 */
export abstract class BatchNormBase extends Module {
  /** γ, `[C]` (init 1), or null without `affine`. */
  weight: Parameter | null = null;
  /** β, `[C]` (init 0), or null without `affine`. */
  bias: Parameter | null = null;
  /** Running mean μ̂, `[C]` (init 0, a buffer), or null without `trackRunningStats`. */
  runningMean: Tensor | null = null;
  /** Running UNBIASED variance, `[C]` (init 1, a buffer), or null without `trackRunningStats`. */
  runningVar: Tensor | null = null;
  /** int32 scalar; `num_batches_tracked` in the state dict (int64 in PyTorch). */
  numBatchesTracked: Tensor | null = null;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of the new batch statistic in the running averages; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether γ and β are learned. */
  readonly affine: boolean;
  /** Whether running statistics are kept (and used in eval mode). */
  readonly trackRunningStats: boolean;
  /** Whether forward uses the one-op `fusedBatchNorm` with the hand-derived backward. */
  readonly fused: boolean;

  /** @throws RangeError when numFeatures is not a positive integer, eps < 0, or momentum is outside [0, 1] and not null. */
  constructor(
    /** C: the number of channels (size of dim 1 of the input). */
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    const name = this.typeName();
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new RangeError(`${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = options;
    const { dtype = "float32", fused = false } = options;
    if (!(eps >= 0)) throw new RangeError(`${name}: eps must be >= 0, got ${eps}`);
    if (momentum !== null && !(momentum >= 0 && momentum <= 1))
      throw new RangeError(`${name}: momentum must be in [0, 1] or null, got ${momentum}`);
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.fused = fused;
    const c = [numFeatures];
    const owner = `${name}(${numFeatures})`;
    const make = (what: string, fill: typeof ones) =>
      creating(owner, what, () => fill(c, { dtype }));
    this.registerParameter("weight", affine ? new Parameter(make("the weight", ones)) : null);
    this.registerParameter("bias", affine ? new Parameter(make("the bias", zeros)) : null);
    this.registerBuffer("runningMean", trackRunningStats ? make("runningMean", zeros) : null);
    this.registerBuffer("runningVar", trackRunningStats ? make("runningVar", ones) : null);
    this.registerBuffer(
      "numBatchesTracked",
      trackRunningStats ? tensor(0, { dtype: "int32" }) : null,
    );
  }

  /** Throws unless `x` has a rank this layer accepts. */
  protected abstract checkRank(x: Tensor): void;

  /** Resets runningMean to 0, runningVar to 1 and numBatchesTracked to 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  forward(x: Tensor): Tensor {
    this.checkRank(x);
    const name = this.typeName();
    const dtype = (this.weight ?? this.runningMean)?.dtype;
    if (x.shape[1] !== this.numFeatures) {
      throw new RangeError(
        `${name}(${this.numFeatures}): input of shape [${x.shape.join(", ")}] has ${x.shape[1]} channels in dim 1, expected ${this.numFeatures}`,
      );
    }
    if (dtype !== undefined && x.dtype !== dtype)
      throw dtypeMismatch(`${name}(${this.numFeatures})`, x.dtype, dtype);
    if (dtype === undefined && x.dtype !== "float32" && x.dtype !== "float64") {
      throw new TypeError(
        `${name}(${this.numFeatures}): input has dtype ${x.dtype}; cast it with .float() (normalisation needs float32 or float64)`,
      );
    }
    const useBatchStats = this.training || this.runningMean === null || this.runningVar === null;
    if (!useBatchStats) {
      // Eval with running statistics: an elementwise affine map, the same for both paths.
      return batchNorm(
        x,
        this.runningMean,
        this.runningVar,
        this.weight,
        this.bias,
        false,
        0,
        this.eps,
      );
    }
    const m = x.numel() / this.numFeatures;
    if (m <= 1) {
      throw new RangeError(
        `${name}: expected more than 1 value per channel when training, got input of shape [${x.shape.join(", ")}]`,
      );
    }
    const tracking = this.training && this.trackRunningStats;
    const factor = tracking ? this.#nextMomentum() : 0;
    if (!this.fused) {
      // core's functional batchNorm, composed from primitives, updates the running statistics.
      const [rm, rv] = tracking ? [this.runningMean, this.runningVar] : [null, null];
      return batchNorm(x, rm, rv, this.weight, this.bias, true, factor, this.eps);
    }
    const { out, mean, varBiased } = fusedBatchNorm(x, this.weight, this.bias, this.eps);
    if (tracking) this.#updateRunningStats(mean, varBiased, m, factor);
    return out;
  }

  /**
   * Counts this batch in numBatchesTracked; the weight of the new batch: momentum, or (null) 1/count
   * as a 0-d tensor of the statistics' dtype, computed without reading the count, so that a
   * compiled training step replays it with each call's count.
   */
  #nextMomentum(): number | Tensor {
    const tracked = this.numBatchesTracked!;
    return noGrad(() => {
      tracked.add_(1);
      return this.momentum ?? div(1, tracked.to(this.runningMean!.dtype));
    });
  }

  /** The fused path's update, the formula core's batchNorm applies on the composite path. */
  #updateRunningStats(mean: Tensor, varBiased: Tensor, m: number, f: number | Tensor): void {
    noGrad(() => {
      const runningMean = this.runningMean!;
      const runningVar = this.runningVar!;
      const keep = typeof f === "number" ? 1 - f : f.neg().add(1);
      runningMean.copy_(runningMean.mul(keep).add(mean.mul(f)));
      runningVar.copy_(runningVar.mul(keep).add(varBiased.mul(m / (m - 1)).mul(f)));
    });
  }
}

/**
 * Batch norm over [N, C] or [N, C, L] inputs (statistics per channel C over N, or N·L).
 *
 * @example
 * ```ts
 * const bn = new BatchNorm1d(256, { fused: true });
 * const y = bn.forward(randn([32, 256])); // training: batch statistics, running stats updated
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "BatchNorm1d";

  protected checkRank(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new RangeError(
        `${this.typeName()}: expected a 2-D [N, C] or 3-D [N, C, L] input, got shape [${x.shape.join(", ")}]`,
      );
  }
}

/** Batch norm over [N, C, H, W] inputs (statistics per channel C over N·H·W). */
export class BatchNorm2d extends BatchNormBase {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "BatchNorm2d";

  protected checkRank(x: Tensor): void {
    if (x.ndim !== 4)
      throw new RangeError(
        `${this.typeName()}: expected a 4-D [N, C, H, W] input, got shape [${x.shape.join(", ")}]`,
      );
  }
}

/** BatchNorm1d with `fused: true` (one op, hand-derived backward). */
export class FusedBatchNorm1d extends BatchNorm1d {
  /** The name messages print, kept when minified (see `typeName()`). */
  static override readonly typeName: string = "FusedBatchNorm1d";

  constructor(numFeatures: number, options: Omit<BatchNormOptions, "fused"> = {}) {
    super(numFeatures, { ...options, fused: true });
  }
}

/** BatchNorm2d with `fused: true` (one op, hand-derived backward). */
export class FusedBatchNorm2d extends BatchNorm2d {
  /** The name messages print, kept when minified (see `typeName()`). */
  static override readonly typeName: string = "FusedBatchNorm2d";

  constructor(numFeatures: number, options: Omit<BatchNormOptions, "fused"> = {}) {
    super(numFeatures, { ...options, fused: true });
  }
}
