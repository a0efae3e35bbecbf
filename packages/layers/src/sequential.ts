// Sequential: a chain of modules, children named "0", "1", ... as in PyTorch.

import type { Tensor } from "@koubai/core";
import { Module } from "./module.js";

/**
 * Runs its modules in order, feeding each output to the next. Children are named "0", "1", ...,
 * so parameters are `0.weight`, `1.running_mean`, ... exactly as in `nn.Sequential`.
 *
 * @example
 * ```ts
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * model.forward(randn([16, 4])).shape; // [16, 3]
 * ```
 */
export class Sequential extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Sequential";

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** Number of modules in the chain. */
  get length(): number {
    return this.children().length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const children = this.children();
    const i = index < 0 ? index + children.length : index;
    if (!Number.isInteger(i) || i < 0 || i >= children.length)
      throw new RangeError(
        `Sequential.at: index ${index} is out of range for ${children.length} modules`,
      );
    return children[i];
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const module of this.children()) out = module.forward(out);
    return out;
  }
}
