// Fused elementwise runs in compile()'s replay: the values they write must be the bits eager
// calls make (float32 and float64, broadcast rows and columns, a training step), explain() must
// name what fused, and every unsupported case must replay call by call with the same results.

import { afterEach, describe, expect, it } from "vitest";
import {
  addcmul,
  center,
  compile,
  crossEntropy,
  manualSeed,
  noGrad,
  randint,
  randn,
  setKernelBackend,
  type Tensor,
  tensor,
} from "../../src/index.js";

/** The first element where `a` and `b` differ in any bit (-0 and NaN payloads included), else -1. */
function firstDifference(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  expect(a.dtype).toBe(b.dtype);
  const x = a.toArray() as Float32Array | Float64Array;
  const y = b.toArray() as Float32Array | Float64Array;
  const xb = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const yb = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < xb.length; i++)
    if (xb[i] !== yb[i]) return Math.floor(i / x.BYTES_PER_ELEMENT);
  return -1;
}

/** x·row + column, relu, minus x, squared: a run of five calls with broadcast operands. */
const chain = (x: Tensor, row: Tensor, column: Tensor): Tensor[] => {
  const shifted = x.mul(row).add(column).relu();
  return [shifted.sub(x).square(), shifted];
};

afterEach(() => setKernelBackend("auto"));

