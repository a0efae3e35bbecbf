// A one-line progress bar for a terminal (redrawn with \r), or one line per epoch when the output
// is not a terminal (CI logs, pipes). Hand-written: twenty lines do not need a dependency.

export interface ProgressState {
  epoch: number;
  epochs: number;
  done: number;
  total: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  /** Held-out accuracy, known once the epoch is done. */
  testAccuracy?: number;
}

export function formatProgress(s: ProgressState, width = 24): string {
  const filled = Math.round((s.done / s.total) * width);
  const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  return (
    `epoch ${String(s.epoch).padStart(2)}/${s.epochs} ${bar} ${String(s.done).padStart(5)}/${s.total}` +
    `  loss ${s.loss.toFixed(4)}  acc ${(100 * s.accuracy).toFixed(1).padStart(5)}%` +
    (s.testAccuracy === undefined ? "" : `  held-out ${(100 * s.testAccuracy).toFixed(2)}%`) +
    `  ${Math.round(s.samplesPerSecond)} samples/s`
  );
}

/** Draws `s`; `final` ends the line (always printed, also when not a TTY). */
export function drawProgress(
  s: ProgressState,
  final: boolean,
  stream: NodeJS.WriteStream = process.stdout,
): void {
  if (stream.isTTY) stream.write(`\r${formatProgress(s)}${final ? "\n" : ""}`);
  else if (final) stream.write(`${formatProgress(s)}\n`);
}
