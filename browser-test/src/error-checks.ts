// Error messages as users see them. Layers name themselves with `typeName()`, which reads a static
// string field rather than `constructor.name`, so a minified production bundle keeps them readable.

import { matmul, ones } from "@koubai/core";
import { BatchNorm1d } from "@koubai/layers";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return "(no error thrown)";
}

export interface ErrorResult {
  /** matmul([2, 3], [4, 5]): an op name given as a string literal. */
  matmulShapes: string;
  /** new BatchNorm1d(0): a layer name taken from its static typeName. */
  batchNormFeatures: string;
  /** BatchNorm1d's `constructor.name`: "BatchNorm1d" unbundled, a short renamed one when minified. */
  batchNormClassName: string;
}

export function errorChecks(): ErrorResult {
  return {
    matmulShapes: messageOf(() => matmul(ones([2, 3]), ones([4, 5]))),
    batchNormFeatures: messageOf(() => new BatchNorm1d(0)),
    batchNormClassName: new BatchNorm1d(1).constructor.name,
  };
}