describe("compile fuses elementwise runs", () => {
  it.each(["float32", "float64"] as const)(
    "replays a %s chain with a row and a column operand bit for bit, as one fused pass",
    (dtype) => {
      manualSeed(3);
      const x = randn([300, 70], { dtype });
      const row = randn([70], { dtype });
      const column = randn([300, 1], { dtype });
      const f = compile((a: Tensor, r: Tensor, c: Tensor) => noGrad(() => chain(a, r, c)));
      f(x, row, column);
      for (let i = 0; i < 2; i++) {
        const [a, b] = f(x, row, column);
        const [ea, eb] = chain(x, row, column);
        expect(firstDifference(a, ea)).toBe(-1);
        expect(firstDifference(b, eb)).toBe(-1);
      }
      const text = f.explain();
      expect(text).toContain(
        "fused: 5 elementwise calls run as 1 pass, writing out 2 of their 5 values",
      );
      expect(text).not.toContain("call by call");
      expect(text).toMatch(
        new RegExp(
          `fused ${dtype}\\[300, 70\\]: %\\d+ = mul\\(input0, input1\\); %\\d+ = add\\(%\\d+, input2\\); %\\d+ = relu\\(%\\d+\\); %\\d+ = sub\\(%\\d+, input0\\); %\\d+ = square\\(%\\d+\\); writes %\\d+, %\\d+`,
        ),
      );
    },
  );

  it("fuses BatchNorm-like centring and an MLP training step, with the same parameters as eager", () => {
    const net = (seed: number) => {
      manualSeed(seed);
      const w1 = randn([16, 64]).mul(0.3).requiresGrad_();
      const gamma = randn([64]).requiresGrad_();
      const w2 = randn([64, 4]).mul(0.3).requiresGrad_();
      const params = [w1, gamma, w2];
      const step = (x: Tensor, y: Tensor): Tensor => {
        for (const p of params) p.grad = null;
        const h = x.matmul(w1);
        const centred = h.sub(h.mean(0, true));
        const scaled = centred.mul(gamma).add(1).relu();
        const loss = crossEntropy(scaled.matmul(w2), y);
        loss.backward();
        noGrad(() => {
          for (const p of params) p.sub_(p.grad!.mul(0.1));
        });
        return loss;
      };
      return { params, step };
    };
    const x = randn([32, 16]);
    const y = randint(0, 4, [32]);
    const eager = net(5);
    const traced = net(5);
    const step = compile(traced.step);
    for (let i = 0; i < 3; i++) expect(firstDifference(step(x, y), eager.step(x, y))).toBe(-1);
    traced.params.forEach((p, i) => {
      expect(firstDifference(p, eager.params[i])).toBe(-1);
      expect(firstDifference(p.grad!, eager.params[i].grad!)).toBe(-1);
    });
    // The centring, γ, the shift and relu in one pass; relu's backward and γ's products in another.
    const text = step.explain();
    expect(text).toMatch(
      /fused float32\[32, 64\]: %\d+ = sub\(%\d+, %\d+\); %\d+ = mul\(%\d+, captured1\); %\d+ = add\(%\d+, 1\); %\d+ = relu\(%\d+\); writes %\d+, %\d+/,
    );
    expect(text).not.toContain("call by call");
    expect(text).toMatch(/fused float32\[32, 64\]: %\d+ = reluBackward\(%\d+, %\d+\); %\d+ = mul/);
  });

  it("fuses BatchNorm2d-like per-channel scale and shift of [N, C, H, W] with eager's bits", () => {
    const f = compile((x: Tensor, scale: Tensor, shift: Tensor) =>
      noGrad(() => x.mul(scale).add(shift).relu()),
    );
    const x = randn([4, 16, 12, 12]);
    const scale = randn([1, 16, 1, 1]);
    const shift = randn([16, 1, 1]);
    f(x, scale, shift);
    expect(firstDifference(f(x, scale, shift), x.mul(scale).add(shift).relu())).toBe(-1);
    expect(f.explain()).toMatch(
      /fused float32\[4, 16, 12, 12\]: %\d+ = mul\(input0, input1\); %\d+ = add\(%\d+, input2\); %\d+ = relu\(%\d+\); writes %\d+\n/,
    );
    expect(f.explain()).not.toContain("call by call");
  });

  it("moves a reduction of a run's value after the pass, and an in-place update with what reads it", () => {
    const buffer = randn([10]);
    const fn = (x: Tensor, y: Tensor) =>
      noGrad(() => {
        const a = x.mul(2);
        const total = a.sum(); // reads a: runs after the pass, so a is written out
        const b = a.add(y).neg();
        return [b, total];
      });
    const x = randn([30, 10]);
    const y = randn([30, 10]);
    const f = compile(fn);
    f(x, y);
    const [b, total] = f(x, y);
    const [eb, etotal] = fn(x, y);
    expect(firstDifference(b, eb)).toBe(-1);
    expect(firstDifference(total, etotal)).toBe(-1);
    expect(f.explain()).toMatch(
      /fused float32\[30, 10\]: %\d+ = mul\(input0, 2\); %\d+ = add\(%\d+, input1\); %\d+ = neg\(%\d+\); writes %\d+, %\d+\n/,
    );
    // An in-place update moves after the pass; a call reading the updated tensor (or a view of
    // it) moves with it, so it sees the new values as in eager code.
    const updating = (buf: Tensor) => (x: Tensor) =>
      noGrad(() => {
        const view = buf.reshape([1, 10]);
        const a = x.mul(2);
        buf.add_(1);
        const b = a.add(1);
        return [b, b.mul(view)];
      });
    const eagerBuffer = buffer.clone();
    const g = compile(updating(buffer));
    const eagerStep = updating(eagerBuffer);
    for (let i = 0; i < 3; i++) {
      const [gb, gv] = g(x);
      const [eb, ev] = eagerStep(x);
      expect(firstDifference(gb, eb)).toBe(-1);
      expect(firstDifference(gv, ev)).toBe(-1);
    }
    expect(firstDifference(buffer, eagerBuffer)).toBe(-1);
    expect(g.explain()).toMatch(
      /fused float32\[30, 10\]: %\d+ = mul\(input0, 2\); %\d+ = add\(%\d+, 1\); writes %\d+\n/,
    );
    // The product with the view runs after the update, in a pass of its own.
    expect(g.explain()).not.toMatch(/mul\(input0, 2\)[^\n]*= mul\(%\d+, %\d+\)/);
    expect(g.explain()).toMatch(/fused float32\[30, 10\]: %\d+ = mul\(%\d+, %\d+\); writes/);
  });

  it("ends a run at a call that could start a larger one, rather than moving it after the pass", () => {
    const fn = (x: Tensor, r: Tensor) =>
      noGrad(() => {
        const scale = r.mul(2).add(1); // [1, 200]
        const big = x.mul(scale).add(x); // [100, 200], reads the small run
        const other = r.sub(3).abs(); // [1, 200] again
        return [big, other];
      });
    const x = randn([100, 200]);
    const r = randn([1, 200]);
    const f = compile(fn);
    f(x, r);
    const [big, other] = f(x, r);
    const [ebig, eother] = fn(x, r);
    expect(firstDifference(big, ebig)).toBe(-1);
    expect(firstDifference(other, eother)).toBe(-1);
    const text = f.explain();
    expect(text).toMatch(
      /fused float32\[100, 200\]: %\d+ = mul\(input0, %\d+\); %\d+ = add\(%\d+, input0\); writes %\d+\n/,
    );
    expect(text).toContain("fused: 6 elementwise calls run as 3 passes");
  });

  it("does not fuse calls that record an autograd graph, so the result still has one", () => {
    const w = randn([200]).requiresGrad_();
    const f = compile((x: Tensor) => x.mul(w).add(1).relu());
    const x = randn([4, 200]);
    f(x);
    const out = f(x);
    expect(out.gradFn).not.toBeNull();
    expect(f.explain()).toContain("fused: no runs of elementwise calls");
    out.sum().backward();
    expect(w.grad).not.toBeNull();
  });

  it("fuses calls made under noGrad in a function that keeps its graph elsewhere", () => {
    const f = compile((x: Tensor) => noGrad(() => x.mul(2).add(1).neg()));
    const x = randn([20, 20]);
    f(x);
    expect(firstDifference(f(x), x.mul(2).add(1).neg())).toBe(-1);
    expect(f.explain()).toMatch(
      /fused float32\[20, 20\]: %\d+ = mul\(input0, 2\); %\d+ = add\(%\d+, 1\); %\d+ = neg\(%\d+\); writes %\d+/,
    );
  });

  it("runs a call alone as a pass of its own, with eager's bits", () => {
    const f = compile((x: Tensor) => noGrad(() => x.mul(2)));
    const x = randn([20, 20]);
    // Past the calls that trace, record and make the plan's arrays: the steady state.
    for (let i = 0; i < 6; i++) expect(firstDifference(f(x), x.mul(2))).toBe(-1);
    const text = f.explain();
    expect(text).toMatch(/fused float32\[20, 20\]: %\d+ = mul\(input0, 2\); writes %\d+\n/);
    expect(text).toContain(
      "fused: 1 elementwise call runs as 1 pass, writing out 1 of its 1 value\n",
    );
  });

  it("fuses a mean's division by its count, whose 0-d tensor the backward reads", () => {
    // mean = sum, then a division by the count, which saves the count (a 0-d tensor, as
    // eager code makes of the number) for its backward: the pass makes that tensor itself.
    const step = (x: Tensor, w: Tensor) => {
      w.grad = null;
      const loss = x.mul(w).square().mean(0, true).add(1e-5).rsqrt().sum();
      loss.backward();
      return loss;
    };
    manualSeed(5);
    const x = randn([200, 300]);
    const w = randn([300]).requiresGrad_();
    const eagerW = w.detach().requiresGrad_();
    const f = compile(step);
    for (let i = 0; i < 7; i++) {
      const loss = f(x, w);
      const eagerLoss = step(x, eagerW);
      expect(firstDifference(loss, eagerLoss)).toBe(-1);
      expect(firstDifference(w.grad!, eagerW.grad!)).toBe(-1);
    }
    expect(f.explain()).toMatch(
      /fused float32\[1, 300\]: %\d+ = div\(%\d+, 200\); %\d+ = add\(%\d+, 0.00001\); %\d+ = rsqrt\(%\d+\)/,
    );
  });

  it("replays call by call, with eager's bits, when an operand is a transposed view", () => {
    const f = compile((x: Tensor, y: Tensor) => noGrad(() => chain(x, y, y.sum(1, true))));
    const x = randn([40, 40]);
    const y = randn([40, 40]);
    // The pass reads its operands flat or broadcast; a transposed one it leaves to the calls.
    const xt = x.t(); // a strided first operand: a signature of its own
    f(xt, y);
    const [a] = f(xt, y);
    const [ea] = chain(xt, y, y.sum(1, true));
    expect(firstDifference(a, ea)).toBe(-1);
    expect(f.traces).toBe(1);
    expect(f.explain()).toContain(
      "(ran call by call on 1 replay: an operand's layout or the JS kernels)",
    );
  });

  it("replays call by call under the JS kernels, with their bits", () => {
    const f = compile((x: Tensor) => noGrad(() => x.mul(3).sub(x).sqrt()));
    const x = randn([50, 50]).abs();
    f(x);
    setKernelBackend("js");
    expect(firstDifference(f(x), x.mul(3).sub(x).sqrt())).toBe(-1);
    expect(f.explain()).toContain("ran call by call on 1 replay");
  });

  it("leaves integer and mixed-dtype runs unfused", () => {
    const ints = compile((x: Tensor) => noGrad(() => x.mul(2).add(x).neg()));
    const xi = tensor(
      Array.from({ length: 400 }, (_, i) => i - 200),
      { dtype: "int32" },
    );
    ints(xi);
    expect(ints(xi).tolist()).toEqual(xi.mul(2).add(xi).neg().tolist());
    expect(ints.explain()).toContain("fused: no runs of elementwise calls");
    const mixed = compile((x: Tensor, y: Tensor) => noGrad(() => x.mul(y).add(y).neg()));
    const x32 = randn([400]);
    const y64 = randn([400], { dtype: "float64" });
    mixed(x32, y64);
    expect(firstDifference(mixed(x32, y64), x32.mul(y64).add(y64).neg())).toBe(-1);
    expect(mixed.explain()).toMatch(/fused float64\[400\]: %\d+ = add\(%\d+, input1\); %\d+ = neg/);
    expect(mixed.explain()).not.toMatch(/fused [^\n]*= mul/);
  });

  it("fuses nothing with { fuse: false } and checks the option", () => {
    const f = compile((x: Tensor) => noGrad(() => x.mul(2).add(1)), { fuse: false });
    const x = randn([30, 30]);
    f(x);
    expect(firstDifference(f(x), x.mul(2).add(1))).toBe(-1);
    expect(f.explain()).toContain("fused: no runs of elementwise calls");
    expect(() => compile((x: Tensor) => x, { fuse: "yes" as never })).toThrow(
      "compile: options.fuse must be true or false, got string",
    );
  });
});

