// Tensors to and from JSON-safe records, for optimizer and scheduler state dicts. Values are
// kept exactly: finite numbers round-trip through JSON as shortest decimals, and the values JSON
// cannot hold (NaN, ±Infinity, -0) are written as strings.

import { type DType, type Tensor, tensor } from "@koubai/core";

/** A tensor as plain data: `data` is row-major, with "NaN", "Infinity", "-Infinity", "-0" as strings. */
export interface SerializedTensor {
  /** The tensor's shape. */
  shape: number[];
  /** The tensor's dtype. */
  dtype: DType;
  /** The values in row-major order; NaN, ±Infinity and -0 as the strings above. */
  data: Array<number | string> | ArrayLike<number>;
}

const SPECIAL: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  "-0": -0,
};

/** A copy of `t`'s values as a JSON-serialisable record. */
export function serializeTensor(t: Tensor): SerializedTensor {
  const values = t.toArray();
  const data = new Array<number | string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    data[i] = Number.isFinite(v) && !Object.is(v, -0) ? v : String(Object.is(v, -0) ? "-0" : v);
  }
  return { shape: [...t.shape], dtype: t.dtype, data };
}

/** True for anything shaped like a `SerializedTensor`. */
export function isSerializedTensor(value: unknown): value is SerializedTensor {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Array.isArray(record.shape) &&
    typeof record.dtype === "string" &&
    (Array.isArray(record.data) || ArrayBuffer.isView(record.data))
  );
}

/** A fresh tensor from `record`, in `dtype` when given (state is cast to its parameter's dtype). */
export function deserializeTensor(record: SerializedTensor, where: string, dtype?: DType): Tensor {
  if (!record.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new TypeError(
      `${where}: saved tensor has shape ${JSON.stringify(record.shape)}; expected non-negative integers`,
    );
  }
  const n = record.shape.reduce((a, b) => a * b, 1);
  if (record.data.length !== n) {
    throw new RangeError(
      `${where}: saved tensor of shape [${record.shape.join(", ")}] has ${record.data.length} values, expected ${n}`,
    );
  }
  const values = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const v = record.data[i];
    if (typeof v === "number") values[i] = v;
    else if (typeof v === "string" && Object.hasOwn(SPECIAL, v)) values[i] = SPECIAL[v];
    else throw new TypeError(`${where}: saved tensor value ${JSON.stringify(v)} is not a number`);
  }
  return tensor(values, { shape: record.shape, dtype: dtype ?? record.dtype });
}
