// Embedding: a lookup table of learned rows, as nn.Embedding, over core's embedding.

import {
  embedding,
  type Generator,
  noGrad,
  randn,
  type Tensor,
  Tensor as TensorClass,
} from "@koubai/core";
import { creating, Module } from "./module.js";
import { Parameter } from "./parameter.js";

/** Options of {@link Embedding}, as the keyword arguments of `nn.Embedding`. */
export interface EmbeddingOptions {
  /** A row that is looked up like any other but receives no gradient; initialised to zeros. */
  paddingIdx?: number | null;
  /** Dtype of the table. Default float32. */
  dtype?: "float32" | "float64";
  /** Generator for the initial rows (default: core's default generator). */
  generator?: Generator;
}

/**
 * A table of `numEmbeddings` learned vectors of size `embeddingDim`, looked up by int32 indices,
 * as `nn.Embedding`: indices of any shape give [...shape, embeddingDim]. The weight (state-dict key
 * `weight`) starts as N(0, 1) samples, the padding row (if any) as zeros; repeated indices
 * accumulate their gradients.
 *
 * @example
 * ```ts
 * const table = new Embedding(100, 16);
 * table.forward(tensor([[1, 5, 5]], { dtype: "int32" })).shape; // [1, 3, 16]
 * ```
 */
export class Embedding extends Module {
  /** The name messages print, kept when minified (see `typeName()`). */
  static readonly typeName: string = "Embedding";

  /** The table, [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** The row that gets no gradient (normalised to be non-negative), or null. */
  readonly paddingIdx: number | null;

  /** @throws RangeError for sizes that are not positive integers or a paddingIdx out of range. */
  constructor(
    /** Rows of the table: indices must lie in [0, numEmbeddings). */
    readonly numEmbeddings: number,
    /** Size of each row. */
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    const owner = `Embedding(${numEmbeddings}, ${embeddingDim})`;
    for (const [what, n] of [
      ["numEmbeddings", numEmbeddings],
      ["embeddingDim", embeddingDim],
    ] as const) {
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`${owner}: ${what} must be a positive integer, got ${n}`);
    }
    const { paddingIdx = null, dtype = "float32", generator } = options;
    if (
      paddingIdx !== null &&
      (!Number.isInteger(paddingIdx) || paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)
    ) {
      throw new RangeError(
        `${owner}: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings - 1}], got ${paddingIdx}`,
      );
    }
    this.paddingIdx =
      paddingIdx === null ? null : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
    this.weight = creating(
      owner,
      "the weight",
      () => new Parameter(randn([numEmbeddings, embeddingDim], { dtype, generator })),
    );
    const pad = this.paddingIdx;
    if (pad !== null) noGrad(() => this.weight.select(0, pad).fill_(0));
  }

  /**
   * The rows at `indices` (int32, any shape): [...indices.shape, embeddingDim].
   *
   * @throws TypeError when indices are not an int32 tensor; RangeError for an index out of range.
   */
  forward(indices: Tensor): Tensor {
    if (!(indices instanceof TensorClass) || indices.dtype !== "int32") {
      const got = indices instanceof TensorClass ? `dtype ${indices.dtype}` : typeof indices;
      throw new TypeError(
        `Embedding(${this.numEmbeddings}, ${this.embeddingDim}): indices must be an int32 tensor, got ${got}; cast with .to("int32")`,
      );
    }
    return embedding(indices, this.weight, this.paddingIdx);
  }
}
