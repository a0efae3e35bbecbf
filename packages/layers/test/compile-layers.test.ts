// compile() against eager code for every layer: a small network around each, trained for a few
// steps on new batches (forward, loss, backward, an SGD-momentum update written with in-place
// ops), then run in eval mode. The compiled network must have eager's bits everywhere: losses,
// parameters, buffers (running statistics, numBatchesTracked) and eval outputs.

import {
  type CompileOptions,
  compile,
  Generator,
  manualSeed,
  noGrad,
  randint,
  randn,
  type Tensor,
  zerosLike,
} from "@koubai/core";
import { describe, expect, it } from "vitest";
import * as layers from "../src/index.js";
import type { Module } from "../src/module.js";

interface Case {
  /** The network, built after manualSeed (so two builds are the same network). */
  build(): Module;
  /** Input shape of a batch. */
  input: number[];
  /** The loss of the network's output on a batch's targets. */
  loss: "mse" | "crossEntropy" | "bce" | "nll";
  /** Integer inputs in [0, n) (an Embedding's indices) instead of normal values. */
  indices?: number;
}

const {
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
  GELU,
  GroupNorm,
  Hardtanh,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  MaxPool1d,
  MaxPool2d,
  Mish,
  ReLU,
  SELU,
  Sequential,
  Sigmoid,
  SiLU,
  Softmax,
  Softplus,
  Tanh,
  Upsample,
} = layers;

/** A [N, 6] → [N, 3] network with `layer` in the middle. */
function around(layer: () => Module): Case {
  return {
    build: () => new Sequential(new Linear(6, 5), layer(), new Linear(5, 3)),
    input: [8, 6],
    loss: "mse",
  };
}

const CASES: Record<string, Case> = {
  ReLU: around(() => new ReLU()),
  LeakyReLU: around(() => new LeakyReLU(0.1)),
  Tanh: around(() => new Tanh()),
  Sigmoid: around(() => new Sigmoid()),
  GELU: around(() => new GELU()),
  Softplus: around(() => new Softplus()),
  SiLU: around(() => new SiLU()),
  Mish: around(() => new Mish()),
  ELU: around(() => new ELU()),
  SELU: around(() => new SELU()),
  Hardtanh: around(() => new Hardtanh()),
  Softmax: around(() => new Softmax(1)),
  Dropout: around(() => new Dropout(0.3)),
  "BatchNorm1d (composed)": around(() => new BatchNorm1d(5)),
  "BatchNorm1d (fused)": around(() => new BatchNorm1d(5, { fused: true })),
  "BatchNorm1d without running statistics": around(
    () => new BatchNorm1d(5, { trackRunningStats: false }),
  ),
  "BatchNorm1d with cumulative averages (momentum null)": around(
    () => new BatchNorm1d(5, { momentum: null }),
  ),
  "BatchNorm1d (fused) with cumulative averages": around(
    () => new BatchNorm1d(5, { momentum: null, fused: true }),
  ),
  LayerNorm: around(() => new LayerNorm(5)),
  GroupNorm: {
    build: () =>
      new Sequential(new Conv1d(2, 4, 3), new GroupNorm(2, 4), new Flatten(), new Linear(16, 3)),
    input: [5, 2, 6],
    loss: "mse",
  },
  "Conv2d, BatchNorm2d, MaxPool2d (the CNN's layers)": {
    build: () =>
      new Sequential(
        new Conv2d(2, 3, 3, { padding: 1 }),
        new BatchNorm2d(3),
        new ReLU(),
        new MaxPool2d(2),
        new Flatten(),
        new Linear(12, 4),
      ),
    input: [4, 2, 4, 4],
    loss: "crossEntropy",
  },
  "BatchNorm2d (fused), AvgPool2d": {
    build: () =>
      new Sequential(
        new Conv2d(1, 2, 3, { padding: 1, stride: 1 }),
        new BatchNorm2d(2, { fused: true }),
        new AvgPool2d(2),
        new Flatten(),
        new Linear(8, 3),
      ),
    input: [4, 1, 4, 4],
    loss: "crossEntropy",
  },
  "Conv1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d": {
    build: () =>
      new Sequential(
        new Conv1d(2, 3, 3, { padding: 1 }),
        new MaxPool1d(2),
        new AvgPool1d(2, { stride: 1 }),
        new AdaptiveAvgPool1d(2),
        new Flatten(),
        new Linear(6, 2),
      ),
    input: [3, 2, 8],
    loss: "bce",
  },
  "ConvTranspose2d, AdaptiveAvgPool2d, Upsample": {
    build: () =>
      new Sequential(
        new ConvTranspose2d(2, 3, 3, { stride: 2 }),
        new AdaptiveAvgPool2d(3),
        new Upsample({ scaleFactor: 2 }),
        new Flatten(),
        new Linear(108, 3),
      ),
    input: [2, 2, 3, 3],
    loss: "mse",
  },
  ConvTranspose1d: {
    build: () => new Sequential(new ConvTranspose1d(2, 2, 3), new Flatten(), new Linear(14, 3)),
    input: [3, 2, 5],
    loss: "mse",
  },
  "Embedding, LogSoftmax (NLL loss)": {
    build: () =>
      new Sequential(new Embedding(10, 4), new Flatten(), new Linear(12, 5), new LogSoftmax(1)),
    input: [6, 3],
    loss: "nll",
    indices: 10,
  },
};

