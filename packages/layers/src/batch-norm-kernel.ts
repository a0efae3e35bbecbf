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
  // Per channel, out = (x - μ)·a + β with a = invStd·γ: two per-channel reads per element
  // instead of four (the product invStd·γ is rounded once in float64, far below float32's ulp).
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    a[ch] = invStd[ch] * (gamma === null ? 1 : gamma[ch]);
    b[ch] = beta === null ? 0 : beta[ch];
  }
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * c;
      const src = offset + row;
      for (let ch = 0; ch < c; ch++) out[row + ch] = (x[src + ch] - mean[ch]) * a[ch] + b[ch];
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const start = (i * c + ch) * s;
      const mu = mean[ch];
      const ac = a[ch];
      const bc = b[ch];
      for (let k = 0; k < s; k++) out[start + k] = (x[offset + start + k] - mu) * ac + bc;
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
  // dx = A·dy - B - C·(x - μ) per channel, with A = γ·invStd, B = A·Σdy/m, C = A·invStd·Σ(dy·x̂)/m.
  const mu = mean;
  const scaleDy = new Float64Array(c);
  const shift = new Float64Array(c);
  const slope = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const a = (gamma === null ? 1 : gamma[ch]) * invStd[ch];
    scaleDy[ch] = a;
    shift[ch] = (a * sums.sumDy[ch]) / m;
    slope[ch] = (a * invStd[ch] * sums.sumDyXHat[ch]) / m;
  }
  if (s === 1) {
    for (let i = 0; i < n; i++) {
      const row = i * c;
      const g = dyOffset + row;
      const v = xOffset + row;
      for (let ch = 0; ch < c; ch++) {
        out[row + ch] = scaleDy[ch] * dy[g + ch] - shift[ch] - slope[ch] * (x[v + ch] - mu[ch]);
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const start = (i * c + ch) * s;
      const [a, b, d, u] = [scaleDy[ch], shift[ch], slope[ch], mu[ch]];
      for (let k = 0; k < s; k++) {
        const e = start + k;
        out[e] = a * dy[dyOffset + e] - b - d * (x[xOffset + e] - u);
      }
    }
  }
}
