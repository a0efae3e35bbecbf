// The op-sample table (PyTorch's OpInfo idea): float64 sample inputs for every differentiable op
// of the registry, typed as Record<DifferentiableOpName, Sample[]> so that an op registered
// without samples does not compile. Inputs avoid kinks (|x|, relu, clamp bounds, ties) so that central
// differences are valid; behaviour at the kinks is pinned by the PyTorch fixtures instead.
// Longer than 300 lines because it is one table with a row per op.

import * as core from "../src/index.js";
import { Generator, type GradcheckOptions, type Tensor, tensor } from "../src/index.js";
import { type DifferentiableOpName, OPS, type OpName } from "../src/internal.js";

/** Every differentiable op of the registry (primitives and composites), in registry order. */
export const DIFFERENTIABLE_OPS = (Object.keys(OPS) as OpName[]).filter(
  (name): name is DifferentiableOpName => OPS[name].definition.differentiable,
);

export interface Sample {
  /** What this sample exercises, e.g. "broadcasts [2,1,3] with [3]". */
  description: string;
  /** float64 leaves; those that require grad are checked, the rest (indices, targets) ride along. */
  inputs: Tensor[];
  fn: (...inputs: Tensor[]) => Tensor | readonly Tensor[];
  /** Per-sample gradcheck settings (only where the default step is wrong for the op). */
  options?: GradcheckOptions;
}

const generator = new Generator(20240601);

/** Standard normal float64 leaf that requires grad. */
function r(...shape: number[]): Tensor {
  return core.randn(shape, { dtype: "float64", generator }).requiresGrad_(true);
}

/** Values in [0.5, 2.5): away from 0 for log, sqrt, division and pow bases. */
function p(...shape: number[]): Tensor {
  return core.rand(shape, { dtype: "float64", generator }).mul(2).add(0.5).requiresGrad_(true);
}

/** Random sign, magnitude in [0.5, 2): away from the kinks of abs, relu, sign. */
function nz(...shape: number[]): Tensor {
  const magnitude = core.rand(shape, { dtype: "float64", generator }).mul(1.5).add(0.5);
  const signs = core
    .rand(shape, { dtype: "float64", generator })
    .lt(0.5)
    .to("float64")
    .mul(2)
    .sub(1);
  return magnitude.mul(signs).requiresGrad_(true);
}

/** A float64 leaf with the given values. */
function c(values: core.NestedArray): Tensor {
  return tensor(values, { dtype: "float64", requiresGrad: true });
}

function ints(values: core.NestedArray): Tensor {
  return tensor(values, { dtype: "int32" });
}

function bools(values: core.NestedArray): Tensor {
  return tensor(values, { dtype: "bool" });
}

const unary = (fn: (x: Tensor) => Tensor, make: () => Tensor = () => r(2, 3)): Sample[] => [
  { description: "[2,3]", inputs: [make()], fn },
];

