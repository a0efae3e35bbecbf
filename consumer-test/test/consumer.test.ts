// The packages as users get them: `npm run pack` builds and packs the three published packages,
// plain npm installs the tarballs into a new project outside the repository (no pnpm, no
// workspace), and the programs in ../project use them from there: strict TypeScript, plain ESM,
// CommonJS require(), and a page bundled by Vite and run in headless Chromium. The tarballs'
// contents and manifests are checked too. The tools (tsc, tsx, vite) come from the repository.

import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { chromiumArgs, chromiumMissingReason, chromiumPath } from "@koubai/browser-test/chromium";
import { serveStatic } from "@koubai/browser-test/serve";
import { chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "..", "..");
const projectTemplate = resolve(import.meta.dirname, "..", "project");
const PUBLISHED = ["core", "layers", "optim"];
const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
const tsxCli = join(repo, "node_modules", "tsx", "dist", "cli.mjs");

let project = "";

interface ProgramResult {
  losses: number[];
  product: number[][];
  printed: string;
}

/** Runs `args` with this Node in the consumer project; returns stdout, throws with stderr. */
function node(args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd: project, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `node ${args.join(" ")} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, "scripts", "pack.mjs")], { cwd: repo, stdio: "pipe" });
  const tarballs = readdirSync(join(repo, ".packs"))
    .filter((f) => f.endsWith(".tgz"))
    .map((f) => join(repo, ".packs", f));
  project = mkdtempSync(join(tmpdir(), "koubai-consumer-"));
  cpSync(projectTemplate, project, { recursive: true });
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "koubai-consumer", private: true, type: "module" }, null, 2),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-update-notifier", ...tarballs], {
    cwd: project,
    stdio: "pipe",
  });
});

afterAll(() => {
  if (project !== "") rmSync(project, { recursive: true, force: true });
});

describe("the packed tarballs", () => {
  it("install with plain npm outside the repository, with every dependency satisfied", () => {
    expect(relative(repo, project).startsWith("..")).toBe(true);
    // npm ls exits non-zero on a missing or invalid dependency (e.g. an unsatisfiable range).
    const listed = JSON.parse(
      execFileSync("npm", ["ls", "--all", "--json"], { cwd: project, encoding: "utf8" }),
    );
    expect(Object.keys(listed.dependencies).sort()).toEqual(PUBLISHED.map((p) => `@koubai/${p}`));
  });

  for (const name of PUBLISHED) {
    describe(`@koubai/${name}`, () => {
      const dir = () => join(project, "node_modules", "@koubai", name);
      const manifest = () => JSON.parse(readFileSync(join(dir(), "package.json"), "utf8"));

      it("has a manifest with real version ranges and an exports map with types first", () => {
        const pkg = manifest();
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(JSON.stringify(pkg)).not.toContain("workspace:");
        expect(JSON.stringify(pkg)).not.toContain("@koubai/source");
        for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
          const version = JSON.parse(
            readFileSync(join(project, "node_modules", dep, "package.json"), "utf8"),
          ).version;
          expect(range, `${dep} range`).toBe(`^${version}`);
        }
        expect(Object.keys(pkg.exports["."])).toEqual(["types", "default"]);
        expect(pkg.type).toBe("module");
        // Core's one side effect: attaching the Tensor methods (methods.js, imported by the entry points).
        expect(pkg.sideEffects).toEqual(
          name === "core"
            ? [
                "./src/index.ts",
                "./src/internal.ts",
                "./src/methods.ts",
                "./dist/index.js",
                "./dist/internal.js",
                "./dist/methods.js",
              ]
            : false,
        );
        expect(pkg.license).toBe("MIT");
        expect(pkg.repository.directory).toBe(`packages/${name}`);
        expect(pkg.keywords.length).toBeGreaterThan(3);
        // require() of an ES module works from Node 20.19 on; engines must not promise less.
        expect(pkg.engines.node).toBe(">=20.19");
      });

      it("ships the built ESM, declarations, license, readme and changelog, and no tests", () => {
        const files = filesBelow(dir());
        for (const needed of [
          "dist/index.js",
          "dist/index.d.ts",
          "LICENSE",
          "README.md",
          "CHANGELOG.md",
        ]) {
          expect(files, needed).toContain(needed);
        }
        for (const js of files.filter((f) => f.startsWith("dist/") && f.endsWith(".js"))) {
          expect(files, `declarations of ${js}`).toContain(js.replace(/\.js$/, ".d.ts"));
        }
        const unwanted = files.filter((f) =>
          /(^|\/)(test|tests|fixtures|node_modules)\/|\.test\.|\.tsbuildinfo$|^\.|\/\./.test(f),
        );
        expect(unwanted).toEqual([]);
      });

      it("ships the source every source map points at", () => {
        const files = new Set(filesBelow(dir()));
        const maps = [...files].filter((f) => f.endsWith(".map"));
        expect(maps.length).toBeGreaterThan(0);
        const missing: string[] = [];
        for (const map of maps) {
          const { sources, sourceRoot } = JSON.parse(readFileSync(join(dir(), map), "utf8"));
          for (const source of sources as string[]) {
            const target = relative(dir(), join(dir(), dirname(map), sourceRoot ?? "", source));
            if (!files.has(target)) missing.push(`${map} -> ${source}`);
          }
        }
        expect(missing).toEqual([]);
      });
    });
  }
});

describe("a user's project with the installed packages", () => {
  it("type-checks a strict TypeScript program under NodeNext and bundler resolution", () => {
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project, stdio: "pipe" });
    execFileSync(
      process.execPath,
      [tsc, "-p", "tsconfig.json", "--module", "esnext", "--moduleResolution", "bundler"],
      { cwd: project, stdio: "pipe" },
    );
  });

  it("reports a type error in user code against the shipped declarations", () => {
    // Proof that the check above can fail: a misspelt backward option does not compile.
    writeFileSync(
      join(project, "misspelt.ts"),
      'import { tensor } from "@koubai/core";\n' +
        "tensor([1], { requiresGrad: true }).sum().backward({ retainGrph: true });\n",
    );
    const result = spawnSync(
      process.execPath,
      [
        tsc,
        "--strict",
        "--noEmit",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "misspelt.ts",
      ],
      { cwd: project, encoding: "utf8" },
    );
    rmSync(join(project, "misspelt.ts"));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("retainGrph");
  });

  it("runs the TypeScript program with tsx: the BatchNorm network trains", () => {
    const out = JSON.parse(node([tsxCli, "train.ts"]));
    expect(out.last).toBeLessThan(out.first / 3);
    expect(out.accuracy).toBeGreaterThan(0.9);
    expect(out.d2).toEqual([6, 12]);
  });

  it("runs a plain .mjs script on the WebAssembly kernels", () => {
    const out: ProgramResult = JSON.parse(node(["plain.mjs"]));
    expect(out.losses[out.losses.length - 1]).toBeLessThan(out.losses[0] / 5);
    expect(out.product).toEqual([[17], [39]]);
    expect(out.printed).toBe("tensor([1.5000, -2.0000], shape=[2], dtype=float32)");
  });

  it("loads the packages with require() from CommonJS, worker threads included", () => {
    const out = JSON.parse(node(["require.cjs"]));
    expect(out).toEqual({ gradShape: [1, 2], parameters: 2 });
  });
});

const skipReason = chromiumMissingReason();
if (skipReason !== null) console.warn(skipReason);

describe.skipIf(skipReason !== null)("a Vite page importing the installed packages", () => {
  it("runs in headless Chromium and computes what Node computes", async () => {
    const outDir = join(project, "page-dist");
    await build({
      root: join(project, "page"),
      configFile: false,
      logLevel: "warn",
      build: { outDir, emptyOutDir: true, reportCompressedSize: false },
    });
    // Resolved from the project's node_modules, i.e. the tarballs' dist/, not the repository.
    const bundled = filesBelow(outDir).filter((f) => f.endsWith(".js"));
    expect(bundled.length).toBeGreaterThan(0);
    const server = await serveStatic(outDir);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(message.text());
      });
      await page.goto(server.url);
      await page.waitForFunction(() => "__result" in window || "__error" in window, null, {
        timeout: 30_000,
      });
      const failure = await page.evaluate(() => (window as { __error?: string }).__error);
      expect(failure).toBeUndefined();
      const inPage = (await page.evaluate(
        () => (window as unknown as { __result: ProgramResult }).__result,
      )) as ProgramResult;
      expect(pageErrors).toEqual([]);
      const inNode: ProgramResult = JSON.parse(node(["plain.mjs"]));
      expect(inPage.product).toEqual(inNode.product);
      expect(inPage.printed).toBe(inNode.printed);
      // The engines' Math.log/Math.cos (randn) may differ in the last bit: allow float32 rounding.
      for (const [i, loss] of inPage.losses.entries()) {
        expect(Math.abs(loss - inNode.losses[i])).toBeLessThanOrEqual(
          1e-5 * Math.abs(inNode.losses[i]),
        );
      }
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
