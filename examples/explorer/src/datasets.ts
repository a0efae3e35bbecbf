// The 2-D toy sets of the Network view, from a seeded generator: two moons, circles, a spiral,
// XOR. Points in about [-1.5, 1.5]², labels 0 and 1.

import { Generator } from "@koubai/core";

export type DatasetName = "moons" | "circles" | "spiral" | "xor";
export const DATASETS: readonly DatasetName[] = ["moons", "circles", "spiral", "xor"];

export interface Points {
  /** [n, 2] coordinates, row-major. */
  xy: Float64Array;
  /** 0 or 1 per point. */
  labels: Int32Array;
}

/** `n` points of the named set with noise of standard deviation `noise`. */
export function makeDataset(name: DatasetName, n = 200, noise = 0.1, seed = 7): Points {
  const g = new Generator(seed);
  const xy = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = g.uniform();
    let x: number;
    let y: number;
    if (name === "moons") {
      const angle = Math.PI * t;
      [x, y] =
        label === 0
          ? [Math.cos(angle) - 0.5, Math.sin(angle) - 0.25]
          : [0.5 - Math.cos(angle), 0.25 - Math.sin(angle)];
    } else if (name === "circles") {
      const angle = 2 * Math.PI * t;
      const r = label === 0 ? 0.5 : 1.2;
      [x, y] = [r * Math.cos(angle), r * Math.sin(angle)];
    } else if (name === "spiral") {
      const r = 0.1 + 1.3 * t;
      const angle = 3 * Math.PI * t + label * Math.PI;
      [x, y] = [r * Math.cos(angle), r * Math.sin(angle)];
    } else {
      [x, y] = [2 * g.uniform() - 1, 2 * g.uniform() - 1];
      labels[i] = x * y > 0 ? 1 : 0;
      xy[2 * i] = x * 1.3;
      xy[2 * i + 1] = y * 1.3;
      continue;
    }
    labels[i] = label;
    xy[2 * i] = x + noise * g.normal();
    xy[2 * i + 1] = y + noise * g.normal();
  }
  return { xy, labels };
}
