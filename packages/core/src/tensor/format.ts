// Readable printing, like PyTorch's repr: nested brackets, a shared number format, at most a
// few rows and columns with "..." elisions, then shape, dtype and grad state.

import type { Tensor } from "./tensor.js";

const EDGE = 3;
const MAX_FULL = 1000;

export function formatTensor(t: Tensor): string {
  const values = t.toArray();
  const summarize = values.length > MAX_FULL;
  const isInt = t.dtype === "int32" || t.dtype === "bool";
  const format = (v: number): string => {
    if (t.dtype === "bool") return v ? "true" : "false";
    if (isInt || !Number.isFinite(v)) return String(v);
    const abs = Math.abs(v);
    if (abs !== 0 && (abs >= 1e5 || abs < 1e-4)) return v.toExponential(4);
    return v.toFixed(4);
  };
  const strides: number[] = [];
  let stride = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= t.shape[d];
  }
  const render = (dim: number, start: number, indent: string): string => {
    if (dim === t.shape.length) return format(values[start]);
    const size = t.shape[dim];
    const pick =
      summarize && size > 2 * EDGE
        ? [...range(0, EDGE), -1, ...range(size - EDGE, size)]
        : range(0, size);
    const parts = pick.map((i) =>
      i === -1 ? "..." : render(dim + 1, start + i * strides[dim], `${indent} `),
    );
    const separator = dim === t.shape.length - 1 ? ", " : `,\n${indent} `;
    return `[${parts.join(separator)}]`;
  };
  const suffix = [`shape=[${t.shape.join(", ")}]`, `dtype=${t.dtype}`];
  if (t.gradFn) suffix.push(`gradFn=${t.gradFn.op}`);
  else if (t.requiresGrad) suffix.push("requiresGrad=true");
  return `tensor(${render(0, 0, "       ")}, ${suffix.join(", ")})`;
}

function range(start: number, stop: number): number[] {
  return Array.from({ length: stop - start }, (_, i) => start + i);
}
