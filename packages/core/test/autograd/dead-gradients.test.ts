// Recycling the arrays a backward pass made once only the engine could reach them: they reach the
// cache and later allocations take them, gradients stay bit for bit what they are without
// recycling, and nothing a user can hold (a leaf's .grad, autogradGrad's results, a retained
// gradient, the seed, what a custom op's backward saw or made) is ever handed out again.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  autogradGrad,
  compile,
  customOp,
  emptyCache,
  manualSeed,
  randn,
  type Tensor,
  traceBackward,
} from "../../src/index.js";
import { arrayCache } from "../../src/tensor/array-cache.js";

/** [512, 512] float32 and [256, 512] float64 are 1 MB: the smallest arrays the engine recycles. */
const ROWS = 512;
const COLS = 512;

beforeEach(() => {
  emptyCache();
  manualSeed(7);
});
afterEach(() => emptyCache());

function snapshot(t: Tensor): Float64Array {
  return Float64Array.from(t.toArray() as Float32Array);
}

/** The first index where `t` differs from `before` (NaN counts as equal to NaN), or -1. */
function firstChange(t: Tensor, before: Float64Array): number {
  const now = snapshot(t);
  if (now.length !== before.length) return 0;
  for (let i = 0; i < now.length; i++) {
    if (!Object.is(now[i], before[i])) return i;
  }
  return -1;
}

function expectUnchanged(t: Tensor, before: Float64Array): void {
  expect(firstChange(t, before)).toBe(-1);
}

/** Empties the cache of float32 arrays of `length` elements; true when one of them is `t`'s. */
function cacheHeld(t: Tensor, length = ROWS * COLS): boolean {
  let found = false;
  for (let a = arrayCache.take("float32", length); a !== undefined; ) {
    if (a.buffer === t.storage.data.buffer) found = true;
    a = arrayCache.take("float32", length);
  }
  return found;
}

