// Loops behind the in-place tensor updates (add_, mul_, addcmul_, addcdiv_) on contiguous runs:
// `t[to + i] op= ...` for i in [0, n). Each is a small function of its own: V8 optimises a short
// loop in a small function far better than the same loop inside the larger dispatching function
// (measured 2-3x on 200k float32 elements), and a same-shape source and a single value get
// separate loops because `s[so + i * step]` compiles worse than `s[so + i]`.

import type { TypedArray } from "../tensor/dtype.js";

/** t[to + i] += alpha·s[so + i] */
export function addScaledRun(
  t: TypedArray,
  to: number,
  s: TypedArray,
  so: number,
  alpha: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) t[to + i] += alpha * s[so + i];
}

/** t[to + i] += v */
export function addValueRun(t: TypedArray, to: number, v: number, n: number): void {
  for (let i = 0; i < n; i++) t[to + i] += v;
}

/** t[to + i] *= s[so + i] */
export function mulRun(t: TypedArray, to: number, s: TypedArray, so: number, n: number): void {
  for (let i = 0; i < n; i++) t[to + i] *= s[so + i];
}

/** t[to + i] *= v */
export function mulValueRun(t: TypedArray, to: number, v: number, n: number): void {
  for (let i = 0; i < n; i++) t[to + i] *= v;
}

/** t[to + i] += value·x[xo + i·xs]·y[yo + i·ys] (steps 1 or 0) */
export function addcmulRun(
  t: TypedArray,
  to: number,
  x: TypedArray,
  xo: number,
  xs: number,
  y: TypedArray,
  yo: number,
  ys: number,
  value: number,
  n: number,
): void {
  if (xs === 1 && ys === 1) for (let i = 0; i < n; i++) t[to + i] += value * x[xo + i] * y[yo + i];
  else for (let i = 0; i < n; i++) t[to + i] += value * x[xo + i * xs] * y[yo + i * ys];
}

/** t[to + i] += value·x[xo + i·xs] / y[yo + i·ys] (steps 1 or 0) */
export function addcdivRun(
  t: TypedArray,
  to: number,
  x: TypedArray,
  xo: number,
  xs: number,
  y: TypedArray,
  yo: number,
  ys: number,
  value: number,
  n: number,
): void {
  if (xs === 1 && ys === 1)
    for (let i = 0; i < n; i++) t[to + i] += (value * x[xo + i]) / y[yo + i];
  else for (let i = 0; i < n; i++) t[to + i] += (value * x[xo + i * xs]) / y[yo + i * ys];
}
