// The pieces of a compiled function's memory plan: liveness says when each value is last read
// and what escapes (results, what effects receive); ReplayArrays records a call's allocations,
// gives non-overlapping lifetimes one array, hands those arrays out on later calls, and drops
// the plan at the first call that allocates or aliases differently from the recorded one.

import { describe, expect, it } from "vitest";
import {
  liveness,
  ReplayArrays,
  type ReplaySession,
  stepValues,
} from "../../src/compile/memory.js";
import { TracedValue } from "../../src/compile/trace.js";
import { customOp, Tensor, tensor, trace, zeros } from "../../src/index.js";
import { setArrayPool } from "../../src/tensor/dtype.js";

describe("liveness", () => {
  it("gives each value its last read and keeps results and effect arguments", () => {
    const w = zeros([4, 4]).requiresGrad_();
    const { graph } = trace(
      (x: Tensor) => {
        const a = x.mul(2); // read by the next call only
        const b = a.add(1); // the result
        w.grad = b.mul(3); // handed to an effect: escapes
        return b;
      },
      [tensor(new Float32Array(16), { shape: [4, 4] })],
    );
    const units = graph.nodes.filter((n) => n.kind !== "composite");
    const steps = units.map((u) => stepValues([u]));
    const { last, escaping } = liveness(steps, graph.outputs, graph.values.length);
    const [mul, add, mul3] = units;
    expect(last[mul.outputs[0].id]).toBe(units.indexOf(add)); // a is last read by add
    expect(last[mul3.outputs[0].id]).toBe(units.indexOf(mul3) + 1); // read by setGrad
    expect(escaping.has(add.outputs[0])).toBe(true); // b is the result
    expect(escaping.has(mul3.outputs[0])).toBe(true); // assigned to .grad
    expect(escaping.has(mul.outputs[0])).toBe(false);
  });

  it("counts the ways each value escapes and finds the .grad assignments", () => {
    const w = zeros([4, 4]).requiresGrad_();
    const v = zeros([4, 4]).requiresGrad_();
    const { graph } = trace(
      (x: Tensor) => {
        const a = x.mul(2);
        const b = x.mul(3);
        w.grad = a; // a escapes once: only a gradient
        v.grad = b; // b escapes twice: a gradient and the result
        return b;
      },
      [tensor(new Float32Array(16), { shape: [4, 4] })],
    );
    const units = graph.nodes.filter((n) => n.kind !== "composite");
    const steps = units.map((u) => stepValues([u]));
    const { escapes, gradStep } = liveness(steps, graph.outputs, graph.values.length);
    const [mulA, mulB, setW, setV] = units;
    expect(steps[units.indexOf(setW)].gradAssigned).toBe(mulA.outputs[0]);
    expect(escapes[mulA.outputs[0].id]).toBe(1);
    expect(escapes[mulB.outputs[0].id]).toBe(2);
    expect(gradStep[mulA.outputs[0].id]).toBe(units.indexOf(setW));
    expect(gradStep[mulB.outputs[0].id]).toBe(units.indexOf(setV));
    expect(steps[units.indexOf(mulA)].gradAssigned).toBeNull();
  });

  it("counts a custom op's read as an escape (its code may keep the tensor), not its slot", () => {
    const w = zeros([4]).requiresGrad_();
    const keepNothing = customOp({
      name: "keepNothing",
      forward: (_ctx, t) => t.sum(),
      backward: (_ctx, g) => [g],
    });
    const { graph } = trace(
      (x: Tensor) => {
        const a = x.mul(2);
        w.grad = a;
        const b = x.mul(3);
        return [keepNothing(a), keepNothing(b)];
      },
      [tensor(new Float32Array(4))],
    );
    const units = graph.nodes.filter((n) => n.kind !== "composite");
    const steps = units.map((u) => stepValues([u]));
    const { escapes, escaping } = liveness(steps, graph.outputs, graph.values.length);
    const [mulA, , mulB, customA] = units;
    expect(customA.kind).toBe("custom");
    expect(steps[3].userCode).toBe(true);
    expect(steps[2].userCode).toBe(false);
    expect(escapes[mulA.outputs[0].id]).toBe(2); // the .grad assignment and the custom op
    expect(escapes[mulB.outputs[0].id]).toBe(1); // the custom op
    // Escaping (never planned): a, through the assignment; b, read by user code only, keeps its
    // slot, as the guide's rule on tensors kept from inside says.
    expect(escaping.has(mulA.outputs[0])).toBe(true);
    expect(escaping.has(mulB.outputs[0])).toBe(false);
  });
});

