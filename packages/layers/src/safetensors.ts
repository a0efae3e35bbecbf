// Safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header padded with spaces to 8-byte alignment, then raw little-endian data.
// Browser-safe: Uint8Array, DataView and TextEncoder/TextDecoder only, no file system.

import { type DType, Tensor, tensor } from "@koubai/core";

type FileDType = "F32" | "F64" | "I32" | "I64" | "BOOL";

const BYTES: Record<FileDType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, BOOL: 1 };
const DTYPE_OF: Record<FileDType, DType> = {
  F32: "float32",
  F64: "float64",
  I32: "int32",
  I64: "int32",
  BOOL: "bool",
};
const FILE_DTYPE: Record<DType, FileDType> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  bool: "BOOL",
};

/**
 * Sets `record[key]` as an own, enumerable data property. Keys come from files and user records,
 * and a plain assignment of "__proto__" would replace the record's prototype instead.
 */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Typed arrays use the platform's byte order; on little-endian hosts (all common ones) raw bytes
 * are copied as they are, which keeps every bit, NaN payloads included. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** int32 tensors under this key (or ending in `.num_batches_tracked`) are written as I64. */
const INT64_KEY = "num_batches_tracked";

function writesAsI64(key: string, t: Tensor): boolean {
  return t.dtype === "int32" && (key === INT64_KEY || key.endsWith(`.${INT64_KEY}`));
}

/**
 * Serialises tensors to the safetensors format, in the order given, with optional string
 * `metadata` (`__metadata__`). float32 → F32, float64 → F64, bool → BOOL, int32 → I32, except
 * `num_batches_tracked` buffers, written as I64 because PyTorch keeps them as int64 (so
 * `load_state_dict` gets the exact dtype it expects). Any name round-trips, "__proto__" included
 * (it is written and read back as an ordinary entry); only "__metadata__" is reserved.
 *
 * @example
 * ```ts
 * const bytes = saveSafetensors(model.stateDict(), { format: "pt" });
 * ```
 */
