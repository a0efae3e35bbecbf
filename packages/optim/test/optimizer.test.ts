import { compile, manualSeed, noGrad, randn, type Tensor, tensor, zeros } from "@koubai/core";
import { peekGrad } from "@koubai/core/internal";
import { describe, expect, it } from "vitest";
import { Adam, AdamW, Optimizer, type OptimizerStateDict, SGD, StepLR } from "../src/index.js";

const param = (values: number[] = [0, 0]) =>
  tensor(values, { dtype: "float64", requiresGrad: true });

describe("Optimizer parameter groups", () => {
  it("takes any iterable of tensors as one group with the defaults", () => {
    const [a, b] = [param(), param()];
    function* params() {
      yield a;
      yield b;
    }
    const optimizer = new SGD(params(), { lr: 0.1, momentum: 0.9 });
    expect(optimizer.paramGroups).toHaveLength(1);
    expect(optimizer.paramGroups[0]).toMatchObject({ lr: 0.1, momentum: 0.9, nesterov: false });
    expect(optimizer.paramGroups[0].params).toEqual([a, b]);
  });

  it("gives each group its own options, falling back to the defaults", () => {
    const [a, b] = [param(), param()];
    const optimizer = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    a.grad = tensor([1, 1], { dtype: "float64" });
    b.grad = tensor([1, 1], { dtype: "float64" });
    optimizer.step();
    expect(a).toBeAllclose([-0.1, -0.1]);
    expect(b).toBeAllclose([-1, -1]);
  });

  it("adds groups later with addParamGroup", () => {
    const optimizer = new Adam([param()], { lr: 0.1 });
    optimizer.addParamGroup({ params: param(), lr: 0.5 });
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    expect(optimizer.paramGroups[1].betas).toEqual([0.9, 0.999]);
    expect(optimizer.paramGroups[1].betas).not.toBe(optimizer.paramGroups[0].betas);
  });

  it.each([
    [() => new SGD([], { lr: 1 }), "SGD: got an empty parameter list"],
    [() => new SGD(param() as never, { lr: 1 }), "got a single Tensor; wrap it in an array"],
    [() => new SGD([param().mul(2)], { lr: 1 }), "can't optimize a non-leaf Tensor (params[0]"],
    [() => new SGD([{ params: new Set([param()]) }], { lr: 1 }), "not a Set"],
    [() => new SGD([{ params: [3] as never }], { lr: 1 }), "params[0] is number"],
  ])("rejects bad params (%#)", (make, message) => {
    expect(make).toThrow(message);
  });

  it("rejects a parameter that is already in another group", () => {
    const a = param();
    const optimizer = new SGD([a], { lr: 1 });
    expect(() => optimizer.addParamGroup({ params: [a] })).toThrow(
      "SGD.addParamGroup: some parameters appear in more than one group",
    );
  });
});

describe("Optimizer.zeroGrad", () => {
  it("sets gradients to null by default", () => {
    const a = param();
    a.grad = tensor([1, 2], { dtype: "float64" });
    new SGD([a], { lr: 1 }).zeroGrad();
    expect(a.grad).toBeNull();
  });

  it("fills gradients with zeros in place with setToNone: false", () => {
    const a = param();
    const grad = tensor([1, 2], { dtype: "float64" });
    a.grad = grad;
    new SGD([a], { lr: 1 }).zeroGrad({ setToNone: false });
    expect(a.grad).toBe(grad);
    expect(grad).toBeAllclose([0, 0], { atol: 0 });
  });
});

describe("Optimizer.step", () => {
  it("runs the closure with grad mode on and returns its loss", () => {
    const a = param([1, 2]);
    const optimizer = new SGD([a], { lr: 0.5 });
    const loss = optimizer.step(() => {
      const l = a.mul(a).sum();
      l.backward();
      return l.item();
    });
    expect(loss).toBe(5);
    expect(a).toBeAllclose([0, 0]);
  });
});

