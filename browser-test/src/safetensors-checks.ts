// safetensors save and load in memory: a small model's state dict (float32 weights, float32
// running statistics, the int32 num_batches_tracked written as I64) plus string metadata.

import { Generator, type Tensor } from "@koubai/core";
import {
  BatchNorm1d,
  Linear,
  loadSafetensors,
  Sequential,
  safetensorsMetadata,
  saveSafetensors,
} from "@koubai/layers";

interface TensorSummary {
  dtype: string;
  shape: number[];
  values: number[];
}

export interface SafetensorsResult {
  byteLength: number;
  /** The 8-byte little-endian header length, as read back from the bytes. */
  headerLength: number;
  /** The header JSON as written. */
  header: string;
  metadata: Record<string, string>;
  saved: Record<string, TensorSummary>;
  loaded: Record<string, TensorSummary>;
}

export const SAFETENSORS_METADATA = { format: "pt", written_by: "koubai browser-test" };

function summaries(state: Record<string, Tensor>): Record<string, TensorSummary> {
  const out: Record<string, TensorSummary> = {};
  for (const [key, t] of Object.entries(state)) {
    out[key] = { dtype: t.dtype, shape: [...t.shape], values: [...t.toArray()] };
  }
  return out;
}

export function safetensorsCheck(): SafetensorsResult {
  const generator = new Generator(3);
  const model = new Sequential(new Linear(3, 4, { generator }), new BatchNorm1d(4));
  const state = model.stateDict();
  const bytes = saveSafetensors(state, SAFETENSORS_METADATA);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  return {
    byteLength: bytes.byteLength,
    headerLength,
    header: new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
    metadata: safetensorsMetadata(bytes),
    saved: summaries(state),
    loaded: summaries(loadSafetensors(bytes)),
  };
}
