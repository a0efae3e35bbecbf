// ModuleDict: insertion order (also for integer-like keys), Map-named methods with PyTorch 1.13's
// nn.ModuleDict behaviour, key checks, errors, state dicts and modes.
import { Generator, noGrad, randn, type Tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Dropout, ReLU, Sigmoid, Tanh } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { MSELoss } from "../src/loss.js";
import { Module } from "../src/module.js";
import { ModuleDict } from "../src/module-dict.js";

const layout = (dict: ModuleDict) => dict.entries().map(([k, m]) => `${k}:${m.typeName()}`);

describe("ModuleDict structure", () => {
  it("keeps insertion order for keys, values, entries, iteration and children", () => {
    const [conv, act] = [new Linear(2, 2), new ReLU()];
    const dict = new ModuleDict([
      ["conv", conv],
      ["act", act],
    ]);
    expect(dict.size).toBe(2);
    expect(dict.keys()).toEqual(["conv", "act"]);
    expect(dict.values()).toEqual([conv, act]);
    expect(dict.entries()).toEqual([
      ["conv", conv],
      ["act", act],
    ]);
    expect([...dict]).toEqual(["conv", "act"]);
    expect(dict.namedChildren()).toEqual(dict.entries());
    expect(dict.get("act")).toBe(act);
    expect(dict.has("conv")).toBe(true);
    expect(dict.has("pool")).toBe(false);
  });

  it("keeps an integer-like key where it was inserted, as PyTorch does", () => {
    // torch: ModuleDict([("b", ReLU()), ("1", Linear(1, 1)), ("a", Linear(1, 1))]): keys
    // ['b', '1', 'a'], state_dict keys ['1.weight', '1.bias', 'a.weight', 'a.bias'].
    const dict = new ModuleDict([
      ["b", new ReLU()],
      ["1", new Linear(1, 1)],
      ["a", new Linear(1, 1)],
    ]);
    expect(dict.keys()).toEqual(["b", "1", "a"]);
    expect(dict.namedModules().map(([n]) => n)).toEqual(["", "b", "1", "a"]);
    expect(Object.keys(dict.stateDict())).toEqual(["1.weight", "1.bias", "a.weight", "a.bias"]);
    expect(dict.namedParameters().map(([n]) => n)).toEqual([
      "1.weight",
      "1.bias",
      "a.weight",
      "a.bias",
    ]);
  });

  it("accepts a Map, a plain object or another ModuleDict", () => {
    const relu = new ReLU();
    const fromMap = new ModuleDict(
      new Map<string, Module>([
        ["z", relu],
        ["y", new Tanh()],
      ]),
    );
    expect(layout(fromMap)).toEqual(["z:ReLU", "y:Tanh"]);
    expect(layout(new ModuleDict({ p: new Sigmoid(), q: new Tanh() }))).toEqual([
      "p:Sigmoid",
      "q:Tanh",
    ]);
    const copy = new ModuleDict(fromMap);
    expect(layout(copy)).toEqual(["z:ReLU", "y:Tanh"]);
    expect(copy.get("z")).toBe(relu);
  });

  it("names parameters by key inside a module", () => {
    class Heads extends Module {
      trunk = new Linear(3, 4);
      heads = new ModuleDict({
        classify: new Linear(4, 2),
        regress: new Linear(4, 1, { bias: false }),
      });
      forward(x: Tensor): Tensor {
        return this.heads.get("regress").forward(this.trunk.forward(x));
      }
    }
    expect(new Heads().namedParameters().map(([n]) => n)).toEqual([
      "trunk.weight",
      "trunk.bias",
      "heads.classify.weight",
      "heads.classify.bias",
      "heads.regress.weight",
    ]);
  });
});

describe("ModuleDict changes, as nn.ModuleDict does them", () => {
  it("replaces in place, moves a deleted and re-added key to the end, pops and clears", () => {
    // torch: d["b"] = Tanh() keeps 'b' first; del d["b"]; d["b"] = ReLU() -> keys ['1', 'a', 'b'].
    const dict = new ModuleDict([
      ["b", new ReLU()],
      ["1", new Linear(1, 1)],
      ["a", new Linear(1, 1)],
    ]);
    dict.set("b", new Tanh());
    expect(layout(dict)).toEqual(["b:Tanh", "1:Linear", "a:Linear"]);
    dict.delete("b");
    dict.set("b", new ReLU());
    expect(dict.keys()).toEqual(["1", "a", "b"]);
    expect(dict.namedChildren().map(([n]) => n)).toEqual(["1", "a", "b"]);
    const a = dict.get("a");
    expect(dict.pop("a")).toBe(a);
    expect(dict.keys()).toEqual(["1", "b"]);
    expect(dict.has("a")).toBe(false);
    expect(dict.parameters()).toHaveLength(2);
    dict.clear();
    expect(dict.size).toBe(0);
    expect(dict.children()).toEqual([]);
    expect(dict.stateDict()).toEqual({});
  });

  it("update overwrites existing keys in place and appends new ones in the given order", () => {
    // torch: d = {'1': Linear, 'a': Linear, 'b': ReLU}; d.update(ModuleDict({'z': ReLU(), 'a':
    // Tanh()})) -> [('1', Linear), ('a', Tanh), ('b', ReLU), ('z', ReLU)].
    const dict = new ModuleDict([
      ["1", new Linear(1, 1)],
      ["a", new Linear(1, 1)],
      ["b", new ReLU()],
    ]);
    dict.update(
      new ModuleDict([
        ["z", new ReLU()],
        ["a", new Tanh()],
      ]),
    );
    expect(layout(dict)).toEqual(["1:Linear", "a:Tanh", "b:ReLU", "z:ReLU"]);
  });
});