export function saveSafetensors(
  state: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object")
      throw new TypeError("saveSafetensors: metadata must be an object of strings");
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new TypeError(`saveSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    setOwn(header, "__metadata__", { ...metadata });
  }
  if (state === null || typeof state !== "object") {
    throw new TypeError(
      `saveSafetensors: expected a Record<string, Tensor>, got ${state === null ? "null" : typeof state}`,
    );
  }
  const entries = Object.entries(state);
  let offset = 0;
  for (const [key, t] of entries) {
    if (key === "__metadata__")
      throw new RangeError('saveSafetensors: "__metadata__" is a reserved name');
    if (!(t instanceof Tensor)) throw new TypeError(`saveSafetensors: "${key}" is not a Tensor`);
    const dtype = writesAsI64(key, t) ? "I64" : FILE_DTYPE[t.dtype];
    const size = t.numel() * BYTES[dtype];
    setOwn(header, key, { dtype, shape: [...t.shape], data_offsets: [offset, offset + size] });
    offset += size;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const padding = (8 - (headerBytes.length % 8)) % 8;
  json += " ".repeat(padding);
  headerBytes = encoder.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [key, t] of entries) {
    const values = t.toArray();
    if (LITTLE_ENDIAN && !writesAsI64(key, t) && t.dtype !== "bool") {
      out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
      at += values.byteLength;
    } else if (writesAsI64(key, t)) {
      for (let i = 0; i < values.length; i++, at += 8)
        view.setBigInt64(at, BigInt(values[i]), true);
    } else if (t.dtype === "float32") {
      for (let i = 0; i < values.length; i++, at += 4) view.setFloat32(at, values[i], true);
    } else if (t.dtype === "float64") {
      for (let i = 0; i < values.length; i++, at += 8) view.setFloat64(at, values[i], true);
    } else if (t.dtype === "int32") {
      for (let i = 0; i < values.length; i++, at += 4) view.setInt32(at, values[i], true);
    } else {
      for (let i = 0; i < values.length; i++, at += 1) out[at] = values[i] ? 1 : 0;
    }
  }
  return out;
}

function fail(message: string): never {
  throw new Error(`loadSafetensors: ${message}`);
}

interface HeaderEntry {
  key: string;
  dtype: FileDType;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(bytes: Uint8Array): {
  entries: HeaderEntry[];
  dataStart: number;
  metadata: Record<string, string>;
} {
  if (!(bytes instanceof Uint8Array)) {
    const value: unknown = bytes;
    const binary = ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
    const got = binary
      ? `an object of type ${(value as object).constructor.name} (view its bytes: new Uint8Array(buffer))`
      : value === null
        ? "null"
        : typeof value;
    fail(`expected a Uint8Array (a Node Buffer is one), got ${got}`);
  }
  if (bytes.length < 8)
    fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8))
    fail(
      `header length ${headerLength} exceeds the ${bytes.length - 8} bytes after it (truncated or not a safetensors file)`,
    );
  const n = Number(headerLength);
  let parsed: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    fail("header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (key === "__metadata__") {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        fail("__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ "${k}" must be a string`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      fail(`tensor "${key}" must be described by an object with dtype, shape and data_offsets`);
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info?.dtype !== "string" || !Object.hasOwn(BYTES, info.dtype))
      fail(
        `tensor "${key}" has dtype ${JSON.stringify(info?.dtype)}; supported: F32, F64, I32, I64, BOOL`,
      );
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      fail(`tensor "${key}" has an invalid shape ${JSON.stringify(shape)}`);
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    )
      fail(`tensor "${key}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as number[];
    const dtype = info.dtype as FileDType;
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== expected)
      fail(
        `tensor "${key}" (${dtype} [${(shape as number[]).join(", ")}]) needs ${expected} bytes but data_offsets span ${end - begin}`,
      );
    entries.push({ key, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin);
  const dataLength = bytes.length - 8 - n;
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor)
      fail(
        `tensor "${e.key}" starts at byte ${e.begin}, expected ${cursor} (overlapping or gapped data)`,
      );
    cursor = e.end;
  }
  if (cursor !== dataLength)
    fail(
      `the header describes ${cursor} bytes of data but the file holds ${dataLength} (truncated or corrupted)`,
    );
  return { entries, dataStart: 8 + n, metadata };
}

/**
 * `length` bytes of `bytes` from `at`, copied into an ArrayBuffer of exactly that size. Not
 * `bytes.slice`: on a Node Buffer it returns a view whose `.buffer` is the whole shared pool.
 */
function copyBytes(bytes: Uint8Array, at: number, length: number): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(at, at + length));
  return copy;
}

/**
 * Reads a safetensors file into new tensors, ordered by position in the file. F32/F64/I32/BOOL map
 * to float32/float64/int32/bool; I64 loads as int32 and is an error outside the int32 range.
 * `bytes` may be any Uint8Array view, such as the Node Buffer `readFileSync` returns (often a
 * slice of a larger shared pool). Everything is validated before any tensor is built: a
 * truncated, corrupted or unsupported file throws an error that starts with "loadSafetensors:"
 * and says what is wrong. Tensor names are own entries of the result, "__proto__" included.
 *
 * @example
 * ```ts
 * const state = loadSafetensors(readFileSync("model.safetensors"));
 * model.loadStateDict(state);
 * ```
 */
export function loadSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  const { entries, dataStart } = parseHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, Tensor> = {};
  for (const { key, dtype, shape, begin } of entries) {
    const count = shape.reduce((a, b) => a * b, 1);
    const at = dataStart + begin;
    let values: Float32Array | Float64Array | Int32Array | Uint8Array;
    const raw = () => copyBytes(bytes, at, count * BYTES[dtype]).buffer;
    if (LITTLE_ENDIAN && dtype === "F32") values = new Float32Array(raw());
    else if (LITTLE_ENDIAN && dtype === "F64") values = new Float64Array(raw());
    else if (LITTLE_ENDIAN && dtype === "I32") values = new Int32Array(raw());
    else if (dtype === "F32") {
      values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(at + 4 * i, true);
    } else if (dtype === "F64") {
      values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(at + 8 * i, true);
    } else if (dtype === "I32") {
      values = new Int32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getInt32(at + 4 * i, true);
    } else if (dtype === "I64") {
      values = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(at + 8 * i, true);
        if (v < -2147483648n || v > 2147483647n)
          fail(
            `tensor "${key}" (I64) holds ${v} at element ${i}, outside the int32 range Koubai loads I64 into`,
          );
        values[i] = Number(v);
      }
    } else {
      values = copyBytes(bytes, at, count);
      const bad = values.findIndex((v) => v > 1);
      if (bad !== -1)
        fail(`tensor "${key}" (BOOL) holds byte ${values[bad]} at element ${bad}, expected 0 or 1`);
    }
    setOwn(out, key, tensor(values, { shape, dtype: DTYPE_OF[dtype] }));
  }
  return out;
}

/** The `__metadata__` strings of a safetensors file ({} when absent). */
export function safetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return parseHeader(bytes).metadata;
}
