import {
  compile,
  graphListing,
  manualSeed,
  noGrad,
  ones,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "@koubai/core";
import { describe, expect, it } from "vitest";
import { Identity, ReLU } from "../src/activation.js";
import { BatchNorm1d } from "../src/batch-norm.js";
import { Linear } from "../src/linear.js";
import { Module } from "../src/module.js";
import { Parameter } from "../src/parameter.js";
import { Sequential } from "../src/sequential.js";

class Net extends Module {
  scale = new Parameter(ones([1]));
  layers = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU());
  head = new Linear(4, 2, { bias: false });
  cache: Tensor | null = zeros([2]);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.layers.forward(x)).mul(this.scale);
  }
}

describe("Module discovery", () => {
  it("names parameters by dotted path, own first, in declaration order", () => {
    expect(new Net().namedParameters().map(([n]) => n)).toEqual([
      "scale",
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.weight",
      "layers.1.bias",
      "head.weight",
    ]);
  });

  it("lists children, modules and buffers; plain tensors are not buffers", () => {
    const net = new Net();
    expect(net.namedChildren().map(([n]) => n)).toEqual(["layers", "head"]);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      "",
      "layers",
      "layers.0",
      "layers.1",
      "layers.2",
      "head",
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual([
      "layers.1.runningMean",
      "layers.1.runningVar",
      "layers.1.numBatchesTracked",
    ]);
    expect(net.parameters()).toHaveLength(6);
    expect(net.children()[1]).toBe(net.head);
  });

  it("counts a shared parameter once", () => {
    const shared = new Linear(2, 2);
    const twice = new Sequential(shared, shared);
    expect(twice.parameters()).toHaveLength(2);
  });

  it("registers parameters, buffers and modules explicitly, and validates them", () => {
    const m = new Sequential();
    m.registerParameter("w", new Parameter(ones([2])));
    m.registerBuffer("stat", zeros([2]));
    m.registerBuffer("scratch", zeros([1]), { persistent: false });
    m.registerModule("inner", new ReLU());
    expect(m.namedParameters().map(([n]) => n)).toEqual(["w"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["stat", "scratch"]);
    expect(Object.keys(m.stateDict())).toEqual(["w", "stat"]);
    expect(() => m.registerParameter("x", zeros([1]) as Parameter)).toThrow(
      /must be a Parameter or null/,
    );
    expect(() => m.registerBuffer("a.b", zeros([1]))).toThrow(/without "."/);
    expect(() => m.registerModule("forward", new ReLU())).toThrow(/already a method/);
    (m as unknown as Record<string, unknown>).w = zeros([2]);
    expect(() => m.parameters()).toThrow(/parameter "w" holds a plain Tensor/);
  });
});

describe("Module modes, gradients and dtype", () => {
  it("sets training recursively with train() and eval()", () => {
    const net = new Net().eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
  });

  it("zeroGrad sets gradients to null, or to zeros with setToNone false", () => {
    const fc = new Linear(3, 2);
    fc.forward(randn([4, 3]))
      .sum()
      .backward();
    const grad = fc.weight.grad;
    fc.zeroGrad({ setToNone: false });
    expect(Array.from(fc.weight.grad!.toArray())).toEqual(new Array(6).fill(0));
    expect(fc.weight.grad).toBe(grad); // zeroed in place, as PyTorch does
    fc.zeroGrad();
    expect(fc.weight.grad).toBeNull();
  });

  it("zeroGrad with setToNone false detaches a gradient that carries a graph", () => {
    const fc = new Linear(3, 2);
    fc.forward(randn([4, 3]))
      .square()
      .sum()
      .backward({ createGraph: true });
    expect(fc.weight.grad!.gradFn).not.toBeNull();
    fc.zeroGrad({ setToNone: false });
    expect(fc.weight.grad!.gradFn).toBeNull();
    expect(Array.from(fc.weight.grad!.toArray())).toEqual(new Array(6).fill(0));
  });

  it("to(float64) casts float parameters and buffers and keeps int32 counters", () => {
    const net = new Net().double();
    expect(
      net
        .parameters()
        .every((p) => p.dtype === "float64" && p instanceof Parameter && p.requiresGrad),
    ).toBe(true);
    const bn = net.layers.at(1) as BatchNorm1d;
    expect(bn.runningMean!.dtype).toBe("float64");
    expect(bn.numBatchesTracked!.dtype).toBe("int32");
    expect(net.forward(randn([5, 3], { dtype: "float64" })).dtype).toBe("float64");
  });

  it("to(float64) keeps a weight tied between two layers tied", () => {
    const a = new Linear(2, 2);
    const b = new Linear(2, 2);
    b.weight = a.weight;
    const net = new Sequential(a, b).double();
    expect(b.weight).toBe(a.weight);
    expect(net.parameters()).toHaveLength(3);
    expect(a.weight.dtype).toBe("float64");
  });
});

describe("stateDict and loadStateDict", () => {
  it("uses PyTorch's snake_case keys in insertion order", () => {
    expect(Object.keys(new Sequential(new Linear(2, 3), new BatchNorm1d(3)).stateDict())).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
    ]);
  });

  it("copies values in place, keeping the parameter objects", () => {
    const a = new Linear(2, 2);
    const b = new Linear(2, 2);
    const weight = b.weight;
    b.loadStateDict(a.stateDict());
    expect(b.weight).toBe(weight);
    expect(Array.from(b.weight.toArray())).toEqual(Array.from(a.weight.toArray()));
  });

  it("reports missing, unexpected and mismatched keys together and changes nothing", () => {
    const fc = new Linear(2, 2);
    const before = Array.from(fc.weight.toArray());
    const state = { weight: zeros([2, 3]), extra: zeros([1]) };
    expect(() => fc.loadStateDict(state)).toThrow(
      /nothing was loaded[\s\S]*missing keys: bias[\s\S]*unexpected keys: extra[\s\S]*"weight" is float32 \[2, 3\] but the module expects float32 \[2, 2\]/,
    );
    expect(() =>
      fc.loadStateDict({ weight: zeros([2, 2], { dtype: "float64" }), bias: zeros([2]) }),
    ).toThrow(/"weight" is float64 \[2, 2\] but the module expects float32 \[2, 2\]/);
    expect(Array.from(fc.weight.toArray())).toEqual(before);
  });

  it("loads the module's own weight transposed, reading it as it was before the load", () => {
    const fc = new Linear(3, 3);
    const before = fc.weight.tolist() as number[][];
    fc.loadStateDict({ weight: fc.weight.detach().t(), bias: fc.bias!.detach() });
    expect(fc.weight.tolist()).toEqual(before[0].map((_, j) => before.map((row) => row[j])));
  });

  it("swaps weights between two layers of one model without reading a half-written value", () => {
    const net = new Sequential(new Linear(2, 2), new Linear(2, 2));
    const [first, second] = [
      net.stateDict()["0.weight"].clone(),
      net.stateDict()["1.weight"].clone(),
    ];
    const state = net.stateDict();
    net.loadStateDict({ ...state, "0.weight": state["1.weight"], "1.weight": state["0.weight"] });
    expect(net.stateDict()["0.weight"].tolist()).toEqual(second.tolist());
    expect(net.stateDict()["1.weight"].tolist()).toEqual(first.tolist());
  });

  it("only reports missing and unexpected keys when strict is false", () => {
    const fc = new Linear(2, 2);
    const result = fc.loadStateDict({ weight: ones([2, 2]), other: tensor(1) }, { strict: false });
    expect(result).toEqual({ missingKeys: ["bias"], unexpectedKeys: ["other"] });
    expect(Array.from(fc.weight.toArray())).toEqual([1, 1, 1, 1]);
  });
});

