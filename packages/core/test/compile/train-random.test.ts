// compile() against eager code on random training steps: a program of elementwise ops, addcmul,
// sums, means, centrings, products with a parameter, views and copies over a new batch and three
// parameters, then a weighted loss, backward (whose calls fuse and whose arrays are planned) and an
// in-place update of the parameters. Losses, gradients and parameters must have eager's bits after
// every call, in float32 and float64. (fuse-random.test.ts covers programs under noGrad.)

import { describe, expect, it } from "vitest";
import {
  addcmul,
  center,
  compile,
  manualSeed,
  noGrad,
  randn,
  type Tensor,
} from "../../src/index.js";
import { generator } from "./random-programs.js";

const SHAPE = [32, 8];

type Step = (full: Tensor[], reduced: Tensor[], params: Tensor[]) => void;

/** A random step over x ([32, 8]) and parameters of shapes [8], [64] (an 8×8 matrix), [8]. */
function program(seed: number) {
  const next = generator(seed * 7919 + 1);
  const pick = <T>(options: readonly T[]): T => options[Math.floor(next() * options.length)];
  const at = <T>(list: readonly T[], k: number): T => list[k % list.length];
  const steps: Step[] = [];
  const count = 5 + Math.floor(next() * 15);
  for (let i = 0; i < count; i++) {
    const kind = next();
    const [a, b, c] = [next(), next(), next()].map((r) => Math.floor(r * 1000));
    if (kind < 0.25) {
      const op = pick(["add", "sub", "mul", "div", "maximum"] as const);
      const other = pick(["full", "reduced", "param", "number"] as const);
      steps.push((full, reduced, params) => {
        const x = at(full, a);
        const y =
          other === "full"
            ? at(full, b)
            : other === "reduced"
              ? at(reduced, b)
              : other === "param"
                ? at([params[0], params[2]], b)
                : 1.5;
        if (op !== "div") full.push(typeof y === "number" ? x.add(y) : x[op](y));
        else full.push(x.div(typeof y === "number" ? y : y.abs().add(1)));
      });
    } else if (kind < 0.4) {
      const op = pick(["exp", "tanh", "relu", "square", "sigmoid", "sqrt", "neg"] as const);
      steps.push((full) => {
        const x = at(full, a);
        if (op === "exp") full.push(x.tanh().exp());
        else if (op === "sqrt") full.push(x.abs().add(1).sqrt());
        else full.push(x[op]());
      });
    } else if (kind < 0.5) {
      steps.push((full, reduced) =>
        full.push(addcmul(at(full, a), at(full, b), c % 2 ? at(reduced, c) : at(full, c), 0.5)),
      );
    } else if (kind < 0.6) {
      steps.push((full, reduced) => reduced.push(at(full, a).sum(0, true)));
    } else if (kind < 0.67) {
      steps.push((full, reduced) => reduced.push(at(full, a).mean(0, true)));
    } else if (kind < 0.74) {
      steps.push((full) => full.push(center(at(full, a), [0])));
    } else if (kind < 0.82) {
      steps.push((full, _, params) => full.push(at(full, a).matmul(params[1].reshape([8, 8]).t())));
    } else if (kind < 0.88) {
      steps.push((full) => full.push(at(full, a).transpose(0, 1).transpose(0, 1).mul(0.5)));
    } else if (kind < 0.94) {
      steps.push((_, reduced) => reduced.push(at(reduced, a).mul(1.5).add(at(reduced, b))));
    } else {
      steps.push((full) =>
        full.push(at(full, a).reshape([8, 32]).t().contiguous().t().reshape(SHAPE)),
      );
    }
  }
  return (x: Tensor, params: Tensor[], weights: Tensor[]): (Tensor | null)[] => {
    for (const p of params) p.grad = null;
    const full = [x, params[0].reshape([1, 8]).add(x)];
    const reduced = [x.sum(0, true)];
    for (const step of steps) step(full, reduced, params);
    const loss = full
      .at(-1)!
      .mul(weights[0])
      .sum()
      .add(reduced.at(-1)!.mul(weights[1]).sum())
      .add(full[1].square().mean());
    loss.backward();
    noGrad(() => {
      for (const p of params) if (p.grad !== null) p.sub_(p.grad.mul(0.01));
    });
    return [loss, ...params.map((p) => p.grad)];
  };
}

/** The first element where two tensors differ in any bit (or one is null), else -1. */
function firstDifference(a: Tensor | null, b: Tensor | null): number {
  if (a === null || b === null) return a === b ? -1 : 0;
  const x = a.toArray();
  const y = b.toArray();
  if (x.length !== y.length) return 0;
  for (let i = 0; i < y.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

describe("compile() on random training steps", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`gives eager's bits: losses, gradients and updated parameters, ${dtype}`, () => {
      let replays = 0;
      let fusedPasses = 0;
      for (let seed = 0; seed < 40; seed++) {
        const fn = program(seed);
        const setup = () => {
          manualSeed(seed);
          const params = [randn([8], { dtype }), randn([64], { dtype }), randn([8], { dtype })];
          for (const p of params) p.requiresGrad_();
          return { params, weights: [randn(SHAPE, { dtype }), randn([1, 8], { dtype })] };
        };
        const eager = setup();
        const traced = setup();
        const compiled = compile((x: Tensor) => fn(x, traced.params, traced.weights));
        for (let call = 0; call < 5; call++) {
          manualSeed(5000 + seed + call); // a new batch on every call
          const x = randn(SHAPE, { dtype });
          const want = fn(x.clone(), eager.params, eager.weights);
          const got = compiled(x.clone());
          got.forEach((t, k) => {
            expect(firstDifference(t, want[k]), `seed ${seed}, call ${call}, output ${k}`).toBe(-1);
          });
          traced.params.forEach((p, k) => {
            expect(firstDifference(p, eager.params[k]), `seed ${seed}, param ${k}`).toBe(-1);
          });
        }
        replays += compiled.replays;
        fusedPasses += (compiled.explain().match(/^ {2}fused /gm) ?? []).length;
      }
      // Calls 3 to 5 of each step replay; the backward passes fuse.
      expect(replays).toBe(40 * 3);
      expect(fusedPasses).toBeGreaterThan(40);
    });
  }
});
