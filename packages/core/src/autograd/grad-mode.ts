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
 * Grad mode is one global switch that these helpers restore when `fn` returns. An async `fn`
 * returns at its first `await`, so the rest of its body would run with whatever mode is current
 * then: refuse it before it starts (an async function) or as soon as it returns a promise.
 */
function refuseAsync(fn: unknown, op: string): void {
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: expected a function, got ${fn === null ? "null" : typeof fn}`);
  }
  if (Object.prototype.toString.call(fn) === "[object AsyncFunction]") throw asyncError(op);
}

function asyncError(op: string): TypeError {
  return new TypeError(
    `${op}: fn is async (it returns a Promise), but grad mode is switched back when fn returns, at its first await, so the code after it would not be covered; call ${op} around the synchronous tensor code instead, e.g. const data = await load(); ${op}(() => model.forward(data))`,
  );
}

function isThenable(value: unknown): boolean {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Runs the synchronous `fn` with grad mode set to `mode`, restoring the previous mode after. */
function runWithMode<T>(fn: () => T, mode: boolean, op: string): T {
  refuseAsync(fn, op);
  const previous = setGradEnabled(mode);
  let result: T;
  try {
    result = fn();
  } finally {
    setGradEnabled(previous);
  }
  if (isThenable(result)) {
    // Keep a later rejection from surfacing as an unrelated unhandled-rejection crash.
    (result as unknown as Promise<unknown>).then(undefined, () => undefined);
    throw asyncError(op);
  }
  return result;
}

/**
 * Runs `fn` without recording the graph, like `with torch.no_grad():`. Results do not require
 * grad. Synchronous only: grad mode is a global switch, so an async `fn` (or one returning a
 * Promise) is refused, since the code after its first `await` would run outside `noGrad`.
 *
 * @throws TypeError when `fn` is not a function, is async, or returns a Promise.
 */
export function noGrad<T>(fn: () => T): T {
  return runWithMode(fn, false, "noGrad");
}

/**
 * Runs `fn` with graph recording on, even inside `noGrad`, like `torch.enable_grad()`.
 * Synchronous only, like {@link noGrad}.
 *
 * @throws TypeError when `fn` is not a function, is async, or returns a Promise.
 */
export function enableGrad<T>(fn: () => T): T {
  return runWithMode(fn, true, "enableGrad");
}