/**
 * A made-up replay of six steps over float32[4] values:
 *   step 0 makes v0 (allocation a0), step 1 makes v1 from v0 (a1), step 2 makes v2 from v1 (a2),
 *   step 3 makes v3, a view of v2 (no allocation), step 4 makes v4 from v3 (a4), step 5 makes
 *   v5 from v4 (a5), the result.
 * v0 lives in steps 0-1, v1 in 1-2, v2 (through its view v3) in 2-4, v4 in 4-5; v5 escapes.
 */
function chain() {
  const v = [0, 1, 2, 3, 4, 5].map((id) => new TracedValue(id, [4], "float32", "op", null, null));
  const steps = v.map((value, s) => ({
    reads: s === 0 ? [] : [v[s - 1]],
    makes: [value],
    effect: false,
    userCode: false,
    gradAssigned: null,
  }));
  const arrays = new ReplayArrays(liveness(steps, [v[5]], 6), 6, 6);
  /** Runs one call: step s allocates `allocs[s]` arrays, value s takes `bufferOf(s)`. */
  function call(
    options: {
      length?: (s: number) => number;
      viewOf?: number; // the value v3 views (2 as traced)
      shape?: (s: number) => number[]; // the shape of value s's tensor (default [4])
    } = {},
  ): {
    session: ReplaySession | null;
    env: { data: Float32Array }[];
    handed: (Float32Array | undefined)[];
    /** By step (none for the view): the tensor made over the step's array, as an op makes one. */
    tensors: (Tensor | undefined)[];
  } {
    const session = arrays.begin();
    const env: { data: Float32Array }[] = [];
    const handed: (Float32Array | undefined)[] = [];
    const tensors: (Tensor | undefined)[] = [];
    const previousPool = setArrayPool(session);
    const allocate = (length: number) => {
      const taken = session?.take("float32", length) as Float32Array | undefined;
      handed.push(taken);
      if (taken !== undefined) return taken;
      const made = new Float32Array(length);
      session?.fresh?.(made);
      return made;
    };
    try {
      for (let s = 0; s < 6; s++) {
        session?.beginStep(s);
        if (s === 3) env[3] = { data: env[options.viewOf ?? 2].data };
        else {
          const array = allocate(options.length?.(s) ?? 4);
          const shape = options.shape?.(s) ?? [array.length];
          tensors[s] = Tensor.fromTypedArray(array, shape);
          env[s] = { data: array };
        }
        session?.endStep(s, steps[s].makes, env as unknown as Tensor[]);
      }
    } finally {
      setArrayPool(previousPool);
    }
    if (session !== null) arrays.end(session, true);
    return { session, env, handed, tensors };
  }
  return { arrays, call };
}

