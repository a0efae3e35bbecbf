// The Backprop Explorer (examples/explorer) in headless Chromium: each view driven as a learner
// would, the numbers it shows compared with Koubai's in Node, no console errors, and a screenshot
// of each view in browser-test/screenshots/ (git-ignored). Skipped, with the reason printed, only
// where Chromium is absent (see helpers/chromium.ts).

import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tensor } from "@koubai/core";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { removeBundle, type StaticServer, serveStatic } from "./helpers/bundle.js";
import { chromiumArgs, chromiumMissingReason, chromiumPath } from "./helpers/chromium.js";

const skipReason = chromiumMissingReason();
const explorerConfig = join(
  import.meta.dirname,
  "..",
  "..",
  "examples",
  "explorer",
  "vite.config.ts",
);
const screenshots = join(import.meta.dirname, "..", "screenshots");

async function gradsShown(page: Page): Promise<Record<string, number[] | null>> {
  return page.$$eval("#expr-grads tr[data-name]", (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        row.getAttribute("data-name"),
        JSON.parse(row.querySelector("td.grad")?.getAttribute("data-grad") ?? "null"),
      ]),
    ),
  );
}

describe("the Backprop Explorer in headless Chromium", () => {
  let outDir = "";
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeEach((ctx) => ctx.skip(skipReason !== null, skipReason ?? undefined));

  beforeAll(async () => {
    if (skipReason !== null) return;
    outDir = mkdtempSync(join(tmpdir(), "koubai-explorer-"));
    await build({
      configFile: explorerConfig,
      logLevel: "warn",
      build: { outDir, emptyOutDir: true },
    });
    server = await serveStatic(outDir);
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(server.url);
    mkdirSync(screenshots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir !== "") removeBundle(outDir);
  });

  it("Expression: steps the backward pass to the gradients Node computes, and accumulates on a second backward", async () => {
    await page.click("#expr-build");
    await page.waitForFunction(
      () =>
        document.querySelector("#expr-graph svg") !== null ||
        document.querySelector("#expr-error")?.textContent !== "",
    );
    expect(await page.textContent("#expr-error"), String(pageErrors)).toBe("");
    expect(await gradsShown(page)).toEqual({ a: null, b: null, c: null });
    await page.click("#expr-step-button");
    await page.waitForFunction(() =>
      document.querySelector("#expr-step")?.textContent?.startsWith("Step 1 of"),
    );
    expect(await page.textContent("#expr-step")).toContain("rule: d/dx = g·(1 - tanh² x)");
    await page.click("#expr-run-all");
    await page.waitForFunction(() =>
      document.querySelector("#expr-note")?.textContent?.includes("backward pass is done"),
    );
    // The same expression in Node.
    const [a, b, c] = [2, -3, 10].map((v, i) => {
      const t = tensor(v, { dtype: "float64", requiresGrad: true });
      t.name = "abc"[i];
      return t;
    });
    a.mul(b).add(c).tanh().backward();
    const shown = await gradsShown(page);
    expect(shown.a?.[0]).toBeCloseTo(a.grad!.item(), 12);
    expect(shown.b?.[0]).toBeCloseTo(b.grad!.item(), 12);
    expect(shown.c?.[0]).toBeCloseTo(c.grad!.item(), 12);
    await page.screenshot({ path: join(screenshots, "1-expression.png"), fullPage: true });
    await page.click("#expr-again");
    await page.waitForFunction(() =>
      document.querySelector("#expr-grads caption")?.textContent?.includes("2 backward() calls"),
    );
    expect((await gradsShown(page)).c?.[0]).toBeCloseTo(2 * c.grad!.item(), 12);
    await page.click("#expr-zero");
    expect(await gradsShown(page)).toEqual({ a: null, b: null, c: null });
  });

  it("Expression: says where a typed expression is wrong", async () => {
    await page.fill("#expr-input", "(a*b + ");
    await page.click("#expr-build");
    expect(await page.textContent("#expr-error")).toBe(
      "the expression ends too early (at character 8)",
    );
    await page.fill("#expr-input", "(a*b + c).tanh()");
  });

  it("Network: trains a few hundred steps on the moons and the loss falls", async () => {
    await page.click("#tab-network");
    await page.click("#net-train");
    await page.waitForFunction(
      () => Number(document.querySelector("#net-status")?.getAttribute("data-steps")) >= 200,
      null,
      {
        timeout: 60_000,
      },
    );
    await page.click("#net-pause");
    const [first, last] = await page.$eval("#net-status", (s) => [
      Number(s.getAttribute("data-first-loss")),
      Number(s.getAttribute("data-loss")),
    ]);
    expect(last).toBeLessThan(first * 0.7);
    await page.click("#net-health tr[data-layer]");
    expect(await page.textContent("#net-detail")).toMatch(/^0\.weight \[16,2\]\ngrad: \[/);
    await page.screenshot({ path: join(screenshots, "2-network.png"), fullPage: true });
  }, 90_000);

  it("BatchNorm lab: gradcheck passes for the derived backward and flags the published one", async () => {
    await page.click("#tab-batchnorm");
    await page.click("#bn-run");
    await page.waitForFunction(
      () => document.querySelector("#bn-check")?.textContent !== "",
      null,
      { timeout: 60_000 },
    );
    expect(await page.textContent("#bn-check")).toContain("gradcheck passes");
    await page.check("#bn-published");
    await page.click("#bn-run");
    await page.waitForFunction(
      () => document.querySelector("#bn-check")?.textContent?.startsWith("gradcheck FAILS"),
      null,
      {
        timeout: 60_000,
      },
    );
    expect(await page.textContent("#bn-check")).toContain("off by exactly σ² per feature");
    await page.screenshot({ path: join(screenshots, "3-batchnorm-lab.png"), fullPage: true });
  }, 120_000);

  it("Your layer: gradcheck passes for a right backward and shows the first disagreeing element of a wrong one", async () => {
    await page.click("#tab-your-layer");
    await page.click("#yl-check");
    expect(await page.textContent("#yl-result")).toContain("gradcheck passes");
    await page.fill("#yl-backward", "return gradOut.mul(x.square().mul(2));");
    await page.click("#yl-check");
    expect(await page.textContent("#yl-result")).toMatch(
      /^gradcheck FAILS\. gradcheck: Jacobian mismatch for input 0 \(shape \[2, 3\]\), element \d+, output element \d+: analytic -?[\d.e-]+ vs numeric -?[\d.e-]+/,
    );
    await page.screenshot({ path: join(screenshots, "4-your-layer.png"), fullPage: true });
  });

  it("shows no console errors in any view", () => {
    expect(pageErrors).toEqual([]);
  });
});
