// The committed conv-wasm-module.ts must be assembled from the committed conv.wat, and conv.wat
// must be what scripts/conv-wat.mjs generates (run build:wasm after an edit of either); the
// module is valid, under 4 KB, imports its memory (the GEMM's) and exports its loops in both dtypes.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convWat } from "../../scripts/conv-wat.mjs";
import { CONV_WASM_BASE64, CONV_WAT_SHA256 } from "../../src/kernels/conv-wasm-module.js";

const watPath = new URL("../../src/kernels/conv.wat", import.meta.url);

describe("conv-wasm-module", () => {
  it("was generated from the current conv.wat, which is what conv-wat.mjs writes", () => {
    const source = readFileSync(watPath, "utf8");
    expect(source).toBe(convWat());
    expect(createHash("sha256").update(source).digest("hex")).toBe(CONV_WAT_SHA256);
  });

  it("holds a valid module under 4 KB that imports its memory and exports its loops per dtype", () => {
    const bytes = Buffer.from(CONV_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: "env", name: "memory", kind: "memory" },
    ]);
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(names.sort()).toEqual([
      "addRowBiasF32",
      "addRowBiasF64",
      "channelsOut",
      "col2imF32",
      "col2imF64",
      "im2col",
    ]);
  });
});
