// Unary ops at the edges PyTorch defines: clamp with crossed bounds.

import { describe, expect, it } from "vitest";
import { clamp, tensor } from "../../src/index.js";

describe("clamp", () => {
  it("sets every element to max when min > max, as torch.clamp does", () => {
    expect(Array.from(clamp(tensor([1, 2, 5]), 3, 1).toArray())).toEqual([1, 1, 1]);
  });

  it("lets NaN through", () => {
    expect(Number.isNaN(clamp(tensor([Number.NaN]), 0, 1).item())).toBe(true);
  });
});
