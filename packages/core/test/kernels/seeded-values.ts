// Deterministic test data shared by the matmul kernel tests (matmul.test.ts, gemm-threads.test.ts).

/** `count` values in [-2, 2) from a 32-bit LCG (Numerical Recipes' constants) seeded with `seed`. */
export function seededValues(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 4 - 2;
  });
}
