// compile(): a traced function replayed call after call must leave exactly what eager calls
// leave (results, parameters, gradients), retrace when the input signature changes, keep the
// graph of a function that does not run its own backward, and refuse what it cannot replay.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  AnomalyError,
  type CompiledFunction,
  CompileError,
  compile,
  crossEntropy,
  customOp,
  detectAnomaly,
  dropout,
  Generator,
  logSoftmax,
  manualSeed,
  nllLoss,
  noGrad,
  rand,
  randint,
  randn,
  type Tensor,
  TraceError,
  tensor,
} from "../../src/index.js";
import { peekGrad, setUnfilledPoison } from "../../src/internal.js";

/** A two-layer MLP with a hand-written SGD-momentum step, as eager code writes it. */
function mlp(seed: number) {
  manualSeed(seed);
  const params = [randn([8, 16]), randn([16]), randn([16, 3]), randn([3])].map((p) =>
    p.mul(0.3).requiresGrad_(),
  );
  const velocity = params.map((p) => p.detach().mul(0));
  const step = (x: Tensor, y: Tensor): Tensor => {
    for (const p of params) p.grad = null;
    const [w1, b1, w2, b2] = params;
    const h = x.matmul(w1).add(b1).relu();
    const loss = crossEntropy(h.matmul(w2).add(b2), y);
    loss.backward();
    noGrad(() => {
      params.forEach((p, i) => {
        velocity[i].mul_(0.9).add_(p.grad!);
        p.sub_(velocity[i].mul(0.1));
      });
    });
    return loss;
  };
  return { params, step };
}

function bits(t: Tensor): number[] {
  return Array.from(t.toArray());
}

describe("compile", () => {
  it("replays a training step with results, parameters and gradients bit for bit those of eager calls", () => {
    const x = randn([32, 8]);
    const y = randint(0, 3, [32]);
    const eager = mlp(1);
    const traced = mlp(1);
    const step = compile(traced.step);
    for (let i = 0; i < 4; i++) {
      expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
    }
    traced.params.forEach((p, i) => {
      expect(bits(p)).toEqual(bits(eager.params[i]));
      expect(bits(p.grad!)).toEqual(bits(eager.params[i].grad!));
    });
    expect(step.traces).toBe(1);
    expect(step.replays).toBe(3);
  });

  it("gives a weight used through t() its gradient without a copy, as eager backward does", () => {
    // [out, in] weights as Linear keeps them: matmul's backward makes each gradient in the
    // weight's layout and t()'s backward hands it on, so the weight adopts it; no clone replays.
    manualSeed(5);
    const w1 = randn([16, 8]).mul(0.3).requiresGrad_();
    const w2 = randn([3, 16]).mul(0.3).requiresGrad_();
    const step = compile((x: Tensor, y: Tensor): Tensor => {
      w1.grad = null;
      w2.grad = null;
      const loss = crossEntropy(x.matmul(w1.t()).relu().matmul(w2.t()), y);
      loss.backward();
      return loss;
    });
    for (let i = 0; i < 3; i++) step(randn([32, 8]), randint(0, 3, [32]));
    const listing = step.explain();
    expect(listing).toContain("setGrad(");
    expect(listing).not.toContain("clone(");
    expect(w1.grad!.isContiguous()).toBe(true);
  });

  it("never replays a gradient copy as a view of an input: another layout traces anew", () => {
    // reshape's backward copies a transposed seed and views a contiguous one; the trace keeps
    // its choice (the copy became w.grad without a clone), which would have made w.grad a view
    // of the caller's seed on a replay.
    const w = randn([4, 6], { requiresGrad: true });
    const step = compile((seed: Tensor) => {
      w.grad = null;
      w.reshape([12, 2]).backward(seed);
      return w.reshape([12, 2]);
    });
    const transposed = randn([2, 12]).t();
    step(transposed);
    step(transposed);
    const seed = randn([12, 2]);
    step(seed);
    step(seed);
    expect(step.traces).toBe(2);
    const kept = bits(w.grad!);
    expect(kept).toEqual(bits(seed.reshape([4, 6])));
    seed.fill_(7);
    expect(bits(w.grad!)).toEqual(kept);
  });

  it("retraces for a new input signature and says so", () => {
    const messages: string[] = [];
    const step = compile(mlp(2).step, { log: (m) => messages.push(m) });
    step(randn([4, 8]), randint(0, 3, [4]));
    step(randn([4, 8]), randint(0, 3, [4]));
    step(randn([6, 8]), randint(0, 3, [6]));
    step(randn([4, 8]), randint(0, 3, [4]));
    // The second call, on new tensors, traces once more to check that the function does not
    // also use the first call's tensors directly; the fourth replays.
    expect(step.traces).toBe(3);
    expect(step.replays).toBe(1);
    expect(messages).toEqual([
      "compile: traced step (first call): input0: float32[4, 8], input1: int32[4]",
      "compile: traced step again (new input tensors: checking that the function does not also use the first call's directly): input0: float32[4, 8], input1: int32[4]",
      "compile: traced step (new input signature): input0: float32[6, 8], input1: int32[6]",
    ]);
  });

  it("retraces when only an input's requiresGrad, its strides or the grad mode change", () => {
    const messages: string[] = [];
    const f = compile((x: Tensor) => x.mul(2).sum(), { log: (m) => messages.push(m) });
    const x = randn([3, 4]);
    const xg = x.detach().requiresGrad_();
    const xt = randn([4, 3]).t(); // [3, 4], not contiguous
    const xs = randn([3, 8]).narrow(1, 2, 4); // [3, 4], not contiguous either, other strides
    const calls: [Tensor, boolean][] = [
      [x, true],
      [x, true], // replays
      [x, false], // under noGrad
      [xg, true], // requiresGrad
      [xt, true], // strides
      [xs, true], // other strides
      [x, true], // replays the first trace again
    ];
    for (const [input, grad] of calls) {
      const y = grad ? f(input) : noGrad(() => f(input));
      expect(bits(y)).toEqual(bits(noGrad(() => input.mul(2).sum())));
      expect(y.requiresGrad).toBe(grad && input.requiresGrad);
    }
    expect(messages).toEqual([
      "compile: traced the function (first call): input0: float32[3, 4]",
      "compile: traced the function (new input signature): input0: float32[3, 4] (called under noGrad)",
      "compile: traced the function (new input signature): input0: float32[3, 4] requiresGrad",
      "compile: traced the function (new input signature): input0: float32[3, 4] strides [1, 3]",
      "compile: traced the function (new input signature): input0: float32[3, 4] strides [8, 1]",
    ]);
    expect(f.replays).toBe(2);
  });

  it("keeps the graph of a function that does not run backward, so gradients flow from its result", () => {
    const w = randn([3, 2]).requiresGrad_();
    const f = compile((x: Tensor) => x.matmul(w).tanh().sum());
    const x = randn([5, 3]);
    f(x).backward();
    const first = bits(w.grad!);
    w.grad = null;
    f(x).backward(); // replayed
    expect(f.replays).toBe(1);
    expect(bits(w.grad!)).toEqual(first);
  });

  it("returns results shaped as the function's: arrays and objects of tensors", () => {
    const f = compile((a: Tensor, b: Tensor) => ({ sum: a.add(b), parts: [a.mul(2), 7] }));
    f(tensor([1]), tensor([2]));
    const out = f(tensor([3]), tensor([4]));
    expect(out.sum.tolist()).toEqual([7]);
    expect((out.parts[0] as Tensor).tolist()).toEqual([6]);
    expect(out.parts[1]).toBe(7);
  });

  it("draws new random numbers on every call, as eager code does", () => {
    const noisy = (x: Tensor) => dropout(x, { p: 0.5 });
    const x = randn([64]);
    manualSeed(5);
    const eager = [bits(noisy(x)), bits(noisy(x)), bits(noisy(x))];
    manualSeed(5);
    const f = compile(noisy);
    const replayed = [bits(f(x)), bits(f(x)), bits(f(x))];
    expect(replayed).toEqual(eager);
    expect(replayed[1]).not.toEqual(replayed[2]);
    const g = new Generator(3);
    expect(
      bits(compile((t: Tensor) => t.add(randn([2], { generator: g })))(tensor([0, 0]))),
    ).toHaveLength(2);
  });

  it("makes a generator the function makes anew on every call, as eager code does", () => {
    // A fixed generator made inside the function gives the same draws on every call; a replay
    // used the traced one, whose stream had moved on (different masks from call 3 on).
    const noisy = (x: Tensor) => dropout(x, { p: 0.5, generator: new Generator(11) });
    const twice = (x: Tensor) => {
      const g = new Generator(4);
      return randn([3], { generator: g })
        .add(randn([3], { generator: g }))
        .add(x);
    };
    const x = randn([64]);
    const f = compile(noisy);
    const h = compile(twice);
    const y = tensor([1, 2, 3]);
    for (let call = 0; call < 4; call++) {
      expect(bits(f(x))).toEqual(bits(noisy(x)));
      expect(bits(h(y))).toEqual(bits(twice(y)));
    }
    expect(f.explain()).toContain("generator0 (made by the function)");
  });

  it("replays backward formulas that depend on the values (zeros in prod and cumprod) for any values", () => {
    // prod's and cumprod's gradients take another form where an input is zero; a replay of a
    // trace made without zeros divided by zero (NaN) when a later call had one.
    for (const op of ["prod", "prodAll", "cumprod"] as const) {
      const step = (x: Tensor) => {
        x.grad = null;
        const y = op === "prod" ? x.prod(1) : op === "prodAll" ? x.prod() : x.cumprod(1);
        y.mul(tensor(op === "prodAll" ? 1.5 : [1.5, -2]).reshape(op === "cumprod" ? [2, 1] : [-1]))
          .sum()
          .backward();
        return x.grad!;
      };
      const f = compile(step);
      const values = [
        [
          [1.5, 2, -0.5],
          [0.25, 3, 2],
        ],
        [
          [1.5, 0, -0.5],
          [0.25, 3, 2],
        ],
        [
          [0, 0, -0.5],
          [0.25, 0, 2],
        ],
        [
          [1.5, 2, -0.5],
          [0.25, 3, 2],
        ],
      ];
      for (const v of values) {
        const want = step(tensor(v, { requiresGrad: true }));
        const got = f(tensor(v, { requiresGrad: true }));
        expect(got.tolist(), `${op} on ${JSON.stringify(v)}`).toEqual(want.tolist());
        expect(got.toArray().every(Number.isFinite)).toBe(true);
      }
    }
  });

  it("replays custom ops, with what their forward saved for backward", () => {
    const cube = customOp({
      name: "cube",
      forward: (ctx, x) => {
        const square = x.mul(x);
        ctx.saveForBackward(square);
        return square.mul(x);
      },
      backward: (ctx, g) => [g.mul(ctx.saved[0]).mul(3)],
    });
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const f = compile((t: Tensor) => {
      x.grad = null;
      cube(t).sum().backward();
      return x.grad!;
    });
    expect(f(x).tolist()).toEqual([3, 12, 27]);
    expect(f(x).tolist()).toEqual([3, 12, 27]);
    expect(f.replays).toBe(1);
  });

  it("names the line of a value read while tracing", () => {
    const f = compile((x: Tensor) => (x.sum().item() > 0 ? x : x.neg()));
    expect(() => f(tensor([1]))).toThrow(TraceError);
    expect(() => f(tensor([1]))).toThrow(
      /item\(\) reads the output of sum .* at .*compile\.test\.ts/,
    );
  });

  it("refuses a tensor made by no op, which a replay could not make again", () => {
    const f = compile((x: Tensor) => {
      // Not an op: a tensor built around a fresh array by the class's internal constructor.
      const made = (x.constructor as typeof Tensor).fromTypedArray(new Float32Array([1, 2]), [2]);
      return x.add(made);
    });
    expect(() => f(tensor([1, 1]))).toThrow(CompileError);
    expect(() => f(tensor([1, 1]))).toThrow(
      "compile: add (call #0) reads a float32 tensor of shape [2] that was made while tracing by no Koubai op",
    );
  });

  it("refuses arguments that are not tensors and bad options", () => {
    const f = compile((x: Tensor) => x) as CompiledFunction<Tensor[], Tensor>;
    expect(() => f(3 as never)).toThrow(
      "compile: every argument of a compiled function must be a Tensor; argument 0 is number",
    );
    expect(() => compile(3 as never)).toThrow("compile: expected a function, got number");
    expect(() => compile((x: Tensor) => x, null as never)).toThrow(
      "compile: options must be an object",
    );
  });

  it("explains what a call replays", () => {
    const f = compile((x: Tensor) => x.mul(2).exp());
    expect(f.explain()).toBe("compile: not traced yet (call the function once)");
    f(tensor([1, 2]));
    const text = f.explain();
    expect(text).toContain("signature: input0: float32[2]");
    expect(text).toContain("each call replays 2 calls (2 elementwise)");
    expect(text).toContain("= mul(input0, 2)");
  });
});

