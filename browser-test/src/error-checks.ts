// Error messages as users see them. Layers name themselves with `this.constructor.name`, so this
// shows whether a production bundle (minified) keeps class names readable.

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
  /** new BatchNorm1d(0): a layer name taken from its constructor. */
  batchNormFeatures: string;
}

export function errorChecks(): ErrorResult {
  return {
    matmulShapes: messageOf(() => matmul(ones([2, 3]), ones([4, 5]))),
    batchNormFeatures: messageOf(() => new BatchNorm1d(0)),
  };
}
