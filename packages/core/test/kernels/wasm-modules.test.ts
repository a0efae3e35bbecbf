// The committed *-wasm-module.ts files that scripts/build-wasm.mjs writes must be assembled from
// the committed .wat sources (a source edit without `npm run build:wasm` fails here), elementwise.wat
// must be what its table generates, and each module must be valid, under 4 KB, and export the
// loops its wrapper calls. gemm-shared-wasm-module.test.ts checks the shared-memory gemm.wat.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { elementwiseWat } from "../../scripts/elementwise-wat.mjs";
import {
  BATCH_NORM_WASM_BASE64,
  BATCH_NORM_WAT_SHA256,
} from "../../src/kernels/batch-norm-wasm-module.js";
import {
  ELEMENTWISE_BINARY_OPS,
  ELEMENTWISE_UNARY_OPS,
  ELEMENTWISE_WASM_BASE64,
  ELEMENTWISE_WAT_SHA256,
} from "../../src/kernels/elementwise-wasm-module.js";
import { GEMM_WASM_BASE64, GEMM_WAT_SHA256 } from "../../src/kernels/gemm-wasm-module.js";
import { POOL_WASM_BASE64, POOL_WAT_SHA256 } from "../../src/kernels/pool-wasm-module.js";
import { REDUCE_WASM_BASE64, REDUCE_WAT_SHA256 } from "../../src/kernels/reduce-wasm-module.js";
import { SGD_WASM_BASE64, SGD_WAT_SHA256 } from "../../src/kernels/sgd-wasm-module.js";

const ELEMENTWISE_OPS = [...ELEMENTWISE_BINARY_OPS, ...ELEMENTWISE_UNARY_OPS];

const MODULES = [
  {
    wat: "gemm",
    base64: GEMM_WASM_BASE64,
    sha: GEMM_WAT_SHA256,
    exports: ["gemmF32", "gemmF64", "packPanels", "packTransposedF32"],
  },
  {
    wat: "batch-norm",
    base64: BATCH_NORM_WASM_BASE64,
    sha: BATCH_NORM_WAT_SHA256,
    exports: ["channelSumsF32", "gradSumsF32", "inputGradF32", "normalizeF32"],
  },
  { wat: "sgd", base64: SGD_WASM_BASE64, sha: SGD_WAT_SHA256, exports: ["momentumF32"] },
  { wat: "pool", base64: POOL_WASM_BASE64, sha: POOL_WAT_SHA256, exports: ["maxPool2x2F32"] },
  {
    wat: "elementwise",
    base64: ELEMENTWISE_WASM_BASE64,
    sha: ELEMENTWISE_WAT_SHA256,
    // A float32 and a float64 loop per op.
    exports: ELEMENTWISE_OPS.flatMap((op) => [`${op}F32`, `${op}F64`]),
  },
  {
    wat: "reduce",
    base64: REDUCE_WASM_BASE64,
    sha: REDUCE_WAT_SHA256,
    exports: ["columnsF32", "columnsF64", "rowMaxF32", "rowMaxF64", "rowSumsF32", "rowSumsF64"],
  },
];

describe.each(MODULES)("$wat-wasm-module", ({ wat, base64, sha, exports }) => {
  it(`was generated from the current ${wat}.wat (else run build:wasm)`, () => {
    const source = readFileSync(new URL(`../../src/kernels/${wat}.wat`, import.meta.url), "utf8");
    expect(createHash("sha256").update(source).digest("hex")).toBe(sha);
  });

  it("holds a valid module under 4 KB (the browsers' limit for synchronous compilation) with its own memory and the expected loops", () => {
    const bytes = Buffer.from(base64, "base64");
    expect(bytes.length).toBeLessThan(4096);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(names.sort()).toEqual([...exports, "memory"].sort());
  });
});

describe("elementwise.wat", () => {
  it("is what the table in scripts/elementwise-wat.mjs generates (else run build:wasm)", () => {
    const committed = readFileSync(
      new URL("../../src/kernels/elementwise.wat", import.meta.url),
      "utf8",
    );
    expect(committed).toBe(elementwiseWat());
  });

  it("has a float32 and a float64 loop per op, and the float64 ones are not float32 copies", () => {
    const text = elementwiseWat();
    for (const op of ELEMENTWISE_OPS) {
      expect(text).toContain(`(export "${op}F32")`);
      expect(text).toContain(`(export "${op}F64")`);
    }
    const f64 = text.slice(text.indexOf('(export "addF64")'));
    expect(f64).not.toMatch(/f32x4\.(add|sub|mul|div|neg|abs|sqrt)/);
  });
});
