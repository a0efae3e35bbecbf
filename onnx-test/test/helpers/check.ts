// The check every test here makes: export a module on an example batch, run the file in ONNX
// Runtime on another batch (dynamic batch) or the same one, and compare with Koubai's eval output.

import { noGrad, type Tensor } from "@koubai/core";
import type { Module } from "@koubai/layers";
import { exportOnnx, type OnnxExportOptions } from "@koubai/onnx";
import { expect } from "vitest";
import { compareWithOnnxRuntime } from "../../src/index.js";

/** float32 tolerances: ONNX Runtime sums and rounds in other orders than Koubai. */
export const FLOAT32_TOLERANCE = { rtol: 1e-5, atol: 1e-5 };

/**
 * Exports `module` on `example`, then checks ONNX Runtime matches Koubai on `inputs` (default:
 * the example). Returns the file's bytes.
 */
export async function expectSameInOnnxRuntime(
  module: Module,
  example: Tensor | Tensor[],
  inputs: Tensor | Tensor[] = example,
  options: OnnxExportOptions = {},
  tolerance = FLOAT32_TOLERANCE,
): Promise<Uint8Array> {
  const bytes = exportOnnx(module, example, options);
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const { koubai, onnx } = await compareWithOnnxRuntime(module, bytes, list);
  expect(onnx.length).toBe(koubai.length);
  koubai.forEach((k, i) => {
    expect(onnx[i]).toBeAllclose(k, tolerance);
  });
  return bytes;
}

/** Trains BatchNorm-like running statistics away from their initial 0 and 1. */
export function warmUp(module: Module, makeBatch: () => Tensor | Tensor[], steps = 3): void {
  module.train();
  noGrad(() => {
    for (let i = 0; i < steps; i++) {
      const made = makeBatch();
      const list = Array.isArray(made) ? made : [made];
      module.forward(...list.map((x) => x.mul(2).add(0.5)));
    }
  });
  module.eval();
}