/** A small deterministic generator for the shapes of random graphs. */
function chooser(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

/**
 * A random graph over x [512, 512] and w [512]: elementwise ops, values used twice, broadcasts
 * (their backward sums), views (reshape, transpose: their backward hands on views) and
 * reductions; returns the scalar loss and every intermediate it made (a user may hold them).
 */
function randomGraph(x: Tensor, w: Tensor, seed: number): { loss: Tensor; made: Tensor[] } {
  const pick = chooser(seed);
  const values: Tensor[] = [x.mul(w)];
  for (let i = 0; i < 10; i++) {
    const a = values[pick(values.length)];
    const b = values[pick(values.length)];
    let next: Tensor;
    switch (pick(8)) {
      case 0:
        next = a.tanh();
        break;
      case 1:
        next = a.mul(b);
        break;
      case 2:
        next = a.add(b);
        break;
      case 3:
        next = a.sub(b.mul(0.5));
        break;
      case 4:
        next = a.reshape([COLS, ROWS]).transpose(0, 1).mul(w);
        break;
      case 5:
        next = a.sub(a.mean(0, true));
        break;
      case 6:
        next = a.sin().add(w);
        break;
      default:
        next = a.square().mul(0.1);
    }
    values.push(next);
  }
  let loss = values[values.length - 1].sum();
  for (let i = 1; i < values.length; i += 3) loss = loss.add(values[i].mean());
  return { loss, made: values };
}

describe("recycling a backward pass's dead arrays", () => {
  it("sends them to the cache, where the next forward pass takes them", () => {
    const x = randn([ROWS, COLS]).requiresGrad_(true);
    const y = x.tanh().mul(x).sin();
    y.sum().backward();
    // tanh's, mul's and sin's gradients (and their temporaries) are dead; x.grad is not.
    expect(arrayCache.bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const cached = arrayCache.bytes;
    x.detach().exp();
    expect(arrayCache.bytes).toBe(cached - 1024 * 1024);
    expect(cacheHeld(x.grad!)).toBe(false);
  });

  it("keeps a leaf's .grad out of the cache, adopted or added into", () => {
    const x = randn([ROWS, COLS]).requiresGrad_(true);
    x.sin().sum().backward(); // sin's backward makes the gradient, which x adopts
    expect(cacheHeld(x.grad!)).toBe(false);
    x.grad = null;
    x.sin().add(x.cos()).sum().backward(); // two contributions: the second is added into .grad
    expect(cacheHeld(x.grad!)).toBe(false);
  });

  it("changes no gradient and no value a user holds, over repeated steps of random graphs", () => {
    let recycled = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const x = randn([ROWS, COLS]).requiresGrad_(true);
      const w = randn([COLS]).requiresGrad_(true);
      // The reference: createGraph turns recycling off, and computes the same values.
      const reference = randomGraph(x, w, seed);
      const [refX, refW] = autogradGrad(reference.loss, [x, w], { createGraph: true });
      const expectedX = snapshot(refX!);
      const expectedW = snapshot(refW!);
      const held: { t: Tensor; values: Float64Array }[] = [];
      for (let step = 0; step < 3; step++) {
        x.grad = null;
        w.grad = null;
        const { loss, made } = randomGraph(x, w, seed);
        loss.backward();
        recycled = Math.max(recycled, arrayCache.bytes);
        expectUnchanged(x.grad!, expectedX);
        expectUnchanged(w.grad!, expectedW);
        // What this step left with the user: its values and gradients, kept across later steps.
        for (const t of [...made, x.grad!, w.grad!]) held.push({ t, values: snapshot(t) });
        for (const { t, values } of held) expectUnchanged(t, values);
      }
    }
    expect(recycled).toBeGreaterThan(0); // the steps did recycle
  });

  it("never recycles autogradGrad's results, retained gradients or the seed", () => {
    const x = randn([ROWS, COLS]).requiresGrad_(true);
    const h = x.tanh().retainGrad();
    const y = h.mul(x).sin();
    const seed = randn([ROWS, COLS]);
    const seedValues = snapshot(seed);
    const [gx, gh] = autogradGrad(y, [x, h], { gradOutputs: [seed], retainGraph: true });
    expect(cacheHeld(gx!) || cacheHeld(gh!)).toBe(false);
    const kept = [gx!, gh!].map((t) => ({ t, values: snapshot(t) }));
    y.backward(seed);
    expect(cacheHeld(h.grad!)).toBe(false);
    kept.push({ t: h.grad!, values: snapshot(h.grad!) });
    // Later allocations of this size, which would take any array wrongly recycled.
    for (let i = 0; i < 6; i++) randn([ROWS, COLS]).exp();
    for (const { t, values } of kept) expectUnchanged(t, values);
    expectUnchanged(seed, seedValues);
  });

  it("never recycles what a custom op's backward saw or made", () => {
    const seen: Tensor[] = [];
    const scaled = customOp({
      name: "scaled",
      forward: (_ctx, a) => a.mul(3),
      backward: (_ctx, gradOut) => {
        const gradA = gradOut.mul(3);
        seen.push(gradOut, gradA); // user code may keep anything it sees
        return [gradA];
      },
      freshGradients: true,
    });
    const x = randn([ROWS, COLS]).requiresGrad_(true);
    scaled(x.tanh().sin()).exp().sum().backward();
    const before = seen.map(snapshot);
    for (let i = 0; i < 6; i++) randn([ROWS, COLS]).exp();
    seen.forEach((t, i) => {
      expectUnchanged(t, before[i]);
    });
  });

  it("recycles nothing under createGraph, traceBackward or while compile() traces", () => {
    const x = randn([ROWS, COLS]).requiresGrad_(true);
    x.tanh().sin().sum().backward({ createGraph: true });
    expect(arrayCache.bytes).toBe(0);
    x.grad = null;
    traceBackward(
      () => x.tanh().sin().sum().backward(),
      () => {},
    );
    expect(arrayCache.bytes).toBe(0);
    x.grad = null;
    const step = compile((input: Tensor) => {
      input.grad = null;
      const loss = input.tanh().sin().sum();
      loss.backward();
      return loss;
    });
    step(x); // the first call traces
    expect(arrayCache.bytes).toBe(0);
    expect(step.traces).toBe(1);
  });
});
