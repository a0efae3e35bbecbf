// The public API by package name: build, train and save a tiny network.
import { Generator, randn, tensor } from "@koubai/core";
import * as layers from "@koubai/layers";
import {
  BatchNorm1d,
  CrossEntropyLoss,
  init,
  Linear,
  loadSafetensors,
  ReLU,
  Sequential,
  saveSafetensors,
} from "@koubai/layers";
import { describe, expect, it } from "vitest";

describe("@koubai/layers public API", () => {
  it("trains a tiny classifier (loss decreases) and round-trips its weights", () => {
    const generator = new Generator(0);
    const model = new Sequential(
      new Linear(2, 16, { generator }),
      new BatchNorm1d(16, { fused: true }),
      new ReLU(),
      new Linear(16, 2, { generator }),
    );
    init.zeros((model.at(3) as Linear).bias!);
    const x = randn([32, 2], { generator });
    const y = tensor(
      Array.from(x.toArray())
        .filter((_, i) => i % 2 === 0)
        .map((v, i) => (v + x.toArray()[2 * i + 1] > 0 ? 1 : 0)),
      { dtype: "int32" },
    );
    const loss = new CrossEntropyLoss();
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      model.zeroGrad();
      const l = loss.forward(model.forward(x), y);
      l.backward();
      losses.push(l.item());
      for (const p of model.parameters()) p.detach().sub_(p.grad!, 0.2);
    }
    expect(losses[29]).toBeLessThan(0.5 * losses[0]);
    const copy = new Sequential(
      new Linear(2, 16),
      new BatchNorm1d(16),
      new ReLU(),
      new Linear(16, 2),
    );
    copy.loadStateDict(loadSafetensors(saveSafetensors(model.stateDict())));
    model.eval();
    copy.eval();
    expect(Array.from(copy.forward(x).toArray())).toEqual(Array.from(model.forward(x).toArray()));
  });
});

// Every exported layer class, keyed by export name, with valid minimal arguments. A new layer
// must be added here (the first test fails until it is), so its static typeName is checked too.
const construct: Record<string, () => layers.Module> = {
  AdaptiveAvgPool1d: () => new layers.AdaptiveAvgPool1d(1),
  AdaptiveAvgPool2d: () => new layers.AdaptiveAvgPool2d(1),
  AvgPool1d: () => new layers.AvgPool1d(1),
  AvgPool2d: () => new layers.AvgPool2d(1),
  BatchNorm1d: () => new layers.BatchNorm1d(1),
  BatchNorm2d: () => new layers.BatchNorm2d(1),
  BCEWithLogitsLoss: () => new layers.BCEWithLogitsLoss(),
  Conv1d: () => new layers.Conv1d(1, 1, 1),
  Conv2d: () => new layers.Conv2d(1, 1, 1),
  ConvTranspose1d: () => new layers.ConvTranspose1d(1, 1, 1),
  ConvTranspose2d: () => new layers.ConvTranspose2d(1, 1, 1),
  CrossEntropyLoss: () => new layers.CrossEntropyLoss(),
  Dropout: () => new layers.Dropout(),
  ELU: () => new layers.ELU(),
  Hardtanh: () => new layers.Hardtanh(),
  Mish: () => new layers.Mish(),
  SELU: () => new layers.SELU(),
  SiLU: () => new layers.SiLU(),
  Softplus: () => new layers.Softplus(),
  Embedding: () => new layers.Embedding(1, 1),
  Flatten: () => new layers.Flatten(),
  FusedBatchNorm1d: () => new layers.FusedBatchNorm1d(1),
  FusedBatchNorm2d: () => new layers.FusedBatchNorm2d(1),
  GELU: () => new layers.GELU(),
  GroupNorm: () => new layers.GroupNorm(1, 1),
  Identity: () => new layers.Identity(),
  L1Loss: () => new layers.L1Loss(),
  LayerNorm: () => new layers.LayerNorm(1),
  LeakyReLU: () => new layers.LeakyReLU(),
  Linear: () => new layers.Linear(1, 1),
  LogSoftmax: () => new layers.LogSoftmax(1),
  MaxPool1d: () => new layers.MaxPool1d(1),
  MaxPool2d: () => new layers.MaxPool2d(1),
  ModuleDict: () => new layers.ModuleDict(),
  ModuleList: () => new layers.ModuleList(),
  MSELoss: () => new layers.MSELoss(),
  NLLLoss: () => new layers.NLLLoss(),
  ReLU: () => new layers.ReLU(),
  Sequential: () => new layers.Sequential(),
  Sigmoid: () => new layers.Sigmoid(),
  Softmax: () => new layers.Softmax(1),
  Tanh: () => new layers.Tanh(),
  Upsample: () => new layers.Upsample({ scaleFactor: 2 }),
};
// Abstract bases declare no typeName, so a user's direct subclass reports its own class name.
const abstractBases: unknown[] = [layers.Module, layers.BatchNormBase, layers.ConvBase];
const exportedLayers = Object.entries(layers).filter(
  ([, value]) =>
    typeof value === "function" &&
    value.prototype instanceof layers.Module &&
    !abstractBases.includes(value),
) as [string, typeof layers.Module & { typeName?: unknown }][];

describe("typeName of the exported layers", () => {
  it("has a constructor for every exported Module subclass", () => {
    expect(exportedLayers.map(([name]) => name).sort()).toEqual(Object.keys(construct).sort());
  });

  it.each(exportedLayers)(
    "%s declares its own static typeName equal to its class name",
    (name, X) => {
      expect(Object.hasOwn(X, "typeName")).toBe(true);
      expect(X.typeName).toBe(name);
      const layer = construct[name]();
      expect(layer.constructor).toBe(X);
      expect(layer.typeName()).toBe(X.name);
    },
  );

  it("leaves typeName undeclared on the abstract bases Module, BatchNormBase and ConvBase", () => {
    for (const base of abstractBases) expect(Object.hasOwn(base as object, "typeName")).toBe(false);
  });
});
