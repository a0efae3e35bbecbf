// The buffer a tensor and all its views share. `version` counts in-place writes so that
// backward can refuse to use a saved tensor that was modified after the forward pass.

import type { TypedArray } from "./dtype.js";

let created = 0;

export class Storage {
  version = 0;
  /** Creation order, so the autograd engine can tell buffers made during one backward step. */
  readonly serial = created++;
  constructor(readonly data: TypedArray) {}

  /** The serial the next storage will get. */
  static nextSerial(): number {
    return created;
  }
}
