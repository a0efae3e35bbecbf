// Anomaly detection, like torch.autograd.detect_anomaly: while on, every recorded node keeps
// the stack where it was created, and the first forward or backward result holding NaN or Inf
// throws an error naming the op and that stack.

import type { Tensor } from "../tensor/tensor.js";

let anomalyMode = false;

let backwardDepth = 0;

export function isAnomalyEnabled(): boolean {
  return anomalyMode;
}

/** Whether a forward result should be checked: not inside an op's backward (see `inBackward`). */
export function checksForward(): boolean {
  return anomalyMode && backwardDepth === 0;
}

/**
 * Runs an op's backward function. The ops it calls skip their forward checks, so that a NaN or
 * Inf it produces is reported by the engine as coming from that op's backward (as PyTorch
 * names `SqrtBackward0`), not from some helper op inside it.
 */
export function inBackward<T>(fn: () => T): T {
  backwardDepth++;
  try {
    return fn();
  } finally {
    backwardDepth--;
  }
}

/**
 * Runs `fn` with anomaly detection on, like `torch.autograd.detect_anomaly()`, and restores the
 * previous mode afterwards. Slow (every result is scanned): for debugging only.
 *
 * @throws AnomalyError at the first forward or backward result holding NaN or ±Infinity.
 */
export function detectAnomaly<T>(fn: () => T): T {
  const previous = anomalyMode;
  anomalyMode = true;
  try {
    return fn();
  } finally {
    anomalyMode = previous;
  }
}

/**
 * Thrown under {@link detectAnomaly} when a forward or backward result holds NaN or ±Infinity;
 * the message names the op, the pass, the element and (for backward) where the op was created.
 */
export class AnomalyError extends Error {
  /** Always `"AnomalyError"`. */
  override name = "AnomalyError";
}

/** Throws when `t` holds a NaN or an infinity; `what` says which op and pass produced it. */
export function checkFinite(t: Tensor, what: string, createdAt: string | undefined): void {
  if (t.dtype !== "float32" && t.dtype !== "float64") return;
  const values = t.toArray();
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const kind = Number.isNaN(values[i]) ? "NaN" : "Inf";
      const where = createdAt ? `\nThe op was created at:\n${createdAt}` : "";
      throw new AnomalyError(
        `${what} produced ${kind} (element ${i} of a tensor of shape [${t.shape.join(", ")}])${where}`,
      );
    }
  }
}

export function creationStack(): string {
  const stack = new Error().stack ?? "";
  return stack
    .split("\n")
    .slice(1)
    .filter((line) => !line.includes("/core/src/") && !line.includes("@koubai/core"))
    .slice(0, 6)
    .join("\n");
}
