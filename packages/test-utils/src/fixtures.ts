// The tensor encoding of the PyTorch fixture files (the generators' shared encoder is
// scripts/torch_fixture_encoding.py): flat row-major data, NaN and the infinities as strings.
// Decoding stops at numbers: each package makes its own tensors from them.

import { readFileSync } from "node:fs";

/** A fixture number: finite values as numbers, the others as "nan", "inf" or "-inf". */
export type EncodedNumber = number | string;

/** A fixture tensor: shape, dtype name and flat row-major values. */
export interface EncodedTensor {
  shape: number[];
  dtype: "float32" | "float64" | "int32" | "bool";
  data: EncodedNumber[];
  requiresGrad?: boolean;
}

const SPECIAL: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
};

/** A fixture number decoded; an unknown string is an error, never a silent NaN. */
export function decodeNumber(value: EncodedNumber): number {
  if (typeof value === "number") return value;
  const decoded = SPECIAL[value];
  if (decoded === undefined)
    throw new Error(`fixture: unknown encoded number ${JSON.stringify(value)}`);
  return decoded;
}

/** The flat values of a fixture tensor, decoded. */
export function decodeValues(encoded: Pick<EncodedTensor, "data">): number[] {
  return encoded.data.map(decodeNumber);
}

/** A JSON file (a fixture) read and parsed: `readJson<T>(new URL("./x.json", import.meta.url))`. */
export function readJson<T>(url: URL): T {
  return JSON.parse(readFileSync(url, "utf8")) as T;
}
