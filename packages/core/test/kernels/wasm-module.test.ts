// The loader every kernel wrapper uses: base64 decoding, one compile per module, the remembered
// fallback when a module cannot load, and memory growth.

import { describe, expect, it } from "vitest";
import { decodeBase64, growMemory, lazyInstance } from "../../src/kernels/wasm-module.js";

/** The smallest valid module: the 8-byte header, no sections. */
const EMPTY_MODULE = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]).toString("base64");

describe("decodeBase64", () => {
  it("returns the bytes Node's own decoder gives", () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
    const text = Buffer.from(bytes).toString("base64");
    expect(Array.from(decodeBase64(text))).toEqual(Array.from(bytes));
  });
});

describe("lazyInstance", () => {
  it("compiles on the first call only and hands every call the prepared value", () => {
    let prepared = 0;
    const load = lazyInstance(EMPTY_MODULE, (exports) => {
      prepared++;
      return { names: Object.keys(exports) };
    });
    expect(prepared).toBe(0);
    const first = load();
    expect(first).toEqual({ names: [] });
    expect(load()).toBe(first);
    expect(prepared).toBe(1);
  });

  it("returns null, and keeps returning it, when the bytes are not a module", () => {
    let prepared = 0;
    const load = lazyInstance(Buffer.from("not wasm").toString("base64"), () => ++prepared);
    expect(load()).toBeNull();
    expect(load()).toBeNull();
    expect(prepared).toBe(0);
  });
});

describe("growMemory", () => {
  it("grows to whole 64 KiB pages covering the request, and detaches the old buffer", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const before = memory.buffer;
    expect(growMemory(memory, 1000, "test")).toBe(before); // already large enough
    const after = growMemory(memory, 3 * 65536 + 1, "test");
    expect(after.byteLength).toBe(4 * 65536);
    expect(before.byteLength).toBe(0);
  });
});
