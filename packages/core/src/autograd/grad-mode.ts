// Whether operations record the graph. A plain module-level flag: JS is single-threaded, and
// the helpers restore the previous state even when `fn` throws.

let enabled = true;

/**
 * Whether ops currently record the graph, like `torch.is_grad_enabled()`: false inside
 * {@link noGrad}, true by default and inside {@link enableGrad}.
 */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Sets grad mode and returns the previous state (for engine internals and `try/finally`). */
export function setGradEnabled(value: boolean): boolean {
  const previous = enabled;
  enabled = value;
  return previous;
}

/**
 * Runs `fn` without recording the graph, like `with torch.no_grad():`. Results do not require
 * grad. Synchronous only: a promise returned by `fn` resolves after grad mode was restored.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = setGradEnabled(false);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}

/** Runs `fn` with graph recording on, even inside `noGrad`, like `torch.enable_grad()`. */
export function enableGrad<T>(fn: () => T): T {
  const previous = setGradEnabled(true);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}