describe("compile sums values during fused passes", () => {
  it.each(["float32", "float64"] as const)(
    "sums a %s run's value over leading dims in its pass, so the value is never written out",
    (dtype) => {
      // [N, C, L] summed over N (cols C·L) and over N and C (cols L), keepdim or not.
      const fn = (x: Tensor, m: Tensor) =>
        noGrad(() => {
          const centred = x.sub(m);
          const squares = centred.square();
          return [squares.sum(0, true), squares.sum([1, 0]), centred.mul(2)];
        });
      manualSeed(11);
      const x = randn([37, 6, 5], { dtype }).mul(3).add(100);
      const m = randn([6, 1], { dtype });
      const f = compile(fn);
      f(x, m);
      for (let i = 0; i < 2; i++) {
        const got = f(x, m);
        fn(x, m).forEach((e, k) => {
          expect(firstDifference(got[k], e)).toBe(-1);
        });
      }
      const text = f.explain();
      expect(text).toMatch(
        new RegExp(
          `fused ${dtype}\\[37, 6, 5\\]: %\\d+ = sub\\(input0, input1\\); (%\\d+) = square\\(%\\d+\\); %\\d+ = sum\\(\\1, \\[0\\]\\); %\\d+ = sum\\(\\1, \\[0, 1\\]\\); %\\d+ = mul\\(%\\d+, 2\\); writes %\\d+\\n`,
        ),
      );
      expect(text).not.toContain("call by call");
    },
  );

  it("reads x and g once for a scale and shift's forward and backward, with eager's bits", () => {
    const make = () => {
      manualSeed(4);
      const w = randn([64]).requiresGrad_();
      const b = randn([64]).requiresGrad_();
      return { w, b };
    };
    const step =
      ({ w, b }: { w: Tensor; b: Tensor }) =>
      (x: Tensor, g: Tensor) => {
        x.grad = null;
        w.grad = null;
        b.grad = null;
        const y = x.mul(w).add(b);
        y.backward(g);
        return y;
      };
    // From 65536 elements mul's backward sums g·x without materialising it (sumProducts).
    const x = randn([1100, 64]).requiresGrad_();
    const g = randn([1100, 64]);
    const eager = make();
    const traced = make();
    const f = compile(step(traced));
    f(x, g);
    const y = f(x, g);
    const gradX = x.grad!;
    const ey = step(eager)(x, g);
    expect(firstDifference(y, ey)).toBe(-1);
    expect(firstDifference(gradX, x.grad!)).toBe(-1);
    expect(firstDifference(traced.w.grad!, eager.w.grad!)).toBe(-1);
    expect(firstDifference(traced.b.grad!, eager.b.grad!)).toBe(-1);
    expect(f.explain()).toMatch(
      /fused float32\[1100, 64\]: %\d+ = mul\(input0, captured0\); %\d+ = add\(%\d+, captured1\); %\d+ = sum\(input1, \[0\]\); %\d+ = mul\(input1, captured0\); %\d+ = sumProducts\(input1, input0\); writes %\d+, %\d+\n/,
    );
  });

  it("runs a sum after the pass when it reduces trailing dims, and one by one given a strided view", () => {
    const fn = (x: Tensor) =>
      noGrad(() => {
        const s = x.mul(3).square();
        return [s.sum(1), s.add(1)];
      });
    const x = randn([50, 40]);
    const f = compile(fn);
    f(x);
    const [a, b] = f(x);
    const [ea, eb] = fn(x);
    expect(firstDifference(a, ea)).toBe(-1);
    expect(firstDifference(b, eb)).toBe(-1);
    expect(f.explain()).not.toMatch(/fused [^\n]*= sum\(/);
    // Two sums of values made earlier share a pass; given a transposed view, they run one by one.
    const sums = compile((p: Tensor, q: Tensor) => noGrad(() => [p.sum(0), q.sum(0)]));
    const p = randn([60, 60]);
    const q = randn([60, 60]);
    const pt = p.t(); // a strided view: a signature of its own, traced, then replayed
    sums(pt, q);
    const [s1, s2] = sums(pt, q);
    expect(firstDifference(s1, pt.sum(0))).toBe(-1);
    expect(firstDifference(s2, q.sum(0))).toBe(-1);
    expect(sums.explain()).toMatch(
      /fused float32\[60, 60\]: %\d+ = sum\(input0, \[0\]\); %\d+ = sum\(input1, \[0\]\); writes nothing \(ran call by call on 1 replay/,
    );
  });
});

describe("compile centres values during fused passes", () => {
  it.each(["float32", "float64"] as const)(
    "subtracts %s means in the pass, as center does, and answers a sum over the same dims from its sums",
    (dtype) => {
      const fn = (x: Tensor) =>
        noGrad(() => {
          const centred = center(x, [0, 1]);
          const spread = centred.square().sum([0, 1], true);
          return [centred.mul(2), spread, x.sum([1, 0])];
        });
      manualSeed(7);
      // Values near 1e4 with a spread of 0.1: the means' float32 tail matters.
      const x = randn([9, 40, 30], { dtype }).mul(0.1).add(1e4);
      const f = compile(fn);
      f(x);
      for (let i = 0; i < 2; i++) {
        const got = f(x);
        fn(x).forEach((e, k) => {
          expect(firstDifference(got[k], e)).toBe(-1);
        });
      }
      expect(f.explain()).toMatch(
        new RegExp(
          `fused ${dtype}\\[9, 40, 30\\]: %\\d+ = center\\(input0, \\[0, 1\\]\\); %\\d+ = square\\(%\\d+\\); %\\d+ = sum\\(%\\d+, \\[0, 1\\]\\); %\\d+ = mul\\(%\\d+, 2\\); %\\d+ = sum\\(input0, \\[0, 1\\]\\) \\(the centring's sums\\); writes %\\d+\\n`,
        ),
      );
      expect(f.explain()).not.toContain("call by call");
    },
  );

  it("leaves other centrings to center, and replays call by call given a transposed input", () => {
    const lastDim = compile((x: Tensor) => noGrad(() => center(x, 2).mul(3)));
    const x = randn([6, 5, 40]);
    lastDim(x);
    expect(firstDifference(lastDim(x), center(x, 2).mul(3))).toBe(-1);
    expect(lastDim.explain()).not.toMatch(/fused [^\n]*center\(/);
    const rows = compile((x: Tensor) => noGrad(() => center(x, 0).mul(3)));
    const y = randn([64, 64]);
    const yt = y.t(); // a strided view: a signature of its own, traced, then replayed
    rows(yt);
    expect(firstDifference(rows(yt), center(yt, 0).mul(3))).toBe(-1);
    expect(rows.explain()).toMatch(
      /fused float32\[64, 64\]: %\d+ = center\(input0, \[0\]\); %\d+ = mul\(%\d+, 3\); writes %\d+ \(ran call by call on 1 replay/,
    );
  });
});

describe("compile fuses addcmul", () => {
  it.each([1, 0.5])(
    "runs addcmul with value %s as its mul and add steps, with eager's bits",
    (value) => {
      const fn = (x: Tensor, s: Tensor, b: Tensor) =>
        noGrad(() => addcmul(b, x, s, value).relu().mul(x));
      manualSeed(5);
      const x = randn([70, 30]);
      const s = randn([30]);
      const b = randn([70, 1]);
      const f = compile(fn);
      f(x, s, b);
      expect(firstDifference(f(x, s, b), fn(x, s, b))).toBe(-1);
      const args = value === 1 ? "input2, input0, input1" : "input2, input0, input1, 0.5";
      expect(f.explain()).toContain(`= addcmul(${args}); %`);
      expect(f.explain()).toMatch(
        /fused float32\[70, 30\]: %\d+ = addcmul\([^)]*\); %\d+ = relu\(%\d+\); %\d+ = mul\(%\d+, input0\); writes %\d+\n/,
      );
    },
  );
});

describe("compile fuses per-channel centrings and sums (BatchNorm2d's)", () => {
  it.each(["float32", "float64"] as const)(
    "centres %s [N, C, H, W] per channel and sums over N, H, W in its pass, with eager's bits",
    (dtype) => {
      const fn = (x: Tensor, scale: Tensor, shift: Tensor) =>
        noGrad(() => {
          const centred = center(x, [0, 2, 3]);
          const spread = centred.square().sum([0, 2, 3], true);
          const y = addcmul(shift, centred, scale).relu();
          return [y, spread, x.sum([0, 2, 3]), y.sum([3, 2, 0], true)];
        });
      manualSeed(9);
      const x = randn([5, 6, 7, 9], { dtype }).mul(0.1).add(1e4);
      const scale = randn([6, 1, 1], { dtype });
      const shift = randn([1, 6, 1, 1], { dtype });
      const f = compile(fn);
      f(x, scale, shift);
      for (let i = 0; i < 2; i++) {
        const got = f(x, scale, shift);
        fn(x, scale, shift).forEach((e, k) => {
          expect(firstDifference(got[k], e)).toBe(-1);
        });
      }
      const text = f.explain();
      expect(text).toMatch(
        new RegExp(
          `fused ${dtype}\\[5, 6, 7, 9\\]: %\\d+ = center\\(input0, \\[0, 2, 3\\]\\); %\\d+ = square\\(%\\d+\\); %\\d+ = sum\\(%\\d+, \\[0, 2, 3\\]\\); %\\d+ = addcmul\\(input2, %\\d+, input1\\); %\\d+ = relu\\(%\\d+\\); %\\d+ = sum\\(input0, \\[0, 2, 3\\]\\) \\(the centring's sums\\); %\\d+ = sum\\(%\\d+, \\[0, 2, 3\\]\\); writes %\\d+\\n`,
        ),
      );
      expect(text).not.toContain("call by call");
    },
  );

  it("keeps a per-channel sum out of a pass whose operands vary along the last dims", () => {
    const fn = (x: Tensor, row: Tensor) =>
      noGrad(() => {
        const y = x.mul(row); // row: [W], not per channel
        return [y, y.sum([0, 2, 3])];
      });
    const x = randn([4, 3, 5, 8]);
    const row = randn([8]);
    const f = compile(fn);
    f(x, row);
    const [y, s] = f(x, row);
    const [ey, es] = fn(x, row);
    expect(firstDifference(y, ey)).toBe(-1);
    expect(firstDifference(s, es)).toBe(-1);
    expect(f.explain()).not.toMatch(/fused [^\n]*= sum\(/);
    expect(f.explain()).not.toContain("call by call");
  });
});

describe("compile keeps eager's order where fusion could change it", () => {
  it("reads a view made outside the function after an in-place update of its storage, as eager code does", () => {
    const make = () => {
      manualSeed(1);
      const w = randn([256, 8]);
      return { w, view: w.transpose(0, 1).transpose(0, 1) }; // shares w's storage
    };
    const step =
      ({ w, view }: ReturnType<typeof make>) =>
      (x: Tensor) =>
        noGrad(() => {
          const a = x.mul(2);
          w.add_(1);
          return a.add(view);
        });
    const x = randn([256, 8]);
    const eager = make();
    const traced = make();
    const f = compile(step(traced));
    for (let i = 0; i < 3; i++) expect(firstDifference(f(x), step(eager)(x))).toBe(-1);
  });

  it("replays in the traced order when an input shares storage with a tensor updated in place", () => {
    const buffer = randn([300]);
    const fn = (x: Tensor) =>
      noGrad(() => {
        const a = x.mul(2);
        buffer.add_(1);
        return a.add(x);
      });
    const f = compile(fn);
    const separate = randn([300]);
    f(separate);
    f(separate.clone()); // a new input tensor: this call traces again to check it
    const eagerBuffer = buffer.clone();
    // Now the input is the buffer itself: eager code reads it after the update.
    const got = f(buffer);
    const expected = noGrad(() => {
      const a = eagerBuffer.mul(2);
      eagerBuffer.add_(1);
      return a.add(eagerBuffer);
    });
    expect(firstDifference(got, expected)).toBe(-1);
    expect(f.explain()).toContain(
      "1 replay ran unfused, in the traced order: an input shared storage with a tensor the function updates in place",
    );
  });

  it("keeps two .grad assignments to one tensor in their order", () => {
    const p = randn([256]).requiresGrad_();
    const fn = (x: Tensor) => {
      const a = noGrad(() => x.mul(2));
      p.grad = a;
      p.grad = noGrad(() => x.add(1));
      return a.add(1);
    };
    const f = compile(fn);
    const x = randn([256]);
    f(x);
    f(x);
    expect(firstDifference(p.grad!, x.add(1))).toBe(-1);
  });

  it("does not fuse sums whose rows cannot fit a pass, and fuses a small addcmul", () => {
    const big = compile((x: Tensor) => noGrad(() => center(x, [0, 2, 3]).square().sum([0, 2, 3])));
    const x = randn([2, 3, 160, 160]);
    big(x);
    expect(firstDifference(big(x), center(x, [0, 2, 3]).square().sum([0, 2, 3]))).toBe(-1);
    expect(big.explain()).toContain("fused: no runs of elementwise calls");
    const small = compile((a: Tensor, b: Tensor) => noGrad(() => addcmul(a, b, a, 0.1).mul(2)));
    const [a, b] = [randn([512]), randn([512])];
    small(a, b);
    expect(firstDifference(small(a, b), addcmul(a, b, a, 0.1).mul(2))).toBe(-1);
    expect(small.explain()).toMatch(
      /fused float32\[512\]: %\d+ = addcmul\(input0, input1, input0, 0.1\)/,
    );
  });
});
