// The committed gemm-shared-wasm-module.ts (gemm.wat with an imported shared memory, for
// gemm-threads.ts) must be assembled from the committed gemm.wat: run build:wasm after an edit.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  GEMM_SHARED_WASM_BASE64,
  GEMM_SHARED_WAT_SHA256,
} from "../../src/kernels/gemm-shared-wasm-module.js";

const watPath = new URL("../../src/kernels/gemm.wat", import.meta.url);

describe("gemm-shared-wasm-module", () => {
  it("was generated from the current gemm.wat (else run build:wasm)", () => {
    const source = readFileSync(watPath, "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(GEMM_SHARED_WAT_SHA256);
  });

  it("holds a valid module that imports a shared memory and exports the two kernels and the panel packers", () => {
    const bytes = Buffer.from(GEMM_SHARED_WASM_BASE64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: "env", name: "memory", kind: "memory" },
    ]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual([
      "packPanels",
      "packTransposedF32",
      "gemmF32",
      "gemmF64",
    ]);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
    expect(() => new WebAssembly.Instance(module, { env: { memory } })).not.toThrow();
  });
});
