// What every framework adapter provides (one `Case` per workload), how cases are timed (warm-up,
// then interleaved rounds of repeats until a count or a time budget is reached, medians), and how two
// frameworks' outputs are compared before anything is timed.

import type { BatchNormInputs, CnnInputs, MatmulInputs, MlpInputs } from "./inputs.js";

/** Named float outputs of a workload, flattened row-major, for the cross-framework check. */
export type Outputs = Record<string, Float32Array>;

/** One workload set up in one framework, on its own copy of the shared inputs. */
export interface Case {
  /**
   * Runs the workload once and returns its outputs. For the MLP it runs two training steps from
   * the initial parameters and returns the losses and the parameter updates.
   */
  check(): Promise<Outputs>;
  /** The timed unit of work; it must leave every result computed (not merely scheduled). */
  step(): void | Promise<void>;
  dispose(): void;
}

/** A framework adapter: its label, its version, and a constructor per workload it runs. */
export interface Framework {
  name: string;
  version: string;
  /**
   * Frameworks sharing global state (TF.js: one active backend, one variable registry) name the
   * same group; no two of a group are open at once, so they are timed in separate rounds.
   */
  exclusiveGroup?: string;
  batchNorm?(inputs: BatchNormInputs): Promise<Case>;
  matmul?(inputs: MatmulInputs): Promise<Case>;
  mlp?(inputs: MlpInputs): Promise<Case>;
  cnn?(inputs: CnnInputs): Promise<Case>;
}

export interface TimingOptions {
  warmup: number;
  minRepeats: number;
  maxRepeats: number;
  /** Stop repeating once this much time went into timed repeats (after `minRepeats`). */
  budgetMs: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  repeats: number;
  samplesMs: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times several cases in interleaved rounds: each round runs a few repeats of every case, in an
 * order rotated by one each round, so a noisy stretch of a shared machine lands on all cases
 * alike and their ratios stay meaningful. Each case first gets `warmups[i]` untimed runs (and,
 * unless that is 0, one more at the start of each round), then stops at `maxRepeats` samples, or once `budgetMs` went into it after `minRepeats`. One median
 * per case, over all its rounds.
 */
export async function timeInterleaved(
  works: ReadonlyArray<() => void | Promise<void>>,
  warmups: readonly number[],
  options: TimingOptions & { rounds: number },
): Promise<Timing[]> {
  for (let i = 0; i < works.length; i++) for (let w = 0; w < warmups[i]; w++) await works[i]();
  const samples = works.map(() => [] as number[]);
  const spent = works.map(() => 0);
  const perRound = Math.ceil(options.maxRepeats / options.rounds);
  const roundBudgetMs = options.budgetMs / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    for (let j = 0; j < works.length; j++) {
      const i = (j + round) % works.length;
      const mine = samples[i];
      if (mine.length >= options.maxRepeats) continue;
      if (mine.length >= options.minRepeats && spent[i] >= options.budgetMs) continue;
      // One untimed run after switching cases: the first run after another framework's pays for
      // its caches and garbage, which is the switch's cost, not this case's.
      if (warmups[i] > 0) await works[i]();
      // A round gives each case up to perRound runs and about budgetMs / rounds of time (at least
      // one run), so slow cases spread over the rounds too.
      let roundSpent = 0;
      for (let k = 0; k < perRound && mine.length < options.maxRepeats; k++) {
        if (k > 0 && roundSpent >= roundBudgetMs) break;
        const start = performance.now();
        await works[i]();
        const elapsed = performance.now() - start;
        mine.push(elapsed);
        spent[i] += elapsed;
        roundSpent += elapsed;
      }
    }
  }
  return samples.map((samplesMs) => ({
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    repeats: samplesMs.length,
    samplesMs,
  }));
}

export interface Agreement {
  ok: boolean;
  /** The worst output: max |a - b| divided by max |reference| of that output. */
  worst: { output: string; relError: number };
}

/**
 * Compares `actual` against `reference` output by output. The error of each output is
 * `max |actual - reference| / max(|reference|)`, a scale-free float32 check that tolerates the
 * different summation orders of the frameworks; `tolerance` bounds it.
 */
export function compareOutputs(reference: Outputs, actual: Outputs, tolerance: number): Agreement {
  let worst = { output: "", relError: 0 };
  for (const [name, expected] of Object.entries(reference)) {
    const got = actual[name];
    if (got === undefined || got.length !== expected.length) {
      return {
        ok: false,
        worst: { output: `${name} (missing or wrong size)`, relError: Infinity },
      };
    }
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      const d = Math.abs(got[i] - expected[i]);
      // A NaN in either side must fail the check, so compare with `!(d <= diff)`.
      if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    }
    const relError = diff / (scale || 1);
    if (relError > worst.relError || worst.output === "") worst = { output: name, relError };
  }
  return { ok: worst.relError <= tolerance, worst };
}
