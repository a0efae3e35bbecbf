import { manualSeed, randn, type Tensor, tensor } from "@koubai/core";
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  Dropout,
  Linear,
  Module,
  ReLU,
  Sequential,
} from "@koubai/layers";
import { exportOnnx, ONNX_IR_VERSION, ONNX_OPSET, OnnxExportError } from "@koubai/onnx";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeModel } from "../src/proto.js";

beforeEach(() => manualSeed(3));

/** A module whose forward is the given function. */
class Lambda extends Module {
  constructor(readonly fn: (...xs: Tensor[]) => Tensor) {
    super();
  }
  forward(...xs: Tensor[]): Tensor {
    return this.fn(...xs);
  }
}

const mlp = () =>
  new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 2));

describe("exportOnnx writes an ONNX model", () => {
  it("with opset 17, IR version 8 and producer koubai", () => {
    const model = decodeModel(exportOnnx(mlp(), randn([3, 4])));
    expect(ONNX_OPSET).toBe(17);
    expect(ONNX_IR_VERSION).toBe(8);
    expect(model.ir_version).toBe(8);
    expect(model.opset_import).toEqual([{ domain: "", version: 17 }]);
    expect(model.producer_name).toBe("koubai");
  });

  it("with Gemm, BatchNormalization and Relu nodes for Linear, BatchNorm1d and ReLU", () => {
    const { graph } = decodeModel(exportOnnx(mlp(), randn([3, 4])));
    expect(graph.node.map((n) => n.op_type)).toEqual([
      "Gemm",
      "BatchNormalization",
      "Relu",
      "Gemm",
    ]);
  });

  it("storing parameters and buffers as initializers under their state-dict names", () => {
    const model = mlp();
    const { graph } = decodeModel(exportOnnx(model, randn([3, 4])));
    const names = graph.initializer.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "3.weight",
        "3.bias",
      ].sort(),
    );
    const weight = graph.initializer.find((t) => t.name === "0.weight")!;
    expect(weight.dims).toEqual([8, 4]);
    expect(weight.data_type).toBe(1);
    const stored = new Float32Array(new Uint8Array(weight.raw_data).buffer);
    expect(Array.from(stored)).toEqual(Array.from(model.at(0).namedParameters()[0][1].toArray()));
  });

  it("naming inputs and outputs as asked, with a symbolic batch dim when dynamicBatch is set", () => {
    const bytes = exportOnnx(mlp(), randn([3, 4]), {
      inputNames: ["features"],
      outputNames: ["scores"],
      dynamicBatch: true,
    });
    const { graph } = decodeModel(bytes);
    expect(graph.input.map((v) => v.name)).toEqual(["features"]);
    expect(graph.output.map((v) => v.name)).toEqual(["scores"]);
    expect(graph.input[0].type.tensor_type.shape.dim).toEqual([
      { dim_param: "batch" },
      { dim_value: 4 },
    ]);
    expect(graph.output[0].type.tensor_type.shape.dim).toEqual([
      { dim_param: "batch" },
      { dim_value: 2 },
    ]);
  });

  it("with the example's fixed sizes without dynamicBatch", () => {
    const { graph } = decodeModel(exportOnnx(mlp(), randn([3, 4])));
    expect(graph.input[0].type.tensor_type.shape.dim).toEqual([{ dim_value: 3 }, { dim_value: 4 }]);
    expect(graph.input.map((v) => v.name)).toEqual(["input0"]);
    expect(graph.output.map((v) => v.name)).toEqual(["output0"]);
  });

  it("float64 modules as DOUBLE inputs, outputs and initializers", () => {
    const { graph } = decodeModel(exportOnnx(mlp().double(), randn([3, 4], { dtype: "float64" })));
    expect(graph.input[0].type.tensor_type.elem_type).toBe(11);
    expect(graph.output[0].type.tensor_type.elem_type).toBe(11);
    expect(new Set(graph.initializer.map((t) => t.data_type))).toEqual(new Set([11]));
  });

  it("an output that is the input itself through an Identity node", () => {
    const { graph } = decodeModel(exportOnnx(new Dropout(0.3), randn([2, 3])));
    expect(graph.node.map((n) => [n.op_type, n.input, n.output])).toEqual([
      ["Identity", ["input0"], ["output0"]],
    ]);
  });

  it("restoring each submodule's training mode and leaving gradients off while tracing", () => {
    const model = mlp();
    model.train();
    model.at(1).eval();
    exportOnnx(model, randn([3, 4]));
    expect(model.modules().map((m) => m.training)).toEqual([true, true, false, true, true]);
    // Eval mode while exporting: the running statistics did not move.
    const bn = model.at(1) as BatchNorm1d;
    expect(bn.runningMean!.toArray().every((v) => v === 0)).toBe(true);
  });
});

