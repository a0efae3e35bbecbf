// Seedable pseudo-random numbers: xoshiro128** seeded through splitmix32. One default
// generator (reseeded by `manualSeed`) and explicit `Generator` objects for independent streams.
// The streams are Koubai's own: the same seed does not reproduce PyTorch's numbers.

import { activeTracer } from "./tracing.js";

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** A seedable random stream. `new Generator(42)` always yields the same sequence. */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.#seed(seed);
    // A generator made inside a compiled function is made again by every call (see compile).
    activeTracer()?.createdGenerator(this);
  }

  /**
   * A new generator at this one's current point of its stream, like PyTorch's
   * `Generator.clone_state()`: both then yield the same numbers, independently.
   *
   * @example
   * ```ts
   * const g = new Generator(42);
   * const copy = g.cloneState();
   * g.uniform() === copy.uniform(); // true
   * ```
   */
  cloneState(): Generator {
    activeTracer()?.generatorUsed?.(this, "cloneState");
    const copy = new Generator();
    copy.s0 = this.s0;
    copy.s1 = this.s1;
    copy.s2 = this.s2;
    copy.s3 = this.s3;
    copy.spareNormal = this.spareNormal;
    return copy;
  }

  /** Resets the stream to the start of the sequence for `seed` (any finite number). */
  manualSeed(seed: number): this {
    activeTracer()?.generatorUsed?.(this, "manualSeed");
    return this.#seed(seed);
  }

  #seed(seed: number): this {
    if (!Number.isFinite(seed))
      throw new RangeError(`manualSeed: seed must be a finite number, got ${seed}`);
    let state = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) | 0;
    let word: number;
    [state, word] = splitmix32(state);
    this.s0 = word;
    [state, word] = splitmix32(state);
    this.s1 = word;
    [state, word] = splitmix32(state);
    this.s2 = word;
    [state, word] = splitmix32(state);
    this.s3 = word;
    this.spareNormal = null;
    return this;
  }

  /** @internal True when `other` is at the same point of the same stream. */
  sameState(other: Generator): boolean {
    return (
      this.s0 === other.s0 &&
      this.s1 === other.s1 &&
      this.s2 === other.s2 &&
      this.s3 === other.s3 &&
      this.spareNormal === other.spareNormal
    );
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Standard normal by the Box-Muller transform (one pair per two calls). */
  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator used when none is passed. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
