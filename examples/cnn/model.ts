// The small convolutional network of the CNN example, as the tutorials build it:
// Conv(1→16, 3, pad 1)-BatchNorm2d-ReLU-MaxPool(2) → Conv(16→32, 3, pad 1)-BatchNorm2d-ReLU-
// MaxPool(2) → Flatten → Linear(32·7·7 → 10), for [N, 1, 28, 28] digits.

import type { Generator } from "@koubai/core";
import {
  BatchNorm2d,
  Conv2d,
  Flatten,
  Identity,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from "@koubai/layers";

export function makeCnn(options: { batchNorm?: boolean; generator?: Generator } = {}): Sequential {
  const { batchNorm = true, generator } = options;
  const norm = (channels: number) => (batchNorm ? new BatchNorm2d(channels) : new Identity());
  return new Sequential(
    new Conv2d(1, 16, 3, { padding: 1, generator }),
    norm(16),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 1, generator }),
    norm(32),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(32 * 7 * 7, 10, { generator }),
  );
}
