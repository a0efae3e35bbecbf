// The buffer a tensor and all its views share. `version` counts in-place writes so that
// backward can refuse to use a saved tensor that was modified after the forward pass.

import type { TypedArray } from "./dtype.js";

let created = 0;

/**
 * The typed array shared by a tensor and all its views (`Tensor.storage`). Tensors never own
 * their elements; a view is a new shape/strides/offset over the same storage.
 */
export class Storage {
  /**
   * Counts in-place writes (`add_`, `copy_`, ...). A graph node remembers the version of each
   * tensor it saved, and backward throws if it changed since the forward pass.
   */
  version = 0;
  /** Creation order, so the autograd engine can tell buffers made during one backward step. */
  readonly serial = created++;
  constructor(
    /** The elements, in the typed array of the tensor's dtype. */
    readonly data: TypedArray,
  ) {}

  /** The serial the next storage will get. */
  static nextSerial(): number {
    return created;
  }
}
