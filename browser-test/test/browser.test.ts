// The same program as run-checks.test.ts, bundled by Vite and run in headless Chromium: the page
// must compute the same numbers, and every assertion made under Node must hold in the page too.
// Skipped, with the reason printed, only where Chromium is absent (see helpers/chromium.ts).

import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type CheckResults, runChecks } from "../src/run-checks.js";
import { bundlePage, removeBundle, type StaticServer, serveStatic } from "./helpers/bundle.js";
import { chromiumArgs, chromiumMissingReason, chromiumPath } from "./helpers/chromium.js";
import {
  expectBackward,
  expectClose,
  expectGradchecks,
  expectMatmul,
  expectMlpMatchesTorch,
  expectReadableErrors,
  expectSafetensors,
} from "./helpers/expectations.js";

const skipReason = chromiumMissingReason();

describe("runChecks in headless Chromium", () => {
  let bundleDir = "";
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let results: CheckResults;
  const pageErrors: string[] = [];

  // Every test is skipped, with the reason, where Chromium is absent; nothing is launched then.
  beforeEach((ctx) => ctx.skip(skipReason !== null, skipReason ?? undefined));

  beforeAll(async () => {
    if (skipReason !== null) return;
    const t0 = performance.now();
    bundleDir = await bundlePage();
    const t1 = performance.now();
    server = await serveStatic(bundleDir);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    const page = await browser.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error")
        pageErrors.push(`${message.text()} ${message.location().url}`);
    });
    const t2 = performance.now();
    await page.goto(server.url);
    await page.waitForFunction(
      () => window.__results !== undefined || window.__error !== undefined,
      null,
      {
        timeout: 20_000,
      },
    );
    const failure = await page.evaluate(() => window.__error);
    if (failure !== undefined) throw new Error(`the page threw: ${failure}`);
    results = (await page.evaluate(() => window.__results))!;
    const t3 = performance.now();
    console.log(
      `browser test: Vite bundle ${(t1 - t0).toFixed(0)} ms, Chromium launch ${(t2 - t1).toFixed(0)} ms, ` +
        `page load + checks ${(t3 - t2).toFixed(0)} ms (checks alone ${results.milliseconds.toFixed(0)} ms) in ${results.runtime}`,
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (bundleDir !== "") removeBundle(bundleDir);
  });

  it("runs in Chromium, not in Node, without page errors", () => {
    expect(results.runtime).toMatch(/HeadlessChrome\/\d+/);
    expect(pageErrors).toEqual([]);
  });
  it("computes the hand-derived gradient of Σ a·b·a exactly", () => expectBackward(results));
  it("passes gradcheck on composites and rejects a wrong backward", () =>
    expectGradchecks(results));
  it("trains the BatchNorm MLP along PyTorch's losses, fused and composite alike", () =>
    expectMlpMatchesTorch(results));
  it("multiplies on the wasm kernel bit-identically to a plain loop", () => expectMatmul(results));
  it("round-trips a state dict through safetensors bytes", () => expectSafetensors(results));
  it("names the op and the layer in error messages of the minified bundle", () => {
    // The bundle really is minified (no keepNames): the class lost its name, the message did not.
    expect(results.errors.batchNormClassName).not.toBe("BatchNorm1d");
    expectReadableErrors(results);
  });
  // Koubai's own arithmetic is deterministic, but the engines' Math.exp and Math.log are not the
  // same functions (Node 20 and Chromium 156 differ in the last float64 bit on 10% and 2% of
  // inputs), so the float32 training numbers may differ by a rounding step; the rest is exact.
  it("computes the numbers Node computes: exactly, up to float32 rounding in training", () => {
    const node = runChecks("node");
    const { runtime, milliseconds, mlp, errors, ...exact } = results;
    const { runtime: _r, milliseconds: _m, mlp: nodeMlp, errors: nodeErrors, ...nodeExact } = node;
    expect(exact).toEqual(nodeExact);
    // Minification renames classes (batchNormClassName), but not the messages.
    const { batchNormClassName: _c, ...messages } = errors;
    const { batchNormClassName: _n, ...nodeMessages } = nodeErrors;
    expect(messages).toEqual(nodeMessages);
    for (const kind of ["composite", "fused"] as const) {
      expectClose(mlp[kind].losses, nodeMlp[kind].losses, 0, 1e-6);
      for (const [key, values] of Object.entries(mlp[kind].final)) {
        expectClose(values, nodeMlp[kind].final[key], 1e-7, 1e-6);
      }
    }
  });
});
