// The buffer a tensor and all its views share. `version` counts in-place writes so that
// backward can refuse to use a saved tensor that was modified after the forward pass.

import type { TypedArray } from "./dtype.js";

export class Storage {
  version = 0;
  constructor(readonly data: TypedArray) {}
}
