// Gradient clipping: rescale all gradients by their joint norm, or clamp each element.

import { noGrad, Tensor, type TypedArray } from "@koubai/core";
import { activeTracer } from "@koubai/core/internal";

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Order p of the norm: any p > 0, 0 (count of non-zeros), or ±Infinity. Default 2. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it. Default false. */
  errorIfNonfinite?: boolean;
}

function gradsOf(params: Iterable<Tensor> | Tensor): Tensor[] {
  const list = params instanceof Tensor ? [params] : Array.from(params);
  return list.filter((p) => p.grad !== null).map((p) => p.grad!);
}

/** `‖x‖_p` over a flat array of values, as `torch.linalg.vector_norm`. */
function vectorNorm(values: ArrayLike<number>, p: number): number {
  const n = values.length;
  if (p === Number.POSITIVE_INFINITY || p === Number.NEGATIVE_INFINITY) {
    let out = p > 0 ? 0 : Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]);
      // Written so that NaN propagates, as torch's max/min do.
      if (a !== a) return Number.NaN;
      out = p > 0 ? (a > out ? a : out) : a < out ? a : out;
    }
    return out;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    if (p === 0) sum += a !== 0 ? 1 : 0;
    else if (p === 1) sum += a;
    else if (p === 2) sum += a * a;
    else sum += a ** p;
  }
  if (p === 0 || p === 1) return sum;
  return p === 2 ? Math.sqrt(sum) : sum ** (1 / p);
}

function valuesOf(t: Tensor): TypedArray {
  return t.isContiguous() ? t.data.subarray(t.offset, t.offset + t.numel()) : t.toArray();
}

/**
 * Rescales the gradients of `params` in place so that their joint p-norm is at most `maxNorm`
 * (>= 0: torch 1.13 accepts a negative one, which flips every gradient; Koubai refuses it),
 * like `torch.nn.utils.clip_grad_norm_`, and returns the joint norm before clipping (as a JS
 * number). The joint norm is the norm of the per-parameter norms; every gradient is multiplied
 * by `min(1, maxNorm / (total + 1e-6))`. Parameters without a gradient are skipped (with none
 * at all the result is 0). Float32 gradients give a float32-rounded norm and factor, as in torch.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * optimizer.step();
 * ```
 */
export function clipGradNorm(
  params: Iterable<Tensor> | Tensor,
  maxNorm: number,
  { normType = 2, errorIfNonfinite = false }: ClipGradNormOptions = {},
): number {
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
  if (grads.length === 0) return 0;
  // The norm is computed from the gradients' values in JavaScript: inside a traced (compiled)
  // function that is a read of tensor values, which a replay would not repeat.
  const tracer = activeTracer();
  for (const g of grads) tracer?.read("clipGradNorm", g);
  const round = grads.every((g) => g.dtype === "float32") ? Math.fround : (x: number) => x;
  const norms = grads.map((g) => round(vectorNorm(valuesOf(g), normType)));
  const total = round(vectorNorm(norms, normType));
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `clipGradNorm: the total norm of order ${normType} for gradients from params is non-finite (${total}), so it cannot be clipped; pass errorIfNonfinite: false to scale the gradients by it anyway`,
    );
  }
  const coefficient = Math.min(round(round(maxNorm) / round(total + round(1e-6))), 1);
  noGrad(() => {
    for (const g of grads) g.mul_(coefficient);
  });
  return total;
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
