// What the random-program tests (fuse-random, train-random) share.

/** A small deterministic generator for the programs' structure (not the tensors' values). */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
