// Side-by-side comparison of gradients computed two ways (a hand-derived backward against
// autograd, or either against finite differences), for people deriving their own backward
// passes. gradcheck answers "is this op right?"; this answers "which gradient is wrong, by how
// much, and by what factor?". Values are compared in float64 whatever the tensors' dtypes.

import { formatShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

/** Tolerances of {@link compareTensors}: ok when |actual − expected| ≤ atol + rtol·|expected|. */
export interface CompareOptions {
  /** Absolute tolerance. Default 1e-6. */
  atol?: number;
  /** Relative tolerance (of the expected value). Default 1e-5. */
  rtol?: number;
}

/** One row of a gradient comparison: `actual` (the gradient under test) against `expected`. */
export interface GradientComparison {
  /** The label given to the pair (e.g. `"dx"`). */
  name: string;
  /** The shared shape of `actual` and `expected`. */
  shape: readonly number[];
  /** max_i |actual_i − expected_i| (NaN if either side holds a NaN). */
  maxAbsDiff: number;
  /** max_i |actual_i − expected_i| / |expected_i|, with 0/0 = 0 and x/0 = Infinity (as torch.testing). */
  maxRelDiff: number;
  /** Every element satisfies |actual_i − expected_i| ≤ atol + rtol·|expected_i| (allclose). */
  ok: boolean;
  /**
   * The least-squares scale r minimising ‖actual − r·expected‖: Σ actual_i·expected_i / Σ expected_i².
   * When `ok` is false and `actual ≈ r·expected`, the gradient is off by the factor r. Undefined
   * when `expected` is all zeros.
   */
  ratio?: number;
}

function valuesOf(t: Tensor | ArrayLike<number>): ArrayLike<number> {
  return t instanceof Tensor ? t.toArray() : t;
}

function shapeOf(t: Tensor | ArrayLike<number>): readonly number[] {
  return t instanceof Tensor ? t.shape : [t.length];
}

/** Compares one pair; `name` appears in errors and in the row. */
export function compareTensors(
  name: string,
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | ArrayLike<number>,
  options: CompareOptions = {},
): GradientComparison {
  const { atol = 1e-6, rtol = 1e-5 } = options;
  const shape = shapeOf(actual);
  const expectedShape = shapeOf(expected);
  if (shape.length !== expectedShape.length || shape.some((s, d) => s !== expectedShape[d])) {
    throw new Error(
      `compareGradients: "${name}" has shape ${formatShape(shape)} but its reference has shape ${formatShape(expectedShape)}`,
    );
  }
  const a = valuesOf(actual);
  const e = valuesOf(expected);
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let ok = true;
  let dot = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    if (Number.isNaN(diff)) {
      // A NaN on one side only is a disagreement; NaN on both sides is not hidden either.
      maxAbsDiff = Number.NaN;
      maxRelDiff = Number.NaN;
      ok = false;
      continue;
    }
    if (!(diff <= atol + rtol * Math.abs(e[i]))) ok = false;
    if (!Number.isNaN(maxAbsDiff) && diff > maxAbsDiff) maxAbsDiff = diff;
    const rel = diff === 0 ? 0 : diff / Math.abs(e[i]);
    if (!Number.isNaN(maxRelDiff) && rel > maxRelDiff) maxRelDiff = rel;
    dot += a[i] * e[i];
    norm += e[i] * e[i];
  }
  const row: GradientComparison = { name, shape, maxAbsDiff, maxRelDiff, ok };
  if (norm > 0) row.ratio = dot / norm;
  return row;
}

/**
 * Compares named pairs `[actual, expected]` and returns one row per name, in insertion order.
 * Shapes must match; dtypes may differ (a float32 gradient against a float64 reference).
 *
 * @example
 * const rows = compareGradients({ dx: [myDx, x.grad!], dgamma: [myDg, gamma.grad!] }, { atol: 1e-5 });
 * console.table(rows);
 * firstDisagreement(rows)?.name; // "dx", or undefined when all agree
 */
export function compareGradients(
  named: Record<string, readonly [Tensor | ArrayLike<number>, Tensor | ArrayLike<number>]>,
  options: CompareOptions = {},
): GradientComparison[] {
  return Object.entries(named).map(([name, [actual, expected]]) =>
    compareTensors(name, actual, expected, options),
  );
}

/**
 * The first row that is not `ok`, or undefined. With rows listed in the order the backward pass
 * computes them (dxHat, dvar, dmean, dx), this is where a derivation first goes wrong.
 */
export function firstDisagreement(
  rows: readonly GradientComparison[],
): GradientComparison | undefined {
  return rows.find((row) => !row.ok);
}

/** The rows as a fixed-width text table: name, shape, max abs diff, max rel diff, ratio, ok. */
export function formatComparison(rows: readonly GradientComparison[]): string {
  const header = ["gradient", "shape", "max abs diff", "max rel diff", "ratio", ""];
  const body = rows.map((r) => [
    r.name,
    formatShape(r.shape),
    r.maxAbsDiff.toExponential(2),
    r.maxRelDiff.toExponential(2),
    r.ratio === undefined ? "-" : r.ratio.toPrecision(6),
    r.ok ? "ok" : "MISMATCH",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((line) => line[c].length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ")
      .trimEnd();
  return [render(header), ...body.map(render)].join("\n");
}