describe("compile and accumulated gradients", () => {
  it("retraces when a parameter's .grad is set where it was null, so gradients keep adding up as in eager calls", () => {
    const messages: string[] = [];
    const make = () => {
      manualSeed(9);
      const w = randn([3]).requiresGrad_();
      return { w, accumulate: (x: Tensor) => x.mul(w).sum().backward() };
    };
    const eager = make();
    const traced = make();
    const f = compile(traced.accumulate, { log: (m) => messages.push(m) });
    const x = tensor([1, 2, 3]);
    for (let i = 0; i < 3; i++) {
      eager.accumulate(x);
      f(x);
    }
    expect(traced.w.grad!.tolist()).toEqual(eager.w.grad!.tolist());
    expect(traced.w.grad!.tolist()).toEqual([3, 6, 9]);
    expect(f.traces).toBe(2);
    expect(messages[1]).toContain(
      "(a tensor of shape [3].grad was null when traced and is a tensor now)",
    );
    // The gradient is added into in place from then on: the same tensor, so no more retraces.
    for (let i = 0; i < 2; i++) f(x);
    expect(f.traces).toBe(2);
    expect(traced.w.grad!.tolist()).toEqual([5, 10, 15]);
    // A gradient replaced from outside is another tensor: the replay would add into the old one.
    traced.w.grad = tensor([0, 0, 1]);
    f(x);
    expect(traced.w.grad!.tolist()).toEqual([1, 2, 4]);
    expect(messages[2]).toContain("(a tensor of shape [3].grad is another tensor now)");
  });

  it("checks an input's .grad on the tensor passed now: a new input each call replays, with eager's gradients", () => {
    const messages: string[] = [];
    manualSeed(10);
    const w = randn([8, 3]);
    const saliency = (x: Tensor) => x.matmul(w).square().sum().backward();
    const f = compile(saliency, { log: (m) => messages.push(m) });
    for (let i = 0; i < 4; i++) {
      const x = randn([4, 8]);
      const [eagerX, tracedX] = [x.clone().requiresGrad_(), x.clone().requiresGrad_()];
      saliency(eagerX);
      f(tracedX);
      expect(bits(tracedX.grad!)).toEqual(bits(eagerX.grad!));
    }
    // The second call traced again to check the new input tensor (see "passes"), then replays.
    expect(f.traces).toBe(2);
    expect(f.replays).toBe(2);
    // The same input again, its gradient not cleared: the replay would assign where eager adds.
    const x = randn([4, 8]).requiresGrad_();
    f(x);
    f(x);
    expect(f.traces).toBe(3);
    expect(messages[2]).toContain("(input0.grad was null when traced and is a tensor now)");
  });
});

