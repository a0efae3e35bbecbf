// The convolution functions' argument handling: shapes of "same" and transposed outputs,
// unbatched inputs, views read through their strides, bias optional, and an error for every bad
// argument naming the function, the shapes and what was expected. Values and gradients are
// pinned by the op-sample table (gradcheck) and the PyTorch fixtures.

import { describe, expect, it } from "vitest";
import {
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  randn,
  tensor,
  zeros,
} from "../../src/index.js";

const x4 = () => randn([2, 3, 8, 8], { dtype: "float64" });
const w4 = () => randn([4, 3, 3, 3], { dtype: "float64" });

describe("conv2d", () => {
  it('keeps the size with padding "same" for odd and even kernels and any dilation', () => {
    const x = x4();
    expect(
      conv2d(x, randn([5, 3, 3, 3], { dtype: "float64" }), null, { padding: "same" }).shape,
    ).toEqual([2, 5, 8, 8]);
    expect(
      conv2d(x, randn([5, 3, 2, 4], { dtype: "float64" }), null, {
        padding: "same",
        dilation: [3, 1],
      }).shape,
    ).toEqual([2, 5, 8, 8]);
  });

  it("computes the same on views as on their contiguous copies", () => {
    const base = randn([3, 2, 9, 8], { dtype: "float64" });
    const view = base.transpose(0, 1).narrow(3, 1, 6); // [2, 3, 9, 6], strided
    const w = w4();
    expect(conv2d(view, w, null, { stride: 2 })).toBeAllclose(
      conv2d(view.contiguous(), w, null, { stride: 2 }),
      {
        atol: 0,
        rtol: 0,
      },
    );
    const wView = randn([3, 4, 3, 3], { dtype: "float64" }).transpose(0, 1);
    const x = x4();
    expect(conv2d(x, wView)).toBeAllclose(conv2d(x, wView.contiguous()), { atol: 0, rtol: 0 });
  });

  it("takes an unbatched [C, H, W] input and gives [Cout, Ho, Wo]", () => {
    const x = x4();
    const w = w4();
    const batched = conv2d(x, w, null, { padding: 1 });
    expect(conv2d(x.select(0, 1), w, null, { padding: 1 })).toBeAllclose(batched.select(0, 1), {
      atol: 0,
      rtol: 0,
    });
  });

  it("keeps float32 in float32", () => {
    const out = conv2d(randn([1, 3, 5, 5]), randn([2, 3, 3, 3]), randn([2]));
    expect(out.dtype).toBe("float32");
    expect(out.shape).toEqual([1, 2, 3, 3]);
  });

  it("refuses bad ranks, channel counts, groups, bias and options, naming shapes and values", () => {
    const x = x4();
    const w = w4();
    expect(() => conv2d(zeros([3, 8]), w)).toThrow(
      "conv2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got shape [3, 8]",
    );
    expect(() => conv2d(x, zeros([4, 3, 3], { dtype: "float64" }))).toThrow(
      "conv2d: expected a 4-D weight [Cout, Cin/groups, kh, kw], got shape [4, 3, 3]",
    );
    expect(() => conv2d(x, randn([4, 2, 3, 3], { dtype: "float64" }))).toThrow(
      "conv2d: the input has 3 channels but the weight expects 2·1 = 2 (input [2, 3, 8, 8], weight [4, 2, 3, 3], groups 1)",
    );
    expect(() =>
      conv2d(
        randn([1, 4, 5, 5], { dtype: "float64" }),
        randn([3, 2, 3, 3], { dtype: "float64" }),
        null,
        { groups: 2 },
      ),
    ).toThrow("conv2d: 3 output channels do not split into 2 groups");
    expect(() => conv2d(x, w, zeros([3], { dtype: "float64" }))).toThrow(
      "conv2d: bias must have shape [4] (one per output channel), got [3]",
    );
    expect(() => conv2d(x, w.float())).toThrow(
      /conv2d: input, weight and bias must share one float dtype; got input float64, weight float32/,
    );
    expect(() =>
      conv2d(tensor([[[[1]]]], { dtype: "int32" }), tensor([[[[1]]]], { dtype: "int32" })),
    ).toThrow(/share one float dtype; got input int32/);
    expect(() => conv2d(x, w, null, { stride: 0 })).toThrow(
      "conv2d: stride must be an integer or 2 integers, each at least 1; got 0",
    );
    expect(() => conv2d(x, w, null, { padding: [1, 2, 3] })).toThrow(
      /conv2d: padding must be an integer or 2 integers/,
    );
    expect(() => conv2d(x, w, null, { padding: -1 })).toThrow(/each at least 0; got -1/);
    expect(() => conv2d(x, w, null, { dilation: 1.5 })).toThrow(/dilation must be/);
    expect(() => conv2d(x, w, null, { groups: 0 })).toThrow(
      "conv2d: groups must be a positive integer, got 0",
    );
    expect(() => conv2d(x, w, null, { padding: "full" as "same" })).toThrow(
      'conv2d: padding must be a number, a list of numbers, "same" or "valid", got "full"',
    );
    expect(() => conv2d(x, w, null, { padding: "same", stride: 2 })).toThrow(
      'conv2d: padding "same" needs stride 1',
    );
    expect(() => conv2d(randn([1, 3, 2, 8], { dtype: "float64" }), w)).toThrow(
      "conv2d: the output's H would be 0 (input [1, 3, 2, 8], weight [4, 3, 3, 3]): the kernel with its dilation is larger than the padded input",
    );
    expect(() => conv2d(x, w, null, null as unknown as object)).toThrow(
      "conv2d: options must be an object",
    );
    expect(() => conv2d([1, 2] as unknown as typeof x, w)).toThrow(
      "conv2d: input must be a Tensor, got an array",
    );
  });
});