describe("Optimizer state dicts", () => {
  it("refers to parameters by index and holds state as plain data", () => {
    const [a, b] = [param([1, 2]), param([3, 4])];
    const optimizer = new Adam([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    b.grad = tensor([1, -1], { dtype: "float64" });
    optimizer.step();
    const sd = optimizer.stateDict();
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    expect(sd.paramGroups[1].lr).toBe(0.5);
    expect(Object.keys(sd.state)).toEqual(["1"]);
    expect(sd.state["1"].step).toBe(1);
    // m = (1 − β1)·g with β1 = 0.9, exactly as float64 computes 1 − 0.9.
    const m = 1 - 0.9;
    expect(sd.state["1"].expAvg).toEqual({ shape: [2], dtype: "float64", data: [m, -m] });
  });

  it("keeps NaN, infinities and -0 through JSON", () => {
    const a = param([0, 0, 0, 0]);
    const optimizer = new SGD([a], { lr: 1, momentum: 0.5 });
    a.grad = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0], {
      dtype: "float64",
    });
    optimizer.step();
    const json = JSON.parse(JSON.stringify(optimizer.stateDict())) as OptimizerStateDict;
    const b = param([0, 0, 0, 0]);
    const restored = new SGD([b], { lr: 1, momentum: 0.5 });
    restored.loadStateDict(json);
    const buffer = restored.state.get(b)!.momentumBuffer!.toArray();
    expect(Array.from(buffer)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
    ]);
    expect(Object.is(buffer[3], -0)).toBe(true);
  });

  it("casts loaded state to the parameter's dtype", () => {
    const a = param([1, 2]);
    const optimizer = new SGD([a], { lr: 1, momentum: 0.9 });
    a.grad = tensor([1, 2], { dtype: "float64" });
    optimizer.step();
    const b = zeros([2], { requiresGrad: true });
    const restored = new SGD([b], { lr: 1, momentum: 0.9 });
    restored.loadStateDict(optimizer.stateDict());
    expect(restored.state.get(b)!.momentumBuffer!.dtype).toBe("float32");
  });

  it("replaces the group options with the saved ones", () => {
    const optimizer = new SGD([param()], { lr: 0.1 });
    const sd = optimizer.stateDict();
    sd.paramGroups[0].lr = 0.01;
    const other = new SGD([param()], { lr: 5, momentum: 0.9 });
    other.loadStateDict(sd);
    expect(other.paramGroups[0]).toMatchObject({ lr: 0.01, momentum: 0 });
  });

  it("names the mismatch when the groups differ", () => {
    const saved = new SGD([param(), param()], { lr: 1 }).stateDict();
    expect(() => new SGD([param()], { lr: 1 }).loadStateDict(saved)).toThrow(
      "SGD.loadStateDict: loaded parameter group 0 has 2 parameters, this optimizer's has 1",
    );
    const two = new SGD([{ params: [param()] }, { params: [param()] }], { lr: 1 });
    expect(() => two.loadStateDict(saved)).toThrow(
      "SGD.loadStateDict: loaded state dict has 1 parameter groups, this optimizer has 2",
    );
  });

  it("names the shapes when saved state does not fit a parameter", () => {
    const a = param([1, 2]);
    const optimizer = new SGD([a], { lr: 1, momentum: 0.9 });
    a.grad = tensor([1, 2], { dtype: "float64" });
    optimizer.step();
    const other = new SGD([param([1, 2, 3])], { lr: 1, momentum: 0.9 });
    expect(() => other.loadStateDict(optimizer.stateDict())).toThrow(
      "SGD.loadStateDict: state 0.momentumBuffer has shape [2] but parameter 0 has shape [3]",
    );
  });
});

