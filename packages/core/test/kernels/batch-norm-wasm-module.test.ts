// The committed batch-norm-wasm-module.ts must be assembled from the committed batch-norm.wat: a
// source edit without `pnpm --filter @koubai/core run build:wasm` fails here.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  BATCH_NORM_WASM_BASE64,
  BATCH_NORM_WAT_SHA256,
} from "../../src/kernels/batch-norm-wasm-module.js";

const watPath = new URL("../../src/kernels/batch-norm.wat", import.meta.url);

describe("batch-norm-wasm-module", () => {
  it("was generated from the current batch-norm.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(BATCH_NORM_WAT_SHA256);
  });

  it("holds a valid module under 4 KB, the browsers' limit for synchronous compilation", () => {
    const bytes = Buffer.from(BATCH_NORM_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(exports.sort()).toEqual([
      "channelSumsF32",
      "gradSumsF32",
      "inputGradF32",
      "memory",
      "normalizeF32",
    ]);
  });
});