describe("conv1d", () => {
  it("takes [N, C, L] and unbatched [C, L], with the 1-D names in errors", () => {
    const x = randn([2, 3, 10], { dtype: "float64" });
    const w = randn([4, 3, 3], { dtype: "float64" });
    expect(conv1d(x, w, null, { stride: 2 }).shape).toEqual([2, 4, 4]);
    expect(conv1d(x.select(0, 0), w).shape).toEqual([4, 8]);
    expect(() => conv1d(x, w, null, { stride: [1, 2] })).toThrow(
      "conv1d: stride must be an integer, each at least 1; got [1,2]",
    );
    expect(() => conv1d(randn([1, 3, 2], { dtype: "float64" }), w)).toThrow(
      "conv1d: the output's L would be 0",
    );
  });
});

describe("convTranspose2d", () => {
  it("produces (H - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1", () => {
    const x = randn([1, 4, 5, 6], { dtype: "float64" });
    const w = randn([4, 3, 3, 2], { dtype: "float64" });
    expect(
      convTranspose2d(x, w, null, {
        stride: [2, 3],
        padding: 1,
        outputPadding: [1, 2],
        dilation: [1, 2],
      }).shape,
    ).toEqual([1, 3, 10, 18]);
  });

  it("undoes conv2d's shape: conv2d(convTranspose2d(x)) has x's shape", () => {
    const x = randn([2, 4, 7, 7], { dtype: "float64" });
    const w = randn([4, 2, 3, 3], { dtype: "float64" });
    const up = convTranspose2d(x, w, null, { stride: 2, padding: 1 });
    expect(conv2d(up, w, null, { stride: 2, padding: 1 }).shape).toEqual(x.shape);
  });

  it("refuses an outputPadding not smaller than stride or dilation, and mismatched channels", () => {
    const x = randn([1, 4, 5, 5], { dtype: "float64" });
    expect(() =>
      convTranspose2d(x, randn([4, 3, 3, 3], { dtype: "float64" }), null, {
        stride: 2,
        outputPadding: 2,
      }),
    ).toThrow(
      "convTranspose2d: outputPadding must be smaller than either stride or dilation, got outputPadding 2, stride 2, dilation 1",
    );
    expect(() => convTranspose2d(x, randn([3, 3, 3, 3], { dtype: "float64" }))).toThrow(
      "convTranspose2d: the input has 4 channels but the weight's dim 0 says 3",
    );
    expect(() =>
      convTranspose2d(x, randn([4, 3, 3, 3], { dtype: "float64" }), null, { groups: 3 }),
    ).toThrow("convTranspose2d: 4 input channels do not split into 3 groups");
    expect(() =>
      convTranspose2d(
        x,
        randn([4, 3, 3, 3], { dtype: "float64" }),
        zeros([4], { dtype: "float64" }),
      ),
    ).toThrow("convTranspose2d: bias must have shape [3]");
  });
});

describe("convTranspose1d", () => {
  it("maps [N, Cin, L] to [N, Cout, (L - 1)·stride - 2·padding + k + outputPadding]", () => {
    const x = randn([2, 2, 5], { dtype: "float64" });
    expect(
      convTranspose1d(x, randn([2, 3, 4], { dtype: "float64" }), null, {
        stride: 3,
        padding: 1,
        outputPadding: 2,
      }).shape,
    ).toEqual([2, 3, 16]);
  });
});
