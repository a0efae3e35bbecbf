import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSafetensors } from "@koubai/layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "./data.js";
import { type MnistReport, parseOptions, runMnist } from "./main.js";
import { formatProgress } from "./progress.js";
import { train } from "./train.js";

describe("MNIST data", () => {
  it("splits all 10,000 digits of the package into train and test sets, each digit used once", () => {
    const { train, test } = loadMnist({ trainSize: 8000, testSize: 2000 });
    expect(train.images.shape).toEqual([8000, 784]);
    expect(test.images.shape).toEqual([2000, 784]);
    const counts = new Array(10).fill(0);
    for (const label of [...train.labels.toArray(), ...test.labels.toArray()]) counts[label]++;
    // The package's per-class counts (raw JSON length / 784), e.g. 1,127 ones and 863 fives.
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const pixels = train.images.toArray();
    expect(Math.min(...pixels.slice(0, 784))).toBe(0);
    expect(pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe("the MLP's training step under compile()", () => {
  it("trains to the same losses and probe statistics, bit for bit, traced per batch shape and once to check new inputs", () => {
    const data = loadMnist({ trainSize: 300, testSize: 64 });
    const options = { batchNorm: true, lr: 0.1, epochs: 1 };
    const eager = train(data, options);
    const compiled = train(data, { ...options, compile: true });
    expect(compiled.steps).toEqual(eager.steps);
    expect(compiled.testAccuracy).toBe(eager.testAccuracy);
    // Batches of 128 (traced), 128 (new input tensors: traced again to check them) and 44.
    expect(compiled.traces).toBe(3);
  });
});

describe("MNIST example in quick mode", () => {
  let dir: string;
  let report: MnistReport;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "koubai-mnist-"));
    report = await runMnist({ ...parseOptions(["--quick", "--out", dir]), verbose: false });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts near the loss of a uniform guess, ln 10 ≈ 2.303, and learns well above chance", () => {
    expect(report.main.steps).toHaveLength(4); // 512 samples / batch 128
    expect(report.main.steps[0].loss).toBeGreaterThan(2.0);
    expect(report.main.steps[0].loss).toBeLessThan(2.6);
    expect(report.main.steps[3].loss).toBeLessThan(report.main.steps[0].loss);
    expect(report.main.testAccuracy).toBeGreaterThan(0.5);
  });

  it("probes BatchNorm's output before the ReLU: mean 0 and std 1 at the first step (γ = 1, β = 0)", () => {
    const first = report.withBatchNorm!.steps[0];
    expect(Math.abs(first.preMean)).toBeLessThan(1e-5);
    expect(first.preStd).toBeCloseTo(1, 3);
  });

  it("writes an ONNX file that ONNX Runtime runs to Koubai's logits on held-out digits", () => {
    expect(report.onnx.file).toBe(join(dir, "mnist-mlp-bn.onnx"));
    expect(report.onnx.samples).toBe(256);
    expect(report.onnx.maxAbsDiff).toBeLessThan(1e-4);
    expect(report.files).toContain(report.onnx.file);
  });

  it("saves the trained weights as safetensors under PyTorch's state-dict names", () => {
    const loaded = loadSafetensors(
      new Uint8Array(readFileSync(join(dir, "mnist-mlp-bn.safetensors"))),
    );
    const state = report.main.model.stateDict();
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(state).sort());
    expect(loaded["0.weight"].shape).toEqual([256, 784]);
    expect(loaded["1.running_var"].shape).toEqual([256]);
    expect(Array.from(loaded["6.bias"].toArray())).toEqual(Array.from(state["6.bias"].toArray()));
  });

  it("plots both lr 1.0 runs to SVG", () => {
    for (const name of ["mnist-loss-lr1.svg", "mnist-preactivations-lr1.svg"]) {
      const svg = readFileSync(join(dir, name), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("without BatchNorm");
      expect(svg).toContain("with BatchNorm");
    }
  });
});

describe("progress line", () => {
  it("shows epoch, bar, samples, loss, accuracy and throughput", () => {
    const line = formatProgress(
      {
        epoch: 2,
        epochs: 8,
        done: 64,
        total: 128,
        loss: 0.12345,
        accuracy: 0.5,
        samplesPerSecond: 999.6,
      },
      4,
    );
    expect(line).toBe("epoch  2/8 ██░░    64/128  loss 0.1235  acc  50.0%  1000 samples/s");
  });
});
