// MNIST with an MLP 784-256-BN-ReLU-256-BN-ReLU-10: train to >= 96% held-out accuracy, then the
// same network with and without BatchNorm at lr 1.0, with SVG plots and safetensors weights.
// Run: npm run example -- mnist [--quick] [--compile] [--epochs N] [--compare-epochs N]
//      [--train N] [--test N] [--out DIR] [--no-compare]

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { saveSafetensors } from "@koubai/layers";
import { isMain } from "../shared/is-main.js";
import { type OnnxCheck, onnxLine, writeAndCheckOnnx } from "../shared/onnx.js";
import { shownPath, userPath } from "../shared/user-path.js";
import { loadMnist } from "./data.js";
import { lossCurvesSpec, preActivationSpec, renderSvg } from "./plot.js";
import { drawProgress, type ProgressState } from "./progress.js";
import { type TrainResult, train } from "./train.js";

export interface MnistOptions {
  trainSize: number;
  testSize: number;
  epochs: number;
  compareEpochs: number;
  compare: boolean;
  outDir: string;
  /** Train the main network with its step under compile(). */
  compile: boolean;
  /** Print progress and results (off in tests). */
  verbose: boolean;
}

export interface MnistReport {
  main: TrainResult;
  withBatchNorm?: TrainResult;
  withoutBatchNorm?: TrainResult;
  files: string[];
  /** The exported model, and ONNX Runtime's agreement with Koubai on held-out digits. */
  onnx: OnnxCheck;
}

export const TARGET_ACCURACY = 0.96;

export function parseOptions(argv: readonly string[]): MnistOptions {
  const { values } = parseArgs({
    // A runner may pass a "--" separator through to the script; it is not an option.
    args: argv.filter((a) => a !== "--"),
    options: {
      quick: { type: "boolean", default: false },
      compile: { type: "boolean", default: false },
      epochs: { type: "string" },
      "compare-epochs": { type: "string" },
      train: { type: "string" },
      test: { type: "string" },
      out: { type: "string" },
      "no-compare": { type: "boolean", default: false },
    },
  });
  const quick = values.quick ?? false;
  const int = (v: string | undefined, fallback: number) =>
    v === undefined ? fallback : Number.parseInt(v, 10);
  return {
    trainSize: int(values.train, quick ? 512 : 8000),
    testSize: int(values.test, quick ? 256 : 2000),
    epochs: int(values.epochs, quick ? 1 : 8),
    compareEpochs: int(values["compare-epochs"], quick ? 1 : 4),
    compare: !(values["no-compare"] ?? false),
    outDir:
      values.out === undefined ? join(import.meta.dirname, "..", "out") : userPath(values.out),
    compile: values.compile ?? false,
    verbose: true,
  };
}

function percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export async function runMnist(options: MnistOptions): Promise<MnistReport> {
  const log = options.verbose ? (line = "") => console.log(line) : () => {};
  const progress = options.verbose
    ? (s: ProgressState, final: boolean) => drawProgress(s, final)
    : undefined;
  const data = loadMnist({ trainSize: options.trainSize, testSize: options.testSize });
  log(
    `MNIST (the mnist npm package): ${options.trainSize} training / ${options.testSize} held-out digits, fixed split.`,
  );
  log(
    "MLP 784-256-BN-ReLU-256-BN-ReLU-10, SGD momentum 0.9, lr 0.1 with cosine annealing, batch 128" +
      `${options.compile ? "; the training step runs under compile()" : ""}.\n`,
  );

  const main = train(data, {
    batchNorm: true,
    lr: 0.1,
    epochs: options.epochs,
    compile: options.compile,
    onProgress: progress,
  });
  const hit = main.testAccuracy >= TARGET_ACCURACY;
  log(
    `\nHeld-out accuracy ${percent(main.testAccuracy)} after ${options.epochs} epochs in ${main.seconds.toFixed(1)} s ` +
      `(${Math.round(main.samplesPerSecond)} samples/s) ${hit ? "- target 96% reached" : "- below the 96% target"}.`,
  );
  if (main.traces !== undefined) {
    log(
      `compile(): the step was traced ${main.traces} times (each batch shape, once more on the next batch to check new input tensors, and again after every evaluation's eval()/train()), replayed for every other step.`,
    );
  }
  mkdirSync(options.outDir, { recursive: true });
  const weightsFile = join(options.outDir, "mnist-mlp-bn.safetensors");
  writeFileSync(
    weightsFile,
    saveSafetensors(main.model.stateDict(), { heldOutAccuracy: main.testAccuracy.toFixed(4) }),
  );
  const onnx = await writeAndCheckOnnx(
    main.model,
    join(options.outDir, "mnist-mlp-bn.onnx"),
    data.test.images.narrow(0, 0, Math.min(500, options.testSize)),
    { input: "pixels", output: "logits" },
  );
  log(onnxLine(onnx));
  const files = [weightsFile, onnx.file];
  const report: MnistReport = { main, files, onnx };
  if (!options.compare) return report;

  log(`\nSame network at lr 1.0, ${options.compareEpochs} epoch(s), with and without BatchNorm:`);
  log("with BatchNorm:");
  report.withBatchNorm = train(data, {
    batchNorm: true,
    lr: 1.0,
    epochs: options.compareEpochs,
    onProgress: progress,
  });
  log("without BatchNorm:");
  report.withoutBatchNorm = train(data, {
    batchNorm: false,
    lr: 1.0,
    epochs: options.compareEpochs,
    onProgress: progress,
  });
  const diverged = report.withoutBatchNorm.steps.some((s) => !Number.isFinite(s.loss));
  log(
    `\nlr 1.0: with BatchNorm ${percent(report.withBatchNorm.testAccuracy)}, without ${percent(report.withoutBatchNorm.testAccuracy)}` +
      `${diverged ? " (its loss became non-finite: diverged)" : ""}.`,
  );
  const series = [
    { name: "with BatchNorm", steps: report.withBatchNorm.steps },
    { name: "without BatchNorm", steps: report.withoutBatchNorm.steps },
  ];
  const plots: [string, Promise<string>][] = [
    [
      "mnist-loss-lr1.svg",
      renderSvg(lossCurvesSpec(series, "MNIST MLP, SGD lr 1.0: training loss")),
    ],
    [
      "mnist-preactivations-lr1.svg",
      renderSvg(
        preActivationSpec(
          series,
          "Second hidden layer, input to ReLU: mean ± std per step (lr 1.0)",
        ),
      ),
    ],
  ];
  for (const [name, svg] of plots) {
    const file = join(options.outDir, name);
    writeFileSync(file, await svg);
    files.push(file);
  }
  log(`\nWrote ${files.map(shownPath).join(", ")}`);
  return report;
}

if (isMain(import.meta.url)) {
  const report = await runMnist(parseOptions(process.argv.slice(2)));
  if (!Number.isFinite(report.main.testAccuracy)) process.exitCode = 1;
}
