// compile() against eager code for every optimizer and option, under every scheduler: a small
// two-layer model trained for several steps on new batches, compiled and eagerly, must end with
// the same bits in its losses, parameters and optimizer state. A replayed step reads each group's
// current settings (a scheduler's learning rate, OneCycleLR's momentum or betas), and gradient
// clipping inside the step is made of ops.

import { compile, Generator, manualSeed, randn, type Tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  clipGradNorm,
  clipGradValue,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
} from "../src/index.js";

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; frozen: Tensor };

interface Schedule {
  step(loss: number): void;
}

const OPTIMIZERS: Record<string, (p: Params) => Optimizer> = {
  SGD: (p) => new SGD([p.w1, p.b1, p.w2], { lr: 0.05 }),
  "SGD with momentum": (p) => new SGD([p.w1, p.b1, p.w2], { lr: 0.05, momentum: 0.9 }),
  "SGD, Nesterov, weight decay": (p) =>
    new SGD([p.w1, p.b1, p.w2], { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
  "SGD, dampening, maximize": (p) =>
    new SGD([p.w1, p.b1, p.w2], { lr: 0.01, momentum: 0.9, dampening: 0.3, maximize: true }),
  "SGD with two parameter groups": (p) =>
    new SGD(
      [
        { params: [p.w1, p.b1], lr: 0.02 },
        { params: [p.w2], momentum: 0.5 },
      ],
      { lr: 0.05, momentum: 0.9 },
    ),
  Adam: (p) => new Adam([p.w1, p.b1, p.w2], { lr: 0.01 }),
  "Adam, AMSGrad, weight decay": (p) =>
    new Adam([p.w1, p.b1, p.w2], { lr: 0.01, amsgrad: true, weightDecay: 0.05 }),
  "Adam, maximize": (p) => new Adam([p.w1, p.b1, p.w2], { lr: 0.01, maximize: true }),
  AdamW: (p) => new AdamW([p.w1, p.b1, p.w2], { lr: 0.01, weightDecay: 0.1 }),
  "AdamW, AMSGrad": (p) => new AdamW([p.w1, p.b1, p.w2], { lr: 0.01, amsgrad: true }),
};

const SCHEDULES: Record<string, (o: Optimizer) => Schedule> = {
  "no scheduler": () => ({ step() {} }),
  StepLR: (o) => new StepLR(o, { stepSize: 2, gamma: 0.5 }),
  MultiStepLR: (o) => new MultiStepLR(o, { milestones: [1, 3], gamma: 0.3 }),
  ExponentialLR: (o) => new ExponentialLR(o, { gamma: 0.8 }),
  CosineAnnealingLR: (o) => new CosineAnnealingLR(o, { tMax: 4 }),
  LinearLR: (o) => new LinearLR(o, { startFactor: 0.2, totalIters: 3 }),
  LambdaLR: (o) => new LambdaLR(o, { lrLambda: (epoch) => 1 / (1 + epoch) }),
  SequentialLR: (o) =>
    new SequentialLR(o, {
      schedulers: [
        new LinearLR(o, { startFactor: 0.5, totalIters: 2 }),
        new ExponentialLR(o, { gamma: 0.7 }),
      ],
      milestones: [2],
    }),
  "OneCycleLR (cycles momentum or beta1)": (o) => new OneCycleLR(o, { maxLr: 0.05, totalSteps: 8 }),
  "ReduceLROnPlateau (reads the loss outside the step)": (o) => {
    const plateau = new ReduceLROnPlateau(o, { patience: 0, factor: 0.5, mode: "max" });
    return { step: (loss) => plateau.step(loss) };
  },
};

/** A tanh MLP [N, 4] → [N, 2] with a parameter that does not require grad (frozen). */
function model(): Params {
  manualSeed(8);
  return {
    w1: randn([4, 6]).mul(0.5).requiresGrad_(),
    b1: randn([6]).mul(0.1).requiresGrad_(),
    w2: randn([6, 2]).mul(0.5).requiresGrad_(),
    frozen: randn([2]),
  };
}

type Clip = "none" | "norm" | "value";

function train(
  makeOptimizer: (p: Params) => Optimizer,
  makeSchedule: (o: Optimizer) => Schedule,
  clip: Clip,
  compiled: boolean,
) {
  const p = model();
  const optimizer = makeOptimizer(p);
  const schedule = makeSchedule(optimizer);
  const step = (x: Tensor, y: Tensor): Tensor => {
    optimizer.zeroGrad();
    const out = x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).add(p.frozen);
    const loss = out.sub(y).square().mean();
    loss.backward();
    if (clip === "norm") clipGradNorm([p.w1, p.b1, p.w2], 0.5);
    if (clip === "value") clipGradValue([p.w1, p.b1, p.w2], 0.05);
    optimizer.step();
    return loss;
  };
  const compiledStep = compiled ? compile(step) : null;
  const run = compiledStep ?? step;
  const generator = new Generator(21);
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const x = randn([5, 4], { generator });
    const y = randn([5, 2], { generator });
    const loss = run(x, y).item();
    losses.push(loss);
    schedule.step(loss);
  }
  const state = JSON.stringify(optimizer.stateDict());
  return {
    losses,
    params: [p.w1, p.b1, p.w2, p.frozen].map((t) => Array.from(t.toArray())),
    state,
    lrs: optimizer.paramGroups.map((g) => g.lr),
    replays: compiledStep?.replays ?? 0,
  };
}

