// Property-based fuzzing of loadSafetensors: valid files with random byte changes, truncations
// and header edits (names and dtypes that collide with Object.prototype members, bad shapes and
// offsets). Whatever the bytes, the loader must return a plain record of tensors or throw its
// own "loadSafetensors: ..." error, return quickly, and never touch a prototype.

import { type Tensor, Tensor as TensorClass, tensor } from "@koubai/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSafetensors, safetensorsMetadata, saveSafetensors } from "../src/safetensors.js";

/** Valid files to start from: every dtype, 0-d and empty tensors, metadata. */
const SEEDS: Uint8Array[] = [
  saveSafetensors({ w: tensor([[1, -2, 3.5]]), b: tensor([0.5]) }, { format: "pt" }),
  saveSafetensors({
    d: tensor([1 / 3, -0, 1e300], { dtype: "float64" }),
    ids: tensor([-2, 7], { dtype: "int32" }),
    "bn.num_batches_tracked": tensor(5, { dtype: "int32" }),
    mask: tensor([1, 0, 1], { dtype: "bool" }),
    empty: tensor([], { shape: [0, 3] }),
  }),
  saveSafetensors({}),
];

/** Names a hostile file might use: prototype members and the reserved metadata key. */
const NASTY_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "__metadata__"];
const DTYPES = ["F32", "F64", "I32", "I64", "BOOL", "F16", "toString", "__proto__", "constructor"];

function header(bytes: Uint8Array): { json: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return { json, data: bytes.subarray(8 + n) };
}

function withHeader(json: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(json));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const byteEdit = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.nat(255) }),
);
type ByteEdit = typeof byteEdit extends fc.Arbitrary<infer T> ? T : never;

function applyByteEdits(seed: Uint8Array, edits: ByteEdit[]): Uint8Array {
  let bytes = Array.from(seed);
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : edit.at % (bytes.length + 1);
    if (edit.kind === "set" && at < bytes.length) bytes[at] = edit.value;
    else if (edit.kind === "truncate") bytes = bytes.slice(0, at);
    else if (edit.kind === "insert") bytes.splice(at, 0, edit.value);
  }
  return Uint8Array.from(bytes);
}

const jsonValue = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom(1e300, -0, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER),
  fc.constantFrom(...DTYPES),
  fc.constant(null),
  fc.array(fc.integer({ min: -2, max: 64 }), { maxLength: 3 }),
);

const headerEdit = fc.oneof(
  fc.record({ kind: fc.constant("rename" as const), to: fc.constantFrom(...NASTY_NAMES) }),
  fc.record({
    kind: fc.constant("field" as const),
    field: fc.constantFrom("dtype", "shape", "data_offsets", "__proto__", "extra"),
    value: jsonValue,
  }),
  fc.record({ kind: fc.constant("replace" as const), value: jsonValue }),
);
type HeaderEdit = typeof headerEdit extends fc.Arbitrary<infer T> ? T : never;

/** Applies edits to the first tensor entry of a seed's header (own keys only, "__proto__" too). */
function applyHeaderEdits(seed: Uint8Array, pick: number, edits: HeaderEdit[]): Uint8Array {
  const { json, data } = header(seed);
  const keys = Object.keys(json).filter((k) => k !== "__metadata__");
  if (keys.length === 0) return seed;
  let key = keys[pick % keys.length];
  for (const edit of edits) {
    const entry = json[key];
    if (edit.kind === "rename") {
      delete json[key];
      Object.defineProperty(json, edit.to, {
        value: entry,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      key = edit.to;
    } else if (edit.kind === "field" && entry !== null && typeof entry === "object") {
      Object.defineProperty(entry, edit.field, {
        value: edit.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    } else if (edit.kind === "replace") {
      Object.defineProperty(json, key, {
        value: edit.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return withHeader(json, data);
}

const prototypeNames = () => [
  Object.getOwnPropertyNames(Object.prototype).sort().join(),
  Object.getOwnPropertyNames(Array.prototype).sort().join(),
];

/** Loads `bytes` and checks the loader's contract; returns how long the call took (ms). */
function checkLoad(bytes: Uint8Array): number {
  const before = prototypeNames();
  const start = performance.now();
  let loaded: Record<string, Tensor> | null = null;
  try {
    loaded = loadSafetensors(bytes);
    safetensorsMetadata(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^loadSafetensors: /);
  }
  const ms = performance.now() - start;
  expect(prototypeNames()).toEqual(before);
  expect(({} as Record<string, unknown>).dtype).toBeUndefined();
  if (loaded !== null) {
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype);
    for (const key of Object.keys(loaded)) {
      expect(Object.getOwnPropertyDescriptor(loaded, key)?.value).toBeInstanceOf(TensorClass);
    }
  }
  return ms;
}

describe("loadSafetensors under random corruption", () => {
  it("throws only its own errors for byte changes, insertions and truncations", () => {
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.nat(SEEDS.length - 1),
        fc.array(byteEdit, { minLength: 1, maxLength: 6 }),
        (seed, edits) => {
          slowest = Math.max(slowest, checkLoad(applyByteEdits(SEEDS[seed], edits)));
        },
      ),
      { numRuns: 3000, seed: 13 },
    );
    expect(slowest).toBeLessThan(1000);
  });

  it("throws only its own errors for hostile names, dtypes, shapes and offsets in the header", () => {
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.nat(SEEDS.length - 1),
        fc.nat(10),
        fc.array(headerEdit, { minLength: 1, maxLength: 4 }),
        (seed, pick, edits) => {
          slowest = Math.max(slowest, checkLoad(applyHeaderEdits(SEEDS[seed], pick, edits)));
        },
      ),
      { numRuns: 3000, seed: 13 },
    );
    expect(slowest).toBeLessThan(1000);
  });
});