/** The batches of one run: inputs and targets from a seeded generator. */
function batches(c: Case, out: number[], count: number, dtype: "float32" | "float64") {
  const generator = new Generator(17);
  return Array.from({ length: count }, () => {
    const x =
      c.indices === undefined
        ? randn(c.input, { generator, dtype })
        : randint(0, c.indices, c.input, { generator });
    const classes = out[1];
    const target =
      c.loss === "mse"
        ? randn(out, { generator, dtype })
        : c.loss === "bce"
          ? randint(0, 2, out, { generator }).to(dtype)
          : randint(0, classes, [out[0]], { generator });
    return { x, target };
  });
}

/** Everything a run leaves behind, as bits to compare. */
function stateOf(net: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(net.stateDict())) out[name] = Array.from(t.toArray());
  return out;
}

/** Trains `net` (or its compiled step) and returns the losses, eval outputs and final state. */
function run(
  c: Case,
  compiled: boolean,
  options: CompileOptions = {},
  dtype: "float32" | "float64" = "float32",
) {
  manualSeed(3); // the same initial parameters, and the same dropout masks, in both runs
  const net = c.build();
  if (dtype === "float64") net.to("float64");
  const params = net.parameters();
  const velocity = params.map((p) => zerosLike(p));
  const lossOf = (y: Tensor, target: Tensor): Tensor => {
    if (c.loss === "mse") return new layers.MSELoss().forward(y, target);
    if (c.loss === "bce") return new layers.BCEWithLogitsLoss().forward(y, target);
    if (c.loss === "nll") return new layers.NLLLoss().forward(y, target);
    return new layers.CrossEntropyLoss().forward(y, target);
  };
  const step = (x: Tensor, target: Tensor): Tensor => {
    for (const p of params) p.grad = null;
    const loss = lossOf(net.forward(x), target);
    loss.backward();
    noGrad(() => {
      params.forEach((p, i) => {
        velocity[i].mul_(0.9).add_(p.grad!);
        p.sub_(velocity[i].mul(0.05));
      });
    });
    return loss;
  };
  const evaluate = (x: Tensor): Tensor => noGrad(() => net.forward(x));
  const compiledStep = compiled ? compile(step, options) : null;
  const train = compiledStep ?? step;
  const infer = compiled ? compile(evaluate, options) : evaluate;
  const probe = noGrad(() =>
    net.forward(
      c.indices === undefined ? randn(c.input, { dtype }) : randint(0, c.indices, c.input),
    ),
  );
  const data = batches(c, probe.shape.slice(), 6, dtype);
  const losses = data.slice(0, 4).map(({ x, target }) => Array.from(train(x, target).toArray()));
  net.eval();
  const outputs = data.slice(4).map(({ x }) => Array.from(infer(x).toArray()));
  net.train();
  losses.push(Array.from(train(data[5].x, data[5].target).toArray()));
  return {
    replays: compiledStep?.replays ?? 0,
    losses,
    outputs,
    state: stateOf(net),
    velocity: velocity.map((v) => Array.from(v.toArray())),
  };
}

const VARIANTS: Record<string, { options: CompileOptions; dtype: "float32" | "float64" }> = {
  float32: { options: {}, dtype: "float32" },
  float64: { options: {}, dtype: "float64" },
  "float32, check: true": { options: { check: true }, dtype: "float32" },
  "float32, fuse: false, reuseArrays: false": {
    options: { fuse: false, reuseArrays: false },
    dtype: "float32",
  },
};

describe.each(Object.keys(CASES))("a compiled training step with %s", (name) => {
  it.each(Object.keys(VARIANTS))(
    "has eager's losses, parameters, buffers and eval outputs, bit for bit (%s)",
    (variant) => {
      const c = CASES[name];
      const { options, dtype } = VARIANTS[variant];
      const eager = run(c, false, {}, dtype);
      const compiled = run(c, true, options, dtype);
      expect(compiled.losses).toEqual(eager.losses);
      expect(compiled.outputs).toEqual(eager.outputs);
      expect(compiled.state).toEqual(eager.state);
      expect(compiled.velocity).toEqual(eager.velocity);
      // Training calls 1 and 2 trace (the second checks the new input tensors), 3 and 4 replay;
      // the fifth, after eval() and train(), traces again.
      expect(compiled.replays).toBe(2);
      // Something was learned (a step that did nothing would pass the comparisons above).
      expect(compiled.losses[0]).not.toEqual(compiled.losses[3]);
    },
  );
});