describe("Optimizer.typeName", () => {
  it("names a built-in optimizer after minification renamed its class (the static typeName is kept)", () => {
    // What a minifier does to Adam: same class body, another constructor name.
    class Qt extends Adam {}
    expect(Qt.name).toBe("Qt");
    expect(new Qt([param()]).typeName()).toBe("Adam");
    expect(() => new Qt([])).toThrow("Adam: got an empty parameter list");
    expect(() => new Qt([param()]).loadStateDict({} as OptimizerStateDict)).toThrow(
      "Adam.loadStateDict: expected an object with state (an object) and paramGroups (an array)",
    );
  });

  it("reports a user subclass's own class name when it declares no static typeName", () => {
    class Sign extends Optimizer {
      protected validateGroup(): void {}
      protected update(): void {}
    }
    expect(new Sign([param()], { lr: 0.1 }).typeName()).toBe("Sign");
    expect(() => new Sign([], { lr: 0.1 })).toThrow("Sign: got an empty parameter list");
  });
});

describe("Optimizer.loadStateDict refuses and changes nothing", () => {
  /** An Adam that has taken one step, its state dict as JSON data, and a snapshot of both. */
  function trained() {
    const p = param([1, -1]);
    const optimizer = new Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5, 0.25], { dtype: "float64" });
    optimizer.step();
    const saved = JSON.parse(JSON.stringify(optimizer.stateDict())) as OptimizerStateDict;
    const snapshot = () => JSON.stringify(optimizer.stateDict());
    return { p, optimizer, saved, snapshot, before: snapshot() };
  }

  it.each([
    ["lr -1", { lr: -1 }, /paramGroups\[0\]: Adam: invalid lr -1; expected a finite number >= 0/],
    ["weightDecay NaN", { weightDecay: Number.NaN }, /invalid weightDecay NaN/],
    ["betas [2, 2]", { betas: [2, 2] }, /invalid betas\[0\] 2; expected 0 <= betas\[0\] < 1/],
    ['lr "abc"', { lr: "abc" }, /invalid lr "abc"/],
    ["lr Infinity", { lr: Number.POSITIVE_INFINITY }, /invalid lr Infinity/],
    ['amsgrad "yes"', { amsgrad: "yes" }, /invalid amsgrad "yes"; expected true or false/],
  ])(
    "an invalid group option (%s): it throws before the live group changes",
    (_, change, message) => {
      const { p, optimizer, saved, snapshot, before } = trained();
      Object.assign(saved.paramGroups[0], change);
      expect(() => optimizer.loadStateDict(saved)).toThrow(message);
      expect(snapshot()).toBe(before);
      // The next step still descends with the old options.
      const value = p.tolist() as number[];
      p.grad = tensor([1, 1], { dtype: "float64" });
      optimizer.step();
      expect((p.tolist() as number[]).every((v, i) => v < value[i])).toBe(true);
    },
  );

  it('refuses a "__proto__" key in a group, which would set the group\'s prototype', () => {
    const { optimizer, saved, snapshot, before } = trained();
    const text = JSON.stringify(saved).replace('"lr":0.1', '"lr":0.1,"__proto__":{"lr":1000}');
    const hostile = JSON.parse(text) as OptimizerStateDict;
    expect(() => optimizer.loadStateDict(hostile)).toThrow(
      /paramGroups\[0\]: "__proto__" is not a valid option or state name/,
    );
    expect(snapshot()).toBe(before);
    expect(Object.getPrototypeOf(optimizer.paramGroups[0])).toBe(Object.prototype);
  });

  it("names a null, malformed or incomplete state entry instead of a JavaScript TypeError", () => {
    const { optimizer, saved, snapshot, before } = trained();
    const withEntry = (entry: unknown) => ({ ...saved, state: { 0: entry } }) as never;
    expect(() => optimizer.loadStateDict(withEntry(null))).toThrow(
      "Adam.loadStateDict: state 0 is null, expected an object of numbers and tensors as stateDict() returns",
    );
    expect(() => optimizer.loadStateDict(withEntry({ step: 1 }))).toThrow(
      "Adam.loadStateDict: state 0: expAvg must be a tensor of the parameter's shape, got nothing",
    );
    expect(() => optimizer.loadStateDict(withEntry({ ...saved.state[0], step: "1" }))).toThrow(
      /state 0\.step is neither a number nor a tensor/,
    );
    expect(() => optimizer.loadStateDict({ ...saved, state: null } as never)).toThrow(
      /expected an object with state \(an object\) and paramGroups \(an array\)/,
    );
    expect(snapshot()).toBe(before);
  });

  it("refuses a state entry whose field is named __proto__", () => {
    const { optimizer, saved, snapshot, before } = trained();
    const text = JSON.stringify(saved).replace('"step":1', '"step":1,"__proto__":{"step":0}');
    expect(() => optimizer.loadStateDict(JSON.parse(text))).toThrow(/state 0: "__proto__"/);
    expect(snapshot()).toBe(before);
  });
});