describe("compile and the tensors it is passed", () => {
  it("passes: a tensor passed on the first call and also used directly stays itself on later calls", () => {
    manualSeed(21);
    const w = randn([3]);
    const f = (a: Tensor) => a.add(w.mul(10)); // w is used directly
    const messages: string[] = [];
    const compiled = compile(f, { log: (m) => messages.push(m) });
    expect(bits(compiled(w))).toEqual(bits(f(w))); // w passed too: the trace cannot tell them apart
    for (let i = 0; i < 3; i++) {
      const v = randn([3]);
      expect(bits(compiled(v))).toEqual(bits(f(v)));
    }
    expect(bits(compiled(w))).toEqual(bits(f(w)));
    expect(messages[1]).toContain(
      "(the tensor passed as input0 (float32[3]) when traced is also used directly by the function)",
    );
    // The first call on a v traced again, with w as a captured tensor; that new trace's input
    // is checked in turn on the next v; the last v and w replay.
    expect(compiled.traces).toBe(3);
    expect(compiled.replays).toBe(2);
  });

  it("passes: a parameter passed as an input and also captured trains as eagerly", () => {
    const make = () => {
      manualSeed(22);
      const w = randn([4, 3]).requiresGrad_();
      const step = (x: Tensor, p: Tensor) => {
        w.grad = null;
        const l = x.matmul(w).sum().add(p.square().sum());
        l.backward();
        noGrad(() => w.sub_(w.grad!.mul(0.1)));
        return l;
      };
      return { w, step };
    };
    const eager = { ...make(), other: randn([4, 3]).requiresGrad_() };
    const traced = { ...make(), other: eager.other.detach().clone().requiresGrad_() };
    const step = compile(traced.step);
    for (let i = 0; i < 5; i++) {
      const x = randn([2, 4]);
      // First w itself, then another tensor requiring grad (the same signature): w's gradient
      // and update must not follow it.
      expect(bits(step(x, i === 0 ? traced.w : traced.other))).toEqual(
        bits(eager.step(x, i === 0 ? eager.w : eager.other)),
      );
      expect(bits(traced.w)).toEqual(bits(eager.w));
      expect(bits(traced.other)).toEqual(bits(eager.other));
    }
    expect(bits(peekGrad(traced.other)!)).toEqual(bits(peekGrad(eager.other)!));
  });

  it("passes: the first call's tensor passed again at another position is checked later", () => {
    const w = tensor([1, 2, 3]);
    const f = (a: Tensor, b: Tensor) => a.mul(w).add(b); // w is used directly
    const compiled = compile(f);
    const p = tensor([10, 20, 30]);
    const q = tensor([100, 200, 300]);
    // The second call's trace has w as an input again, so it cannot tell; the third's can.
    for (const [a, b] of [
      [w, p],
      [p, w],
      [p, q],
      [q, p],
    ]) {
      expect(bits(compiled(a, b))).toEqual(bits(f(a, b)));
    }
  });

  it("passes: one tensor at two positions runs as eagerly while the plan's inputs are unchecked", () => {
    const f = (a: Tensor, b: Tensor) => a.sub(b.mul(2));
    const compiled = compile(f);
    const [x, y, p, q] = [
      tensor([1, 2, 3]),
      tensor([5, 7, 9]),
      tensor([2, 4, 8]),
      tensor([1, 0, 1]),
    ];
    expect(bits(compiled(x, y))).toEqual(bits(f(x, y)));
    expect(bits(compiled(y, y))).toEqual(bits(f(y, y))); // a trace would refuse it
    expect(bits(compiled(p, q))).toEqual(bits(f(p, q))); // checks both positions
    expect(bits(compiled(y, y))).toEqual(bits(f(y, y))); // checked now: replays
    expect(compiled.traces).toBe(2);
    expect(compiled.replays).toBe(1);
  });

  it("passes: one tensor at two positions on the first call runs eagerly, and says so", () => {
    const messages: string[] = [];
    const f = (a: Tensor, b: Tensor) => a.sub(b.mul(2));
    const compiled = compile(f, { log: (m) => messages.push(m) });
    const [x, y] = [tensor([1, 2, 3]), tensor([5, 7, 9])];
    expect(bits(compiled(x, x))).toEqual(bits(f(x, x)));
    expect(compiled.traces).toBe(0);
    expect(messages[0]).toContain(
      "ran f eagerly (the same tensor at two input positions cannot be traced)",
    );
    expect(bits(compiled(x, y))).toEqual(bits(f(x, y))); // traced
    expect(compiled.traces).toBe(1);
  });

  it("passes: a retrace keeps the checks made, so it costs one trace, not two", () => {
    const w = randn([3, 2]);
    const f = compile((x: Tensor) => x.matmul(w).relu());
    f(randn([4, 3]));
    f(randn([4, 3])); // checks the new input tensor
    w.requiresGrad_(); // a captured tensor's flag changed: the next call retraces
    f(randn([4, 3]));
    f(randn([4, 3]));
    expect(f.traces).toBe(3);
    expect(f.replays).toBe(1);
  });

  it("traces a second time for new input tensors, and only once", () => {
    const messages: string[] = [];
    const w = randn([8, 2]);
    const f = compile((x: Tensor) => x.matmul(w).relu(), { log: (m) => messages.push(m) });
    for (let i = 0; i < 6; i++) f(randn([5, 8]));
    expect(f.traces).toBe(2);
    expect(f.replays).toBe(4);
    expect(messages[1]).toMatch(/traced .* again \(new input tensors: checking/);
    // The same tensor every call needs no check.
    const g = compile((x: Tensor) => x.matmul(w).relu());
    const x = randn([5, 8]);
    for (let i = 0; i < 4; i++) g(x);
    expect(g.traces).toBe(1);
  });
});

describe("compile and the graphs of its inputs", () => {
  it("refuses a backward that runs on into the graph that made an input outside the function", () => {
    manualSeed(41);
    const w = randn([3, 2]).requiresGrad_();
    const lossAndBackward = compile((pred: Tensor, target: Tensor) => {
      const loss = pred.sub(target).square().mean();
      loss.backward();
      return loss;
    });
    const pred = randn([5, 3]).matmul(w); // made outside, with a graph
    expect(() => lossAndBackward(pred, randn([5, 2]))).toThrow(TraceError);
    expect(() => lossAndBackward(randn([5, 3]).matmul(w), randn([5, 2]))).toThrow(
      /backward\(\) inside the traced function would reach matmul #\d+, which made input0 before the function was called: .*input\.detach\(\)/,
    );
    // Detached, the input is a constant to the function, which then compiles.
    const detached = randn([5, 3]).matmul(w).detach().requiresGrad_();
    const target = randn([5, 2]);
    expect(lossAndBackward(detached, target).item()).toBeGreaterThan(0);
    expect(detached.grad).not.toBeNull();
  });

  it("refuses before any gradient changed, also on a later call after leaf inputs, and for a view", () => {
    manualSeed(43);
    const w = randn([3, 2]).requiresGrad_();
    const head = randn([2]).requiresGrad_();
    const step = compile((pred: Tensor) => {
      const loss = pred.matmul(head).square().sum();
      loss.backward();
      return loss;
    });
    // Two calls on leaves that require grad: traced (and checked), head.grad accumulates.
    step(randn([4, 2]).requiresGrad_());
    step(randn([4, 2]).requiresGrad_());
    head.grad = null;
    // An input made by an op is another signature: traced, and refused before the pass ran.
    expect(() => step(randn([4, 3]).matmul(w))).toThrow(
      /would reach matmul #\d+, which made input0/,
    );
    expect(head.grad).toBeNull();
    expect(w.grad).toBeNull();
    // A view of a parameter passed as the input is made by an op too.
    expect(() => step(w.t().t())).toThrow(/take the view inside the function/);
    expect(w.grad).toBeNull();
  });

  it("replays a step that reads the .grad of tensors it makes (retainGrad, a detached leaf)", () => {
    const make = () => {
      manualSeed(42);
      const w = randn([4, 3]).requiresGrad_();
      return (x: Tensor) => {
        w.grad = null;
        const h = x.matmul(w);
        h.retainGrad();
        const features = h.tanh();
        const leaf = features.detach().requiresGrad_(); // a two-stage backward
        leaf.square().sum().backward();
        features.backward(leaf.grad!);
        return [h.grad!, w.grad!];
      };
    };
    const eager = make();
    const compiled = compile(make());
    for (let i = 0; i < 5; i++) {
      const x = randn([2, 4]);
      const [hGrad, wGrad] = eager(x);
      const [cHGrad, cWGrad] = compiled(x);
      expect(bits(cHGrad)).toEqual(bits(hGrad));
      expect(bits(cWGrad)).toEqual(bits(wGrad));
    }
    // The first call and the first on new tensors trace; the others replay.
    expect(compiled.traces).toBe(2);
    expect(compiled.replays).toBe(3);
  });
});

describe("compile and errors of replayed calls", () => {
  it("names the composite the user called when a call replayed inside it throws", () => {
    const logits = randn([4, 3]);
    const loss = compile((x: Tensor, y: Tensor) => crossEntropy(x, y));
    for (let i = 0; i < 3; i++) loss(logits, tensor([0, 1, 2, 1], { dtype: "int32" }));
    expect(loss.replays).toBeGreaterThan(0);
    // Eager, crossEntropy checks the targets itself; a replay runs nllLoss's check.
    expect(() => crossEntropy(logits, tensor([0, 1, 5, 1], { dtype: "int32" }))).toThrow(
      "crossEntropy: target[2] = 5 is out of range for 3 classes",
    );
    expect(() => loss(logits, tensor([0, 1, 5, 1], { dtype: "int32" }))).toThrow(
      /^nllLoss: target\[2\] = 5 is out of range for 3 classes .* \(in crossEntropy, whose calls compile\(\) replays one by one\)$/,
    );
  });
});

describe("compile and what a replay cannot see", () => {
  it("refuses reseeding or cloning a generator it did not just make, naming the line", () => {
    const x = randn([4]);
    const seeded = compile((a: Tensor) => {
      manualSeed(123);
      return a.add(rand([4]));
    });
    expect(() => seeded(x)).toThrow(TraceError);
    expect(() => seeded(x)).toThrow(
      /^manualSeed\(\) on the default generator while the function is traced at .*compile\.test\.ts.*: a replay does not run it/,
    );
    const outside = new Generator(3);
    const cloned = compile((a: Tensor) => a.add(rand([4], { generator: outside.cloneState() })));
    expect(() => cloned(x)).toThrow(/cloneState\(\) on a generator made outside the function/);
    // Refused before it changed anything: the generator is where it was.
    const snapshot = outside.cloneState();
    const reseedOutside = compile((a: Tensor) => {
      outside.manualSeed(7);
      return a.add(rand([4], { generator: outside }));
    });
    expect(() => reseedOutside(x)).toThrow(/manualSeed\(\) on a generator made outside/);
    expect(outside.sameState(snapshot)).toBe(true);
    const reseeded = compile((a: Tensor) => {
      const g = new Generator(5);
      const first = rand([4], { generator: g });
      g.manualSeed(5);
      return a.add(first).add(rand([4], { generator: g }));
    });
    expect(() => reseeded(x)).toThrow(
      /manualSeed\(\) on a generator the function made and has drawn from/,
    );
  });

  it("replays a generator the function makes and seeds before its first draw", () => {
    const f = (a: Tensor) => {
      const g = new Generator(1);
      g.manualSeed(9); // before any draw: the state a replay makes it in
      return a.add(rand([4], { generator: g.cloneState() }));
    };
    const compiled = compile(f);
    for (let i = 0; i < 4; i++) {
      const x = randn([4]);
      expect(bits(compiled(x))).toEqual(bits(f(x)));
    }
    expect(compiled.replays).toBe(2);
  });

  it("runs eagerly, every check included, under detectAnomaly inside or around it", () => {
    const w = tensor([1, 1, 1, 1]).requiresGrad_();
    const inside = compile((a: Tensor) =>
      detectAnomaly(() => {
        w.grad = null;
        const loss = a.sqrt().mul(w).sum();
        loss.backward();
        return loss;
      }),
    );
    const around = compile((a: Tensor) => noGrad(() => a.sqrt().mul(2).add(1)));
    for (let i = 0; i < 3; i++) {
      inside(tensor([1, 4, 9, 16]));
      around(tensor([1, 4, 9, 16]));
    }
    expect(around.replays).toBe(1);
    const negative = tensor([1, -4, 9, 16]);
    expect(() => inside(negative)).toThrow(AnomalyError);
    expect(inside.replays).toBe(0);
    expect(inside.traces).toBe(1);
    expect(inside.explain()).toContain("runs eagerly: the function calls detectAnomaly inside");
    // explain() follows the latest call: another signature's plan after it.
    let checking = false;
    const sometimes = compile((a: Tensor) => (checking ? detectAnomaly(() => a.mul(2)) : a.mul(3)));
    sometimes(randn([3]));
    checking = true;
    sometimes(randn([5]));
    expect(sometimes.explain()).toContain("runs eagerly");
    checking = false;
    sometimes(randn([3])); // new input tensors: traced once more, keeping the plan
    expect(sometimes.explain()).toMatch(/^signature: input0: float32\[3\]\neach call replays/);
    expect(() => detectAnomaly(() => around(negative))).toThrow(AnomalyError);
    expect(bits(around(negative))[1]).toBeNaN(); // without detectAnomaly, NaN as eagerly
  });

  it("keeps a literal nested deeper than four arrays, as a copy (the caller's stays its own)", () => {
    const f = (a: Tensor) => a.add(tensor([[[[[1.5, 2.5]]]]]));
    const compiled = compile(f);
    for (let i = 0; i < 4; i++) {
      const x = randn([2]);
      expect(bits(compiled(x))).toEqual(bits(f(x)));
    }
    expect(compiled.replays).toBe(2);
    const rows = [[[[[1, 2]]]]];
    const g = compile((a: Tensor) => a.add(tensor(rows)));
    for (let i = 0; i < 3; i++) g(randn([2]));
    expect(g.replays).toBe(1);
    expect(Object.isFrozen(rows[0][0][0][0])).toBe(false);
    rows[0][0][0][0][1] = 5; // a loader refilling its own array must not throw
    expect(rows[0][0][0][0]).toEqual([1, 5]);
    // A tensor that deep could not be replaced by the next call's.
    const deep = compile((a: Tensor) => a.add(tensor([[[[[a]]]]] as never)));
    expect(() => deep(randn([]))).toThrow(
      "a call's argument holds a tensor nested more than four arrays or objects deep",
    );
  });
});

describe("compile inside compile", () => {
  it("runs a compiled function called during another's trace as plain code, so replays make its ops", () => {
    const w = tensor([1, 2, 3]);
    const inner = (a: Tensor) => a.mul(w).add(a);
    const innerCompiled = compile(inner);
    for (let i = 0; i < 4; i++) innerCompiled(tensor([i, i, i])); // replaying already
    const outer = compile((a: Tensor) => innerCompiled(a).mul(2));
    for (let i = 1; i <= 5; i++) {
      const x = tensor([i, 2 * i, 3 * i]);
      expect(bits(outer(x))).toEqual(bits(inner(x).mul(2)));
    }
    expect(outer.replays).toBe(3);
    expect(innerCompiled.traces).toBe(2); // the outer's traces did not count as its own
  });
});

describe("compile with check", () => {
  it("runs each call eagerly and finds the calls a replay would make the same", () => {
    const x = randn([16, 8]);
    const y = randint(0, 3, [16]);
    const eager = mlp(3);
    const checked = mlp(3);
    const step = compile(checked.step, { check: true });
    for (let i = 0; i < 3; i++) expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
    expect(step.traces).toBe(1);
    expect(step.replays).toBe(2);
    // Its explain() says why nothing is planned (not that a later call will plan it).
    expect(step.explain()).toContain(
      "each a fresh garbage-collected array: compile(fn, { check: true }) runs every call eagerly and compares it with the trace",
    );
  });

  it("accepts a tensor passed on the first call that the function also uses directly", () => {
    const w = randn([3]);
    const f = (a: Tensor) => a.add(w.mul(10));
    const checked = compile(f, { check: true });
    checked(w);
    for (let i = 0; i < 3; i++) {
      const v = randn([3]);
      expect(bits(checked(v))).toEqual(bits(f(v)));
    }
  });

  it("accepts the directly used tensor passed as an input after the plan was replaced", () => {
    const w = randn([3]);
    const f = (a: Tensor) => a.add(w.mul(10));
    const checked = compile(f, { check: true });
    for (const t of [w, randn([3]), randn([3]), w]) expect(bits(checked(t))).toEqual(bits(f(t)));
  });

  it("names the call whose number a replay would have fixed", () => {
    let scale = 1;
    const f = compile((x: Tensor) => x.exp().mul(scale), { check: true });
    f(tensor([1, 2]));
    scale = 2;
    expect(() => f(tensor([1, 2]))).toThrow(
      "compile (check): call #1 (mul) now gets argument 1 = 2, where the trace has 1",
    );
  });

  it("names the call where the function took another branch", () => {
    let positive = true;
    const f = compile((x: Tensor) => (positive ? x.exp() : x.neg()), { check: true });
    f(tensor([1]));
    positive = false;
    expect(() => f(tensor([1]))).toThrow(
      "compile (check): call #0 is now neg, where the trace has exp",
    );
  });
});

describe("compile and the result's shape", () => {
  it("refuses a result holding tensors a replay would not remake: in a Map, a class, too deep", () => {
    class Holder {
      constructor(readonly t: Tensor) {}
    }
    const cases: [string, (x: Tensor) => unknown, string][] = [
      ["a Map", (x) => ({ m: new Map([["h", x.exp()]]) }), 'at result.m.get("h")'],
      ["a class instance", (x) => [new Holder(x.exp())], "at result[0].t"],
      [
        "five levels deep",
        (x) => ({ a: { b: { c: { d: { e: x.exp() } } } } }),
        "at result.a.b.c.d.e",
      ],
    ];
    for (const [, fn, where] of cases) {
      const f = compile(fn as (x: Tensor) => unknown);
      expect(() => f(tensor([1, 2]))).toThrow(CompileError);
      expect(() => compile(fn as (x: Tensor) => unknown)(tensor([1, 2]))).toThrow(where);
    }
    // Arrays and plain objects up to four levels deep are remade on every replay, and captured
    // tensors (a parameter) are the same on every call: both are fine anywhere.
    const w = tensor([3, 4]);
    const g = compile((x: Tensor) => ({
      a: [{ b: { c: x.exp() } }],
      keep: new Map([["w", w]]),
    }));
    const first = g(tensor([1, 2]));
    const second = g(tensor([0, 0]));
    expect(second.a[0].b.c.toArray()).toEqual(new Float32Array([1, 1]));
    expect(first.a[0].b.c).not.toBe(second.a[0].b.c);
  });
});

describe("compile and what a replay keeps for the next", () => {
  // Under noGrad, so the replays record no graph and their arrays are planned.
  const w = randn([6, 4]);
  const body = (x: Tensor, target: Tensor) =>
    noGrad(() => {
      const h = x.matmul(w).relu(); // in a planned array from the third call on
      const hT = h.t(); // a view of it that stays inside the call
      const wT = w.t(); // a view of a captured tensor
      const wTT = wT.t(); // a view of that view, on the captured tensor's array too
      return nllLoss(logSoftmax(hT.t().mul(2), 1), target)
        .add(wT.sum())
        .add(wTT.sum());
    });

  /**
   * Calls `f` (compiled from `eager`) nine times on new inputs of `shape` and class targets below
   * `classes`, bit for bit against eager, except the sixth: a replay that throws (class 7, out of
   * range, seen by nllLoss), which drops the memory plan, so that later calls put their values
   * in new arrays, where anything kept from before would read the old ones.
   */
  function callAcrossADroppedPlan(
    f: (x: Tensor, target: Tensor) => Tensor,
    eager: (x: Tensor, target: Tensor) => Tensor,
    shape: number[],
    classes: number,
  ) {
    const target = randint(0, classes, [shape[0]]);
    const good = target.clone();
    for (let i = 0; i < 9; i++) {
      const x = randn(shape);
      if (i === 5) {
        noGrad(() => target.narrow(0, 2, 1).fill_(7));
        expect(() => f(x, target)).toThrow(/nllLoss/);
        noGrad(() => target.copy_(good));
        continue;
      }
      expect(bits(f(x, target))).toEqual(bits(eager(x, target)));
    }
  }

  it("takes a view from the call before only while its elements are the same, bit for bit eager", () => {
    const f = compile(body);
    callAcrossADroppedPlan(f, body, [5, 6], 4);
    expect(f.explain()).toMatch(/views: the latest call took 4 of its 4 views/);
    // The ops' results in the plan's arrays (matmul's, relu's, ...) are the call before's tensors.
    expect(f.explain()).toMatch(
      /it took ([1-9]\d*) of the \1 tensors its ops made over the kept arrays from the call before/,
    );
  });

  it("takes a fused pass's operands and results from the call before only while their arrays are the same", () => {
    const w1 = randn([12, 16]);
    const w2 = randn([16, 3]);
    const fused = (x: Tensor, target: Tensor) =>
      noGrad(() => {
        const h = x.matmul(w1); // planned: an operand of the pass below
        const a = h.mul(2).add(1).relu(); // one fused pass, writing a planned value
        return nllLoss(logSoftmax(a.matmul(w2), 1), target).add(a.sum());
      });
    const f = compile(fused);
    callAcrossADroppedPlan(f, fused, [16, 12], 3);
    expect(f.explain()).toMatch(/run as 1 pass/);
  });

  it("hands out the gradient it made last call again only while nobody has read it", () => {
    manualSeed(4);
    const w = randn([3, 5]).requiresGrad_();
    const b = randn([3]).requiresGrad_();
    const ew = w.detach().requiresGrad_();
    const eb = b.detach().requiresGrad_();
    // A Linear layer's step: w's gradient is a transposed product, b's a reshaped sum (views).
    const stepOf = (weight: Tensor, bias: Tensor) => (x: Tensor, target: Tensor) => {
      weight.grad = null;
      bias.grad = null;
      const loss = crossEntropy(x.matmul(weight.t()).add(bias), target);
      loss.backward();
      return loss;
    };
    const f = compile(stepOf(w, b));
    const eager = stepOf(ew, eb);
    const target = randint(0, 3, [8]);
    /** One call of each on new inputs, the gradients compared without counting as a read. */
    const call = () => {
      const x = randn([8, 5]);
      expect(bits(f(x, target))).toEqual(bits(eager(x, target)));
      expect(bits(peekGrad(w)!)).toEqual(bits(peekGrad(ew)!));
      expect(bits(peekGrad(b)!)).toEqual(bits(peekGrad(eb)!));
    };
    // Traced twice (the second call's new input shows the function does not use the first one
    // directly), then recorded, then the plan's arrays are made: from the fifth call on, all
    // is as in the steady state.
    for (let i = 0; i < 5; i++) call();
    // Unread: the same tensors, holding the new call's values.
    const unread = [peekGrad(w), peekGrad(b)];
    call();
    expect([peekGrad(w), peekGrad(b)]).toEqual(unread);
    expect(peekGrad(w)).toBe(unread[0]);
    expect(peekGrad(b)).toBe(unread[1]);
    expect(f.explain()).toMatch(
      /2 of the 2 gradients it made as views were the ones it made the call before/,
    );
    // Read: never handed out again, and its values stay what they were.
    const read = w.grad!;
    const readBits = bits(read);
    call();
    expect(peekGrad(w)).not.toBe(read);
    expect(peekGrad(w)!.data).not.toBe(read.data);
    expect(peekGrad(b)).toBe(unread[1]); // b's was not read
    expect(f.explain()).toMatch(/1 of the 2 gradients it made as views/);
    for (let i = 0; i < 3; i++) call();
    expect(bits(read)).toEqual(readBits);
    // The gradient made after the read is handed out again from the call after it on.
    const next = peekGrad(w);
    call();
    expect(peekGrad(w)).toBe(next);
  });

  it("gives a call of the function from inside its own replay arrays of its own", () => {
    // A custom op whose forward calls the compiled function again, with the same signature: the
    // inner replay must not write into the planned arrays the outer one is still using.
    let depth = 0;
    let compiled: (x: Tensor) => Tensor = () => {
      throw new Error("not compiled yet");
    };
    const again = customOp({
      name: "again",
      forward: (_ctx, x) => {
        if (depth > 0) return x.mul(3);
        depth++;
        try {
          return compiled(x.mul(0.5)).add(0);
        } finally {
          depth--;
        }
      },
      backward: (_ctx, g) => [g],
    });
    const body = (x: Tensor) =>
      noGrad(() => {
        const h = x.mul(2).relu(); // planned
        const inner = again(x.add(1)); // the replay of the same plan, nested
        const other = again(x.add(2)); // and a second one in the same call
        return h.mul(h).add(inner).add(other).sum(); // reads h after the nested calls
      });
    const f = compile(body);
    compiled = f;
    for (let i = 0; i < 8; i++) {
      const x = randn([64, 64]);
      depth = 0;
      const eager = body(x);
      // Under noGrad, as the inner call is: the same signature, the same plan.
      expect(bits(noGrad(() => f(x)))).toEqual(bits(eager));
    }
    expect(f.traces).toBe(2); // the first call, and the second's new input
  });

  it("keeps nothing of what its calls returned once dropped, while the function lives on", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const f = compile((x: Tensor) => noGrad(() => x.mul(2).relu().add(x)));
    const refs: WeakRef<ArrayBufferLike>[] = [];
    (() => {
      for (let i = 0; i < 6; i++) refs.push(new WeakRef(f(randn([1 << 18])).data.buffer));
    })();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(refs.map((r) => r.deref() === undefined)).toEqual(new Array(6).fill(true));
    expect(f(randn([1 << 18])).shape).toEqual([1 << 18]); // still in use
  });

  it("makes a view the function returns anew on every call, as eager does", () => {
    const f = compile((x: Tensor) =>
      noGrad(() => {
        const wT = w.t();
        return { y: wT.add(x), wT };
      }),
    );
    const x = randn([4, 6]);
    const results = [0, 1, 2, 3, 4].map(() => f(x));
    expect(new Set(results.map((r) => r.wT)).size).toBe(5);
    for (const { y, wT } of results) {
      expect(bits(wT)).toEqual(bits(w.t()));
      expect(bits(y)).toEqual(bits(w.t().add(x)));
    }
  });
});