describe("ModuleDict errors", () => {
  const dict = () => new ModuleDict({ conv: new Linear(1, 1), act: new ReLU() });

  it("throws a RangeError naming the key and the keys present for a missing key", () => {
    const message = 'no module under the key "pool"; the keys are "conv", "act"';
    expect(() => dict().get("pool")).toThrow(new RangeError(`ModuleDict.get: ${message}`));
    expect(() => dict().delete("pool")).toThrow(`ModuleDict.delete: ${message}`);
    expect(() => dict().pop("pool")).toThrow(`ModuleDict.pop: ${message}`);
    expect(() => new ModuleDict().get("x")).toThrow(
      'ModuleDict.get: no module under the key "x"; the keys are (none)',
    );
  });

  it("checks keys as registerModule does (PyTorch's add_module)", () => {
    const d = dict();
    expect(() => d.set("a.b", new ReLU())).toThrow(
      new TypeError('ModuleDict.set: name must be a non-empty string without ".", got "a.b"'),
    );
    expect(() => d.set("", new ReLU())).toThrow("ModuleDict.set: name must be a non-empty string");
    for (const taken of [
      "keys",
      "get",
      "size",
      "training",
      "forward",
      "parameters",
      "double",
      "to",
    ]) {
      expect(() => d.set(taken, new ReLU()), taken).toThrow(
        `ModuleDict.set: "${taken}" is already a method or property of the module`,
      );
    }
    expect(() => d.set(3 as unknown as string, new ReLU())).toThrow(
      'ModuleDict.set: name must be a non-empty string without ".", got 3',
    );
    expect(d.keys()).toEqual(["conv", "act"]);
  });

  it("throws a TypeError naming ModuleDict and what was given for a non-Module", () => {
    expect(() => dict().set("pool", 3 as unknown as Module)).toThrow(
      new TypeError('ModuleDict.set: "pool" must be a Module, got number 3'),
    );
    expect(() => new ModuleDict({ w: zeros([1]) as unknown as Module })).toThrow(
      'ModuleDict.constructor: "w" must be a Module, got a Tensor',
    );
  });

  it("checks every pair before update changes anything", () => {
    const d = dict();
    expect(() => d.update(3 as unknown as Record<string, Module>)).toThrow(
      new TypeError(
        "ModuleDict.update: expected [key, module] pairs or an object of modules, got number 3",
      ),
    );
    expect(() => d.update([["x"]] as unknown as [string, Module][])).toThrow(
      "ModuleDict.update: element #0 must be a [key, module] pair, got an array of length 1",
    );
    expect(() =>
      d.update([
        ["new", new Tanh()],
        ["bad.key", new ReLU()],
      ]),
    ).toThrow('ModuleDict.update: name must be a non-empty string without ".", got "bad.key"');
    expect(() =>
      d.update([
        ["conv", new Tanh()],
        ["x", "relu" as unknown as Module],
      ]),
    ).toThrow('ModuleDict.update: "x" must be a Module, got string "relu"');
    expect(layout(d)).toEqual(["conv:Linear", "act:ReLU"]);
  });

  it("has no forward, like nn.ModuleDict", () => {
    expect(() => dict().forward()).toThrow(
      /^ModuleDict has no forward: it is a container, not a layer/,
    );
  });
});

describe("ModuleDict state, modes and training", () => {
  it("loads its state dict into a fresh dict with the same keys", () => {
    const source = new ModuleDict([
      ["2", new Linear(2, 3)],
      ["norm", new BatchNorm1d(3)],
    ]);
    noGrad(() => {
      (source.get("norm") as BatchNorm1d).runningVar!.fill_(4);
    });
    const copy = new ModuleDict([
      ["2", new Linear(2, 3)],
      ["norm", new BatchNorm1d(3)],
    ]);
    expect(copy.loadStateDict(source.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const state = copy.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(source.stateDict()));
    for (const [key, value] of Object.entries(source.stateDict()))
      expect(Array.from(state[key].toArray()), key).toEqual(Array.from(value.toArray()));
    expect(Array.from(state["norm.running_var"].toArray())).toEqual([4, 4, 4]);
  });

  it("passes train() and eval() on to every module it holds", () => {
    const dict = new ModuleDict({ drop: new Dropout(), norm: new BatchNorm1d(2) });
    dict.eval();
    expect(dict.modules().map((m) => m.training)).toEqual([false, false, false]);
    dict.train();
    expect(dict.modules().map((m) => m.training)).toEqual([true, true, true]);
  });

  it("trains the module picked by key, and only that one", () => {
    const generator = new Generator(1);
    const heads = new ModuleDict({
      scale: new Linear(1, 1, { generator }),
      negate: new Linear(1, 1, { generator }),
    });
    const idle = Array.from((heads.get("negate") as Linear).weight.toArray());
    const x = randn([16, 1], { generator });
    const y = noGrad(() => x.mul(2));
    const criterion = new MSELoss();
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      heads.zeroGrad();
      const loss = criterion.forward(heads.get("scale").forward(x), y);
      loss.backward();
      losses.push(loss.item());
      noGrad(() => {
        for (const p of heads.parameters()) if (p.grad !== null) p.sub_(p.grad, 0.2);
      });
    }
    expect(losses[29]).toBeLessThan(0.1 * losses[0]);
    expect(Array.from((heads.get("negate") as Linear).weight.toArray())).toEqual(idle);
    expect((heads.get("negate") as Linear).weight.grad).toBeNull();
  });
});
