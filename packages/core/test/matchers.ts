// Custom Vitest matchers for tensors, registered through `setupFiles` in vitest.config.ts.
// `toBeAllclose` follows torch.allclose: |actual - expected| ≤ atol + rtol·|expected| per element,
// with NaN matching NaN and infinities matching only the same infinity.

import { expect } from "vitest";
import { type NestedArray, Tensor } from "../src/index.js";

export interface AllcloseOptions {
  /** Absolute tolerance. Default 1e-12. */
  atol?: number;
  /** Relative tolerance (of the expected value). Default 1e-12. */
  rtol?: number;
}

type Numeric = Tensor | number | NestedArray | ArrayLike<number>;

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: must match Vitest's own declaration.
  interface Matchers<T = any> {
    /** Elementwise closeness of tensors/arrays/numbers with equal shapes (see matchers.ts). */
    toBeAllclose: (expected: Numeric, options?: AllcloseOptions) => T;
  }
}

interface Flat {
  shape: readonly number[];
  values: number[];
}

function flatten(value: unknown): Flat {
  if (value instanceof Tensor) return { shape: value.shape, values: Array.from(value.toArray()) };
  if (typeof value === "number") return { shape: [], values: [value] };
  if (ArrayBuffer.isView(value)) {
    const values = Array.from(value as unknown as ArrayLike<number>);
    return { shape: [values.length], values };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let level: unknown = value;
    while (Array.isArray(level)) {
      shape.push(level.length);
      level = level[0];
    }
    return { shape, values: (value as unknown[]).flat(Number.POSITIVE_INFINITY as 1) as number[] };
  }
  throw new TypeError(`toBeAllclose: cannot compare ${value === null ? "null" : typeof value}`);
}

function closeEnough(a: number, e: number, atol: number, rtol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

expect.extend({
  toBeAllclose(received: unknown, expected: Numeric, options: AllcloseOptions = {}) {
    const { atol = 1e-12, rtol = 1e-12 } = options;
    const actual = flatten(received);
    const wanted = flatten(expected);
    const shapeOk =
      actual.shape.length === wanted.shape.length &&
      actual.shape.every((s, d) => s === wanted.shape[d]) &&
      actual.values.length === wanted.values.length;
    if (!shapeOk) {
      return {
        pass: false,
        message: () =>
          `expected shape [${wanted.shape.join(", ")}] but received shape [${actual.shape.join(", ")}]`,
        actual: actual.values,
        expected: wanted.values,
      };
    }
    let worst = -1;
    let worstExcess = 0;
    let failures = 0;
    for (let i = 0; i < actual.values.length; i++) {
      const a = actual.values[i];
      const e = wanted.values[i];
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
    const pass = failures === 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected values not to be allclose (atol ${atol}, rtol ${rtol}), but all ${actual.values.length} were`
          : `${failures} of ${actual.values.length} elements differ beyond atol ${atol} + rtol ${rtol}·|expected|; ` +
            `worst at flat index ${worst}: received ${actual.values[worst]}, expected ${wanted.values[worst]} ` +
            `(difference ${Math.abs(actual.values[worst] - wanted.values[worst])})`,
      actual: actual.values,
      expected: wanted.values,
    };
  },
});