describe("compile and array reuse", () => {
  /**
   * exp, keeping its input in ctx.state (meant for non-tensor state): backward reads it there
   * without the trace seeing it.
   */
  const expKept = customOp({
    name: "expKept",
    forward: (ctx, x) => {
      ctx.state.x = x;
      return x.exp();
    },
    backward: (ctx, g) => [g.mul((ctx.state.x as Tensor).exp())],
  });

  /** A step whose activations and first gradient are 1 MiB arrays: large enough to be reused. */
  function wideStep(seed: number) {
    manualSeed(seed);
    const w1 = randn([256, 1024]).mul(0.05).requiresGrad_();
    const w2 = randn([1024, 4]).mul(0.05).requiresGrad_();
    const step = (x: Tensor, y: Tensor): Tensor => {
      w1.grad = null;
      w2.grad = null;
      const h = x.matmul(w1).relu();
      const loss = crossEntropy(h.mul(h.sigmoid()).matmul(w2), y);
      loss.backward();
      noGrad(() => {
        w1.sub_(w1.grad!.mul(0.5));
        w2.sub_(w2.grad!.mul(0.5));
      });
      return loss;
    };
    return { w1, w2, step };
  }

  it("reuses the arrays of dead values across calls, bit for bit the eager results", () => {
    const x = randn([256, 256]);
    const y = randint(0, 4, [256]);
    const eager = wideStep(4);
    const traced = wideStep(4);
    const step = compile(traced.step);
    // Unfilled arrays arrive full of NaN: an op that left an element unwritten would show it.
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (let i = 0; i < 4; i++) expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
    } finally {
      setUnfilledPoison(null);
    }
    expect(bits(traced.w1)).toEqual(bits(eager.w1));
    expect(bits(traced.w2.grad!)).toEqual(bits(eager.w2.grad!));
    expect(step.explain()).toMatch(/[1-9]\d* of each call's \d+ array allocations reuse/);
  });

  /** A small step whose first call views its input when contiguous and copies it otherwise. */
  function reshapingStep(seed: number) {
    manualSeed(seed);
    const w = randn([64, 4]).mul(0.05).requiresGrad_();
    const step = (x: Tensor, y: Tensor): Tensor => {
      w.grad = null;
      const h = x.reshape([-1]).reshape([16, 64]).matmul(w);
      const loss = crossEntropy(h.mul(h.sigmoid()), y);
      loss.backward();
      noGrad(() => w.sub_(w.grad!.mul(0.5)));
      return loss;
    };
    return { w, step };
  }

  it("plans small values too, bit for bit the eager results", () => {
    const x = randn([16, 64]);
    const y = randint(0, 4, [16]);
    const eager = reshapingStep(7);
    const traced = reshapingStep(7);
    const step = compile(traced.step);
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (let i = 0; i < 5; i++) expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
    } finally {
      setUnfilledPoison(null);
    }
    expect(bits(traced.w)).toEqual(bits(eager.w));
    expect(step.explain()).toMatch(
      /values made per call: [\d.]+ MiB in \d+ tensors; [1-9]\d* of each call's \d+ array allocations reuse \d+ arrays the function keeps \([\d.]+ KiB\); the latest call made \d+ fresh/,
    );
  });

  it("plans no arrays where a custom op keeps tensors in ctx.state, and stays exact", () => {
    // ctx.state is for non-tensor state; a tensor kept there is read by backward without the
    // trace seeing it, so its array must not go to another value in the meantime.
    const make = () => {
      manualSeed(9);
      const w = randn([8, 8]).mul(0.1).requiresGrad_();
      const step = (x: Tensor): Tensor => {
        w.grad = null;
        const loss = expKept(x.matmul(w)).tanh().sum();
        loss.backward();
        noGrad(() => w.sub_(w.grad!.mul(0.1)));
        return loss;
      };
      return { w, step };
    };
    const x = randn([8, 8]);
    const eager = make();
    const traced = make();
    const step = compile(traced.step);
    for (let i = 0; i < 5; i++) expect(bits(step(x))).toEqual(bits(eager.step(x)));
    expect(bits(traced.w)).toEqual(bits(eager.w));
    expect(step.explain()).toContain(
      "each a fresh garbage-collected array: expKept keeps tensors in ctx.state",
    );
  });

  it("traces again for an input with other strides (a reshape copies where it viewed), each layout with its own plan", () => {
    const y = randint(0, 4, [16]);
    const x = randn([16, 64]);
    const strided = randn([64, 16]).t(); // reshape copies it where it views x
    const eager = reshapingStep(8);
    const traced = reshapingStep(8);
    const messages: string[] = [];
    const step = compile(traced.step, { log: (m) => messages.push(m) });
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (const input of [x, x, x, strided, strided, strided, x]) {
        expect(bits(step(input, y))).toEqual(bits(eager.step(input, y)));
      }
    } finally {
      setUnfilledPoison(null);
    }
    expect(bits(traced.w)).toEqual(bits(eager.w));
    expect(step.traces).toBe(2);
    expect(step.replays).toBe(5);
    expect(messages[1]).toBe(
      "compile: traced step (new input signature): input0: float32[16, 64] strides [1, 16], input1: int32[16]",
    );
    expect(step.explain()).not.toMatch(/plans? (was|were) dropped/);
  });

  it("never reuses what the caller keeps: results and gradients of earlier calls stay intact", () => {
    const x = randn([256, 256]);
    const y = randint(0, 4, [256]);
    const traced = wideStep(5);
    const step = compile(traced.step);
    const kept: { grad: Tensor; values: number[] }[] = [];
    for (let i = 0; i < 4; i++) {
      step(x, y);
      const grad = traced.w1.grad!;
      kept.push({ grad, values: bits(grad) });
    }
    for (const { grad, values } of kept) expect(bits(grad)).toEqual(values);
  });

  it("plans the arrays of a function whose calls all run under noGrad (inference), bit for bit", () => {
    manualSeed(12);
    const w1 = randn([64, 128]).mul(0.1).requiresGrad_();
    const w2 = randn([128, 10]).mul(0.1).requiresGrad_();
    const predict = (x: Tensor): Tensor => noGrad(() => x.matmul(w1).relu().matmul(w2).softmax(1));
    const compiled = compile(predict);
    const inputs = [0, 1, 2, 3, 4].map(() => randn([32, 64]));
    const kept: { out: Tensor; values: number[] }[] = [];
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (const x of inputs) {
        const out = compiled(x);
        expect(bits(out)).toEqual(bits(predict(x)));
        kept.push({ out, values: bits(out) });
      }
    } finally {
      setUnfilledPoison(null);
    }
    // Results stay the caller's: no later call wrote into an earlier call's result.
    for (const { out, values } of kept) expect(bits(out)).toEqual(values);
    expect(compiled.explain()).toMatch(/[1-9]\d* of each call's \d+ array allocations reuse/);
  });

  it("fuses and plans calls on tensors that do not require grad, with grad mode on", () => {
    manualSeed(14);
    const scale = randn([64, 32]);
    const f = (x: Tensor): Tensor => x.mul(scale).add(1).relu().matmul(scale.t()).sigmoid();
    const compiled = compile(f);
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (let i = 0; i < 4; i++) {
        const x = randn([64, 32]);
        const out = compiled(x);
        expect(out.requiresGrad).toBe(false);
        expect(bits(out)).toEqual(bits(f(x)));
      }
    } finally {
      setUnfilledPoison(null);
    }
    const explained = compiled.explain();
    expect(explained).toContain("fused: 3 elementwise calls run as 1 pass");
    expect(explained).toMatch(/[1-9]\d* of each call's \d+ array allocations reuse/);
  });

  it("traces again when a captured tensor's requiresGrad changes, so a graph is recorded", () => {
    manualSeed(15);
    const w = randn([16, 32]);
    const messages: string[] = [];
    // The elementwise calls on w fuse while w does not require grad: a replay of that trace
    // would record no graph once it does.
    const f = (x: Tensor): Tensor => x.mul(w).add(1).relu().sum(0);
    const compiled = compile(f, { log: (m) => messages.push(m) });
    const x = randn([16, 32]);
    for (let i = 0; i < 3; i++) compiled(x);
    expect(compiled.traces).toBe(1);
    w.requiresGrad_();
    const out = compiled(x);
    expect(compiled.traces).toBe(2);
    expect(messages.at(-1)).toContain(
      "captured0 (float32[16, 32]) did not require grad when traced and does now",
    );
    out.sum().backward();
    const fromCompiled = Array.from(w.grad!.toArray());
    w.grad = null;
    f(x).sum().backward();
    expect(fromCompiled).toEqual(Array.from(w.grad!.toArray()));
    // And replays of the new trace keep recording the graph.
    w.grad = null;
    compiled(x).sum().backward();
    expect(Array.from(w.grad!.toArray())).toEqual(fromCompiled);
  });

  it("allocates fresh arrays where a call records an autograd graph (the result keeps it)", () => {
    manualSeed(13);
    const w = randn([64, 10]).mul(0.1).requiresGrad_();
    const forward = compile((x: Tensor): Tensor => x.matmul(w).relu().matmul(w.t()));
    for (let i = 0; i < 3; i++) forward(randn([8, 64]));
    expect(forward.explain()).toContain(
      "each a fresh garbage-collected array: calls record an autograd graph, which may hold any value after the call",
    );
    // The graph each call returns still holds its own saved values.
    const x = randn([8, 64]);
    forward(x).sum().backward();
    const expected = w.grad!.toArray();
    w.grad = null;
    x.matmul(w).relu().matmul(w.t()).sum().backward();
    expect(Array.from(w.grad!.toArray())).toEqual(Array.from(expected));
  });

  it("replays requiresGrad_ calls: freezing inside a step keeps replaying and matches eager", () => {
    // A GAN-like step: the critic is frozen while the generator learns through it, then thawed.
    const make = () => {
      manualSeed(18);
      const g = randn([4, 4]).mul(0.3).requiresGrad_();
      const d = randn([4, 1]).mul(0.3).requiresGrad_();
      const step = (z: Tensor): Tensor => {
        d.requiresGrad_(false); // before anything else reads d
        g.grad = null;
        d.grad = null;
        const fake = z.matmul(g).tanh();
        fake.matmul(d).mean().backward();
        noGrad(() => g.sub_(g.grad!.mul(0.1)));
        d.requiresGrad_(true);
        const critic = fake.detach().matmul(d).mean();
        critic.backward();
        noGrad(() => d.sub_(d.grad!.mul(0.1)));
        return critic.detach();
      };
      return { g, d, step };
    };
    const eager = make();
    const traced = make();
    const step = compile(traced.step);
    for (let i = 0; i < 4; i++) {
      const z = randn([8, 4]);
      expect(bits(step(z))).toEqual(bits(eager.step(z)));
    }
    // The second call traces again, checking its new input tensor (see "passes"); then replays.
    expect(step.traces).toBe(2);
    expect(step.replays).toBe(2);
    expect(bits(traced.g)).toEqual(bits(eager.g));
    expect(bits(traced.d)).toEqual(bits(eager.d));
  });

  it("replays requiresGrad_ on tensors made inside and on captured ones, so graphs match eager", () => {
    manualSeed(19);
    const w = randn([4, 4]).requiresGrad_();
    const f = (x: Tensor): Tensor => {
      const b = randn([4]).requiresGrad_();
      w.requiresGrad_(false);
      const y = x.matmul(w).add(b).relu();
      w.requiresGrad_(true);
      return y;
    };
    const compiled = compile(f);
    for (let i = 0; i < 3; i++) {
      const y = compiled(randn([2, 4]));
      expect(y.requiresGrad).toBe(true);
      y.sum().backward(); // reaches b, not w
      expect(w.grad).toBeNull();
    }
    expect(compiled.traces).toBe(2); // the second checks its new input tensor
    expect(compiled.replays).toBe(1);
  });

  it("does not replay requiresGrad_() on a non-leaf, which changes nothing eagerly", () => {
    manualSeed(20);
    const w = randn([4, 1]).requiresGrad_();
    const f = (x: Tensor): Tensor => {
      w.grad = null;
      const h = x.matmul(w);
      h.requiresGrad_();
      h.sum().backward();
      return h;
    };
    const compiled = compile(f);
    const x = randn([3, 4]);
    const eager = f(x);
    compiled(x); // the traced call runs eagerly
    for (let i = 0; i < 3; i++) {
      const h = compiled(x);
      // A replay of a function that runs its own backward returns tensors without a graph, as
      // documented: never a leaf requiring grad that would take gradients of its own.
      expect(h.requiresGrad).toBe(false);
      expect(bits(h)).toEqual(bits(eager));
    }
    expect(compiled.traces).toBe(1);
  });

  it("traces again when called with another grad mode, so results require grad as eager ones do", () => {
    manualSeed(16);
    const w = randn([8, 4]).requiresGrad_();
    const f = (x: Tensor): Tensor => x.matmul(w).relu();
    const compiled = compile(f);
    const x = randn([2, 8]);
    const underNoGrad = noGrad(() => compiled(x));
    expect(underNoGrad.requiresGrad).toBe(false);
    const withGrad = compiled(x);
    expect(compiled.traces).toBe(2);
    expect(withGrad.requiresGrad).toBe(true);
    expect(noGrad(() => compiled(x)).requiresGrad).toBe(false);
    expect(compiled.traces).toBe(2);
    expect(compiled.explain()).toMatch(
      /^signature: input0: float32\[2, 8\] \(called under noGrad\)/,
    );
  });

  it("plans the arrays of a function under noGrad whose custom op keeps tensors in ctx.state (no backward can read them)", () => {
    manualSeed(17);
    const w = randn([16, 16]).mul(0.1);
    const f = (x: Tensor): Tensor => noGrad(() => expKept(x.matmul(w)).matmul(w).tanh());
    const compiled = compile(f);
    for (let i = 0; i < 4; i++) {
      const x = randn([16, 16]);
      expect(bits(compiled(x))).toEqual(bits(f(x)));
    }
    expect(compiled.explain()).toMatch(/[1-9]\d* of each call's \d+ array allocations reuse/);
  });

  it("allocates fresh arrays when asked not to reuse", () => {
    const step = compile(wideStep(6).step, { reuseArrays: false });
    step(randn([256, 256]), randint(0, 4, [256]));
    expect(step.explain()).toContain(
      "each a fresh garbage-collected array: compile(fn, { reuseArrays: false })",
    );
  });
});