describe("exportOnnx skips what computes no value", () => {
  it("requiresGrad_ calls in a forward (a tensor made there, a parameter frozen)", () => {
    const linear = new Linear(3, 2);
    const module = new Lambda((x) => {
      linear.weight!.requiresGrad_(false);
      const y = linear.forward(x).relu();
      linear.weight!.requiresGrad_(true);
      return y;
    });
    const { graph } = decodeModel(exportOnnx(module, randn([2, 3])));
    expect(graph.node.map((n) => n.op_type)).toEqual(["Gemm", "Relu"]);
    expect(linear.weight!.requiresGrad).toBe(true);
  });

  it("a tensor created with requiresGrad: true in a forward (a constant of the graph)", () => {
    const module = new Lambda((x) => x.add(tensor([1, 2, 3], { requiresGrad: true })));
    const { graph } = decodeModel(exportOnnx(module, randn([2, 3])));
    expect(graph.node.map((n) => n.op_type)).toEqual(["Add"]);
    expect(graph.initializer).toHaveLength(1);
  });
});

describe("exportOnnx refuses clearly", () => {
  it("an op without an ONNX mapping, naming it, its input and the supported ops", () => {
    const module = new Lambda((x) => x.cumsum(1));
    expect(() => exportOnnx(module, randn([2, 3]))).toThrow(OnnxExportError);
    expect(() => exportOnnx(module, randn([2, 3]))).toThrow(
      /no ONNX mapping for op "cumsum" \(input float32\[2, 3\]\); supported: .*batchNorm.*linear/,
    );
  });

  it("example inputs that are not tensors", () => {
    expect(() => exportOnnx(mlp(), [3 as unknown as Tensor])).toThrow(
      /example input 0 is number, not a Tensor/,
    );
    expect(() => exportOnnx(mlp(), [])).toThrow(/at least one example input/);
  });

  it("a module that is not a Module", () => {
    expect(() => exportOnnx({ forward: () => 0 } as unknown as Module, randn([1]))).toThrow(
      /expected a Module, got Object/,
    );
  });

  it("options ONNX cannot express: divisorOverride, adaptive pooling to a non-divisor", () => {
    expect(() => exportOnnx(new AvgPool2d(2, { divisorOverride: 3 }), randn([1, 1, 4, 4]))).toThrow(
      /avgPool2d \(input float32\[1, 1, 4, 4\]\): divisorOverride has no ONNX equivalent/,
    );
    expect(() => exportOnnx(new AdaptiveAvgPool2d(3), randn([1, 1, 4, 4]))).toThrow(
      /adaptiveAvgPool2d .*output size \[3, 3\] does not divide the input's \[4, 4\]/,
    );
  });

  it("a forward that reads tensor values, with the tracer's message", () => {
    const module = new Lambda((x) => (x.sum().item() > 0 ? x : x.neg()));
    expect(() => exportOnnx(module, randn([2]))).toThrow(
      /item\(\) reads .* while the function is traced/,
    );
  });
});
