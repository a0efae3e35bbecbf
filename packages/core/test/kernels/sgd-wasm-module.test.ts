// The committed sgd-wasm-module.ts must be assembled from the committed sgd.wat: a source edit
// without `pnpm --filter @koubai/core run build:wasm` fails here.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SGD_WASM_BASE64, SGD_WAT_SHA256 } from "../../src/kernels/sgd-wasm-module.js";

const watPath = new URL("../../src/kernels/sgd.wat", import.meta.url);

describe("sgd-wasm-module", () => {
  it("was generated from the current sgd.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(SGD_WAT_SHA256);
  });

  it("holds a valid module under 4 KB, the browsers' limit for synchronous compilation", () => {
    const bytes = Buffer.from(SGD_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(exports.sort()).toEqual(["memory", "momentumF32"]);
  });
});