describe("Module.typeName", () => {
  it("names a built-in layer after minification renamed its class (the static typeName is kept)", () => {
    // What a minifier does to BatchNorm1d: same class body, another constructor name.
    class Yr extends BatchNorm1d {}
    expect(Yr.name).toBe("Yr");
    expect(new Yr(2).typeName()).toBe("BatchNorm1d");
    expect(() => new Yr(0)).toThrow("BatchNorm1d: numFeatures must be a positive integer, got 0");
    expect(() => new Yr(2).forward(zeros([2, 2, 2, 2]))).toThrow(
      "BatchNorm1d: expected a 2-D [N, C] or 3-D [N, C, L] input, got shape [2, 2, 2, 2]",
    );
    expect(() => new Yr(2).to("int32")).toThrow(
      "BatchNorm1d.to: dtype must be float32 or float64, got int32",
    );
  });

  it("reports a user subclass's own class name when it declares no static typeName", () => {
    class MyBlock extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(new MyBlock().typeName()).toBe("MyBlock");
    expect(() => new MyBlock().registerModule("child", {} as Module)).toThrow(
      'MyBlock.registerModule: "child" must be a Module',
    );
  });

  it("prefers a subclass's own static typeName over the inherited one", () => {
    class Qz extends BatchNorm1d {
      static override readonly typeName: string = "MyNorm";
    }
    expect(new Qz(2).typeName()).toBe("MyNorm");
    expect(() => new Qz(2).forward(zeros([2, 3]))).toThrow(
      "MyNorm(2): input of shape [2, 3] has 3 channels in dim 1, expected 2",
    );
  });
});

