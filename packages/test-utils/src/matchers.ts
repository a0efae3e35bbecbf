// The `toBeAllclose` matcher for Vitest, registered when this module is imported (each package
// lists it in its vitest.config.ts setupFiles). Tensors are recognised by their `shape` and
// `toArray()`, so this package does not depend on @koubai/core. Shapes must match: a number is
// 0-d, a flat list 1-d; compare `t.toArray()` to check an n-d tensor's values in row-major order.

import { expect } from "vitest";
import { type AllcloseOptions, compareValues } from "./allclose.js";

/** Numbers to compare with: a tensor, a number, nested arrays or a flat (typed) array. */
type Numeric =
  | { shape: readonly number[]; toArray(): ArrayLike<number> }
  | ArrayLike<unknown>
  | number;

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: must match Vitest's own declaration.
  interface Matchers<T = any> {
    /** Elementwise closeness to `expected` (see @koubai/test-utils' matchers.ts). */
    toBeAllclose: (expected: Numeric, options?: AllcloseOptions) => T;
  }
}

interface Flat {
  shape: readonly number[];
  values: number[];
}

function isTensorLike(
  value: unknown,
): value is { shape: readonly number[]; toArray(): ArrayLike<number> } {
  return (
    typeof value === "object" &&
    value !== null &&
    "shape" in value &&
    "toArray" in value &&
    typeof value.toArray === "function"
  );
}

function flatten(value: unknown): Flat {
  if (isTensorLike(value)) return { shape: value.shape, values: Array.from(value.toArray()) };
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

const format = (shape: readonly number[]) => `[${shape.join(", ")}]`;

expect.extend({
  toBeAllclose(received: unknown, expected: Numeric, options: AllcloseOptions = {}) {
    const { atol = 1e-12, rtol = 1e-12 } = options;
    const actual = flatten(received);
    const wanted = flatten(expected);
    const shapesDiffer =
      actual.shape.length !== wanted.shape.length ||
      actual.shape.some((s, d) => s !== wanted.shape[d]) ||
      actual.values.length !== wanted.values.length;
    if (shapesDiffer) {
      return {
        pass: false,
        message: () =>
          `expected shape ${format(wanted.shape)} but received shape ${format(actual.shape)}`,
        actual: actual.values,
        expected: wanted.values,
      };
    }
    const { failures, worst } = compareValues(actual.values, wanted.values, { atol, rtol });
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