const rows = Object.keys(OPTIMIZERS).flatMap((o) =>
  Object.keys(SCHEDULES).map((s) => [o, s] as const),
);

describe.each(rows)("a compiled step with %s and %s", (optimizerName, scheduleName) => {
  it.each(["none", "norm", "value"] as const)(
    "has eager's losses, parameters and optimizer state, bit for bit (gradient clipping: %s)",
    (clip) => {
      const makeOptimizer = OPTIMIZERS[optimizerName];
      const makeSchedule = SCHEDULES[scheduleName];
      const eager = train(makeOptimizer, makeSchedule, clip, false);
      const compiled = train(makeOptimizer, makeSchedule, clip, true);
      expect(compiled.losses).toEqual(eager.losses);
      expect(compiled.params).toEqual(eager.params);
      expect(compiled.state).toEqual(eager.state);
      expect(compiled.lrs).toEqual(eager.lrs);
      // Calls 1 and 2 trace (the second checks the new input tensors); the rest replay.
      expect(compiled.replays).toBe(6);
      // The parameters moved (a step that did nothing would pass the comparisons above).
      expect(compiled.params[0]).not.toEqual(Array.from(model().w1.toArray()));
      expect(eager.losses[0]).not.toBe(eager.losses[7]);
    },
  );
});

/** Schedulers stepped inside the compiled step, each given the step's loss tensor when it reads one. */
const INSIDE: Record<string, (o: Optimizer) => { step(loss: Tensor): void }> = {
  StepLR: (o) => {
    const s = new StepLR(o, { stepSize: 2, gamma: 0.5 });
    return { step: () => s.step() };
  },
  SequentialLR: (o) => {
    const s = new SequentialLR(o, {
      schedulers: [
        new LinearLR(o, { startFactor: 0.5, totalIters: 2 }),
        new ExponentialLR(o, { gamma: 0.7 }),
      ],
      milestones: [2],
    });
    return { step: () => s.step() };
  },
  OneCycleLR: (o) => {
    const s = new OneCycleLR(o, { maxLr: 0.05, totalSteps: 8 });
    return { step: () => s.step() };
  },
  "ReduceLROnPlateau on the loss tensor": (o) => {
    const s = new ReduceLROnPlateau(o, { patience: 0, factor: 0.5, mode: "max" });
    return { step: (loss) => s.step(loss) };
  },
};

