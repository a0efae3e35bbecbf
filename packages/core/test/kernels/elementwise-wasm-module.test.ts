// The committed elementwise-wasm-module.ts must be assembled from the committed elementwise.wat: a
// source edit without `pnpm --filter @koubai/core run build:wasm` fails here.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ELEMENTWISE_WASM_BASE64,
  ELEMENTWISE_WAT_SHA256,
} from "../../src/kernels/elementwise-wasm-module.js";

const watPath = new URL("../../src/kernels/elementwise.wat", import.meta.url);

describe("elementwise-wasm-module", () => {
  it("was generated from the current elementwise.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(ELEMENTWISE_WAT_SHA256);
  });

  it("holds a valid module under 4 KB exporting a float32 and a float64 loop per op", () => {
    const bytes = Buffer.from(ELEMENTWISE_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    const ops = ["add", "sub", "mul", "div", "maximum", "minimum", "reluBackward"].concat([
      "neg",
      "abs",
      "square",
      "sqrt",
      "rsqrt",
      "relu",
    ]);
    const expected = ops.flatMap((op) => [`${op}F32`, `${op}F64`]).concat("memory");
    expect(exports.sort()).toEqual(expected.sort());
  });
});
