// Closeness as torch.allclose defines it: |actual - expected| ≤ atol + rtol·|expected| per
// element, NaN matching NaN, an infinity matching only the same infinity.

/** Tolerances of a comparison. */
export interface AllcloseOptions {
  /** Absolute tolerance. Default 1e-12. */
  atol?: number;
  /** Relative tolerance (of the expected value). Default 1e-12. */
  rtol?: number;
}

/** What a comparison found: how many elements differ, and the worst of them. */
export interface Comparison {
  failures: number;
  /** Flat index of the element furthest outside the tolerance, or -1 when all are close. */
  worst: number;
  /** How far beyond `atol + rtol·|expected|` the worst element is (Infinity for NaN or ±Inf). */
  worstExcess: number;
}

/** One element: close within `atol + rtol·|e|`, NaN to NaN, an infinity to the same one. */
export function closeEnough(a: number, e: number, atol: number, rtol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** Compares equally long value lists element by element. */
export function compareValues(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-12, rtol = 1e-12 }: AllcloseOptions = {},
): Comparison {
  if (actual.length !== expected.length) {
    throw new RangeError(
      `compareValues: ${actual.length} values against ${expected.length} expected`,
    );
  }
  let failures = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (closeEnough(a, e, atol, rtol)) continue;
    failures++;
    const excess = Number.isFinite(a - e)
      ? Math.abs(a - e) - (atol + rtol * Math.abs(e))
      : Infinity;
    if (worst === -1 || excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  return { failures, worst, worstExcess };
}
