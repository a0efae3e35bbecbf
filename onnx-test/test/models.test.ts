// Whole models exported and run in ONNX Runtime: the MNIST example's MLP and the CNN example's
// network (their own builders), a user-defined layer made of core ops, containers, several inputs
// and outputs, and float64.

import {
  addcmul,
  cat,
  manualSeed,
  maximum,
  minimum,
  randn,
  type Tensor,
  tensor,
  where,
} from "@koubai/core";
import {
  BatchNorm1d,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  Parameter,
  ReLU,
  Sequential,
} from "@koubai/layers";
import { beforeEach, describe, expect, it } from "vitest";
import { makeCnn } from "../../examples/cnn/model.js";
import { buildMlp } from "../../examples/mnist/model.js";
import { expectSameInOnnxRuntime, warmUp } from "./helpers/check.js";

beforeEach(() => manualSeed(11));

/** A layer of its own: a scaled residual of an RMS-normalised input, gated and concatenated. */
class GatedResidual extends Module {
  readonly proj = new Linear(6, 6);
  readonly scale = new Parameter(randn([6]));

  forward(x: Tensor): Tensor {
    const rms = x.square().mean(-1, true).add(1e-6).rsqrt();
    const h = this.proj.forward(x.mul(rms).mul(this.scale).addcmul(x, rms, 0.5));
    const gate = h.sigmoid();
    const spread = x.var(-1, { keepdim: true }).sqrt();
    const mixed = where(h.gt(0), addcmul(h, h, gate), maximum(h, x.neg()).div(spread.add(1)));
    return cat([mixed.permute([0, 2, 1]).exp().log1p(), x.transpose(1, 2).clamp(-1, 1)], 1);
  }
}

/** Reductions, comparisons, broadcasting, expm1 and a constant index: ops the layers do not use. */
class Scores extends Module {
  readonly picked = tensor([0, 2, 4, 5], { dtype: "int32" });

  forward(x: Tensor): Tensor {
    const lse = x.logsumexp(-1, true);
    const lo = x.amin(1, true).expand(x.shape[0], 4, 6);
    const hi = x.amax(1, true);
    const flags = x.eq(hi).ne(x.gt(0));
    const p = x.abs().add(1).pow(lse.sigmoid());
    const m = where(flags, minimum(p, x.sub(lse).add(lo)), p.sqrt().expm1());
    const s = m
      .sum(1)
      .unsqueeze(1)
      .squeeze(1)
      .mul(x.mean([1, 2]).unsqueeze(1));
    return s.indexSelect(1, this.picked).softmax(-1);
  }
}

describe("whole models run in ONNX Runtime as in Koubai", () => {
  it("the MNIST example's MLP (784-256-BN-ReLU-256-BN-ReLU-10), batch 3 exported, 7 run", async () => {
    const { model } = buildMlp(true);
    warmUp(model, () => randn([16, 784]));
    await expectSameInOnnxRuntime(model, randn([3, 784]), randn([7, 784]), {
      dynamicBatch: true,
      inputNames: ["pixels"],
      outputNames: ["logits"],
    });
  });

  it("the CNN example's network (Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear)", async () => {
    const model = makeCnn();
    warmUp(model, () => randn([4, 1, 28, 28]));
    await expectSameInOnnxRuntime(model, randn([2, 1, 28, 28]), randn([5, 1, 28, 28]), {
      dynamicBatch: true,
    });
  });

  it("a user-defined layer whose forward calls several core ops", async () => {
    const module = new GatedResidual();
    await expectSameInOnnxRuntime(module, randn([3, 4, 6]), randn([5, 4, 6]), {
      dynamicBatch: true,
    });
  });

  it("a user-defined layer of reductions, comparisons, broadcasting and a constant index", async () => {
    await expectSameInOnnxRuntime(new Scores(), randn([3, 4, 6]), randn([5, 4, 6]), {
      dynamicBatch: true,
    });
  });

  it("modules held in a ModuleList and a ModuleDict, with two inputs and two outputs", async () => {
    class TwoHeads extends Module {
      readonly blocks = new ModuleList([new Linear(5, 8), new BatchNorm1d(8), new ReLU()]);
      readonly heads = new ModuleDict({ a: new Linear(8, 2), b: new Linear(8 + 3, 4) });
      forward(x: Tensor, y: Tensor): Tensor {
        let h = x;
        for (const block of this.blocks) h = block.forward(h);
        const a = this.heads.get("a")!.forward(h);
        const b = this.heads.get("b")!.forward(cat([h, y], 1));
        return [a, b] as unknown as Tensor;
      }
    }
    const module = new TwoHeads();
    const inputs = (n: number) => [randn([n, 5]), randn([n, 3])];
    warmUp(module, () => inputs(6));
    await expectSameInOnnxRuntime(module, inputs(3), inputs(5), { dynamicBatch: true });
  });

  it("a float64 model is exported as DOUBLE and matches to float64 precision", async () => {
    const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3)).double();
    const x = randn([3, 4], { dtype: "float64" });
    await expectSameInOnnxRuntime(model, x, x, {}, { rtol: 1e-12, atol: 1e-12 });
  });

  it("without dynamicBatch, the file keeps the example's batch size", async () => {
    const model = new Sequential(new Linear(4, 2));
    const bytes = await expectSameInOnnxRuntime(model, randn([3, 4]));
    const { runOnnx } = await import("../src/index.js");
    await expect(runOnnx(bytes, [randn([5, 4])])).rejects.toThrow(/dimension|Got: 5/i);
  });
});
