// The registry's building block: what defineOp records (name, inputs, the backward as the traced
// rule), the in-place check of exactly what forward saved, the shape-rule checks, and the
// definitions composites and ops without a gradient carry.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import {
  add,
  compile,
  exp,
  noGrad,
  randn,
  type Tensor,
  tensor,
  trace,
  traceBackward,
} from "../../src/index.js";
import {
  defineComposite,
  defineNonDifferentiable,
  defineOp,
  setShapeChecks,
} from "../../src/ops/define.js";

afterEach(() => setShapeChecks(false));

const f64 = (values: number[]) => tensor(values, { dtype: "float64", requiresGrad: true });

/** x·c with a number c: records x, saves c, and returns its result wrapped when asked. */
const scale = defineOp({
  name: "scale",
  rule: "d/dx = g·c",
  kind: "elementwise",
  shape: (x: Tensor, _c: number) => x.shape,
  forward: (x: Tensor, c: number) => ({
    out: x.detach().mul(c),
    inputs: [x],
    saved: { c },
  }),
  backward: ({ c }, gradOut) => [gradOut.mul(c)],
});

describe("defineOp", () => {
  it("records a node named by the definition whose traced rule is the definition's rule text", () => {
    const x = f64([1, 2]);
    const y = scale(x, 3);
    expect(y.gradFn?.op).toBe("scale");
    expect(y.gradFn?.inputs[0]).toBe(x);
    const rules: string[] = [];
    traceBackward(
      () => y.sum().backward(),
      (step) => rules.push(step.rule),
    );
    expect(rules[1]).toBe("d/dx = g·c");
    expect(x.grad).toBeAllclose([3, 3]);
    expect(scale.definition).toMatchObject({ name: "scale", kind: "elementwise" });
    expect(scale.name).toBe("scale");
  });

  it("records nothing when forward returns a plain tensor or no input requires grad", () => {
    const passthrough = defineOp({
      name: "passthrough",
      rule: "d/dx = g",
      kind: "movement",
      shape: (x: Tensor) => x.shape,
      forward: (x: Tensor) => x,
      backward: (_, gradOut) => [gradOut],
    });
    const x = f64([1]);
    expect(passthrough(x)).toBe(x);
    expect(scale(tensor([1, 2]), 2).gradFn).toBeNull();
  });

  it("checks the tensors forward saved for in-place changes, and only those", () => {
    const x = f64([1, 2]);
    const y = exp(x); // saves its output
    y.detach().add_(1);
    expect(() => y.sum().backward()).toThrow(/backward of exp: a tensor of shape \[2\] saved/);

    // add keeps only its inputs' shapes and dtypes: changing an input afterwards is harmless.
    const a = f64([1, 2]);
    const b = tensor([3, 4], { dtype: "float64" });
    const sum = add(a, b);
    b.add_(1);
    sum.sum().backward();
    expect(a.grad).toBeAllclose([1, 1]);
  });

  it("applies `result` to the recorded output, so what it returns stays in the graph", () => {
    const pair = defineOp({
      name: "pair",
      rule: "d/dx = g",
      kind: "opaque",
      shape: (x: Tensor) => x.shape,
      forward: (x: Tensor) => ({
        out: x.detach().mul(2),
        inputs: [x],
        saved: {},
        result: (out: Tensor) => ({ first: out.mul(1), second: out.mul(10) }),
      }),
      backward: (_, gradOut) => [gradOut.mul(2)],
    });
    const x = f64([1, 2]);
    const { first, second } = pair(x) as { first: Tensor; second: Tensor };
    first.add(second).sum().backward();
    expect(x.grad).toBeAllclose([22, 22]);
  });

  it("compares each output with the shape rule while shape checks are on", () => {
    const wrong = defineOp({
      name: "wrong",
      rule: "d/dx = g",
      kind: "elementwise",
      shape: () => [7],
      forward: (x: Tensor) => ({ out: x.detach().mul(1), inputs: [x], saved: {} }),
      backward: (_, gradOut) => [gradOut],
    });
    const x = f64([1, 2]);
    expect(() => wrong(x)).not.toThrow();
    setShapeChecks(true);
    expect(() => wrong(x)).toThrow("wrong: the shape rule gives [7], but forward returned [2]");
    expect(() => scale(x, 2)).not.toThrow();
  });
});

describe("defineOp and the tensors of traced calls", () => {
  // The garbage collector, to see what stays reachable (Node exposes it on request).
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  /** True when nothing keeps the tensors `refs` point to (after the job that made them ends). */
  const collected = async (refs: WeakRef<Tensor>[]) => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    return refs.map((r) => r.deref() === undefined);
  };

  it("keeps no traced call's result or saved tensors once the tracer has read them", async () => {
    const refs: WeakRef<Tensor>[] = [];
    (() => {
      const w = randn([64, 64]);
      const x = randn([64, 64], { requiresGrad: true });
      trace(
        (a: Tensor) => {
          const h = a.matmul(w); // matmul saves both operands for its backward
          refs.push(new WeakRef(h), new WeakRef(w));
          return h.relu().sum();
        },
        [x],
      );
    })();
    expect(await collected(refs)).toEqual([true, true]);
  });

  it("keeps no replayed call's result once the replay has read it", async () => {
    const refs: WeakRef<Tensor>[] = [];
    (() => {
      const w = randn([8, 8]);
      const f = compile((a: Tensor) => noGrad(() => a.matmul(w).exp()));
      for (let i = 0; i < 4; i++) {
        const out = f(randn([8, 8]));
        refs.push(new WeakRef(out));
      }
    })();
    expect(await collected(refs)).toEqual([true, true, true, true]);
  });
});

describe("defineComposite and defineNonDifferentiable", () => {
  it("marks a composite as such, under its name, computing what the function computes", () => {
    const twice = (x: Tensor): Tensor => x.mul(2);
    const op = defineComposite("twice", twice);
    expect(op.name).toBe("twice");
    expect(op.length).toBe(1);
    expect(op.definition).toEqual({ name: "twice", kind: "composite", differentiable: true });
    expect(op(f64([1, 2])).tolist()).toEqual([2, 4]);
    expect(op(f64([1])).gradFn?.op).toBe("mul");
  });

  it("gives an op without a gradient a definition and checks its shape rule", () => {
    const isPositive = defineNonDifferentiable({
      name: "isPositive",
      kind: "elementwise",
      shape: () => [1],
      forward: (x: Tensor) => x.gt(0),
    });
    const out = isPositive(f64([1, -1]));
    expect(out.requiresGrad).toBe(false);
    expect(isPositive.definition.differentiable).toBe(false);
    setShapeChecks(true);
    expect(() => isPositive(f64([1, -1]))).toThrow(/isPositive: the shape rule gives \[1\]/);
  });
});
