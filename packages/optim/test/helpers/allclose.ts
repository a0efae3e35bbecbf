// The `toBeAllclose` matcher: |actual − expected| <= atol + rtol·|expected| element-wise, with
// NaN equal to NaN and infinities equal only to themselves. Imported for its side effect.

import { Tensor } from "@koubai/core";
import { expect } from "vitest";

interface AllcloseOptions {
  atol?: number;
  rtol?: number;
}

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: must repeat Vitest's own declaration exactly.
  interface Matchers<T = any> {
    toBeAllclose(expected: ArrayLike<number> | number, options?: AllcloseOptions): T;
  }
}

function flat(value: unknown): number[] {
  if (value instanceof Tensor) return Array.from(value.toArray());
  if (typeof value === "number") return [value];
  return Array.from(value as ArrayLike<number>);
}

expect.extend({
  toBeAllclose(received: unknown, expected: unknown, options: AllcloseOptions = {}) {
    const { atol = 1e-12, rtol = 1e-12 } = options;
    const a = flat(received);
    const e = flat(expected);
    if (a.length !== e.length) {
      return {
        pass: false,
        message: () => `expected ${e.length} values, received ${a.length}`,
      };
    }
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < a.length; i++) {
      const same =
        (Number.isNaN(a[i]) && Number.isNaN(e[i])) ||
        a[i] === e[i] ||
        Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
      if (!same) {
        const excess = Math.abs(a[i] - e[i]) || Number.POSITIVE_INFINITY;
        if (worst < 0 || excess > worstExcess) {
          worst = i;
          worstExcess = excess;
        }
      }
    }
    return {
      pass: worst < 0,
      message: () =>
        worst < 0
          ? `expected values not to be allclose (atol ${atol}, rtol ${rtol})`
          : `values differ at index ${worst}: received ${a[worst]}, expected ${e[worst]} (|diff| ${worstExcess}, atol ${atol}, rtol ${rtol})`,
    };
  },
});
