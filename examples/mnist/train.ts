// Mini-batch SGD on the MNIST split: shuffled batches each epoch, cross-entropy, SGD with
// momentum, a per-step cosine schedule, held-out accuracy after every epoch, and a probe that
// records the mean and std of one hidden layer's pre-activations at every step.

import {
  type CompiledFunction,
  compile,
  Generator,
  manualSeed,
  noGrad,
  type Tensor,
  tensor,
} from "@koubai/core";
import { CrossEntropyLoss, type Sequential } from "@koubai/layers";
import { CosineAnnealingLR, SGD } from "@koubai/optim";
import type { MnistData, Split } from "./data.js";
import { buildMlp } from "./model.js";
import type { ProgressState } from "./progress.js";

export interface TrainOptions {
  batchNorm: boolean;
  lr: number;
  epochs: number;
  batchSize?: number;
  momentum?: number;
  /** Cosine annealing from lr to 0 over all steps (default), or a constant rate. */
  schedule?: "cosine" | "constant";
  seed?: number;
  /** Run the training step under core's compile(): traced once per batch shape, then replayed. */
  compile?: boolean;
  onProgress?: (state: ProgressState, final: boolean) => void;
}

export interface StepRecord {
  step: number;
  loss: number;
  /** Mean and std of the second hidden layer's pre-activations (the input to its ReLU). */
  preMean: number;
  preStd: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  model: Sequential;
  steps: StepRecord[];
  epochs: EpochRecord[];
  testAccuracy: number;
  seconds: number;
  samplesPerSecond: number;
  /** With `compile`: how often the step was traced (batch shapes × train/eval switches). */
  traces?: number;
}

/** Runs the model's children in order, handing the input of child `probeIndex` to `probe`. */
function forwardWithProbe(
  model: Sequential,
  x: Tensor,
  probeIndex: number,
  probe: (h: Tensor) => void,
): Tensor {
  let h = x;
  model.children().forEach((child, i) => {
    if (i === probeIndex) probe(h);
    h = child.forward(h);
  });
  return h;
}

function correctCount(logits: Tensor, labels: Tensor): number {
  return noGrad(() => logits.argmax(1).eq(labels).sum().item());
}

/** Held-out accuracy in eval mode (running BatchNorm statistics), in chunks of 500. */
export function evaluate(model: Sequential, split: Split): number {
  model.eval();
  const n = split.labels.shape[0];
  let correct = 0;
  noGrad(() => {
    for (let start = 0; start < n; start += 500) {
      const len = Math.min(500, n - start);
      correct += correctCount(
        model.forward(split.images.narrow(0, start, len)),
        split.labels.narrow(0, start, len),
      );
    }
  });
  model.train();
  return correct / n;
}

/** 0..n-1 in an order shuffled by `generator` (Fisher-Yates), as an int32 tensor. */
export function permutation(n: number, generator: Generator): Tensor {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return tensor(order);
}

export function train(data: MnistData, options: TrainOptions): TrainResult {
  const {
    epochs,
    lr,
    batchNorm,
    batchSize = 128,
    momentum = 0.9,
    schedule = "cosine",
    seed = 0,
  } = options;
  manualSeed(seed);
  const { model, probeIndex } = buildMlp(batchNorm);
  const lossFn = new CrossEntropyLoss();
  const optimizer = new SGD(model.parameters(), { lr, momentum });
  const n = data.train.labels.shape[0];
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const scheduler =
    schedule === "cosine"
      ? new CosineAnnealingLR(optimizer, { tMax: epochs * stepsPerEpoch })
      : null;
  const generator = new Generator(seed + 1);
  const steps: StepRecord[] = [];
  const epochRecords: EpochRecord[] = [];
  const started = performance.now();
  // One training step. The probe's statistics are returned as tensors and read after the step,
  // so the step reads no value inside and can run compiled.
  const trainStep = (x: Tensor, y: Tensor) => {
    let preMean: Tensor | null = null;
    let preStd: Tensor | null = null;
    const logits = forwardWithProbe(model, x, probeIndex, (h) => {
      preMean = h.detach().mean();
      preStd = h.detach().std(undefined, { correction: 0 });
    });
    const loss = lossFn.forward(logits, y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return { loss, logits, preMean: preMean!, preStd: preStd! };
  };
  const step = options.compile ? compile(trainStep) : trainStep;
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    const order = permutation(n, generator);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    const report = (final: boolean, seconds: number, testAccuracy?: number) =>
      options.onProgress?.(
        {
          epoch,
          epochs,
          done: seen,
          total: n,
          loss: lossSum / seen,
          accuracy: correct / seen,
          samplesPerSecond: seen / seconds,
          ...(testAccuracy === undefined ? {} : { testAccuracy }),
        },
        final,
      );
    for (let start = 0; start < n; start += batchSize) {
      const index = order.narrow(0, start, Math.min(batchSize, n - start));
      const x = data.train.images.indexSelect(0, index);
      const y = data.train.labels.indexSelect(0, index);
      const result = step(x, y);
      const { loss, logits } = result;
      const preMean = result.preMean.item();
      const preStd = result.preStd.item();
      scheduler?.step();
      const b = y.shape[0];
      const lossValue = loss.item();
      steps.push({ step: steps.length + 1, loss: lossValue, preMean, preStd });
      lossSum += lossValue * b;
      correct += correctCount(logits, y);
      seen += b;
      report(false, (performance.now() - epochStart) / 1000);
    }
    const seconds = (performance.now() - epochStart) / 1000;
    const testAccuracy = evaluate(model, data.test);
    epochRecords.push({
      epoch,
      trainLoss: lossSum / seen,
      trainAccuracy: correct / seen,
      testAccuracy,
      seconds,
    });
    report(true, seconds, testAccuracy);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    model,
    steps,
    epochs: epochRecords,
    testAccuracy: epochRecords[epochRecords.length - 1]?.testAccuracy ?? Number.NaN,
    seconds,
    samplesPerSecond: (n * epochs) / seconds,
    ...(options.compile ? { traces: (step as CompiledFunction<Tensor[], unknown>).traces } : {}),
  };
}
