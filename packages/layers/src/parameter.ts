// Parameter: the Tensor subclass that marks a module's learnable weights, so that `Module` can
// find them among its properties. It shares storage with the tensor it wraps (no copy).

import { type Tensor, Tensor as TensorClass } from "@koubai/core";

/**
 * A learnable tensor owned by a module, like `torch.nn.Parameter`: a leaf that requires grad by
 * default and shares storage with `data` (no copy). Only float32/float64 tensors can require grad.
 *
 * @example
 * ```ts
 * const w = new Parameter(zeros([3, 4])); // w.requiresGrad === true, w.isLeaf === true
 * ```
 */
export class Parameter extends TensorClass {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof TensorClass)) {
      throw new TypeError(
        `Parameter: expected a Tensor, got ${data === null ? "null" : typeof data}`,
      );
    }
    super(data.storage, data.shape, data.strides, data.offset);
    if (requiresGrad) this.requiresGrad_(true);
  }
}
