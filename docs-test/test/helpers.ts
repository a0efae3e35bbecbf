// The repository as the document checks see it: its documents, its user-facing sources and the
// facts the command rules check against.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Repository } from "../src/commands.js";

export const repoRoot = resolve(import.meta.dirname, "..", "..");

function read(path: string): string {
  return readFileSync(join(repoRoot, path), "utf8");
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  if (!existsSync(join(repoRoot, dir))) return [];
  return readdirSync(join(repoRoot, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => pattern.test(f) && !/(^|\/)(node_modules|out|dist|api)\//.test(f))
    .map((f) => join(dir, f));
}

/** Every document a user reads: READMEs and the guides. */
export function documents(): { path: string; text: string }[] {
  const paths = [
    "README.md",
    ...filesUnder("docs/guides", /\.md$/),
    ...["packages", "examples", "bench", "browser-test", "consumer-test", "playground", "docs-test"]
      .flatMap((dir) => filesUnder(dir, /(^|\/)README\.md$/))
      .filter((p) => !p.startsWith("docs/")),
  ];
  return paths.map((path) => ({ path, text: read(path) }));
}

/** Sources whose comments or output speak to users: examples, benchmarks, scripts, packages. */
export function userFacingSources(): { path: string; text: string }[] {
  const paths = [
    ...filesUnder("examples", /\.ts$/).filter((p) => !p.endsWith(".test.ts")),
    ...filesUnder("bench", /\.ts$/),
    ...filesUnder("scripts", /\.mjs$/),
    ...filesUnder("packages", /(^|\/)(src|scripts)\/.*\.(ts|mjs)$/),
    "playground/example.ts",
  ];
  return paths.map((path) => ({ path, text: read(path) }));
}

export function repository(): Repository {
  const { scripts } = JSON.parse(read("package.json"));
  const exampleScripts = Object.keys(JSON.parse(read("examples/package.json")).scripts);
  const environment = new Set<string>();
  for (const { text } of userFacingSources().concat(
    filesUnder("browser-test", /\.ts$/).map((path) => ({ path, text: read(path) })),
  )) {
    for (const m of text.matchAll(/\bKOUBAI_[A-Z0-9_]+\b/g)) environment.add(m[0]);
  }
  const benchRunner = read("scripts/run-bench.mjs");
  const benchmarks = [...benchRunner.matchAll(/(\w+): "[\w:]+"/g)].map((m) => m[1]);
  return {
    scripts,
    examples: exampleScripts.filter((s) => s !== "typecheck" && s !== "test"),
    benchmarks,
    testOptions: ["--verbose"],
    environment,
    exists: (path) => existsSync(join(repoRoot, path)),
  };
}
