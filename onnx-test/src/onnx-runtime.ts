// Runs an exported model in ONNX Runtime (onnxruntime-node, its CPU build) and compares it with
// the Koubai module it came from. Used by this package's tests, and by examples that write an
// .onnx file and want to show it computes what Koubai computes.

import { noGrad, Tensor } from "@koubai/core";
import type { Module } from "@koubai/layers";
import * as ort from "onnxruntime-node";

/** ONNX Runtime's element type names for Koubai's dtypes. */
const ORT_TYPE = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" } as const;

/** Runs the model `bytes` on `inputs` (fed to the graph's inputs in order); its outputs, as tensors. */
export async function runOnnx(bytes: Uint8Array, inputs: readonly Tensor[]): Promise<Tensor[]> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    if (session.inputNames.length !== inputs.length) {
      throw new RangeError(
        `runOnnx: the model takes ${session.inputNames.length} inputs (${session.inputNames.join(", ")}), got ${inputs.length}`,
      );
    }
    const feeds: Record<string, ort.Tensor> = {};
    session.inputNames.forEach((name, i) => {
      const x = inputs[i];
      const data = x.dtype === "bool" ? Uint8Array.from(x.toArray()) : x.toArray();
      feeds[name] = new ort.Tensor(ORT_TYPE[x.dtype], data as Float32Array, [...x.shape]);
    });
    const results = await session.run(feeds);
    return session.outputNames.map((name) => {
      const out = results[name];
      const data = out.data;
      if (
        !(
          data instanceof Float32Array ||
          data instanceof Float64Array ||
          data instanceof Int32Array
        )
      ) {
        throw new TypeError(
          `runOnnx: output ${name} has type ${out.type}, which this helper does not read`,
        );
      }
      return Tensor.fromTypedArray(data, out.dims.map(Number));
    });
  } finally {
    await session.release();
  }
}

/** Koubai's outputs and ONNX Runtime's for the same inputs, and the largest difference. */
export interface OnnxComparison {
  readonly koubai: Tensor[];
  readonly onnx: Tensor[];
  /** max |koubai - onnx| over every output element. */
  readonly maxAbsDiff: number;
}

/**
 * Runs `module` (in eval mode, restored afterwards) and the exported `bytes` on the same inputs
 * and returns both outputs with their largest absolute difference.
 */
export async function compareWithOnnxRuntime(
  module: Module,
  bytes: Uint8Array,
  inputs: readonly Tensor[],
): Promise<OnnxComparison> {
  const modes = module.modules().map((m) => [m, m.training] as const);
  module.eval();
  let result: unknown;
  try {
    result = noGrad(() => module.forward(...inputs));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  const koubai = Array.isArray(result) ? (result as Tensor[]) : [result as Tensor];
  const onnx = await runOnnx(bytes, inputs);
  let maxAbsDiff = 0;
  koubai.forEach((k, i) => {
    const a = k.toArray();
    const b = onnx[i]?.toArray() ?? [];
    if (a.length !== b.length) maxAbsDiff = Number.POSITIVE_INFINITY;
    for (let j = 0; j < a.length; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[j] - b[j]));
  });
  return { koubai, onnx, maxAbsDiff };
}
