// The committed reduce-wasm-module.ts must be assembled from the committed reduce.wat: a source edit
// without `pnpm --filter @koubai/core run build:wasm` fails here.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REDUCE_WASM_BASE64, REDUCE_WAT_SHA256 } from "../../src/kernels/reduce-wasm-module.js";

const watPath = new URL("../../src/kernels/reduce.wat", import.meta.url);

describe("reduce-wasm-module", () => {
  it("was generated from the current reduce.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(REDUCE_WAT_SHA256);
  });

  it("holds a valid module under 4 KB, the browsers' limit for synchronous compilation", () => {
    const bytes = Buffer.from(REDUCE_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(exports.sort()).toEqual([
      "columnsF32",
      "columnsF64",
      "memory",
      "rowMaxF32",
      "rowMaxF64",
      "rowSumsF32",
      "rowSumsF64",
    ]);
  });
});