export const OP_SAMPLES: Record<DifferentiableOpName, Sample[]> = {
  neg: unary(core.neg),
  exp: unary(core.exp),
  log: unary(core.log, () => p(2, 3)),
  sqrt: unary(core.sqrt, () => p(2, 3)),
  rsqrt: unary(core.rsqrt, () => p(2, 3)),
  abs: unary(core.abs, () => nz(2, 3)),
  sign: unary(core.sign, () => nz(2, 3)),
  square: unary(core.square),
  tanh: unary(core.tanh),
  sigmoid: unary(core.sigmoid),
  relu: unary(core.relu, () => nz(2, 3)),
  leakyRelu: [{ description: "slope 0.2", inputs: [nz(2, 3)], fn: (x) => core.leakyRelu(x, 0.2) }],
  erf: unary(core.erf),
  clamp: [
    {
      description: "min and max",
      inputs: [c([-1.7, -0.6, 0.2, 0.9, 1.4])],
      fn: (x) => core.clamp(x, -1, 1),
    },
    { description: "only min", inputs: [c([-1.7, 0.2, 1.4])], fn: (x) => core.clamp(x, 0) },
    { description: "only max", inputs: [c([-1.7, 0.2, 1.4])], fn: (x) => core.clamp(x, null, 0) },
  ],
  add: [
    {
      description: "broadcasts [2,3] with [3]",
      inputs: [r(2, 3), r(3)],
      fn: (a, b) => core.add(a, b),
    },
    { description: "alpha 2.5", inputs: [r(2, 3), r(2, 1)], fn: (a, b) => core.add(a, b, 2.5) },
    { description: "JS number", inputs: [r(2, 2)], fn: (a) => core.add(a, 3) },
  ],
  sub: [
    {
      description: "broadcasts [] with [2,3]",
      inputs: [r(), r(2, 3)],
      fn: (a, b) => core.sub(a, b),
    },
    { description: "alpha -0.5", inputs: [r(3), r(3)], fn: (a, b) => core.sub(a, b, -0.5) },
  ],
  mul: [
    { description: "broadcasts [2,1,3] with [2,3]", inputs: [r(2, 1, 3), r(2, 3)], fn: core.mul },
    { description: "a tensor times itself", inputs: [r(4)], fn: (a) => core.mul(a, a) },
  ],
  div: [
    { description: "broadcasts [2,3] with [3]", inputs: [r(2, 3), nz(3)], fn: core.div },
    { description: "number by tensor", inputs: [nz(4)], fn: (b) => core.div(2, b) },
  ],
  pow: [
    { description: "tensor exponent", inputs: [p(2, 3), r(2, 3)], fn: core.pow },
    { description: "broadcast exponent [3]", inputs: [p(2, 3), r(3)], fn: core.pow },
    { description: "scalar exponent 2.5", inputs: [p(2, 3)], fn: (x) => core.pow(x, 2.5) },
    { description: "scalar exponent 3, any sign", inputs: [r(5)], fn: (x) => core.pow(x, 3) },
    { description: "number base", inputs: [r(4)], fn: (y) => core.pow(2, y) },
  ],
  maximum: [
    { description: "broadcasts [2,3] with [3]", inputs: [r(2, 3), r(3)], fn: core.maximum },
  ],
  minimum: [
    { description: "broadcasts [2,3] with [2,1]", inputs: [r(2, 3), r(2, 1)], fn: core.minimum },
  ],
  where: [
    {
      description: "condition [3] broadcast against [2,1] and []",
      inputs: [bools([1, 0, 1]), r(2, 1), r()],
      fn: core.where,
    },
    { description: "number branch", inputs: [r(2, 3)], fn: (a) => core.where(a.gt(0), a, 0.5) },
  ],
  sum: [
    { description: "all elements", inputs: [r(2, 3)], fn: (x) => core.sum(x) },
    {
      description: "dims [0,2] keepdim",
      inputs: [r(2, 3, 2)],
      fn: (x) => core.sum(x, [0, 2], true),
    },
  ],
  mean: [
    { description: "all elements", inputs: [r(2, 3)], fn: (x) => core.mean(x) },
    { description: "dim -1", inputs: [r(2, 3)], fn: (x) => core.mean(x, -1) },
  ],
  prod: [
    { description: "all elements", inputs: [r(2, 3)], fn: (x) => core.prod(x) },
    { description: "dim 1 keepdim", inputs: [r(3, 3)], fn: (x) => core.prod(x, 1, true) },
    {
      description: "dim 1 with one zero",
      inputs: [
        c([
          [1.5, 0, -2],
          [0.5, 1.2, 2],
        ]),
      ],
      fn: (x) => core.prod(x, 1),
    },
    {
      description: "dim 0 with two zeros",
      inputs: [
        c([
          [0, 1.1],
          [0, -2],
          [1.3, 0.7],
        ]),
      ],
      fn: (x) => core.prod(x, 0),
    },
  ],
  var: [
    { description: "dim 1 unbiased", inputs: [r(3, 4)], fn: (x) => core.variance(x, 1) },
    {
      description: "all, correction 0",
      inputs: [r(2, 3)],
      fn: (x) => core.variance(x, undefined, { correction: 0 }),
    },
    {
      description: "dims [0,2] keepdim",
      inputs: [r(2, 2, 3)],
      fn: (x) => core.var(x, [0, 2], { keepdim: true }),
    },
  ],
  std: [
    { description: "dim 0", inputs: [r(4, 2)], fn: (x) => core.std(x, 0) },
    {
      description: "all, correction 0",
      inputs: [r(5)],
      fn: (x) => core.std(x, undefined, { correction: 0 }),
    },
  ],
  amax: [{ description: "dims [0,1]", inputs: [r(2, 3, 2)], fn: (x) => core.amax(x, [0, 1]) }],
  amin: [{ description: "dim 1 keepdim", inputs: [r(2, 3)], fn: (x) => core.amin(x, 1, true) }],
  max: [
    { description: "all elements", inputs: [r(2, 3)], fn: (x) => core.max(x) },
    { description: "values along dim 1", inputs: [r(3, 4)], fn: (x) => core.max(x, 1).values },
  ],
  min: [
    { description: "all elements", inputs: [r(2, 3)], fn: (x) => core.min(x) },
    {
      description: "values along dim 0 keepdim",
      inputs: [r(3, 2)],
      fn: (x) => core.min(x, 0, true).values,
    },
  ],
  logsumexp: [
    { description: "dim 1", inputs: [r(2, 4)], fn: (x) => core.logsumexp(x, 1) },
    {
      description: "dims [0,1] keepdim",
      inputs: [r(2, 3)],
      fn: (x) => core.logsumexp(x, [0, 1], true),
    },
  ],
  cast: [
    {
      // float32 holds ~7 digits: a step of 1e-2 keeps rounding far below the tolerance (cast is linear).
      description: "float64 -> float32 -> float64",
      inputs: [r(2, 3)],
      fn: (x) => core.cast(core.cast(x, "float32"), "float64").mul(x),
      options: { eps: 1e-2, atol: 1e-5, rtol: 1e-5 },
    },
  ],
  contiguous: [
    { description: "of a transpose", inputs: [r(2, 3)], fn: (x) => core.contiguous(x.t()) },
  ],
  clone: unary(core.clone),
  reshape: [
    { description: "[2,3] -> [3,-1]", inputs: [r(2, 3)], fn: (x) => core.reshape(x, [3, -1]) },
    {
      description: "of a non-contiguous view (copies)",
      inputs: [r(2, 3)],
      fn: (x) => core.reshape(x.t(), [6]),
    },
  ],
  view: [
    { description: "[2,3,2] -> [6,2]", inputs: [r(2, 3, 2)], fn: (x) => core.view(x, [6, 2]) },
  ],
  transpose: [
    { description: "dims 0,2", inputs: [r(2, 3, 2)], fn: (x) => core.transpose(x, 0, 2) },
  ],
  t: [{ description: "[2,3]", inputs: [r(2, 3)], fn: core.t }],
  permute: [
    { description: "[2,0,1]", inputs: [r(2, 3, 2)], fn: (x) => core.permute(x, [2, 0, 1]) },
  ],
  expand: [
    { description: "[3,1] -> [2,3,4]", inputs: [r(3, 1)], fn: (x) => core.expand(x, [2, 3, 4]) },
  ],
  squeeze: [{ description: "all size-1 dims", inputs: [r(1, 3, 1)], fn: (x) => core.squeeze(x) }],
  unsqueeze: [{ description: "dim -1", inputs: [r(2, 3)], fn: (x) => core.unsqueeze(x, -1) }],
  flatten: [{ description: "dims 1..2", inputs: [r(2, 2, 2)], fn: (x) => core.flatten(x, 1, 2) }],
  narrow: [
    {
      description: "dim 1 start 1 length 2",
      inputs: [r(2, 4)],
      fn: (x) => core.narrow(x, 1, 1, 2),
    },
  ],
  slice: [
    { description: "step 2", inputs: [r(2, 5)], fn: (x) => core.slice(x, 1, 0, 5, 2) },
    { description: "negative start", inputs: [r(4, 2)], fn: (x) => core.slice(x, 0, -3) },
  ],
  select: [{ description: "dim 1 index -1", inputs: [r(2, 3)], fn: (x) => core.select(x, 1, -1) }],
  sliceScatter: [
    {
      description: "into [2,5] at 1,3 along dim 1",
      inputs: [r(2, 2)],
      fn: (src) => core.sliceScatter(src, [2, 5], 1, 1, 2),
    },
  ],
  matmul: [
    { description: "1-D @ 1-D", inputs: [r(3), r(3)], fn: core.matmul },
    { description: "2-D @ 2-D", inputs: [r(2, 3), r(3, 2)], fn: core.matmul },
    { description: "1-D @ 2-D", inputs: [r(3), r(3, 2)], fn: core.matmul },
    {
      description: "batched broadcast [2,1,2,3] @ [2,3,2]",
      inputs: [r(2, 1, 2, 3), r(2, 3, 2)],
      fn: core.matmul,
    },
  ],
  cat: [
    {
      description: "dim 1 of three",
      inputs: [r(2, 1), r(2, 2), r(2, 1)],
      fn: (...xs) => core.cat(xs, 1),
    },
  ],
  stack: [
    { description: "dim -1 of two", inputs: [r(2, 2), r(2, 2)], fn: (...xs) => core.stack(xs, -1) },
  ],
  split: [
    { description: "size 2 along dim 0", inputs: [r(5, 2)], fn: (x) => core.split(x, 2) },
    {
      description: "sizes [1,2] along dim 1",
      inputs: [r(2, 3)],
      fn: (x) => core.split(x, [1, 2], 1),
    },
  ],
  chunk: [
    { description: "3 chunks along dim 1", inputs: [r(2, 5)], fn: (x) => core.chunk(x, 3, 1) },
  ],
  indexSelect: [
    {
      description: "repeated indices dim 0",
      inputs: [r(3, 2), ints([2, 0, 2])],
      fn: (x, i) => core.indexSelect(x, 0, i),
    },
  ],
  indexAdd: [
    {
      description: "repeated indices dim 1",
      inputs: [r(2, 3), ints([0, 2, 0]), r(2, 3)],
      fn: (x, i, s) => core.indexAdd(x, 1, i, s),
    },
  ],
  gather: [
    {
      description: "dim 1 repeated",
      inputs: [
        r(2, 3),
        ints([
          [0, 0],
          [2, 1],
        ]),
      ],
      fn: (x, i) => core.gather(x, 1, i),
    },
  ],
  scatterAdd: [
    {
      description: "dim 0 repeated, src larger than index",
      inputs: [
        r(2, 3),
        ints([
          [1, 0],
          [1, 1],
        ]),
        r(3, 3),
      ],
      fn: (x, i, s) => core.scatterAdd(x, 0, i, s),
    },
  ],
  softmax: [
    { description: "dim 1", inputs: [r(2, 3)], fn: (x) => core.softmax(x, 1) },
    {
      // Constant inputs, so that the rows after this one keep drawing the same values.
      description: "middle dim of [2, 3, 2]",
      inputs: [
        c([
          [
            [0.5, -1],
            [1.2, 2],
            [-0.3, 1.7],
          ],
          [
            [1.1, 0.2],
            [-2, -0.4],
            [0.7, 0.4],
          ],
        ]),
      ],
      fn: (x) => core.softmax(x, 1),
    },
  ],
  logSoftmax: [
    { description: "dim 0", inputs: [r(3, 2)], fn: (x) => core.logSoftmax(x, 0) },
    {
      // Constant inputs, so that the rows after this one keep drawing the same values.
      description: "middle dim of [2, 3, 2], logits far apart",
      inputs: [
        c([
          [
            [0.5, -1],
            [30, 2],
            [-0.3, 1.7],
          ],
          [
            [1.1, 0.2],
            [-2, -40],
            [0.7, 0.4],
          ],
        ]),
      ],
      fn: (x) => core.logSoftmax(x, 1),
    },
  ],
  gelu: [
    { description: "exact", inputs: [r(2, 3)], fn: (x) => core.gelu(x) },
    {
      description: "tanh approximation",
      inputs: [r(2, 3)],
      fn: (x) => core.gelu(x, { approximate: "tanh" }),
    },
  ],
  linear: [
    {
      description: "with bias",
      inputs: [r(2, 3), r(2, 3), r(2)],
      fn: (x, w, b) => core.linear(x, w, b),
    },
    {
      description: "without bias, 3-D input",
      inputs: [r(2, 1, 3), r(2, 3)],
      fn: (x, w) => core.linear(x, w),
    },
  ],
  mseLoss: [{ description: "mean", inputs: [r(2, 3), r(2, 3)], fn: (a, b) => core.mseLoss(a, b) }],
  l1Loss: [
    {
      description: "sum, no ties",
      inputs: [c([0.5, -1.2, 2]), c([1.5, 0.3, -1])],
      fn: (a, b) => core.l1Loss(a, b, { reduction: "sum" }),
    },
  ],
  nllLoss: [
    {
      description: "class weights and an ignored target",
      inputs: [r(3, 4), ints([1, -100, 3])],
      fn: (x, y) => core.nllLoss(x, y, { weight: tensor([0.5, 1, 2, 1.5], { dtype: "float64" }) }),
    },
    {
      description: "reduction none, an ignored target",
      inputs: [
        c([
          [-1.2, -0.4, -2],
          [-0.1, -3, -0.9],
          [-0.5, -0.6, -0.7],
        ]),
        ints([2, 7, 0]),
      ],
      fn: (x, y) => core.nllLoss(x, y, { reduction: "none", ignoreIndex: 7 }),
    },
    {
      description: "reduction sum",
      inputs: [
        c([
          [-1.2, -0.4],
          [-0.1, -3],
        ]),
        ints([1, 0]),
      ],
      fn: (x, y) => core.nllLoss(x, y, { reduction: "sum" }),
    },
  ],
  crossEntropy: [
    {
      description: "class targets",
      inputs: [r(3, 4), ints([0, 3, 1])],
      fn: (x, y) => core.crossEntropy(x, y),
    },
    {
      description: "labelSmoothing 0.2, reduction sum",
      inputs: [r(3, 4), ints([2, 0, 1])],
      fn: (x, y) => core.crossEntropy(x, y, { labelSmoothing: 0.2, reduction: "sum" }),
    },
    {
      description: "probability targets (both differentiated)",
      inputs: [
        r(2, 3),
        c([
          [0.2, 0.5, 0.3],
          [0.1, 0.1, 0.8],
        ]),
      ],
      fn: (x, y) => core.crossEntropy(x, y),
    },
  ],
  binaryCrossEntropyWithLogits: [
    {
      description: "posWeight and weight",
      inputs: [
        r(2, 3),
        c([
          [0, 1, 0.3],
          [1, 0.5, 0],
        ]),
      ],
      fn: (x, y) =>
        core.binaryCrossEntropyWithLogits(x, y, {
          posWeight: tensor([2, 0.5, 1], { dtype: "float64" }),
          weight: tensor([[1], [0.5]], { dtype: "float64" }),
        }),
    },
  ],
  dropout: [
    {
      description: "p 0.4 with a fixed generator",
      inputs: [r(3, 4)],
      fn: (x) => core.dropout(x, { p: 0.4, generator: new Generator(7) }),
    },
  ],
  // New rows go last: every row draws its inputs from one seeded generator, so a row added in
  // the middle would change the inputs of all the rows after it.
  reluBackward: [
    {
      // Only gradOut is differentiated: out (relu's output) gets no gradient.
      description: "gradOut through relu's mask",
      inputs: [
        r(2, 3),
        tensor(
          [
            [0, 1.5, 0],
            [0.3, 0, 2],
          ],
          { dtype: "float64" },
        ),
      ],
      fn: (g, out) => OPS.reluBackward(g, out),
    },
  ],
  log1p: [
    { description: "values in (-0.5, 2)", inputs: [c([-0.45, -0.1, 0.3, 1.9])], fn: core.log1p },
  ],
  sin: unary(core.sin),
  cos: unary(core.cos),
  softplus: [
    { description: "beta 1, threshold 20", inputs: [r(2, 3)], fn: (x) => core.softplus(x) },
    {
      // Away from beta·x = threshold, where the derivative jumps from σ(threshold) to 1.
      description: "beta 2, threshold 1: both sides",
      inputs: [c([-1.5, -0.2, 0.1, 0.3, 0.8, 2.5])],
      fn: (x) => core.softplus(x, 2, 1),
    },
  ],
  conv2d: [
    {
      description: "padding 1, bias",
      inputs: [r(2, 2, 4, 5), r(3, 2, 2, 3), r(3)],
      fn: (x, w, b) => core.conv2d(x, w, b, { padding: 1 }),
    },
    {
      description: "stride [2, 1], dilation [1, 2], groups 2, no bias",
      inputs: [r(1, 4, 5, 6), r(2, 2, 2, 2)],
      fn: (x, w) => core.conv2d(x, w, null, { stride: [2, 1], dilation: [1, 2], groups: 2 }),
    },
    {
      description: 'padding "same" with an even kernel (the extra row and column after)',
      inputs: [r(1, 1, 4, 4), r(2, 1, 2, 2)],
      fn: (x, w) => core.conv2d(x, w, null, { padding: "same" }),
    },
    {
      description: "unbatched [C, H, W], depthwise, stride 2",
      inputs: [r(3, 5, 5), r(3, 1, 3, 3), r(3)],
      fn: (x, w, b) => core.conv2d(x, w, b, { groups: 3, padding: 1, stride: 2 }),
    },
    {
      description: "1×1 kernel",
      inputs: [r(2, 3, 2, 3), r(2, 3, 1, 1), r(2)],
      fn: (x, w, b) => core.conv2d(x, w, b),
    },
  ],
  conv1d: [
    {
      description: "stride 2, padding 1, bias",
      inputs: [r(2, 3, 7), r(2, 3, 3), r(2)],
      fn: (x, w, b) => core.conv1d(x, w, b, { stride: 2, padding: 1 }),
    },
    {
      description: 'dilation 2, padding "same"',
      inputs: [r(1, 2, 6), r(2, 2, 2)],
      fn: (x, w) => core.conv1d(x, w, null, { dilation: 2, padding: "same" }),
    },
  ],
  convTranspose2d: [
    {
      description: "stride 2, padding 1, outputPadding 1, bias",
      inputs: [r(1, 2, 3, 3), r(2, 3, 3, 3), r(3)],
      fn: (x, w, b) => core.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
    },
    {
      description: "groups 2, dilation 2, stride [1, 2]",
      inputs: [r(1, 4, 2, 3), r(4, 1, 2, 2)],
      fn: (x, w) => core.convTranspose2d(x, w, null, { groups: 2, dilation: 2, stride: [1, 2] }),
    },
  ],
  convTranspose1d: [
    {
      description: "stride 2, bias",
      inputs: [r(2, 2, 4), r(2, 3, 3), r(3)],
      fn: (x, w, b) => core.convTranspose1d(x, w, b, { stride: 2 }),
    },
  ],
  convolution: [
    {
      description: "asymmetric padding, stride 2 (rows dropped by the floor)",
      inputs: [r(1, 2, 6, 5), r(2, 2, 2, 3), r(2)],
      fn: (x, w, b) =>
        OPS.convolution(x, w, b, {
          stride: [2, 2],
          padding: [1, 0],
          paddingAfter: [0, 2],
          dilation: [1, 1],
          groups: 1,
          transposed: false,
        }),
    },
  ],
  convolutionWeight: [
    {
      description: "input and gradOut both differentiated, stride 2, groups 2",
      inputs: [r(2, 2, 5, 4), r(2, 4, 2, 2)],
      fn: (x, g) =>
        OPS.convolutionWeight(
          x,
          g,
          {
            stride: [2, 2],
            padding: [0, 1],
            paddingAfter: [0, 1],
            dilation: [1, 1],
            groups: 2,
            transposed: false,
          },
          [4, 1, 2, 2],
        ),
    },
  ],
  maxPool2d: [
    { description: "kernel 2", inputs: [r(2, 2, 4, 4)], fn: (x) => core.maxPool2d(x, 2) },
    {
      description: "kernel 3, stride 2, padding 1, ceilMode",
      inputs: [r(1, 2, 6, 6)],
      fn: (x) => core.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
    },
    {
      description: "unbatched, kernel [2, 3], dilation 2, returnIndices",
      inputs: [r(2, 5, 7)],
      fn: (x) => core.maxPool2d(x, [2, 3], { stride: 1, dilation: 2, returnIndices: true }).values,
    },
  ],
  maxPool1d: [
    {
      description: "kernel 3, stride 2, padding 1",
      inputs: [r(2, 3, 7)],
      fn: (x) => core.maxPool1d(x, 3, { stride: 2, padding: 1 }),
    },
  ],
  maxPoolScatter: [
    {
      description: "onto the maxima of a 4×4 plane",
      inputs: [r(1, 2, 2, 2)],
      fn: (g) => {
        const { indices } = core.maxPool2d(
          core.randn([1, 2, 4, 4], { generator: new Generator(3) }),
          2,
          {
            returnIndices: true,
          },
        );
        return OPS.maxPoolScatter(g, indices, [1, 2, 4, 4]);
      },
    },
  ],
  averagePool: [
    {
      description: "overlapping windows and their adjoint",
      inputs: [r(2, 3, 4), r(2, 4, 5)],
      fn: (x, g) => {
        const plan = {
          rowStart: [0, 1],
          rowEnd: [2, 3],
          rowSize: [2, 3],
          colStart: [0, 2, 3],
          colEnd: [3, 4, 4],
          colSize: [3, 2, 2],
          divisor: 0,
          inH: 3,
          inW: 4,
        };
        return [
          OPS.averagePool(x, plan),
          OPS.averagePool(g.narrow(1, 0, 2).narrow(2, 0, 3), plan, true),
        ];
      },
    },
  ],
  avgPool2d: [
    {
      description: "kernel 3, stride 2, padding 1, ceilMode, countIncludePad false",
      inputs: [r(1, 2, 6, 5)],
      fn: (x) =>
        core.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    },
    {
      description: "kernel [2, 3], divisorOverride 4",
      inputs: [r(2, 4, 6)],
      fn: (x) => core.avgPool2d(x, [2, 3], { divisorOverride: 4 }),
    },
  ],
  avgPool1d: [
    {
      description: "kernel 3, stride 2, padding 1",
      inputs: [r(2, 2, 7)],
      fn: (x) => core.avgPool1d(x, 3, { stride: 2, padding: 1 }),
    },
  ],
  adaptiveAvgPool2d: [
    {
      description: "5×7 to 2×3 (overlapping windows)",
      inputs: [r(1, 2, 5, 7)],
      fn: (x) => core.adaptiveAvgPool2d(x, [2, 3]),
    },
  ],
  adaptiveAvgPool1d: [
    { description: "7 to 3", inputs: [r(2, 7)], fn: (x) => core.adaptiveAvgPool1d(x, 3) },
  ],
  flip: [{ description: "dims [0, 2]", inputs: [r(2, 3, 4)], fn: (x) => core.flip(x, [0, 2]) }],
  roll: [
    {
      description: "shifts [1, -2] on dims [0, 1]",
      inputs: [r(3, 4)],
      fn: (x) => core.roll(x, [1, -2], [0, 1]),
    },
    { description: "flattened, shift 5", inputs: [r(2, 3)], fn: (x) => core.roll(x, 5) },
  ],
  repeat: [
    {
      description: "[2, 3] repeated [2, 1, 2]",
      inputs: [r(2, 3)],
      fn: (x) => core.repeat(x, [2, 1, 2]),
    },
  ],
  tile: [{ description: "[2, 3] tiled [2]", inputs: [r(2, 3)], fn: (x) => core.tile(x, [2]) }],
  pad: [
    {
      description: "constant, crop and pad",
      inputs: [r(2, 3, 4)],
      fn: (x) => core.pad(x, [1, -1, 2, 0], "constant", 0.5),
    },
    {
      description: "reflect",
      inputs: [r(1, 3, 4)],
      fn: (x) => core.pad(x, [2, 1, 1, 2], "reflect"),
    },
    { description: "replicate", inputs: [r(2, 3)], fn: (x) => core.pad(x, [2, 3], "replicate") },
    { description: "circular", inputs: [r(2, 4)], fn: (x) => core.pad(x, [1, 3], "circular") },
  ],
  cumsum: [{ description: "dim 1", inputs: [r(2, 4, 3)], fn: (x) => core.cumsum(x, 1) }],
  cumprod: [
    { description: "dim -1, no zeros", inputs: [nz(2, 4)], fn: (x) => core.cumprod(x, -1) },
    {
      description: "with zeros (the exact path)",
      inputs: [
        c([
          [0.5, 0, 2, 1.5],
          [1.2, -2, 0, 0],
        ]),
      ],
      fn: (x) => core.cumprod(x, 1),
    },
  ],
  sort: [
    {
      description: "descending along dim 0",
      inputs: [r(4, 3)],
      fn: (x) => core.sort(x, 0, { descending: true }).values,
    },
  ],
  topk: [
    {
      description: "k 2 smallest along the last dim",
      inputs: [r(3, 5)],
      fn: (x) => core.topk(x, 2, -1, { largest: false }).values,
    },
  ],
  varMean: [
    {
      description: "dim 1, correction 0, keepdim",
      inputs: [r(3, 4)],
      fn: (x) => core.varMean(x, 1, { correction: 0, keepdim: true }),
    },
  ],
  embedding: [
    {
      // paddingIdx is left out: its row's value depends on the weight but by definition gets no
      // gradient, which finite differences cannot agree with (the fixtures pin it instead).
      description: "repeated indices accumulate",
      inputs: [
        r(5, 3),
        ints([
          [1, 3, 1],
          [0, 4, 3],
        ]),
      ],
      fn: (w, idx) => core.embedding(idx, w),
    },
  ],
  batchNorm: [
    {
      description: "training over [N, C, H] with affine parameters",
      inputs: [r(4, 3, 2), r(3), r(3)],
      fn: (x, w, b) => core.batchNorm(x, null, null, w, b, true),
    },
    {
      description: "eval with running statistics",
      inputs: [r(4, 3), r(3)],
      fn: (x, b) =>
        core.batchNorm(
          x,
          tensor([0.1, -0.2, 0.3], { dtype: "float64" }),
          tensor([1.5, 0.5, 2], { dtype: "float64" }),
          null,
          b,
          false,
        ),
    },
  ],
  groupNorm: [
    {
      description: "6 channels in 2 groups, with weight and bias",
      inputs: [r(2, 6, 3), r(6), r(6)],
      fn: (x, w, b) => core.groupNorm(x, 2, w, b),
    },
  ],
  interpolate: [
    {
      description: "nearest, scaleFactor [2, 1.5]",
      inputs: [r(1, 2, 3, 4)],
      fn: (x) => core.interpolate(x, { scaleFactor: [2, 1.5] }),
    },
    {
      description: "nearest to size 5 (1-D)",
      inputs: [r(2, 1, 3)],
      fn: (x) => core.interpolate(x, { size: 5 }),
    },
  ],
  tan: [
    {
      description: "values in (-1.2, 1.2)",
      inputs: [c([-1.1, -0.4, 0.2, 0.9, 1.15])],
      fn: core.tan,
    },
  ],
  asin: [
    {
      description: "values in (-0.9, 0.9)",
      inputs: [c([-0.85, -0.3, 0.1, 0.6, 0.88])],
      fn: core.asin,
    },
  ],
  acos: [
    {
      description: "values in (-0.9, 0.9)",
      inputs: [c([-0.8, -0.2, 0.05, 0.5, 0.87])],
      fn: core.acos,
    },
  ],
  atan: unary(core.atan),
  sinh: unary(core.sinh),
  cosh: unary(core.cosh),
  expm1: unary(core.expm1),
  log2: unary(core.log2, () => p(2, 3)),
  log10: unary(core.log10, () => p(2, 3)),
  exp2: unary(core.exp2),
  atan2: [
    { description: "[2,3] with [3], every quadrant", inputs: [nz(2, 3), nz(3)], fn: core.atan2 },
  ],
  hypot: [{ description: "[2,3] with [2,1]", inputs: [nz(2, 3), nz(2, 1)], fn: core.hypot }],
  silu: unary(core.silu),
  mish: unary(core.mish),
  elu: [{ description: "alpha 0.7, both sides", inputs: [nz(2, 3)], fn: (x) => core.elu(x, 0.7) }],
  selu: unary(core.selu, () => nz(2, 3)),
  hardtanh: [
    {
      description: "range [-0.5, 1], inside and outside",
      inputs: [c([-1.5, -0.7, -0.3, 0.2, 0.8, 1.4])],
      fn: (x) => core.hardtanh(x, -0.5, 1),
    },
  ],
  center: [
    { description: "over dims [0, 2]", inputs: [r(3, 2, 4)], fn: (x) => core.center(x, [0, 2]) },
    { description: "over all dims", inputs: [r(2, 3)], fn: (x) => core.center(x) },
  ],
  addcmul: [
    {
      description: "[2,3] + [3]·[2,1]",
      inputs: [r(2, 3), r(3), r(2, 1)],
      fn: (a, b, c) => core.addcmul(a, b, c),
    },
    {
      description: "value -0.5, [3] + [2,3]·[2,3]",
      inputs: [r(3), r(2, 3), r(2, 3)],
      fn: (a, b, c) => core.addcmul(a, b, c, -0.5),
    },
  ],
  logSoftmaxBackward: [
    {
      description: "gradOut and out along dim 1",
      inputs: [r(2, 3), r(2, 3)],
      fn: (g, out) => OPS.logSoftmaxBackward(g, out, 1),
    },
  ],
  nllLossBackward: [
    {
      // Only gradOut is differentiated: columns and coefficients are constants of the targets.
      description: "a reduced gradOut",
      inputs: [r(), ints([2, 0, 1]), tensor([-0.25, 0, -0.5], { dtype: "float64" })],
      fn: (g, columns, coefficients) => OPS.nllLossBackward(g, columns, coefficients, [3, 4]),
    },
    {
      description: "a per-row gradOut (reduction none)",
      inputs: [r(3), ints([2, 0, 1]), tensor([-1, 0, -2], { dtype: "float64" })],
      fn: (g, columns, coefficients) => OPS.nllLossBackward(g, columns, coefficients, [3, 4]),
    },
  ],
  softmaxBackward: [
    {
      description: "gradOut and out along dim 1",
      inputs: [r(2, 3), p(2, 3)],
      fn: (g, out) => OPS.softmaxBackward(g, out, 1),
    },
  ],
};
