// softmax and logSoftmax on empty tensors: an empty result, as in PyTorch, not a reduction error.

import { describe, expect, it } from "vitest";
import { logSoftmax, softmax, zeros } from "../../src/index.js";

describe("softmax over an empty dim", () => {
  it("returns an empty tensor of the same shape", () => {
    expect(softmax(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([0, 3]), 1).shape).toEqual([0, 3]);
  });
});
