// An exported model in the browser: browser/main.ts trains a small network with BatchNorm in
// headless Chromium, exports it there with exportOnnx (protobufjs, no Node APIs) and runs the file
// with onnxruntime-web's WebAssembly backend, offline: the runtime's files are served with the
// page. Skipped, with the reason, only where Chromium is absent.

import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromiumArgs, chromiumMissingReason, chromiumPath } from "@koubai/browser-test/chromium";
import { removeBundle, type StaticServer, serveStatic } from "@koubai/browser-test/serve";
import { type Browser, chromium } from "playwright-core";
import { build, defaultClientConditions } from "vite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const skipReason = chromiumMissingReason();

interface PageResult {
  koubai: number[];
  onnx: number[];
  dims: number[];
  bytes: number;
}

/** Bundles browser/ and puts onnxruntime-web's WebAssembly runtime beside it, under ort/. */
async function bundle(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "koubai-onnx-browser-"));
  await build({
    root: join(import.meta.dirname, "..", "browser"),
    configFile: false,
    logLevel: "warn",
    resolve: { conditions: ["@koubai/source", ...defaultClientConditions] },
    build: { outDir, emptyOutDir: true, reportCompressedSize: false },
  });
  const require = createRequire(import.meta.url);
  const runtime = dirname(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  mkdirSync(join(outDir, "ort"));
  for (const file of ["ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]) {
    copyFileSync(join(runtime, file), join(outDir, "ort", file));
  }
  return outDir;
}

describe("an exported model in onnxruntime-web, in headless Chromium", () => {
  let dir = "";
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let result: PageResult | undefined;
  let pageError: string | undefined;
  const consoleErrors: string[] = [];

  beforeEach((ctx) => ctx.skip(skipReason !== null, skipReason ?? undefined));

  beforeAll(async () => {
    if (skipReason !== null) return;
    dir = await bundle();
    server = await serveStatic(dir);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    const page = await browser.newPage();
    page.on("pageerror", (error) => consoleErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(server.url);
    await page.waitForFunction(() => window.__onnx !== undefined || window.__error !== undefined, {
      timeout: 60_000,
    });
    result = await page.evaluate(() => window.__onnx);
    pageError = await page.evaluate(() => window.__error);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== "") removeBundle(dir);
  });

  it("runs the file exported in the page to Koubai's outputs, with no page error", () => {
    expect(pageError).toBeUndefined();
    expect(consoleErrors).toEqual([]);
    expect(result!.bytes).toBeGreaterThan(0);
    expect(result!.dims).toEqual([5, 3]);
    expect(result!.onnx).toBeAllclose(result!.koubai, { rtol: 1e-5, atol: 1e-5 });
  });
});