describe("compile and gradients nobody read", () => {
  /** A least-squares step over w [64, 32]: its gradient is one 8 KB array per call. */
  function lsq(seed: number, body: (w: Tensor, x: Tensor, y: Tensor) => Tensor) {
    manualSeed(seed);
    const w = randn([64, 32]).mul(0.1).requiresGrad_();
    return { w, step: (x: Tensor, y: Tensor) => body(w, x, y) };
  }
  const loss = (w: Tensor, x: Tensor, y: Tensor) => x.matmul(w).sub(y).square().mean();
  /** zeroGrad first, as PyTorch's examples write a step. */
  const zeroFirst = (w: Tensor, x: Tensor, y: Tensor): Tensor => {
    w.grad = null;
    const l = loss(w, x, y);
    l.backward();
    noGrad(() => w.sub_(peekGrad(w)!.mul(0.1)));
    return l;
  };
  const data = () => [randn([16, 64]), randn([16, 32])] as const;

  it("gives the next call's gradient the array of a gradient dropped unread, bit for bit the eager results", () => {
    const [x, y] = data();
    const eager = lsq(1, zeroFirst);
    const traced = lsq(1, zeroFirst);
    const step = compile(traced.step);
    const buffers: ArrayBufferLike[] = [];
    // Unfilled arrays arrive full of NaN: an element a kernel left unwritten would show it.
    setUnfilledPoison({ value: Number.NaN, minBytes: 0 });
    try {
      for (let i = 0; i < 6; i++) {
        expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
        buffers.push(peekGrad(traced.w)!.data.buffer);
        expect(bits(peekGrad(traced.w)!)).toEqual(bits(peekGrad(eager.w)!));
      }
    } finally {
      setUnfilledPoison(null);
    }
    expect(bits(traced.w)).toEqual(bits(eager.w));
    // Calls 1-3 trace, record and plan (a fresh gradient each); from call 4 on each gradient
    // takes the array of the one its call's `w.grad = null` dropped.
    expect(new Set(buffers.slice(0, 3)).size).toBe(3);
    expect(buffers[3]).toBe(buffers[2]);
    expect(buffers[5]).toBe(buffers[2]);
    expect(step.explain()).toContain("reused the arrays of 1 dropped gradient nobody had read");
  });

  it("never reuses a gradient read through .grad: what the caller keeps stays intact", () => {
    const [x, y] = data();
    const traced = lsq(2, zeroFirst);
    const step = compile(traced.step);
    const kept: { grad: Tensor; values: number[] }[] = [];
    for (let i = 0; i < 6; i++) {
      step(x, y);
      if (i % 2 === 1) {
        const grad = traced.w.grad!; // read by the caller: never reused
        kept.push({ grad, values: bits(grad) });
      }
    }
    for (const { grad, values } of kept) expect(bits(grad)).toEqual(values);
    expect(new Set(kept.map(({ grad }) => grad.data.buffer)).size).toBe(kept.length);
  });

  it("reuses a gradient dropped at the end of a call in the next one, bit for bit", () => {
    const zeroLast = (w: Tensor, x: Tensor, y: Tensor): Tensor => {
      const l = loss(w, x, y);
      l.backward();
      noGrad(() => w.sub_(peekGrad(w)!.mul(0.1)));
      w.grad = null;
      return l;
    };
    const [x, y] = data();
    const eager = lsq(3, zeroLast);
    const traced = lsq(3, zeroLast);
    const step = compile(traced.step);
    for (let i = 0; i < 6; i++) expect(bits(step(x, y))).toEqual(bits(eager.step(x, y)));
    expect(bits(traced.w)).toEqual(bits(eager.w));
    expect(step.explain()).toContain("reused the arrays of 1 dropped gradient nobody had read");
  });

  it("keeps a dropped gradient the call still reads until its last read", () => {
    // w's first gradient is dropped, then read after a second backward made another one: had
    // the second taken the first's array, the result would be the second gradient's sum.
    const readAfterDrop = (w: Tensor, x: Tensor, y: Tensor): Tensor => {
      w.grad = null;
      loss(w, x, y).backward();
      const first = peekGrad(w)!;
      w.grad = null;
      loss(w, x.mul(2), y).backward();
      return first.sum().sub(peekGrad(w)!.sum());
    };
    const [x, y] = data();
    const eager = lsq(4, readAfterDrop);
    const traced = lsq(4, readAfterDrop);
    const step = compile(traced.step);
    for (let i = 0; i < 5; i++) {
      const result = bits(step(x, y));
      expect(result).toEqual(bits(eager.step(x, y)));
      expect(result[0]).not.toBe(0);
    }
  });

  it("never reuses a gradient the function returns or also assigns elsewhere", () => {
    const [x, y] = data();
    manualSeed(5);
    const w = randn([64, 32]).mul(0.1).requiresGrad_();
    const shadow = randn([64, 32]);
    const step = compile((x: Tensor, y: Tensor) => {
      w.grad = null;
      shadow.grad = null;
      loss(w, x, y).backward();
      shadow.grad = peekGrad(w); // the same gradient, twice
      return peekGrad(w)!;
    });
    const kept: { grad: Tensor; values: number[] }[] = [];
    for (let i = 0; i < 6; i++) {
      const grad = step(x.add(i), y);
      kept.push({ grad, values: bits(grad) });
    }
    for (const { grad, values } of kept) expect(bits(grad)).toEqual(values);
    expect(step.explain()).not.toContain("dropped gradients nobody had read");
  });

  it("reuses an input's gradient the caller never read, and keeps the ones it read", () => {
    const w = randn([64, 32]).mul(0.1);
    const step = compile((x: Tensor, y: Tensor) => {
      x.grad = null;
      const l = loss(w, x, y);
      l.backward();
      return l;
    });
    const x = randn([16, 64]).requiresGrad_();
    const y = randn([16, 32]);
    const buffers: ArrayBufferLike[] = [];
    for (let i = 0; i < 5; i++) {
      step(x, y);
      buffers.push(peekGrad(x)!.data.buffer);
    }
    expect(buffers[4]).toBe(buffers[3]);
    const read = x.grad!;
    const values = bits(read);
    step(x, y.mul(2)); // another gradient: it would show in `read` had its array been reused
    step(x, y.mul(3));
    expect(bits(read)).toEqual(values);
    expect(peekGrad(x)!.data.buffer).not.toBe(read.data.buffer);
  });

  /**
   * Runs `body` as a compiled step and eagerly on the same data, 8 calls with a new gradient
   * each; what the custom op kept must hold, at the end, the gradients eager kept.
   */
  function keptByCustomOp(body: (w: Tensor, x: Tensor, y: Tensor, kept: Tensor[]) => Tensor) {
    const [x, y] = data();
    const eagerKept: Tensor[] = [];
    const eager = lsq(6, (w, x, y) => body(w, x, y, eagerKept));
    const tracedKept: Tensor[] = [];
    const traced = lsq(6, (w, x, y) => body(w, x, y, tracedKept));
    const step = compile(traced.step);
    for (let i = 0; i < 8; i++) {
      expect(bits(step(x.mul(i + 1), y))).toEqual(bits(eager.step(x.mul(i + 1), y)));
    }
    // The first call traces (its tensors are eager ones); the replays' kept tensors follow.
    expect(tracedKept.length).toBeGreaterThanOrEqual(8);
    const expected = eagerKept.slice(-7).map(bits);
    // By kept tensor: how many of its elements differ from eager's (a short message on failure).
    const differing = tracedKept
      .slice(-7)
      .map((t, i) => bits(t).filter((v, j) => !Object.is(v, expected[i][j])).length);
    expect(differing).toEqual([0, 0, 0, 0, 0, 0, 0]);
  }

  it("never reuses a gradient a custom op's forward received (it may keep it)", () => {
    const keep = (kept: Tensor[]) =>
      customOp({
        name: "keepInput",
        forward: (_ctx, g) => {
          kept.push(g);
          return g.sum();
        },
        backward: (_ctx, g) => [g],
      });
    const ops = new Map<Tensor[], ReturnType<typeof keep>>();
    keptByCustomOp((w, x, y, kept) => {
      if (!ops.has(kept)) ops.set(kept, keep(kept));
      w.grad = null;
      const l = loss(w, x, y);
      l.backward();
      noGrad(() => {
        ops.get(kept)!(peekGrad(w)!);
        w.sub_(peekGrad(w)!.mul(0.1));
      });
      return l;
    });
  });

  it("never reuses a gradient a custom op made (it may keep its result)", () => {
    const make = (kept: Tensor[]) =>
      customOp({
        name: "keepOutput",
        forward: (_ctx, t) => {
          const g = t.mul(2);
          kept.push(g);
          return g;
        },
        backward: (_ctx, g) => [g],
      });
    const ops = new Map<Tensor[], ReturnType<typeof make>>();
    keptByCustomOp((w, x, y, kept) => {
      if (!ops.has(kept)) ops.set(kept, make(kept));
      w.grad = null;
      const l = loss(w, x, y);
      l.backward();
      w.grad = noGrad(() => ops.get(kept)!(peekGrad(w)!));
      noGrad(() => w.sub_(peekGrad(w)!.mul(0.1)));
      return l;
    });
  });

  it("never reuses a gradient a custom op reads through .grad during a replay", () => {
    // The op's forward is user code that runs on every replay: its `.grad` read is a reader's.
    const readGrad = (w: Tensor, kept: Tensor[]) =>
      customOp({
        name: "readGrad",
        forward: (_ctx, t) => {
          kept.push(w.grad!);
          return t.mul(1);
        },
        backward: (_ctx, g) => [g],
      });
    const ops = new Map<Tensor[], ReturnType<typeof readGrad>>();
    keptByCustomOp((w, x, y, kept) => {
      if (!ops.has(kept)) ops.set(kept, readGrad(w, kept));
      w.grad = null;
      const l = loss(w, x, y);
      l.backward();
      const shifted = ops.get(kept)!(y);
      noGrad(() => w.sub_(peekGrad(w)!.mul(0.1)));
      return l.add(shifted.sum());
    });
  });
});
