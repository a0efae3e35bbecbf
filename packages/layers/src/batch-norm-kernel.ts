// Typed-array loops behind fusedBatchNorm: per-channel statistics, the normalised output, and the
// first-order backward, over a contiguous [N, C, S] array (S = L or H·W, 1 for [N, C]). Every sum
// accumulates in float64 and each output element is rounded once. Rows are walked in memory
// order, so [N, C] inputs (channels contiguous) stream through memory instead of striding by C.
// No autograd here: the op and its differentiable double-backward path live in batch-norm-backward.ts.

/** A float32 or float64 typed array, the storage of the tensors these loops read and write. */
export type FloatData = Float32Array | Float64Array;

/** Per-channel statistics of a batch, in float64. */
export interface ChannelStats {
  /** μ per channel, [C]. */
  mean: Float64Array;
  /** Biased variance Σ(x - μ)²/m per channel, [C]. */
  varBiased: Float64Array;
}

/**
 * Mean and biased variance per channel of `x` (contiguous [n, c, s] from `offset`), two passes
 * (mean first, then squared deviations), so a mean of 1e4 with a spread of 0.1 comes out right.
 * Each channel's values are summed in the order i = 0..n-1, k = 0..s-1.
 */
export function channelStats(
  x: FloatData,
  offset: number,
  n: number,
  c: number,
  s: number,
): ChannelStats {
  const m = n * s;
  const mean = new Float64Array(c);
  const varBiased = new Float64Array(c);
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = offset + i * c;
      for (let ch = 0; ch < c; ch++) mean[ch] += x[row + ch];
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= m;
    for (let i = 0; i < n; i++) {
      const row = offset + i * c;
      for (let ch = 0; ch < c; ch++) {
        const d = x[row + ch] - mean[ch];
        varBiased[ch] += d * d;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const start = offset + (i * c + ch) * s;
        let sum = 0;
        for (let k = 0; k < s; k++) sum += x[start + k];
        mean[ch] += sum;
      }
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= m;
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const start = offset + (i * c + ch) * s;
        const mu = mean[ch];
        let squares = 0;
        for (let k = 0; k < s; k++) {
          const d = x[start + k] - mu;
          squares += d * d;
        }
        varBiased[ch] += squares;
      }
    }
  }
  for (let ch = 0; ch < c; ch++) varBiased[ch] /= m;
  return { mean, varBiased };
}

/**
 * out = x̂·γ + β with x̂ = (x - μ)·invStd, all per channel; `gamma`/`beta` null means 1 and 0.
 * x̂ is not stored: the backward recomputes it from x, μ and invStd in float64.
 */
export function normalize(
  x: FloatData,
  offset: number,
  out: FloatData,
  n: number,
  c: number,
  s: number,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
): void {
  // Folded per channel: out = x·a + b with a = invStd·γ, b = β - μ·invStd·γ would round
  // differently; keep (x - μ)·invStd·γ + β, as the composite computes it.
  const g = new Float64Array(c).fill(1);
  const b = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    if (gamma !== null) g[ch] = gamma[ch];
    if (beta !== null) b[ch] = beta[ch];
  }
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * c;
      for (let ch = 0; ch < c; ch++) {
        out[row + ch] = (x[offset + row + ch] - mean[ch]) * invStd[ch] * g[ch] + b[ch];
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const start = (i * c + ch) * s;
      const mu = mean[ch];
      const inv = invStd[ch];
      const gc = g[ch];
      const bc = b[ch];
      for (let k = 0; k < s; k++) out[start + k] = (x[offset + start + k] - mu) * inv * gc + bc;
    }
  }
}

/** Σdy and Σdy·x̂ per channel: the gradients of β and γ. */
export interface ChannelGradSums {
  sumDy: Float64Array;
  sumDyXHat: Float64Array;
}

/**
 * One pass over dy and x (both contiguous [n, c, s]) for Σdy and Σdy·x̂ per channel, with
 * x̂ = (x - μ)·invStd recomputed in float64.
 */
export function channelGradSums(
  dy: FloatData,
  dyOffset: number,
  x: FloatData,
  xOffset: number,
  n: number,
  c: number,
  s: number,
  mean: Float64Array,
  invStd: Float64Array,
): ChannelGradSums {
  const sumDy = new Float64Array(c);
  const sumDyXHat = new Float64Array(c);
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * c;
      for (let ch = 0; ch < c; ch++) {
        const g = dy[dyOffset + row + ch];
        sumDy[ch] += g;
        sumDyXHat[ch] += g * (x[xOffset + row + ch] - mean[ch]);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const start = (i * c + ch) * s;
        const mu = mean[ch];
        let a = 0;
        let b = 0;
        for (let k = 0; k < s; k++) {
          const g = dy[dyOffset + start + k];
          a += g;
          b += g * (x[xOffset + start + k] - mu);
        }
        sumDy[ch] += a;
        sumDyXHat[ch] += b;
      }
    }
  }
  for (let ch = 0; ch < c; ch++) sumDyXHat[ch] *= invStd[ch];
  return { sumDy, sumDyXHat };
}

/**
 * dx = (γ·invStd/m)·(m·dy - Σdy - x̂·Σ(dy·x̂)) per element (`gamma` null means γ = 1), written
 * into the contiguous `out`.
 */
export function inputGrad(
  dy: FloatData,
  dyOffset: number,
  x: FloatData,
  xOffset: number,
  out: FloatData,
  n: number,
  c: number,
  s: number,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: ArrayLike<number> | null,
  sums: ChannelGradSums,
): void {
  const m = n * s;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  const slope = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    scale[ch] = ((gamma === null ? 1 : gamma[ch]) * invStd[ch]) / m;
    shift[ch] = sums.sumDy[ch];
    slope[ch] = sums.sumDyXHat[ch] * invStd[ch];
  }
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * c;
      for (let ch = 0; ch < c; ch++) {
        const e = row + ch;
        out[e] =
          scale[ch] * (m * dy[dyOffset + e] - shift[ch] - (x[xOffset + e] - mean[ch]) * slope[ch]);
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const start = (i * c + ch) * s;
      const mu = mean[ch];
      const sc = scale[ch];
      const sh = shift[ch];
      const sl = slope[ch];
      for (let k = 0; k < s; k++) {
        const e = start + k;
        out[e] = sc * (m * dy[dyOffset + e] - sh - (x[xOffset + e] - mu) * sl);
      }
    }
  }
}
