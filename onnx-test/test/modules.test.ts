// One test per module exportOnnx supports: exported on an example batch of 3, run in ONNX
// Runtime on a batch of 5 with a symbolic batch dim, and compared with Koubai's eval output.

import { manualSeed, randint, randn, type Tensor } from "@koubai/core";
import {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AvgPool1d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  ConvTranspose1d,
  ConvTranspose2d,
  Dropout,
  ELU,
  Embedding,
  Flatten,
  FusedBatchNorm1d,
  FusedBatchNorm2d,
  GELU,
  GroupNorm,
  Hardtanh,
  Identity,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool1d,
  MaxPool2d,
  Mish,
  type Module,
  ReLU,
  SELU,
  Sigmoid,
  SiLU,
  Softmax,
  Softplus,
  Tanh,
  Upsample,
} from "@koubai/layers";
import { beforeEach, describe, it } from "vitest";
import { expectSameInOnnxRuntime, warmUp } from "./helpers/check.js";

beforeEach(() => manualSeed(7));

/** A module and the shape of its input with the batch of 3 first. */
const CASES: [string, () => Module, number[]][] = [
  ["Linear", () => new Linear(6, 4), [3, 6]],
  ["Linear without bias", () => new Linear(6, 4, { bias: false }), [3, 6]],
  ["Linear on a 3-D input", () => new Linear(6, 4), [3, 2, 6]],
  [
    "Conv1d with same padding and dilation",
    () => new Conv1d(2, 3, 3, { padding: "same", dilation: 2 }),
    [3, 2, 9],
  ],
  [
    "Conv2d with stride, padding and groups",
    () => new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }),
    [3, 4, 8, 8],
  ],
  [
    "Conv2d with same padding of an even kernel",
    () => new Conv2d(2, 3, 4, { padding: "same" }),
    [3, 2, 7, 7],
  ],
  [
    "ConvTranspose2d with stride and output padding",
    () => new ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    [3, 4, 5, 5],
  ],
  ["ConvTranspose1d", () => new ConvTranspose1d(2, 3, 4, { stride: 2 }), [3, 2, 6]],
  ["BatchNorm1d on [N, C]", () => new BatchNorm1d(6), [3, 6]],
  ["BatchNorm1d on [N, C, L]", () => new BatchNorm1d(4), [3, 4, 5]],
  ["BatchNorm1d without affine", () => new BatchNorm1d(6, { affine: false }), [3, 6]],
  ["BatchNorm1d fused", () => new FusedBatchNorm1d(6), [3, 6]],
  ["BatchNorm2d", () => new BatchNorm2d(4), [3, 4, 5, 5]],
  ["BatchNorm2d fused", () => new FusedBatchNorm2d(4), [3, 4, 5, 5]],
  [
    "BatchNorm2d without running statistics",
    () => new BatchNorm2d(4, { trackRunningStats: false }),
    [3, 4, 5, 5],
  ],
  ["LayerNorm", () => new LayerNorm([5, 6]), [3, 4, 5, 6]],
  ["GroupNorm", () => new GroupNorm(2, 4), [3, 4, 5]],
  ["MaxPool2d", () => new MaxPool2d(2), [3, 2, 6, 6]],
  [
    "MaxPool2d with stride, padding, dilation and ceil mode",
    () => new MaxPool2d(3, { stride: 2, padding: 1, dilation: 1, ceilMode: true }),
    [3, 2, 8, 8],
  ],
  ["MaxPool1d", () => new MaxPool1d(2), [3, 2, 8]],
  ["AvgPool2d", () => new AvgPool2d(2), [3, 2, 6, 6]],
  [
    "AvgPool2d with padding, not counting it",
    () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
    [3, 2, 7, 7],
  ],
  [
    "AvgPool2d with padding, counting it",
    () => new AvgPool2d(3, { stride: 2, padding: 1 }),
    [3, 2, 7, 7],
  ],
  [
    "AvgPool2d with ceil mode and padding",
    () => new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
    [3, 2, 6, 6],
  ],
  [
    "AvgPool2d with ceil mode, not counting padding",
    () => new AvgPool2d(2, { stride: 2, ceilMode: true, countIncludePad: false }),
    [3, 2, 5, 5],
  ],
  ["MaxPool1d with ceil mode", () => new MaxPool1d(2, { ceilMode: true }), [3, 2, 7]],
  ["AvgPool1d", () => new AvgPool1d(3, { stride: 2 }), [3, 2, 9]],
  ["AdaptiveAvgPool2d to 1", () => new AdaptiveAvgPool2d(1), [3, 2, 5, 5]],
  ["AdaptiveAvgPool2d to a divisor", () => new AdaptiveAvgPool2d([2, 3]), [3, 2, 4, 6]],
  ["AdaptiveAvgPool1d to 1", () => new AdaptiveAvgPool1d(1), [3, 2, 7]],
  ["Flatten", () => new Flatten(), [3, 2, 3, 4]],
  ["Flatten of the last two dims", () => new Flatten(2), [3, 2, 3, 4]],
  ["Dropout (identity in eval)", () => new Dropout(0.5), [3, 4]],
  ["Identity", () => new Identity(), [3, 4]],
  ["ReLU", () => new ReLU(), [3, 4]],
  ["LeakyReLU", () => new LeakyReLU(0.2), [3, 4]],
  ["Sigmoid", () => new Sigmoid(), [3, 4]],
  ["Tanh", () => new Tanh(), [3, 4]],
  ["GELU", () => new GELU(), [3, 4]],
  ["GELU, tanh form", () => new GELU("tanh"), [3, 4]],
  ["SiLU", () => new SiLU(), [3, 4]],
  ["ELU", () => new ELU(0.7), [3, 4]],
  ["SELU", () => new SELU(), [3, 4]],
  ["Mish", () => new Mish(), [3, 4]],
  ["Softplus with beta and threshold", () => new Softplus(2, 3), [3, 4]],
  ["Hardtanh", () => new Hardtanh(-0.5, 0.5), [3, 4]],
  ["Softmax", () => new Softmax(1), [3, 4]],
  ["LogSoftmax", () => new LogSoftmax(-1), [3, 4]],
  ["Upsample (nearest) by a factor", () => new Upsample({ scaleFactor: 2 }), [3, 2, 3, 3]],
  ["Upsample (nearest) to a size", () => new Upsample({ size: [5, 7] }), [3, 2, 3, 3]],
];

describe("every supported module computes in ONNX Runtime what it computes in Koubai", () => {
  for (const [name, make, shape] of CASES) {
    it(`${name}, exported on a batch of 3 and run on a batch of 5`, async () => {
      const module = make();
      warmUp(module, () => randn(shape));
      const example = randn(shape).mul(3);
      const other = randn([5, ...shape.slice(1)]).mul(3);
      await expectSameInOnnxRuntime(module, example, other, { dynamicBatch: true });
    });
  }

  it("Embedding, on int32 indices [N, T]", async () => {
    const module = new Embedding(10, 4);
    const ids = (n: number): Tensor => randint(0, 10, [n, 6]);
    await expectSameInOnnxRuntime(module, ids(3), ids(5), { dynamicBatch: true });
  });
});
