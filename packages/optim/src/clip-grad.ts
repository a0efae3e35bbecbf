// Gradient clipping: rescale all gradients by their joint norm, or clamp each element.

import { noGrad, stack, Tensor, zeros } from "@koubai/core";
import { activeTracer, peekGrad } from "@koubai/core/internal";

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Order p of the norm: any p > 0, 0 (count of non-zeros), or ±Infinity. Default 2. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it. Default false. */
  errorIfNonfinite?: boolean;
}

function gradsOf(params: Iterable<Tensor> | Tensor): Tensor[] {
  const list = params instanceof Tensor ? [params] : Array.from(params);
  // While a function is traced the getter tells the trace which gradients it read; otherwise
  // peekGrad reads without counting as a read that may keep the gradient (clipping keeps none),
  // so a compiled step can still reuse its array.
  const read = activeTracer() === null ? peekGrad : (p: Tensor) => p.grad;
  return list.map(read).filter((g): g is Tensor => g !== null);
}

/** `‖g‖_p` as a 0-d tensor of g's dtype, as `torch.linalg.vector_norm`. */
function vectorNorm(g: Tensor, p: number): Tensor {
  if (p === Number.POSITIVE_INFINITY) return g.abs().amax();
  if (p === Number.NEGATIVE_INFINITY) return g.abs().amin();
  if (p === 0) return g.ne(0).to(g.dtype).sum();
  if (p === 1) return g.abs().sum();
  if (p === 2) return g.square().sum().sqrt();
  return g
    .abs()
    .pow(p)
    .sum()
    .pow(1 / p);
}

/**
 * Rescales the gradients of `params` in place so that their joint p-norm is at most `maxNorm`
 * (>= 0: torch 1.13 accepts a negative one, which flips every gradient; Koubai refuses it),
 * like `torch.nn.utils.clip_grad_norm_`, and returns the joint norm before clipping as a 0-d
 * tensor (read it with `item()`). The joint norm is the norm of the per-parameter norms (in
 * float64 when any gradient is float64); every gradient is multiplied by
 * `min(1, maxNorm / (total + 1e-6))`. Parameters without a gradient are skipped (with none at all
 * the result is a float32 0). It is made of tensor ops, with no branch on the norm, so it can run
 * inside a compiled training step, except with `errorIfNonfinite`, which reads the norm.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0); // a 0-d tensor
 * optimizer.step();
 * console.log(norm.item());
 * ```
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor,
  maxNorm: number,
  { normType = 2, errorIfNonfinite = false }: ClipGradNormOptions = {},
): Tensor {
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) {
    throw new TypeError(`clipGradNorm: maxNorm must be a number, got ${String(maxNorm)}`);
  }
  // torch 1.13 accepts a negative maxNorm and multiplies every gradient by a negative factor,
  // turning descent into ascent; Koubai refuses it.
  if (maxNorm < 0) {
    throw new RangeError(
      `clipGradNorm: maxNorm must be >= 0, got ${maxNorm} (a negative one would flip the gradients' sign)`,
    );
  }
  if (typeof normType !== "number" || Number.isNaN(normType) || normType < 0) {
    if (normType !== Number.NEGATIVE_INFINITY) {
      throw new RangeError(
        `clipGradNorm: normType must be a number >= 0 or ±Infinity, got ${String(normType)}`,
      );
    }
  }
  const grads = gradsOf(params);
  if (grads.length === 0) return zeros([]);
  return noGrad(() => {
    const dtype = grads.some((g) => g.dtype === "float64") ? "float64" : "float32";
    const norms = grads.map((g) => vectorNorm(g.detach(), normType).to(dtype));
    const total = vectorNorm(stack(norms), normType);
    if (errorIfNonfinite) {
      // A branch on the norm's value: inside a traced (compiled) function, a read a replay
      // would not repeat.
      activeTracer()?.read("clipGradNorm", total);
      const value = total.item();
      if (!Number.isFinite(value)) {
        throw new Error(
          `clipGradNorm: the total norm of order ${normType} for gradients from params is non-finite (${value}), so it cannot be clipped; pass errorIfNonfinite: false to scale the gradients by it anyway`,
        );
      }
    }
    // As torch: maxNorm / (total + 1e-6), which it computes as a reciprocal times maxNorm,
    // clamped to at most 1 (no branch: a norm below maxNorm multiplies by 1).
    const coefficient = total.add(1e-6).pow(-1).mul(maxNorm).clamp(null, 1);
    for (const g of grads) g.mul_(coefficient.to(g.dtype));
    return total;
  });
}

/**
 * Clamps every gradient element of `params` into `[-clipValue, clipValue]` in place, like
 * `torch.nn.utils.clip_grad_value_`. Parameters without a gradient are skipped.
 *
 * @example
 * ```ts
 * clipGradValue(model.parameters(), 0.5);
 * ```
 */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  if (typeof clipValue !== "number" || Number.isNaN(clipValue)) {
    throw new TypeError(`clipGradValue: clipValue must be a number, got ${String(clipValue)}`);
  }
  // torch 1.13 clamps into the empty range [-clipValue, clipValue] for a negative one, setting
  // every gradient to clipValue; Koubai refuses it, as it refuses a negative maxNorm.
  if (clipValue < 0)
    throw new RangeError(`clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  noGrad(() => {
    for (const g of gradsOf(params)) g.clamp_(-clipValue, clipValue);
  });
}
