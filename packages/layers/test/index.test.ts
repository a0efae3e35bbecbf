// The public API by package name: build, train and save a tiny network.
import { Generator, randn, tensor } from "@koubai/core";
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