describe("optimizer options PyTorch accepts but that cannot train", () => {
  it("refuses the same parameter twice in a group (torch only warns, then updates it twice)", () => {
    const p = param();
    expect(() => new SGD([p, p], { lr: 0.1 })).toThrow(
      "SGD.addParamGroup: params[1] is the same tensor as params[0]; pass each parameter once (a duplicate would be updated twice per step)",
    );
    expect(() => new Adam([{ params: [param(), p, p] }])).toThrow(
      /params\[2\] is the same tensor as params\[1\]/,
    );
  });

  it("refuses an infinite learning rate, momentum, weight decay or eps", () => {
    expect(() => new SGD([param()], { lr: Number.POSITIVE_INFINITY })).toThrow(
      "SGD: invalid lr Infinity; expected a finite number >= 0",
    );
    expect(() => new SGD([param()], { lr: 0.1, momentum: Number.POSITIVE_INFINITY })).toThrow(
      /invalid momentum Infinity/,
    );
    expect(() => new AdamW([param()], { weightDecay: Number.POSITIVE_INFINITY })).toThrow(
      /AdamW: invalid weightDecay Infinity/,
    );
    expect(() => new Adam([param()], { eps: Number.POSITIVE_INFINITY })).toThrow(
      /Adam: invalid eps Infinity/,
    );
  });

  it("refuses an async closure in step before running it", async () => {
    const p = param([1, 1]);
    const optimizer = new SGD([p], { lr: 0.1 });
    let ran = false;
    expect(() =>
      optimizer.step(async () => {
        ran = true;
        return 0;
      }),
    ).toThrow(/^SGD\.step: the closure is async/);
    expect(ran).toBe(false);
    expect(p.tolist()).toEqual([1, 1]);
  });
});