describe.each(Object.keys(INSIDE))("a compiled step that steps %s inside", (name) => {
  it("replays the scheduler's step as eager code makes it, bit for bit", () => {
    const run = (compiled: boolean) => {
      const p = model();
      const optimizer = new SGD([p.w1, p.b1, p.w2], { lr: 0.05, momentum: 0.9 });
      const schedule = INSIDE[name](optimizer);
      const step = (x: Tensor, y: Tensor): Tensor => {
        optimizer.zeroGrad();
        const loss = x.matmul(p.w1).add(p.b1).tanh().matmul(p.w2).sub(y).square().mean();
        loss.backward();
        optimizer.step();
        schedule.step(loss);
        return loss;
      };
      const compiledStep = compiled ? compile(step) : null;
      const generator = new Generator(22);
      const lrs: number[] = [];
      for (let i = 0; i < 8; i++) {
        (compiledStep ?? step)(randn([5, 4], { generator }), randn([5, 2], { generator }));
        lrs.push(optimizer.paramGroups[0].lr);
      }
      return { lrs, w1: Array.from(p.w1.toArray()), replays: compiledStep?.replays ?? 0 };
    };
    const eager = run(false);
    const compiled = run(true);
    expect(compiled.lrs).toEqual(eager.lrs);
    expect(compiled.w1).toEqual(eager.w1);
    expect(compiled.replays).toBe(6);
    expect(new Set(eager.lrs).size).toBeGreaterThan(1); // the rate did change
  });
});

describe("a compiled step and optimizer or scheduler state", () => {
  it("refuses constructing a scheduler inside the step, whose writes a replay would not redo", () => {
    const p = model();
    const optimizer = new SGD([p.w1, p.b1, p.w2], { lr: 0.1 });
    const linear = compile((x: Tensor) => {
      new LinearLR(optimizer, { startFactor: 0.5, totalIters: 4 }); // writes lr = 0.05
      return x.mul(2);
    });
    expect(() => linear(randn([2]))).toThrow(
      "LinearLR: constructing a scheduler while a function is traced: it changes the optimizer's settings in JavaScript, which a replay would not do again",
    );
    expect(optimizer.paramGroups[0].lr).toBe(0.1); // refused before it wrote anything
    const plateau = compile((x: Tensor) => {
      new ReduceLROnPlateau(optimizer);
      return x.mul(2);
    });
    expect(() => plateau(randn([2]))).toThrow(/^ReduceLROnPlateau: constructing a scheduler while/);
  });

  it("refuses loading an optimizer's or a scheduler's state inside the step, which a replay would not do again", () => {
    const p = model();
    const optimizer = new Adam([p.w1, p.b1, p.w2], { lr: 0.01 });
    const scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    const plateau = new ReduceLROnPlateau(optimizer);
    const saved = optimizer.stateDict();
    const savedScheduler = scheduler.stateDict();
    const savedPlateau = plateau.stateDict();
    // Moved on since the save, so that a load that happened would show.
    scheduler.step();
    plateau.step(1);
    const now = {
      optimizer: optimizer.stateDict(),
      scheduler: scheduler.stateDict(),
      plateau: plateau.stateDict(),
    };
    expect(now.scheduler).not.toEqual(savedScheduler);
    expect(now.optimizer).not.toEqual(saved);
    expect(now.plateau).not.toEqual(savedPlateau);
    const withOptimizer = compile((x: Tensor) => {
      optimizer.loadStateDict(saved);
      return x.mul(2);
    });
    expect(() => withOptimizer(randn([2]))).toThrow(
      "Adam.loadStateDict while a function is traced: it changes the optimizer's settings in JavaScript, which a replay would not do again",
    );
    const withScheduler = compile((x: Tensor) => {
      scheduler.loadStateDict(savedScheduler);
      return x.mul(2);
    });
    expect(() => withScheduler(randn([2]))).toThrow(
      /^StepLR\.loadStateDict while a function is traced/,
    );
    const withPlateau = compile((x: Tensor) => {
      plateau.loadStateDict(savedPlateau);
      return x.mul(2);
    });
    expect(() => withPlateau(randn([2]))).toThrow(/^ReduceLROnPlateau\.loadStateDict while/);
    // Refused before anything changed: the states are what they were before the calls.
    expect(optimizer.stateDict()).toEqual(now.optimizer);
    expect(scheduler.stateDict()).toEqual(now.scheduler);
    expect(plateau.stateDict()).toEqual(now.plateau);
    // Between calls, as the message says, it works.
    expect(() => optimizer.loadStateDict(saved)).not.toThrow();
  });
});
