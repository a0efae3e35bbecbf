// ModuleList: registration as "0", "1", ..., renumbering on insert/delete (checked against
// PyTorch 1.13's nn.ModuleList), errors, state dicts, modes, and a network that trains with one.
import { Generator, noGrad, randn, type Tensor, zeros } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Dropout, ReLU, Sigmoid, Tanh } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { MSELoss } from "../src/loss.js";
import { Module } from "../src/module.js";
import { ModuleList } from "../src/module-list.js";
import { Sequential } from "../src/sequential.js";

const typeNames = (list: ModuleList) => [...list].map((m) => m.typeName());

describe("ModuleList structure", () => {
  it("registers its modules as children 0, 1, ... and iterates them in order", () => {
    const [a, b, c] = [new Linear(2, 3), new ReLU(), new Linear(3, 1)];
    const list = new ModuleList([a, b, c]);
    expect(list.length).toBe(3);
    expect(list.namedChildren()).toEqual([
      ["0", a],
      ["1", b],
      ["2", c],
    ]);
    expect([...list]).toEqual([a, b, c]);
    expect(list.at(0)).toBe(a);
    expect(list.at(-1)).toBe(c);
    expect(list.at(-3)).toBe(a);
    expect(new ModuleList().length).toBe(0);
  });

  it("registers what a plain array of modules leaves unregistered", () => {
    class WithArray extends Module {
      layers = [new Linear(1, 1)];
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    class WithList extends Module {
      layers = new ModuleList([new Linear(1, 1)]);
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(new WithArray().parameters()).toEqual([]);
    expect(Object.keys(new WithList().stateDict())).toEqual(["layers.0.weight", "layers.0.bias"]);
  });

  it("accepts any iterable, such as a generator", () => {
    function* layers() {
      yield new Linear(1, 1);
      yield new Tanh();
    }
    expect(typeNames(new ModuleList(layers()))).toEqual(["Linear", "Tanh"]);
  });

  it("names the parameters of its modules by index, in order, also when nested", () => {
    class Net extends Module {
      hidden = new ModuleList([
        new Linear(2, 4),
        new BatchNorm1d(4),
        new Linear(4, 4, { bias: false }),
      ]);
      head = new Linear(4, 1);
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "hidden.0.weight",
      "hidden.0.bias",
      "hidden.1.weight",
      "hidden.1.bias",
      "hidden.2.weight",
      "head.weight",
      "head.bias",
    ]);
    expect(net.parameters()).toHaveLength(7);
    expect(net.parameters()[2]).toBe((net.hidden.at(1) as BatchNorm1d).weight);
    expect(Object.keys(net.stateDict())).toEqual([
      "hidden.0.weight",
      "hidden.0.bias",
      "hidden.1.weight",
      "hidden.1.bias",
      "hidden.1.running_mean",
      "hidden.1.running_var",
      "hidden.1.num_batches_tracked",
      "hidden.2.weight",
      "head.weight",
      "head.bias",
    ]);
  });
});

describe("ModuleList changes, as nn.ModuleList does them", () => {
  it("appends, extends and replaces, returning the list from append and extend", () => {
    const list = new ModuleList([new ReLU()]);
    expect(list.append(new Tanh())).toBe(list);
    expect(list.extend([new Sigmoid(), new Linear(1, 1)])).toBe(list);
    expect(typeNames(list)).toEqual(["ReLU", "Tanh", "Sigmoid", "Linear"]);
    const replacement = new Dropout();
    list.set(-3, replacement);
    expect(list.at(1)).toBe(replacement);
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0", "1", "2", "3"]);
  });

  it("renumbers the later modules on delete, insert and pop (PyTorch 1.13's sequence)", () => {
    // torch: l = ModuleList([Linear(1,1), ReLU(), Linear(1,2)]); del l[0] -> keys ['0', '1'],
    // [ReLU, Linear], state_dict keys ['1.weight', '1.bias']; l.insert(1, Tanh()) -> [ReLU, Tanh,
    // Linear]; l.insert(3, Sigmoid()) -> [ReLU, Tanh, Linear, Sigmoid]; l.pop(-1) -> Sigmoid.
    const last = new Linear(1, 2);
    const list = new ModuleList([new Linear(1, 1), new ReLU(), last]);
    list.delete(0);
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0", "1"]);
    expect(typeNames(list)).toEqual(["ReLU", "Linear"]);
    expect(Object.keys(list.stateDict())).toEqual(["1.weight", "1.bias"]);
    expect(list.namedParameters()[0][1]).toBe(last.weight);
    list.insert(1, new Tanh());
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0", "1", "2"]);
    expect(typeNames(list)).toEqual(["ReLU", "Tanh", "Linear"]);
    expect(Object.keys(list.stateDict())).toEqual(["2.weight", "2.bias"]);
    const sigmoid = new Sigmoid();
    list.insert(3, sigmoid);
    expect(typeNames(list)).toEqual(["ReLU", "Tanh", "Linear", "Sigmoid"]);
    expect(list.pop(-1)).toBe(sigmoid);
    expect(typeNames(list)).toEqual(["ReLU", "Tanh", "Linear"]);
    expect(list.pop(0).typeName()).toBe("ReLU");
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0", "1"]);
    list.insert(0, new ReLU());
    expect(typeNames(list)).toEqual(["ReLU", "Tanh", "Linear"]);
  });

  it("deletes the last module without renaming any", () => {
    const list = new ModuleList([new ReLU(), new Tanh()]);
    list.delete(-1);
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0"]);
    list.delete(0);
    expect(list.length).toBe(0);
  });
});

describe("ModuleList errors", () => {
  const list = () => new ModuleList([new ReLU(), new Tanh(), new Sigmoid()]);

  it("names ModuleList, the method, the index and the length for a bad index", () => {
    expect(() => list().at(3)).toThrow(
      new RangeError("ModuleList.at: index 3 is out of range for 3 modules (-3 to 2)"),
    );
    expect(() => list().at(-4)).toThrow("ModuleList.at: index -4 is out of range");
    expect(() => list().set(-9, new ReLU())).toThrow(
      "ModuleList.set: index -9 is out of range for 3 modules (-3 to 2)",
    );
    expect(() => list().pop(3)).toThrow("ModuleList.pop: index 3 is out of range");
    expect(() => list().delete(5)).toThrow("ModuleList.delete: index 5 is out of range");
    expect(() => new ModuleList().at(0)).toThrow(
      new RangeError("ModuleList.at: index 0 is out of range for an empty list"),
    );
    expect(() => list().at(1.5)).toThrow(
      new TypeError("ModuleList.at: index must be an integer, got 1.5"),
    );
  });

  it("refuses an insert index outside 0 to length (PyTorch 1.13 fails or leaves a gap)", () => {
    const l = list();
    expect(() => l.insert(-1, new ReLU())).toThrow(
      new RangeError(
        "ModuleList.insert: index -1 is out of range for inserting into 3 modules (0 to 3)",
      ),
    );
    expect(() => l.insert(4, new ReLU())).toThrow("ModuleList.insert: index 4 is out of range");
    expect(l.length).toBe(3);
  });

  it("throws a TypeError naming ModuleList and what was given for a non-Module, changing nothing", () => {
    const l = list();
    expect(() => l.append(3 as unknown as Module)).toThrow(
      new TypeError('ModuleList.append: "3" must be a Module, got number 3'),
    );
    expect(() => l.set(0, zeros([1]) as unknown as Module)).toThrow(
      'ModuleList.set: "0" must be a Module, got a Tensor',
    );
    expect(() => l.insert(0, null as unknown as Module)).toThrow(
      'ModuleList.insert: "3" must be a Module, got null',
    );
    expect(() => l.extend([new Linear(1, 1), "relu" as unknown as Module])).toThrow(
      'ModuleList.extend: "4" must be a Module, got string "relu"',
    );
    expect(() => l.extend(3 as unknown as Module[])).toThrow(
      new TypeError("ModuleList.extend: expected an iterable of Modules, got number 3"),
    );
    expect(() => new ModuleList([{} as Module])).toThrow(
      'ModuleList.constructor: "0" must be a Module, got an object',
    );
    expect(typeNames(l)).toEqual(["ReLU", "Tanh", "Sigmoid"]);
  });

  it("has no forward, like nn.ModuleList, also inside a Sequential", () => {
    const message = /^ModuleList has no forward: it is a container, not a layer/;
    expect(() => list().forward()).toThrow(message);
    expect(() => new Sequential(list()).forward(zeros([1, 1]))).toThrow(message);
  });
});

describe("ModuleList state and modes", () => {
  it("loads its state dict into a fresh list of the same structure", () => {
    const source = new ModuleList([new Linear(3, 2), new BatchNorm1d(2)]);
    noGrad(() => {
      (source.at(1) as BatchNorm1d).runningMean!.fill_(0.25);
    });
    const copy = new ModuleList([new Linear(3, 2), new BatchNorm1d(2)]);
    expect(copy.loadStateDict(source.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const state = copy.stateDict();
    for (const [key, value] of Object.entries(source.stateDict()))
      expect(Array.from(state[key].toArray()), key).toEqual(Array.from(value.toArray()));
    expect(Array.from(state["1.running_mean"].toArray())).toEqual([0.25, 0.25]);
  });

  it("refuses a state dict whose indices no longer match after a delete", () => {
    const saved = new ModuleList([new ReLU(), new Linear(1, 1)]).stateDict();
    const shortened = new ModuleList([new ReLU(), new Linear(1, 1)]);
    shortened.delete(0);
    expect(() => shortened.loadStateDict(saved)).toThrow(
      /missing keys: 0.weight, 0.bias[\s\S]*unexpected keys: 1.weight, 1.bias/,
    );
  });

  it("passes train() and eval() on to every module it holds", () => {
    const list = new ModuleList([new Dropout(), new Sequential(new BatchNorm1d(2))]);
    list.eval();
    expect(list.modules().map((m) => m.training)).toEqual([false, false, false, false]);
    list.train();
    expect(list.modules().map((m) => m.training)).toEqual([true, true, true, true]);
  });
});

describe("a network holding its hidden layers in a ModuleList", () => {
  class DeepMlp extends Module {
    readonly hidden: ModuleList;
    readonly head: Linear;
    constructor(widths: number[], generator: Generator) {
      super();
      this.hidden = new ModuleList(
        widths.slice(1).map((w, i) => new Linear(widths[i], w, { generator })),
      );
      this.head = new Linear(widths[widths.length - 1], 1, { generator });
    }
    forward(x: Tensor): Tensor {
      let h = x;
      for (const layer of this.hidden) h = layer.forward(h).tanh();
      return this.head.forward(h);
    }
  }

  it("trains with plain gradient steps on every parameter, and the loss falls", () => {
    const generator = new Generator(0);
    const model = new DeepMlp([2, 8, 8, 8], generator);
    expect(model.parameters()).toHaveLength(8);
    const x = randn([64, 2], { generator });
    const y = noGrad(() => x.sum(1, true).mul(0.5));
    const criterion = new MSELoss();
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      model.zeroGrad();
      const loss = criterion.forward(model.forward(x), y);
      loss.backward();
      losses.push(loss.item());
      noGrad(() => {
        for (const p of model.parameters()) p.sub_(p.grad!, 0.1);
      });
    }
    for (const [name, p] of model.namedParameters()) expect(p.grad, name).not.toBeNull();
    expect(losses[59]).toBeLessThan(0.25 * losses[0]);
  });
});
