// The packages as users get them, following docs/guides/your-project.md to the letter: the
// guide's commands run in bash in a new folder outside the repository (with a `koubai` link to
// the repository beside it), so `npm run pack` builds the tarballs, plain npm installs them with
// the registry's TypeScript, tsx and Vite, and the guide's files are written and run. Then the
// programs in ../project go further in that project: strict TypeScript under two resolutions,
// plain ESM, CommonJS require() with worker threads, and Vite pages in headless Chromium. The
// tarballs' contents and manifests are checked too.

import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, resolve } from "node:path";
import { chromiumArgs, chromiumMissingReason, chromiumPath } from "@koubai/browser-test/chromium";
import { serveStatic } from "@koubai/browser-test/serve";
import { chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guideScript, guideSteps } from "./helpers/guide.js";

const repo = resolve(import.meta.dirname, "..", "..");
const guidePath = join(repo, "docs", "guides", "your-project.md");
const projectTemplate = resolve(import.meta.dirname, "..", "project");
const PUBLISHED = ["core", "layers", "optim", "onnx"];

let parent = "";
let project = "";
let guideOutput = "";

/**
 * A user's shell environment: without the npm_* settings of the package manager that started
 * the suite, and without the repository's tool folders on PATH.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|INIT_CWD$|NODE_OPTIONS$|VITEST|TURBO_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.startsWith(repo))
    .join(delimiter);
  return env;
}

/** Runs a command in the guide's project; returns stdout, throws with the whole output. */
function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: project, encoding: "utf8", env: userEnv() });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

interface ProgramResult {
  losses: number[];
  product: number[][];
  printed: string;
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
}

beforeAll(() => {
  parent = mkdtempSync(join(tmpdir(), "koubai-consumer-"));
  symlinkSync(repo, join(parent, "koubai"), "dir");
  const script = guideScript(guideSteps(readFileSync(guidePath, "utf8"), "your-project.md"));
  const result = spawnSync("bash", ["-c", script], {
    cwd: parent,
    encoding: "utf8",
    env: userEnv(),
  });
  guideOutput = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) {
    throw new Error(`the guide's commands failed (exit ${result.status}):\n${guideOutput}`);
  }
  project = join(parent, "my-net");
  cpSync(projectTemplate, project, { recursive: true });
});

afterAll(() => {
  if (parent !== "") rmSync(parent, { recursive: true, force: true });
});

