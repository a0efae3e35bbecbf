// Mini-batch SGD with momentum on the MNIST split for the CNN: shuffled batches each epoch,
// cross-entropy, the learning rate annealed from lr to 0 over all steps (cosine), held-out
// accuracy after every epoch.

import {
  type CompiledFunction,
  compile,
  Generator,
  manualSeed,
  noGrad,
  type Tensor,
} from "@koubai/core";
import { CrossEntropyLoss, type Sequential } from "@koubai/layers";
import { CosineAnnealingLR, SGD } from "@koubai/optim";
import type { MnistData, Split } from "../mnist/data.js";
import type { ProgressState } from "../mnist/progress.js";
import { evaluate, permutation, type StepRecord } from "../mnist/train.js";
import { makeCnn } from "./model.js";

export interface CnnTrainOptions {
  batchNorm: boolean;
  lr: number;
  epochs: number;
  batchSize?: number;
  momentum?: number;
  seed?: number;
  /** Run the training step under core's compile(): traced once per batch shape, then replayed. */
  compile?: boolean;
  onProgress?: (state: ProgressState, final: boolean) => void;
}

export interface CnnTrainResult {
  model: Sequential;
  /** Loss per step (preMean and preStd are not recorded: 0). */
  steps: StepRecord[];
  testAccuracies: number[];
  testAccuracy: number;
  seconds: number;
  /** Median milliseconds of a training step (forward, backward, update). */
  stepMilliseconds: number;
  /** With `compile`: how often the step was traced (batch shapes × train/eval switches). */
  traces?: number;
}

/** Images as the network takes them: [N, 784] → [N, 1, 28, 28]. */
export function asImages(split: Split): Split {
  return { images: split.images.reshape([-1, 1, 28, 28]), labels: split.labels };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function trainCnn(data: MnistData, options: CnnTrainOptions): CnnTrainResult {
  const { epochs, lr, batchNorm, batchSize = 64, momentum = 0.9, seed = 0 } = options;
  manualSeed(seed);
  const model = makeCnn({ batchNorm });
  const lossFn = new CrossEntropyLoss();
  const optimizer = new SGD(model.parameters(), { lr, momentum });
  const train = asImages(data.train);
  const test = asImages(data.test);
  const n = train.labels.shape[0];
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: epochs * Math.ceil(n / batchSize) });
  const generator = new Generator(seed + 1);
  const steps: StepRecord[] = [];
  const stepTimes: number[] = [];
  const testAccuracies: number[] = [];
  const started = performance.now();
  // One training step: forward, backward, update. It returns the loss and the logits (read
  // after the step), so it can run compiled: no value is read inside it.
  const trainStep = (x: Tensor, y: Tensor) => {
    const logits = model.forward(x);
    const loss = lossFn.forward(logits, y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    return { loss, logits };
  };
  const step = options.compile ? compile(trainStep) : trainStep;
  model.train();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    const order = permutation(n, generator);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    const progress = (final: boolean, testAccuracy?: number) =>
      options.onProgress?.(
        {
          epoch,
          epochs,
          done: seen,
          total: n,
          loss: lossSum / seen,
          accuracy: correct / seen,
          samplesPerSecond: seen / ((performance.now() - epochStart) / 1000),
          ...(testAccuracy === undefined ? {} : { testAccuracy }),
        },
        final,
      );
    for (let start = 0; start < n; start += batchSize) {
      const indexTensor = order.narrow(0, start, Math.min(batchSize, n - start));
      const x = train.images.indexSelect(0, indexTensor);
      const y = train.labels.indexSelect(0, indexTensor);
      const t0 = performance.now();
      const { loss, logits } = step(x, y);
      scheduler.step();
      stepTimes.push(performance.now() - t0);
      const lossValue = loss.item();
      steps.push({ step: steps.length + 1, loss: lossValue, preMean: 0, preStd: 0 });
      lossSum += lossValue * y.shape[0];
      correct += countCorrect(logits, y);
      seen += y.shape[0];
      progress(false);
    }
    const testAccuracy = evaluate(model, test);
    testAccuracies.push(testAccuracy);
    progress(true, testAccuracy);
  }
  return {
    model,
    steps,
    testAccuracies,
    testAccuracy: testAccuracies[testAccuracies.length - 1] ?? Number.NaN,
    seconds: (performance.now() - started) / 1000,
    stepMilliseconds: median(stepTimes),
    ...(options.compile ? { traces: (step as CompiledFunction<Tensor[], unknown>).traces } : {}),
  };
}

function countCorrect(logits: Tensor, labels: Tensor): number {
  return noGrad(() => logits.argmax(1).eq(labels).sum().item());
}