describe("optimizers inside compiled functions", () => {
  /** A least-squares step; the optimizer and its scheduler come from `make`. */
  function setup(make: (params: Tensor[]) => Optimizer) {
    manualSeed(2);
    const w = randn([4, 1]).requiresGrad_();
    const optimizer = make([w]);
    const scheduler = new StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
    const step = (x: Tensor, y: Tensor) => {
      optimizer.zeroGrad();
      const loss = x.matmul(w).sub(y).square().mean();
      loss.backward();
      optimizer.step();
      return loss;
    };
    return { w, step, scheduler };
  }

  for (const [name, make] of [
    ["SGD with momentum", (p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9 })],
    ["Adam", (p: Tensor[]) => new Adam(p, { lr: 0.05 })],
  ] as const) {
    it(`${name}: a replayed step reads the learning rate a scheduler set, and its state advances as in eager calls`, () => {
      const x = randn([16, 4]);
      const y = randn([16, 1]);
      const eager = setup(make);
      const traced = setup(make);
      const step = compile(traced.step);
      for (let i = 0; i < 6; i++) {
        expect(step(x, y).item()).toBe(eager.step(x, y).item());
        eager.scheduler.step();
        traced.scheduler.step();
      }
      expect(step.replays).toBe(5);
      expect(Array.from(traced.w.toArray())).toEqual(Array.from(eager.w.toArray()));
    });

    it(`${name}: a replayed step reuses the array of the gradient zeroGrad() dropped, as nobody read it`, () => {
      const x = randn([16, 4]);
      const y = randn([16, 1]);
      const traced = setup(make);
      const step = compile(traced.step);
      const buffers: ArrayBufferLike[] = [];
      for (let i = 0; i < 5; i++) {
        step(x, y);
        buffers.push(peekGrad(traced.w)!.data.buffer); // peeked: not a read that keeps it
      }
      expect(buffers[4]).toBe(buffers[3]);
      expect(buffers[3]).toBe(buffers[2]);
    });
  }

  it("a custom optimizer that keeps the gradients it reads sees them intact after later steps", () => {
    /** Plain SGD that also keeps every gradient it applied, as a user's optimizer might. */
    class KeepingSGD extends Optimizer<{ lr: number; params: Tensor[] }> {
      readonly applied: { grad: Tensor; values: number[] }[] = [];
      protected validateGroup(): void {}
      protected update(group: { lr: number; params: Tensor[] }): void {
        for (const p of group.params) {
          const grad = p.grad;
          if (grad === null) continue;
          this.applied.push({ grad, values: Array.from(grad.toArray()) });
          p.sub_(grad.mul(group.lr));
        }
      }
    }
    manualSeed(3);
    const w = randn([4, 1]).requiresGrad_();
    const optimizer = new KeepingSGD([w], { lr: 0.1 });
    const step = compile((x: Tensor, y: Tensor) => {
      optimizer.zeroGrad();
      const loss = x.matmul(w).sub(y).square().mean();
      loss.backward();
      optimizer.step();
      return loss;
    });
    const x = randn([16, 4]);
    const y = randn([16, 1]);
    for (let i = 0; i < 6; i++) step(x, y);
    expect(optimizer.applied).toHaveLength(6);
    for (const { grad, values } of optimizer.applied)
      expect(Array.from(grad.toArray())).toEqual(values);
  });

  it("a subclass overriding step(): a replay runs the update once, and the override's ops as traced", () => {
    /** SGD that also decays its parameters after each step, as a user's subclass might. */
    class DecaySGD extends SGD {
      override step<T = undefined>(closure?: () => T): T | undefined {
        const loss = super.step(closure);
        noGrad(() => {
          for (const p of this.paramGroups[0].params) p.mul_(0.5);
        });
        return loss;
      }
    }
    for (const withClosure of [false, true]) {
      const make = () => {
        manualSeed(5);
        const w = randn([4, 1]).requiresGrad_();
        const optimizer = new DecaySGD([w], { lr: 0.1 });
        const lossOf = (x: Tensor, y: Tensor) => {
          optimizer.zeroGrad();
          const loss = x.matmul(w).sub(y).square().mean();
          loss.backward();
          return loss;
        };
        const step = (x: Tensor, y: Tensor): Tensor => {
          if (withClosure) return optimizer.step(() => lossOf(x, y))!;
          const loss = lossOf(x, y);
          optimizer.step();
          return loss;
        };
        return { w, step };
      };
      const eager = make();
      const traced = make();
      const step = compile(traced.step);
      for (let i = 0; i < 5; i++) {
        const x = randn([8, 4]);
        const y = randn([8, 1]);
        expect(step(x, y).item()).toBe(eager.step(x, y).item());
      }
      expect(Array.from(traced.w.toArray())).toEqual(Array.from(eager.w.toArray()));
    }
  });

  it("step(closure): each replay runs the closure on that call's data, as eager calls do", () => {
    const make = () => {
      manualSeed(4);
      const w = randn([4, 1]).requiresGrad_();
      const optimizer = new SGD([w], { lr: 0.1, momentum: 0.9 });
      const step = (x: Tensor, y: Tensor) =>
        optimizer.step(() => {
          optimizer.zeroGrad();
          const loss = x.matmul(w).sub(y).square().mean();
          loss.backward();
          return loss;
        })!;
      return { w, step };
    };
    const eager = make();
    const traced = make();
    const step = compile(traced.step);
    for (let i = 0; i < 6; i++) {
      // New data every call: a replay running the first call's closure would train on it.
      const x = randn([16, 4]);
      const y = randn([16, 1]);
      expect(step(x, y).item()).toBe(eager.step(x, y).item());
    }
    expect(step.replays).toBe(4); // the second call, on new input tensors, traced to check them
    expect(Array.from(traced.w.toArray())).toEqual(Array.from(eager.w.toArray()));
  });
});
