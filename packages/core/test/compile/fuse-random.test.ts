// compile() against eager code on random programs: chains of elementwise ops, addcmul, sums,
// means and centrings (over leading dims, or over every dim but 1), in-place updates of captured
// tensors, intermediates and views, views made outside the function, random draws. Every
// output and every captured tensor must have eager's bits after each of three calls, in float32
// and float64, whatever the fusion scheduler moved.

import { describe, expect, it } from "vitest";
import {
  addcmul,
  center,
  compile,
  manualSeed,
  noGrad,
  randn,
  type Tensor,
  zeros,
} from "../../src/index.js";
import { generator } from "./random-programs.js";

/** The first element where two tensors differ in any bit, else -1. */
function firstDifference(a: Tensor, b: Tensor): number {
  const x = a.toArray() as Float32Array | Float64Array;
  const y = b.toArray() as Float32Array | Float64Array;
  if (a.dtype !== b.dtype || x.length !== y.length) return 0;
  const xb = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const yb = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < xb.length; i++) {
    if (xb[i] !== yb[i]) return Math.floor(i / x.BYTES_PER_ELEMENT);
  }
  return -1;
}

interface Layout {
  shape: number[];
  /** The dims the program's sums, means and centrings reduce. */
  reduced: number[];
  /** Shapes of extra operands that broadcast against `shape`. */
  broadcast: number[][];
}

const LAYOUTS: Record<string, Layout> = {
  "[32, 8] over dim 0": { shape: [32, 8], reduced: [0], broadcast: [[8], [32, 1]] },
  "[6, 3, 10] over dims 0 and 2": {
    shape: [6, 3, 10],
    reduced: [0, 2],
    broadcast: [[10], [3, 10], [3, 1], [6, 1, 1], [1, 3, 10]],
  },
};

interface Values {
  full: Tensor[];
  reduced: Tensor[];
  captured: Tensor[];
  views: Tensor[];
  extra(shape: number[]): Tensor;
}

/** A random program of 6-19 steps over `layout`, the same calls for every run. */
function program(seed: number, layout: Layout, dtype: "float32" | "float64") {
  const next = generator(seed);
  const pick = <T>(options: readonly T[]): T => options[Math.floor(next() * options.length)];
  const steps: ((v: Values) => void)[] = [];
  const count = 6 + Math.floor(next() * 14);
  const { shape, reduced } = layout;
  for (let i = 0; i < count; i++) {
    const kind = next();
    const [a, b, c] = [next(), next(), next()].map((r) => Math.floor(r * 1000));
    const number = pick([2, 0.1, -1.5, 1]);
    const at = <T>(list: T[], k: number) => list[k % list.length];
    if (kind < 0.3) {
      const op = pick(["add", "sub", "mul", "div", "maximum", "minimum"] as const);
      const other = pick(["full", "reduced", "number", "captured", "view", "broadcast"] as const);
      const extraShape = pick(layout.broadcast);
      steps.push((v) => {
        const y =
          other === "full"
            ? at(v.full, b)
            : other === "reduced"
              ? at(v.reduced, b)
              : other === "captured"
                ? at(v.captured, b)
                : other === "view"
                  ? at(v.views, b)
                  : other === "broadcast"
                    ? v.extra(extraShape)
                    : number;
        v.full.push(at(v.full, a)[op](y));
      });
    } else if (kind < 0.42) {
      const op = pick(["neg", "abs", "square", "relu", "sqrt"] as const);
      steps.push((v) => {
        const x = at(v.full, a);
        v.full.push(op === "sqrt" ? x.abs().sqrt() : x[op]());
      });
    } else if (kind < 0.5) {
      steps.push((v) => {
        const factor = c % 2 === 0 ? at(v.reduced, c) : at(v.full, c);
        v.full.push(addcmul(at(v.full, a), at(v.full, b), factor, number));
      });
    } else if (kind < 0.6) {
      const leading = shape.length > 2 && next() < 0.4;
      steps.push((v) => {
        const x = at(v.full, a);
        v.reduced.push(leading ? x.sum(0, true) : x.sum(reduced, true));
      });
    } else if (kind < 0.66) {
      steps.push((v) => v.full.push(center(at(v.full, a), reduced)));
    } else if (kind < 0.72) {
      steps.push((v) => v.reduced.push(at(v.full, a).mean(reduced, true)));
    } else if (kind < 0.8) {
      const op = pick(["add_", "mul_", "copy_"] as const);
      const target = pick(["captured", "full", "view"] as const);
      steps.push((v) => {
        const list = target === "captured" ? v.captured : target === "view" ? v.views : v.full;
        const t = at(list, a);
        if (op === "add_") t.add_(at(v.full, b));
        else if (op === "mul_") t.mul_(0.5);
        else t.copy_(at(v.full, b));
      });
    } else if (kind < 0.86) {
      steps.push((v) => {
        const x = a % 2 === 0 ? at(v.captured, a) : at(v.full, a);
        v.views.push(x.transpose(0, 1).transpose(0, 1));
      });
    } else if (kind < 0.9) {
      steps.push((v) => v.full.push(randn(shape, { dtype })));
    } else if (kind < 0.95) {
      steps.push((v) => v.reduced.push(at(v.reduced, a).mul(1.5).add(at(v.reduced, b))));
    } else {
      steps.push((v) => v.full.push(zeros(shape, { dtype }).add(at(v.full, a))));
    }
  }
  return (x: Tensor, captured: Tensor[], outside: Tensor) =>
    noGrad(() => {
      const values: Values = {
        full: [x],
        reduced: [x.sum(reduced, true)],
        captured,
        // A view of a captured tensor made outside the function: the trace cannot see it.
        views: [outside],
        extra: (s) =>
          x
            .reshape([-1])
            .narrow(
              0,
              0,
              s.reduce((p, q) => p * q, 1),
            )
            .reshape(s)
            .add(0.25),
      };
      for (const step of steps) step(values);
      return [...values.full.slice(1), ...values.reduced];
    });
}

describe("compile() on random programs", () => {
  for (const [name, layout] of Object.entries(LAYOUTS)) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`gives eager's bits: ${name}, ${dtype}`, () => {
        let fusedPasses = 0;
        for (let seed = 0; seed < 40; seed++) {
          const fn = program(seed, layout, dtype);
          const setup = () => {
            manualSeed(seed);
            const x = randn(layout.shape, { dtype });
            const captured = [randn(layout.shape, { dtype }), randn(layout.shape, { dtype })];
            return { x, captured, outside: captured[0].transpose(0, 1).transpose(0, 1) };
          };
          const eager = setup();
          const traced = setup();
          const compiled = compile((x: Tensor) => fn(x, traced.captured, traced.outside));
          for (let call = 0; call < 3; call++) {
            manualSeed(1000 + call);
            const expected = fn(eager.x, eager.captured, eager.outside);
            manualSeed(1000 + call);
            const got = compiled(traced.x);
            expected.forEach((t, k) => {
              expect(firstDifference(got[k], t), `seed ${seed}, call ${call}, output ${k}`).toBe(
                -1,
              );
            });
            eager.captured.forEach((t, k) => {
              expect(firstDifference(traced.captured[k], t), `seed ${seed}, captured ${k}`).toBe(
                -1,
              );
            });
          }
          fusedPasses += (compiled.explain().match(/^ {2}fused /gm) ?? []).length;
        }
        // The programs must exercise fusion, or the comparison proves little.
        expect(fusedPasses).toBeGreaterThan(40);
      });
    }
  }
});
