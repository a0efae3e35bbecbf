// The elementwise loops, one small function per op (a distinct function, so V8 keeps each call
// site monomorphic). Loops read `x[xi + i * xs]`: a step of 1 is a contiguous row, 0 a broadcast
// scalar. elementwise.ts drives them over views and hands the common cases to WebAssembly.

import type { TypedArray } from "../tensor/dtype.js";

export type UnaryRow = (
  x: TypedArray,
  xi: number,
  xs: number,
  out: TypedArray,
  oi: number,
  n: number,
) => void;
export type BinaryRow = (
  a: TypedArray,
  ai: number,
  as: number,
  b: TypedArray,
  bi: number,
  bs: number,
  out: TypedArray,
  oi: number,
  n: number,
) => void;

// --- unary rows -------------------------------------------------------------------------------

export const negRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = -x[xi + i * xs];
};
export const expRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.exp(x[xi + i * xs]);
};
export const logRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.log(x[xi + i * xs]);
};
export const sqrtRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.sqrt(x[xi + i * xs]);
};
export const rsqrtRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = 1 / Math.sqrt(x[xi + i * xs]);
};
export const absRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.abs(x[xi + i * xs]);
};
export const signRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.sign(x[xi + i * xs]);
};
export const tanhRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.tanh(x[xi + i * xs]);
};
/** Stable for large |x|: never evaluates exp of a large positive number. */
export const sigmoidRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    if (v >= 0) out[oi + i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[oi + i] = e / (1 + e);
    }
  }
};
export const reluRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = v > 0 ? v : v !== v ? v : 0; // NaN propagates, as in PyTorch
  }
};
export const log1pRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.log1p(x[xi + i * xs]);
};
export const sinRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.sin(x[xi + i * xs]);
};
export const cosRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.cos(x[xi + i * xs]);
};
export const erfRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = erf(x[xi + i * xs]);
};

/**
 * The error function to about 1 ulp: for |x| < 2.5 the series
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_k (2x^2)^k x / (1*3*...*(2k+1)) (all terms positive, no
 * cancellation); beyond it 1 - erfc(x) with erfc from its continued fraction.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    const x2 = 2 * ax * ax;
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 200; k++) {
      term *= x2 / (2 * k + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    const value = (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
    return x < 0 ? -value : value;
  }
  if (ax > 6.5) return x < 0 ? -1 : 1;
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), evaluated bottom-up.
  let fraction = ax;
  for (let k = 60; k >= 1; k--) fraction = ax + k / 2 / fraction;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / fraction;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

// --- binary rows ------------------------------------------------------------------------------

export const addRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] + b[bi + i * bs];
};
export const subRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] - b[bi + i * bs];
};
export const mulRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] * b[bi + i * bs];
};
export const divRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] / b[bi + i * bs];
};
/** C's pow, not JS `**`: 1^y = 1 for every y (NaN too) and (-1)^±∞ = 1, as in PyTorch. */
export const powRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : x ** y;
  }
};
/** NaN-propagating, like torch.maximum. */
export const maximumRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x !== x || y !== y ? Number.NaN : x > y ? x : y;
  }
};
export const minimumRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ai + i * as];
    const y = b[bi + i * bs];
    out[oi + i] = x !== x || y !== y ? Number.NaN : x < y ? x : y;
  }
};
/** a·(b > 0 ? 1 : 0): relu's backward from its output b. */
export const reluBackwardRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] * (b[bi + i * bs] > 0 ? 1 : 0);
};
export const eqRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] === b[bi + i * bs] ? 1 : 0;
};
export const neRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] !== b[bi + i * bs] ? 1 : 0;
};
export const ltRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] < b[bi + i * bs] ? 1 : 0;
};
export const leRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] <= b[bi + i * bs] ? 1 : 0;
};
export const gtRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] > b[bi + i * bs] ? 1 : 0;
};
export const geRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = a[ai + i * as] >= b[bi + i * bs] ? 1 : 0;
};

export const squareRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = v * v;
  }
};

/**
 * x·x·x with the square rounded to the output's type first, as PyTorch's float32 kernel rounds
 * each product (float64: the same two products).
 */
export const cubeRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  if (out instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      out[oi + i] = Math.fround(v * v) * v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = v * v * v;
  }
};
export const reciprocalRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = 1 / x[xi + i * xs];
};
/**
 * 1/(x·x) with the square rounded to the output's type first, as in PyTorch: a float32 square
 * that overflows to infinity gives 0, not the tiny quotient float64 would.
 */
export const inverseSquareRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  if (out instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      out[oi + i] = 1 / Math.fround(v * v);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = 1 / (v * v);
  }
};

/** `out = x > 0 ? x : slope * x` (a closure per call: a parameterised, off-hot-path kernel). */
export function leakyReluRow(slope: number): UnaryRow {
  return (x, xi, xs, out, oi, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      out[oi + i] = v > 0 ? v : v * slope;
    }
  };
}

/** `out = x·beta > threshold ? x : log(1 + e^(x·beta))/beta`, as torch's softplus kernel. */
export function softplusRow(beta: number, threshold: number): UnaryRow {
  return (x, xi, xs, out, oi, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      out[oi + i] = v * beta > threshold ? v : Math.log1p(Math.exp(v * beta)) / beta;
    }
  };
}

/** `out = min(max(x, lo), hi)`, NaN propagating. */
export function clampRow(lo: number, hi: number): UnaryRow {
  return (x, xi, xs, out, oi, n) => {
    for (let i = 0; i < n; i++) {
      const v = x[xi + i * xs];
      const raised = v < lo ? lo : v; // then lowered: with lo > hi everything becomes hi, as torch
      out[oi + i] = raised > hi ? hi : raised;
    }
  };
}

// Trigonometric, hyperbolic and base-2/base-10 functions: one row each, as the rows above.
export const tanRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.tan(v);
  }
};
export const asinRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.asin(v);
  }
};
export const acosRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.acos(v);
  }
};
export const atanRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.atan(v);
  }
};
export const sinhRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.sinh(v);
  }
};
export const coshRow: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.cosh(v);
  }
};
export const expm1Row: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.expm1(v);
  }
};
export const log2Row: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.log2(v);
  }
};
export const log10Row: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = Math.log10(v);
  }
};
export const exp2Row: UnaryRow = (x, xi, xs, out, oi, n) => {
  for (let i = 0; i < n; i++) {
    const v = x[xi + i * xs];
    out[oi + i] = 2 ** v;
  }
};
/** atan2(a, b): the angle of the point (b, a), in (-π, π]. */
export const atan2Row: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.atan2(a[ai + i * as], b[bi + i * bs]);
};
/** hypot(a, b) = √(a² + b²), without overflow or underflow in between. */
export const hypotRow: BinaryRow = (a, ai, as, b, bi, bs, out, oi, n) => {
  for (let i = 0; i < n; i++) out[oi + i] = Math.hypot(a[ai + i * as], b[bi + i * bs]);
};
