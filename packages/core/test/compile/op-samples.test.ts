// compile() against eager code on every sample of the op-sample table: each differentiable op of
// the registry, traced once and replayed on new values, in float64 (the table's dtype) and float32
// (the dtype the fused WebAssembly kernels run), both as a training step (forward, backward, the
// inputs' gradients returned) and under noGrad (where calls fuse and arrays are reused). Every
// output and gradient must have eager's bits on every call: a replay runs the same kernels in the
// same order, and fusion keeps each op's rounding.

import { describe, expect, it } from "vitest";
import { compile, Generator, noGrad, randn, Tensor } from "../../src/index.js";
import { DIFFERENTIABLE_OPS, OP_SAMPLES, type Sample } from "../op-samples.js";

type Dtype = "float32" | "float64";

/** Where two lists of tensors first differ (shape, dtype or any bit), else null. */
function difference(
  label: string,
  got: readonly (Tensor | null)[],
  want: readonly (Tensor | null)[],
) {
  if (got.length !== want.length)
    return `${label}: ${got.length} tensors, eager gave ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = want[i];
    if (a === null || b === null) {
      if (a !== b)
        return `${label}[${i}]: ${a === null ? "null" : "a tensor"}, eager gave ${b === null ? "null" : "a tensor"}`;
      continue;
    }
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) {
      return `${label}[${i}]: ${a.dtype}[${a.shape}], eager gave ${b.dtype}[${b.shape}]`;
    }
    const x = a.toArray();
    const y = b.toArray();
    for (let j = 0; j < x.length; j++) {
      // Object.is: NaN equals NaN, and -0 differs from +0 (a sign bit is a bit).
      if (!Object.is(x[j], y[j])) return `${label}[${i}] element ${j}: ${x[j]}, eager gave ${y[j]}`;
    }
  }
  return null;
}

/** The sample's inputs in `dtype` (integer and bool inputs as they are), as new leaves. */
function leaves(sample: Sample, dtype: Dtype): Tensor[] {
  return sample.inputs.map((t) =>
    t.dtype === "float64" ? t.detach().to(dtype).requiresGrad_(t.requiresGrad) : t,
  );
}

/**
 * New values for the float inputs: each scaled by a factor in [0.9, 1.1), so signs and the ranges
 * the samples keep to (positive bases, values off kinks) mostly hold; eager and compiled code see
 * the same values either way. Integer and bool inputs (indices, masks) stay.
 */
function perturbed(inputs: readonly Tensor[], generator: Generator): Tensor[] {
  return inputs.map((t) => {
    if (t.dtype !== "float32" && t.dtype !== "float64") return t;
    const factor = randn(t.shape, { dtype: t.dtype, generator }).mul(0.05).add(1).clamp(0.9, 1.1);
    return noGrad(() => t.mul(factor)).requiresGrad_(t.requiresGrad);
  });
}

/** Fresh leaves with the same values (each call of a step gets its own, as a training loop's batches). */
function copies(inputs: readonly Tensor[]): Tensor[] {
  return inputs.map((t) =>
    t.dtype === "float32" || t.dtype === "float64"
      ? t.detach().clone().requiresGrad_(t.requiresGrad)
      : t,
  );
}

function outputList(result: Tensor | readonly Tensor[]): Tensor[] {
  return result instanceof Tensor ? [result] : [...result];
}

/**
 * A training step over the sample: the float outputs weighted by fixed tensors and summed (so
 * each output's gradient differs from element to element), backward, then the outputs and the
 * gradient of every input that requires grad.
 */
function trainingStep(sample: Sample, weights: Map<string, Tensor>) {
  return (...inputs: Tensor[]): (Tensor | null)[] => {
    const outputs = outputList(sample.fn(...inputs));
    let loss: Tensor | null = null;
    outputs.forEach((o, i) => {
      if (!o.requiresGrad) return;
      const key = `${i}:${o.dtype}[${o.shape}]`;
      let w = weights.get(key);
      if (w === undefined) {
        w = randn(o.shape, { dtype: o.dtype, generator: new Generator(7 + i) });
        weights.set(key, w);
      }
      const term = o.mul(w).sum();
      loss = loss === null ? term : loss.add(term);
    });
    (loss as Tensor | null)?.backward();
    return [...outputs, ...inputs.filter((t) => t.requiresGrad).map((t) => t.grad)];
  };
}

/**
 * Whether the sample runs in `dtype` at all: samples whose function makes or captures float64
 * tensors of its own (running statistics, fixed weights) refuse float32 inputs, eagerly too.
 */
function runsIn(sample: Sample, dtype: Dtype): boolean {
  try {
    noGrad(() => sample.fn(...leaves(sample, dtype)));
    return true;
  } catch {
    return false;
  }
}

const rows = DIFFERENTIABLE_OPS.flatMap((op) =>
  OP_SAMPLES[op].flatMap((sample) =>
    (["float64", "float32"] as const)
      .filter((dtype) => runsIn(sample, dtype))
      .map((dtype) => [`${op} ${sample.description}`, dtype, sample] as const),
  ),
);

describe("the compiled op samples", () => {
  it("cover every differentiable op in float64, and most in float32", () => {
    const ops = (dtype: Dtype) =>
      new Set(rows.filter((r) => r[1] === dtype).map((r) => r[0].split(" ")[0]));
    expect([...ops("float64")].sort()).toEqual([...DIFFERENTIABLE_OPS].sort());
    expect(ops("float32").size).toBeGreaterThan(DIFFERENTIABLE_OPS.length * 0.9);
  });
});

describe.each(rows)("compiled %s in %s", (_, dtype, sample) => {
  it("equals eager bit for bit, as a training step and under noGrad", () => {
    const first = leaves(sample, dtype);
    const generator = new Generator(11);
    const valueSets = [first, perturbed(first, generator), perturbed(first, generator)];
    // The third call replays the plan the second call's check made; the fourth goes back to the
    // first values.
    const calls = [0, 1, 2, 0, 2];

    const weights = new Map<string, Tensor>();
    const step = trainingStep(sample, weights);
    const compiled = compile(step);
    // check: true runs each replay against a new trace and throws at the first difference in
    // what was called (a check that fails on a correct function would show here).
    const checked = compile(step, { check: true });
    for (const [n, set] of calls.entries()) {
      const want = step(...copies(valueSets[set]));
      const got = compiled(...copies(valueSets[set]));
      expect(difference(`training call ${n + 1}`, got, want)).toBeNull();
      expect(
        difference(`checked call ${n + 1}`, checked(...copies(valueSets[set])), want),
      ).toBeNull();
    }

    const forward = (...inputs: Tensor[]) => outputList(sample.fn(...inputs));
    const compiledForward = compile((...inputs: Tensor[]) => noGrad(() => forward(...inputs)));
    for (const [n, set] of calls.entries()) {
      const want = noGrad(() => forward(...copies(valueSets[set])));
      const got = compiledForward(...copies(valueSets[set]));
      expect(difference(`noGrad call ${n + 1}`, got, want)).toBeNull();
    }
  });
});
