// flip, roll, repeat, tile and pad: shapes, views as inputs, and every error. Values and
// gradients (first and second order) are pinned by the op-sample table and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import { arange, flip, pad, repeat, roll, tensor, tile } from "../../src/index.js";

describe("flip", () => {
  it("reverses a strided view along its dims and refuses a repeated dim", () => {
    const x = arange(6).reshape([2, 3]).t(); // [3, 2], strided
    expect(flip(x, 0).tolist()).toEqual([
      [2, 5],
      [1, 4],
      [0, 3],
    ]);
    expect(x.flip([0, 1]).tolist()).toEqual([
      [5, 2],
      [4, 1],
      [3, 0],
    ]);
    expect(() => flip(x, [1, -1])).toThrow("flip: dim [1,-1] repeats a dim");
  });
});

describe("roll", () => {
  it("wraps elements around, any shift modulo the size", () => {
    expect(roll(tensor([1, 2, 3, 4]), -5, 0).tolist()).toEqual([2, 3, 4, 1]);
    expect(
      roll(
        tensor([
          [1, 2],
          [3, 4],
        ]),
        1,
      ).tolist(),
    ).toEqual([
      [4, 1],
      [2, 3],
    ]);
    expect(() => roll(tensor([1, 2]), [1, 2], [0])).toThrow(
      "roll: shifts and dims must have the same length, got 2 shifts and 1 dims",
    );
    expect(() => roll(tensor([1, 2]), 1.5, 0)).toThrow(
      "roll: each shift must be an integer, got 1.5",
    );
  });
});

describe("repeat and tile", () => {
  it("repeat adds leading dims, tile pads the counts with leading 1s", () => {
    const x = tensor([1, 2]);
    expect(repeat(x, [2, 2]).tolist()).toEqual([
      [1, 2, 1, 2],
      [1, 2, 1, 2],
    ]);
    expect(tile(tensor([[1], [2]]), [3]).tolist()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(repeat(x, [0]).shape).toEqual([0]);
    expect(() => repeat(tensor([[1]]), [2])).toThrow(
      "repeat: needs at least one count per dim of the tensor (shape [1, 1]), got [2]",
    );
    expect(() => repeat(x, [-1])).toThrow("repeat: counts must be non-negative integers, got [-1]");
  });
});

describe("pad", () => {
  it("pads the last dim first, with every mode", () => {
    const x = tensor([[1, 2, 3]]);
    expect(pad(x, [1, 2]).tolist()).toEqual([[0, 1, 2, 3, 0, 0]]);
    expect(pad(x, [0, 0, 1, 0], "constant", 7).tolist()).toEqual([
      [7, 7, 7],
      [1, 2, 3],
    ]);
    expect(pad(x, [2, 1], "reflect").tolist()).toEqual([[3, 2, 1, 2, 3, 2]]);
    expect(pad(x, [2, 1], "replicate").tolist()).toEqual([[1, 1, 1, 2, 3, 3]]);
    expect(pad(x, [1, 2], "circular").tolist()).toEqual([[3, 1, 2, 3, 1, 2]]);
    expect(pad(x, [-1, -1]).tolist()).toEqual([[2]]);
  });

  it("refuses bad pad lists, modes and counts, naming them", () => {
    const x = tensor([[1, 2, 3]]);
    expect(() => pad(x, [1])).toThrow(
      "pad: pad must list (before, after) pairs for at most 2 dims (last dim first), got [1]",
    );
    expect(() => pad(x, [1, 1], "wrap" as "constant")).toThrow(
      'pad: mode must be "constant", "reflect", "replicate" or "circular", got "wrap"',
    );
    expect(() => pad(x, [3, 0], "reflect")).toThrow(
      "pad: reflect padding must be smaller than the dim it pads, got (3, 0) for dim 1 of size 3 (shape [1, 3])",
    );
    expect(() => pad(x, [-1, 0], "replicate")).toThrow(
      "pad: replicate padding takes no negative counts",
    );
    expect(() => pad(x, [4, 0], "circular")).toThrow(
      "pad: circular padding of (4, 0) does not fit dim 1 of size 3",
    );
  });
});
