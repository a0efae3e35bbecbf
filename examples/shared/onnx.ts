// Writes a trained model as ONNX next to its safetensors weights and runs the file in ONNX
// Runtime on held-out data, so an example shows the exported model computes what Koubai does.

import { writeFileSync } from "node:fs";
import type { Tensor } from "@koubai/core";
import type { Module } from "@koubai/layers";
import { exportOnnx } from "@koubai/onnx";
import { compareWithOnnxRuntime } from "@koubai/onnx-test";
import { shownPath } from "./user-path.js";

export interface OnnxCheck {
  file: string;
  /** The largest |Koubai − ONNX Runtime| over the logits of `check`. */
  maxAbsDiff: number;
  /** How many samples ONNX Runtime ran. */
  samples: number;
}

/**
 * Exports `model` (eval mode, a batch dim of any size) to `file`, with input and output names,
 * then compares ONNX Runtime's logits with Koubai's on `check`.
 */
export async function writeAndCheckOnnx(
  model: Module,
  file: string,
  check: Tensor,
  names: { input: string; output: string },
): Promise<OnnxCheck> {
  const bytes = exportOnnx(model, [check.narrow(0, 0, 1)], {
    inputNames: [names.input],
    outputNames: [names.output],
    dynamicBatch: true,
  });
  writeFileSync(file, bytes);
  const { maxAbsDiff } = await compareWithOnnxRuntime(model, bytes, [check]);
  return { file, maxAbsDiff, samples: check.shape[0] };
}

/** The line an example prints about its ONNX file. */
export function onnxLine(check: OnnxCheck): string {
  return `ONNX Runtime ran ${shownPath(check.file)} on ${check.samples} held-out digits: largest difference from Koubai's logits ${check.maxAbsDiff.toExponential(1)}.`;
}