describe("ReplayArrays", () => {
  it("records the first call, then hands out one array to values whose lifetimes do not overlap", () => {
    const { arrays, call } = chain();
    const first = call();
    expect(first.handed).toEqual(new Array(5).fill(undefined)); // recording
    expect(arrays.describe()).toMatch(
      /^4 of each call's 5 array allocations will reuse, from the next call on, 2 arrays/,
    );
    call(); // the slots' arrays are made on their first use
    expect(arrays.describe()).toMatch(/^4 of each call's 5 array allocations reuse 2 arrays/);
    const { env, handed } = call();
    // v0 (steps 0-1) and v2 (steps 2-4) share a slot, v1 (1-2) and v4 (4-5) the other; v5 escapes.
    expect(handed[0]).toBeDefined();
    expect(handed[1]).toBeDefined();
    expect(handed[1]).not.toBe(handed[0]);
    expect(handed[2]).toBe(handed[0]);
    expect(handed[3]).toBe(handed[1]);
    expect(handed[4]).toBeUndefined();
    expect([handed[0], handed[1]]).not.toContain(env[5].data);
    expect(arrays.describe()).toContain("the latest call made 1 fresh (16 bytes");
    // Arrays are kept between calls: the next call gets the same ones.
    expect(call().handed).toEqual(handed);
  });

  it("hands an op the tensor it made over a slot's array last call, while nothing was set on it", () => {
    const { call } = chain();
    call();
    call(); // the slots' arrays and their tensors are made
    const before = call().tensors;
    const { tensors, handed } = call();
    // Steps 0, 1, 2 and 4 allocate from slots: the same tensor objects as the call before; the
    // result's array (step 5) is fresh, and so is its tensor.
    for (const s of [0, 1, 2, 4]) {
      expect(tensors[s]).toBe(before[s]);
      expect(tensors[s]!.data).toBe(handed[s === 4 ? 3 : s]);
    }
    expect(tensors[5]).not.toBe(before[5]);
    // A tensor something was set on, or asked for in another shape, is made anew.
    tensors[0]!.requiresGrad_();
    tensors[1]!.name = "h";
    const next = call({ shape: (s) => (s === 2 ? [2, 2] : [4]) }).tensors;
    expect(next[0]).not.toBe(tensors[0]);
    expect(next[1]).not.toBe(tensors[1]);
    expect(next[2]).not.toBe(tensors[2]);
    expect(next[2]!.shape).toEqual([2, 2]);
    expect(next[4]).toBe(tensors[4]);
    // The new ones serve from then on.
    const after = call({ shape: (s) => (s === 2 ? [2, 2] : [4]) }).tensors;
    expect([after[0], after[1], after[2]]).toEqual([next[0], next[1], next[2]]);
    expect(after[0]).toBe(next[0]);
  });

  it("makes new tensors once a plan is dropped", () => {
    const { call } = chain();
    call();
    call();
    const before = call().tensors;
    call({ length: (s) => (s === 1 ? 8 : 4) }); // diverges: the plan goes
    call(); // records again
    call(); // slots made on first use
    const after = call().tensors;
    for (const s of [0, 1, 2, 4]) expect(after[s]).not.toBe(before[s]);
  });

  it("drops the plan when a call allocates a different length, and records again", () => {
    const { arrays, call } = chain();
    call();
    call();
    const diverged = call({ length: (s) => (s === 1 ? 8 : 4) });
    expect(diverged.handed[1]).toBeUndefined(); // not the slot's float32[4]
    expect(diverged.handed[2]).toBeUndefined(); // nothing handed out after the difference
    expect(arrays.dropped).toBe(1);
    expect(arrays.describe()).toMatch(
      /arrays are planned from the next call's allocations; 1 plan was dropped/,
    );
    expect(call().handed.every((a) => a === undefined)).toBe(true); // records again
    expect(call().handed[0]).toBeUndefined(); // slots made on first use
    expect(call().handed[0]).toBeDefined();
  });

  it("drops the plan when a value lives in a slot it was not planned for", () => {
    const { arrays, call } = chain();
    call();
    call();
    // v3 now views v1's array instead of v2's, and step 4 reads it: handing v1's slot to step 4's
    // allocation, as planned, would overwrite it. No array is handed out from there on.
    const diverged = call({ viewOf: 1 });
    expect(diverged.handed[3]).toBeUndefined();
    expect(diverged.env[4].data).not.toBe(diverged.env[3].data);
    expect(arrays.dropped).toBe(1);
  });

  it("stops planning after three dropped plans", () => {
    const { arrays, call } = chain();
    for (let i = 0; i < 3; i++) {
      call();
      call({ length: (s) => (s === 0 ? 8 : 4) });
    }
    expect(arrays.dropped).toBe(3);
    expect(call().session).toBeNull();
    expect(arrays.describe()).toMatch(
      /each a fresh garbage-collected array; 3 plans were dropped.*no longer plan/,
    );
  });

  it("drops the plan, without counting it, when a call throws", () => {
    const { arrays, call } = chain();
    call();
    call();
    const session = arrays.begin()!;
    session.beginStep(0);
    session.take("float32", 4);
    arrays.end(session, false);
    expect(arrays.dropped).toBe(0);
    expect(arrays.describe()).toMatch(/^arrays are planned from the next call's allocations$/);
  });
});
