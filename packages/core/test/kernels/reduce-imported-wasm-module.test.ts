// The committed reduce-imported-wasm-module.ts (reduce.wat with an imported memory, for the
// column sums of elementwise-chain.ts) must be assembled from the committed reduce.wat: run
// build:wasm after an edit.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  REDUCE_IMPORTED_WASM_BASE64,
  REDUCE_IMPORTED_WAT_SHA256,
} from "../../src/kernels/reduce-imported-wasm-module.js";

const watPath = new URL("../../src/kernels/reduce.wat", import.meta.url);

describe("reduce-imported-wasm-module", () => {
  it("was generated from the current reduce.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(REDUCE_IMPORTED_WAT_SHA256);
  });

  it("holds a valid module under 4 KB that imports its memory and sums columns in it", () => {
    const bytes = Buffer.from(REDUCE_IMPORTED_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: "env", name: "memory", kind: "memory" },
    ]);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => e.name)
        .sort(),
    ).toEqual(
      ["columnsF32", "columnsF64", "rowMaxF32", "rowMaxF64", "rowSumsF32", "rowSumsF64"].sort(),
    );
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { columnsF32 } = new WebAssembly.Instance(module, { env: { memory } }).exports as {
      columnsF32: (
        x: number,
        rows: number,
        cols: number,
        mean: number,
        acc: number,
        mode: number,
      ) => void;
    };
    // Three rows of two float32 columns at byte 0, float64 sums at byte 64, in the given memory.
    new Float32Array(memory.buffer, 0, 6).set([1, 2, 3, 4, 5, 6.5]);
    columnsF32(0, 3, 2, 0, 64, 0);
    expect([...new Float64Array(memory.buffer, 64, 2)]).toEqual([9, 12.5]);
  });
});
