// The loader every kernel wrapper uses: base64 decoding, one compile per module, the remembered
// fallback when a module cannot load, and memory growth.

import { describe, expect, it } from "vitest";
import {
  decodeBase64,
  growMemory,
  KEPT_SCRATCH_BYTES,
  lazyInstance,
  tryGrowMemory,
} from "../../src/kernels/wasm-module.js";

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

describe("scratch memory of large calls", () => {
  /** A module with an exported memory of one page: (module (memory (export "memory") 1)). */
  const MEMORY_MODULE = Buffer.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 0, 1, 7, 10, 1, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
    2, 0,
  ]).toString("base64");

  it("hands calls up to KEPT_SCRATCH_BYTES the shared instance and larger ones a fresh instance", () => {
    const load = lazyInstance(MEMORY_MODULE, (e) => e.memory as WebAssembly.Memory);
    const shared = load();
    expect(shared).toBeInstanceOf(WebAssembly.Memory);
    expect(load.forScratch(KEPT_SCRATCH_BYTES)).toBe(shared);
    const own = load.forScratch(KEPT_SCRATCH_BYTES + 1);
    expect(own).toBeInstanceOf(WebAssembly.Memory);
    expect(own).not.toBe(shared);
    expect(load.forScratch(KEPT_SCRATCH_BYTES + 1)).not.toBe(own);
  });

  it("reports a memory that cannot grow: null from tryGrowMemory, a named error from growMemory", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    expect(tryGrowMemory(memory, 3 * 65536)).toBeNull();
    expect(memory.buffer.byteLength).toBe(65536);
    expect(() => growMemory(memory, 3 * 65536, "matmul")).toThrow(
      "matmul: cannot get 196608 bytes (192.0 KiB) of WebAssembly memory for the kernel's scratch space; the runtime refused to grow it",
    );
  });
});
