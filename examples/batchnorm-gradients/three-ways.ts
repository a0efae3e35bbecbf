// dx, dγ, dβ of training-mode BatchNorm computed three ways for many inputs: autograd through the
// composite layer, the hand-derived batchNormBackward, and float64 central differences (plain JS,
// see finite-differences.ts). Each pair is compared with a per-dtype tolerance.

import { compareTensors, Generator, noGrad, randn, type Tensor, tensor } from "@koubai/core";
import { BatchNorm1d, BatchNorm2d, batchNormBackward } from "@koubai/layers";
import { batchNormFiniteDifferences } from "./finite-differences.js";

export interface BatchNormCase {
  dtype: "float32" | "float64";
  shape: readonly number[];
  /** Every channel's mean (1e4 for the badly scaled input, 0 otherwise). */
  offset: number;
}

/**
 * Allowed error as a fraction of the reference's largest magnitude, elementwise:
 * |a − b| ≤ tol·max|b| + tol·|b|. float32 carries ~7 digits, and an input of mean 1e4 loses
 * ~4 of them to the subtraction x − μ; float64 against finite differences is limited by the
 * O(h²) truncation and by rounding in the difference quotient (~1e-12·√m / h at mean 1e4).
 */
export const TOLERANCE: Record<"float32" | "float64", { exact: number; finiteDiff: number }> = {
  float64: { exact: 1e-10, finiteDiff: 1e-5 },
  float32: { exact: 1e-3, finiteDiff: 2e-3 },
};

export interface Difference {
  maxAbs: number;
  /** maxAbs / max|reference|. */
  scaled: number;
  ok: boolean;
}

export interface CaseResult {
  label: string;
  gradient: "dx" | "dgamma" | "dbeta";
  handVsAutograd: Difference;
  autogradVsFiniteDiff: Difference;
  handVsFiniteDiff: Difference;
}

const GRADIENTS = ["dx", "dgamma", "dbeta"] as const;

function difference(
  actual: Tensor | Float64Array,
  expected: Tensor | Float64Array,
  tol: number,
): Difference {
  const ref = expected instanceof Float64Array ? expected : expected.toArray();
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  const row = compareTensors("g", actual instanceof Float64Array ? actual : actual.toArray(), ref, {
    atol: tol * scale,
    rtol: tol,
  });
  return {
    maxAbs: row.maxAbsDiff,
    scaled: scale === 0 ? row.maxAbsDiff : row.maxAbsDiff / scale,
    ok: row.ok,
  };
}

/** The standard grid: both dtypes, [N,C], [N,C,L], [N,C,H,W], small and large batches, mean 0 and 1e4. */
export function standardCases(): BatchNormCase[] {
  const shapes = [
    [4, 3],
    [256, 8],
    [2, 3, 5],
    [64, 4, 16],
    [2, 3, 3, 3],
    [32, 4, 6, 6],
  ];
  const cases: BatchNormCase[] = [];
  for (const dtype of ["float64", "float32"] as const)
    for (const offset of [0, 1e4]) for (const shape of shapes) cases.push({ dtype, shape, offset });
  return cases;
}

export function caseLabel(c: BatchNormCase): string {
  return `${c.dtype} [${c.shape.join(",")}]${c.offset === 0 ? "" : ` mean ${c.offset.toExponential(0)}`}`;
}

/** Runs one case and returns a row per gradient. */
export function runCase(c: BatchNormCase, seed = 1): CaseResult[] {
  const generator = new Generator(seed);
  const channels = c.shape[1];
  const channelShape = c.shape.map((s, d) => (d === 1 ? s : 1));
  const scales = tensor(
    Array.from({ length: channels }, (_, i) => 0.5 + i),
    { dtype: "float64" },
  ).reshape(channelShape);
  // Drawn in float64 and rounded once, so the finite differences see exactly the tested values.
  const x = randn(c.shape, { dtype: "float64", generator }).mul(scales).add(c.offset).to(c.dtype);
  const gamma = randn([channels], { dtype: "float64", generator }).to(c.dtype);
  const beta = randn([channels], { dtype: "float64", generator }).to(c.dtype);
  const dout = randn(c.shape, { dtype: "float64", generator }).to(c.dtype);
  const eps = 1e-5;

  // 1. Autograd through the composite layer.
  const layer =
    c.shape.length === 4
      ? new BatchNorm2d(channels, { dtype: c.dtype })
      : new BatchNorm1d(channels, { dtype: c.dtype });
  noGrad(() => {
    layer.weight!.copy_(gamma);
    layer.bias!.copy_(beta);
  });
  const xs = x.clone().requiresGrad_();
  layer.forward(xs).mul(dout).sum().backward();
  const autograd = { dx: xs.grad!, dgamma: layer.weight!.grad!, dbeta: layer.bias!.grad! };

  // 2. The hand-derived backward, fed the forward's x̂ and 1/√(σ² + ε).
  const dims = c.shape.map((_, d) => d).filter((d) => d !== 1);
  const centered = x.sub(x.mean(dims, true));
  const invStd = centered.square().mean(dims, true).add(eps).rsqrt();
  const grads = batchNormBackward(dout, {
    xHat: centered.mul(invStd),
    invStd: invStd.reshape([channels]),
    weight: gamma,
  });
  const hand = { dx: grads.gradInput, dgamma: grads.gradWeight!, dbeta: grads.gradBias! };

  // 3. Central differences in float64 on the same values.
  const n = c.shape[0];
  const fd = batchNormFiniteDifferences({
    x: x.to("float64").contiguous().toArray() as Float64Array,
    n,
    c: channels,
    s: x.numel() / (n * channels),
    gamma: gamma.to("float64").toArray() as Float64Array,
    beta: beta.to("float64").toArray() as Float64Array,
    dout: dout.to("float64").toArray() as Float64Array,
    eps,
  });

  const tol = TOLERANCE[c.dtype];
  return GRADIENTS.map((gradient) => ({
    label: caseLabel(c),
    gradient,
    handVsAutograd: difference(hand[gradient], autograd[gradient], tol.exact),
    autogradVsFiniteDiff: difference(autograd[gradient], fd[gradient], tol.finiteDiff),
    handVsFiniteDiff: difference(hand[gradient], fd[gradient], tol.finiteDiff),
  }));
}

/** True when every comparison of every row is within tolerance. */
export function allWithinTolerance(rows: readonly CaseResult[]): boolean {
  return rows.every(
    (r) => r.handVsAutograd.ok && r.autogradVsFiniteDiff.ok && r.handVsFiniteDiff.ok,
  );
}

/** A fixed-width table: case, gradient, then max abs / scaled difference for each pair. */
export function formatCaseTable(rows: readonly CaseResult[]): string {
  const cell = (d: Difference) =>
    `${d.maxAbs.toExponential(1).padStart(8)} ${d.scaled.toExponential(1).padStart(8)}${d.ok ? "  " : " ✗"}`;
  const width = Math.max(...rows.map((r) => r.label.length));
  const lines = [
    `${"case".padEnd(width)}  grad     ${"hand vs autograd".padEnd(19)}  ${"autograd vs FD".padEnd(19)}  hand vs FD`,
    `${"".padEnd(width)}           ${"max abs   scaled".padEnd(19)}  ${"max abs   scaled".padEnd(19)}  max abs   scaled`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.label.padEnd(width)}  ${r.gradient.padEnd(7)}  ${cell(r.handVsAutograd)}  ${cell(r.autogradVsFiniteDiff)}  ${cell(r.handVsFiniteDiff)}`,
    );
  }
  return lines.join("\n");
}
