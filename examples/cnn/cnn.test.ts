import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randn } from "@koubai/core";
import { loadSafetensors } from "@koubai/layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../mnist/data.js";
import { type CnnReport, parseCnnOptions, runCnn } from "./main.js";
import { makeCnn } from "./model.js";
import { trainCnn } from "./train.js";

describe("the CNN", () => {
  it("maps [N, 1, 28, 28] digits to [N, 10] logits with PyTorch's parameter names", () => {
    const model = makeCnn();
    expect(model.forward(randn([2, 1, 28, 28])).shape).toEqual([2, 10]);
    expect(Object.keys(model.stateDict())).toEqual([
      "0.weight",
      "0.bias",
      "1.weight",
      "1.bias",
      "1.running_mean",
      "1.running_var",
      "1.num_batches_tracked",
      "4.weight",
      "4.bias",
      "5.weight",
      "5.bias",
      "5.running_mean",
      "5.running_var",
      "5.num_batches_tracked",
      "9.weight",
      "9.bias",
    ]);
  });
});

describe("the CNN's training step under compile()", () => {
  it("trains to the same losses and accuracy, bit for bit, traced twice and replayed", () => {
    const data = loadMnist({ trainSize: 192, testSize: 64 });
    const eager = trainCnn(data, { batchNorm: true, lr: 0.03, epochs: 1 });
    const compiled = trainCnn(data, { batchNorm: true, lr: 0.03, epochs: 1, compile: true });
    expect(compiled.steps.map((s) => s.loss)).toEqual(eager.steps.map((s) => s.loss));
    expect(compiled.testAccuracy).toBe(eager.testAccuracy);
    // Three batches of 64, one signature: the second, on new input tensors, traced to check them.
    expect(compiled.traces).toBe(2);
    expect(eager.traces).toBeUndefined();
  });
});

describe("CNN example in quick mode", () => {
  let dir: string;
  let report: CnnReport;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "koubai-cnn-"));
    report = await runCnn({ ...parseCnnOptions(["--quick", "--out", dir]), verbose: false });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts near the loss of a uniform guess and lowers it within one epoch of 8 steps", () => {
    const losses = report.result.steps.map((s) => s.loss);
    expect(losses).toHaveLength(8); // 512 samples / batch 64
    expect(losses[0]).toBeGreaterThan(1.8);
    expect(losses[0]).toBeLessThan(3.2);
    expect(Math.min(...losses.slice(4))).toBeLessThan(losses[0]);
    expect(report.result.stepMilliseconds).toBeGreaterThan(0);
  });

  it("writes an ONNX file that ONNX Runtime runs to Koubai's logits on held-out digits", () => {
    expect(report.onnx.file).toBe(join(dir, "cnn.onnx"));
    expect(report.onnx.samples).toBe(256);
    expect(report.onnx.maxAbsDiff).toBeLessThan(1e-4);
  });

  it("writes the weights, the filters, one digit's feature maps, the loss curve and the ONNX model", () => {
    expect(report.files.map((f) => f.slice(dir.length + 1))).toEqual([
      "cnn.safetensors",
      "cnn-filters.svg",
      "cnn-feature-maps.svg",
      "cnn-loss.svg",
      "cnn.onnx",
    ]);
    const weights = loadSafetensors(readFileSync(report.files[0]));
    expect(weights["0.weight"].shape).toEqual([16, 1, 3, 3]);
    const filters = readFileSync(report.files[1], "utf8");
    expect(filters.match(/<text[^>]*>filter \d+<\/text>/g)).toHaveLength(16);
    const maps = readFileSync(report.files[2], "utf8");
    expect(maps.match(/<text[^>]*>map \d+<\/text>/g)).toHaveLength(16);
    expect(maps).toContain("digit (");
    expect(readFileSync(report.files[3], "utf8")).toContain("<svg");
  });
});