describe("docs/guides/your-project.md, run as written", () => {
  it("packs, installs outside the repository and trains the guide's network", () => {
    expect(relative(repo, project).startsWith("..")).toBe(true);
    const accuracy = /accuracy (\d+\.\d)%/.exec(guideOutput);
    expect(accuracy, guideOutput).not.toBeNull();
    expect(Number(accuracy![1])).toBeGreaterThan(90);
    const losses = [...guideOutput.matchAll(/step \d+: loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(losses.length).toBe(5);
    expect(losses[4]).toBeLessThan(losses[0] / 3);
  });

  it("prints the gradient from plain ESM and a product from CommonJS", () => {
    expect(guideOutput).toContain("tensor([3.0000, 12.0000, 27.0000], shape=[3], dtype=float32)");
    expect(guideOutput).toContain("[ [ 7, 10 ], [ 15, 22 ] ]");
  });

  it("installs every dependency with a satisfiable range (npm ls exits non-zero otherwise)", () => {
    const listed = JSON.parse(run("npm", ["ls", "--all", "--json"]));
    for (const name of PUBLISHED) expect(listed.dependencies).toHaveProperty(`@koubai/${name}`);
  });
});

describe("the packed tarballs", () => {
  for (const name of PUBLISHED) {
    describe(`@koubai/${name}`, () => {
      const dir = () => join(project, "node_modules", "@koubai", name);
      const manifest = () => JSON.parse(readFileSync(join(dir(), "package.json"), "utf8"));

      it("has a manifest with real version ranges and an exports map with types first", () => {
        const pkg = manifest();
        expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(JSON.stringify(pkg)).not.toContain("workspace:");
        expect(JSON.stringify(pkg)).not.toContain("@koubai/source");
        // Koubai's own packages depend on each other's current version; a registry package
        // (protobufjs) only has to be satisfied, which npm ls checks above.
        const own = Object.entries(pkg.dependencies ?? {}).filter(([dep]) =>
          dep.startsWith("@koubai/"),
        );
        for (const [dep, range] of own) {
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

describe("the guide's project, further", () => {
  it("type-checks a strict program with the registry's TypeScript, NodeNext and bundler resolution", () => {
    run("npx", ["tsc", "-p", "tsconfig.json"]);
    run("npx", [
      "tsc",
      "-p",
      "tsconfig.json",
      "--module",
      "esnext",
      "--moduleResolution",
      "bundler",
    ]);
  });

  it("reports a type error in user code against the shipped declarations", () => {
    // Proof that the check above can fail: a misspelt backward option does not compile.
    writeFileSync(
      join(project, "misspelt.ts"),
      'import { tensor } from "@koubai/core";\n' +
        "tensor([1], { requiresGrad: true }).sum().backward({ retainGrph: true });\n",
    );
    try {
      expect(() => run("npx", ["tsc", "-p", "tsconfig.json"])).toThrow(/retainGrph/);
    } finally {
      rmSync(join(project, "misspelt.ts"));
    }
  });

  it("runs the TypeScript program with tsx: the BatchNorm network trains", () => {
    const out = JSON.parse(run("npx", ["tsx", "train.ts"]));
    expect(out.last).toBeLessThan(out.first / 3);
    expect(out.accuracy).toBeGreaterThan(0.9);
    expect(out.d2).toEqual([6, 12]);
  });

  it("runs a plain .mjs script on the WebAssembly kernels", () => {
    const out: ProgramResult = JSON.parse(run(process.execPath, ["plain.mjs"]));
    expect(out.losses[out.losses.length - 1]).toBeLessThan(out.losses[0] / 5);
    expect(out.product).toEqual([[17], [39]]);
    expect(out.printed).toBe("tensor([1.5000, -2.0000], shape=[2], dtype=float32)");
  });

  it("loads the packages with require() from CommonJS, worker threads included", () => {
    const out = JSON.parse(run(process.execPath, ["require.cjs"]));
    expect(out).toEqual({ gradShape: [1, 2], parameters: 2 });
  });
});

const skipReason = chromiumMissingReason();

/** Serves `dir`, opens it in headless Chromium and returns what `read` finds, or throws. */
async function inChromium<T>(dir: string, ready: string, read: () => T): Promise<T> {
  const server = await serveStatic(dir);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  try {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // The browser asks for /favicon.ico on its own; the guide's page has none, like most.
      if (message.location().url.endsWith("/favicon.ico")) return;
      if (message.type() === "error")
        pageErrors.push(`${message.text()} ${message.location().url}`);
    });
    await page.goto(server.url);
    await page.waitForFunction(ready, null, { timeout: 30_000 });
    const value = (await page.evaluate(read)) as T;
    expect(pageErrors).toEqual([]);
    return value;
  } finally {
    await browser.close();
    await server.close();
  }
}

describe("Vite pages importing the installed packages, in headless Chromium", () => {
  it("shows the gradient on the guide's page, built by the guide's npx vite build", async (ctx) => {
    ctx.skip(skipReason !== null, skipReason ?? undefined);
    const text = await inChromium(
      join(project, "dist"),
      "document.getElementById('out')?.textContent !== ''",
      () => document.getElementById("out")?.textContent,
    );
    expect(text).toBe("tensor([3.0000, 12.0000, 27.0000], shape=[3], dtype=float32)");
  });

  it("trains on the WebAssembly kernels and computes what Node computes", async (ctx) => {
    ctx.skip(skipReason !== null, skipReason ?? undefined);
    const outDir = join(project, "page-dist");
    await build({
      root: join(project, "page"),
      configFile: false,
      logLevel: "warn",
      build: { outDir, emptyOutDir: true, reportCompressedSize: false },
    });
    const result = await inChromium(outDir, "'__result' in window || '__error' in window", () => {
      const w = window as unknown as { __result?: ProgramResult; __error?: string };
      return { result: w.__result, error: w.__error };
    });
    expect(result.error).toBeUndefined();
    const inPage = result.result!;
    const inNode: ProgramResult = JSON.parse(run(process.execPath, ["plain.mjs"]));
    expect(inPage.product).toEqual(inNode.product);
    expect(inPage.printed).toBe(inNode.printed);
    // The engines' Math.log/Math.cos (randn) may differ in the last bit: allow float32 rounding.
    for (const [i, loss] of inPage.losses.entries()) {
      expect(Math.abs(loss - inNode.losses[i])).toBeLessThanOrEqual(
        1e-5 * Math.abs(inNode.losses[i]),
      );
    }
  });
});