describe("Module's protected child facility for containers", () => {
  // A minimal container that opens the protected methods to the test.
  class Slots extends Module {
    static readonly typeName: string = "Slots";
    put(name: string, module: unknown): void {
      this.setChild(name, module as Module, "put");
    }
    check(name: string, module: unknown): void {
      this.checkChild(name, module, "put");
    }
    take(name: string): Module {
      return this.deleteChild(name);
    }
    peek(name: string): Module | undefined {
      return this.getChild(name);
    }
    forward(x: Tensor): Tensor {
      return x;
    }
  }

  it("replaces a child in place and removes one, keeping the others' names and order", () => {
    const m = new Slots();
    const [a, b, c] = [new Linear(1, 1), new ReLU(), new Linear(1, 2)];
    m.put("a", a);
    m.put("b", b);
    m.put("c", c);
    const replacement = new Linear(1, 3);
    m.put("a", replacement);
    expect(m.namedChildren()).toEqual([
      ["a", replacement],
      ["b", b],
      ["c", c],
    ]);
    expect(m.take("b")).toBe(b);
    expect(m.namedChildren().map(([n]) => n)).toEqual(["a", "c"]);
    expect(Object.keys(m.stateDict())).toEqual(["a.weight", "a.bias", "c.weight", "c.bias"]);
    expect(m.peek("b")).toBeUndefined();
    expect(m.peek("c")).toBe(c);
  });

  it("names the container's method and what was given in its errors", () => {
    const m = new Slots();
    expect(() => m.put("x", 3)).toThrow(
      new TypeError('Slots.put: "x" must be a Module, got number 3'),
    );
    expect(() => m.put("x", zeros([1]))).toThrow('Slots.put: "x" must be a Module, got a Tensor');
    expect(() => m.check("a.b", new ReLU())).toThrow(
      'Slots.put: name must be a non-empty string without ".", got "a.b"',
    );
    expect(() => m.check("forward", new ReLU())).toThrow(
      'Slots.put: "forward" is already a method or property of the module',
    );
    expect(() => m.take("missing")).toThrow('Slots.deleteChild: no child module named "missing"');
    expect(m.children()).toEqual([]);
  });

  it("registerModule reports what it was given instead of a Module", () => {
    expect(() => new Sequential().registerModule("x", null as unknown as Module)).toThrow(
      'Sequential.registerModule: "x" must be a Module, got null',
    );
  });
});

describe("parameter names for graph output", () => {
  it("names each parameter by its path when the model lists them, keeping names the user set", () => {
    const model = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    const custom = model.parameters()[3];
    custom.name = "head bias";
    model.parameters();
    expect(model.parameters().map((p) => p.name)).toEqual([
      "0.weight",
      "0.bias",
      "2.weight",
      "head bias",
    ]);
    const loss = model.forward(randn([4, 2])).sum();
    expect(graphListing(loss).split("\n").slice(0, 2)).toEqual([
      "0.weight = parameter [3, 2] float32",
      "0.bias = parameter [3] float32",
    ]);
  });

  it("takes the path from the latest root that listed them", () => {
    const inner = new Sequential(new Linear(2, 2));
    const outer = new Sequential(new Identity(), inner);
    inner.parameters();
    expect(inner.parameters()[0].name).toBe("0.weight");
    outer.parameters();
    expect(inner.parameters()[0].name).toBe("0.weight");
    expect(outer.namedParameters()[0][1].name).toBe("1.0.weight");
  });
});

describe("compiled functions and train()/eval()", () => {
  it("retrace after a mode change, so BatchNorm switches to its running statistics", () => {
    const net = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
    const f = compile((x: Tensor) => net.forward(x));
    const x = randn([8, 4]);
    f(x);
    f(x);
    net.eval();
    const evalOut = f(x);
    expect(f.traces).toBe(2);
    expect(evalOut.tolist()).toEqual(noGrad(() => net.forward(x)).tolist());
    net.eval(); // no change: no retrace
    f(x);
    expect(f.traces).toBe(2);
  });

  it("update BatchNorm's running statistics and batch count exactly as eager calls", () => {
    manualSeed(4);
    const eager = new BatchNorm1d(5);
    const compiled = new BatchNorm1d(5);
    const f = compile((x: Tensor) => compiled.forward(x));
    for (let i = 0; i < 3; i++) {
      const x = randn([6, 5]).mul(i + 1);
      expect(f(x).tolist()).toEqual(eager.forward(x).tolist());
    }
    expect(compiled.runningMean!.tolist()).toEqual(eager.runningMean!.tolist());
    expect(compiled.runningVar!.tolist()).toEqual(eager.runningVar!.tolist());
    expect(compiled.numBatchesTracked!.item()).toBe(3);
  });

  it("replay the fused BatchNorm (a custom op with a hand-written backward) as eager calls run it", () => {
    manualSeed(6);
    const layers = [new BatchNorm1d(4, { fused: true }), new BatchNorm1d(4, { fused: true })];
    const step = (bn: BatchNorm1d) => (x: Tensor) => {
      bn.zeroGrad();
      const y = bn.forward(x);
      y.square().sum().backward();
      return bn.weight!.grad!;
    };
    const f = compile(step(layers[1]));
    for (let i = 0; i < 4; i++) {
      const x = randn([8, 4]).add(i);
      expect(f(x).tolist()).toEqual(step(layers[0])(x).tolist());
    }
    expect(f.replays).toBe(2); // the second call, on a new input tensor, traced to check it
    expect(layers[1].runningMean!.tolist()).toEqual(layers[0].runningMean!.tolist());
    expect(layers[1].runningVar!.tolist()).toEqual(layers[0].runningVar!.tolist());
  });
});
