// Every TypeScript snippet in the README files and the guides type-checks (strict) against the
// packages, so an example cannot drift from the API. A snippet without imports continues the
// one before it in the same document, and an HTML comment `<!-- prelude: ... -->` right above a
// fence supplies what the surrounding text implies (hidden when rendered). Each snippet is checked
// as a module of its own, all in one tsc run.

import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { codeBlocks } from "../src/markdown.js";
import { documents, repoRoot } from "./helpers.js";

const snippetsDir = join(repoRoot, "docs-test", ".snippets");

interface Snippet {
  file: string;
  document: string;
  /** Line in the document of the snippet's first line, and how many lines were prepended. */
  firstLine: number;
  prefixLines: number;
}

const snippets: Snippet[] = [];
const errors = new Map<string, string[]>();

beforeAll(() => {
  rmSync(snippetsDir, { recursive: true, force: true });
  mkdirSync(snippetsDir, { recursive: true });
  for (const doc of documents()) {
    let previous = "";
    codeBlocks(doc.text)
      .filter((b) => b.lang === "ts" || b.lang === "typescript")
      .forEach((block, n) => {
        const standalone = /^import\s/m.test(block.body);
        const prelude = block.prelude === "" ? "" : `${block.prelude}\n`;
        const prefix = `${standalone ? "" : previous}${prelude}`;
        const source = `${prefix}${block.body}`;
        previous = source;
        const file = `${doc.path.replace(/[/.]/g, "_")}_${n}.ts`;
        // `export {}` makes every snippet a module, so names do not clash across snippets.
        writeFileSync(join(snippetsDir, file), `${source}\nexport {};\n`);
        snippets.push({
          file,
          document: doc.path,
          firstLine: block.line + 1,
          prefixLines: prefix === "" ? 0 : prefix.split("\n").length - 1,
        });
      });
  }
  // A canary that must fail, so a check that silently passes everything is caught.
  writeFileSync(join(snippetsDir, "canary.ts"), 'const n: number = "one";\nexport {};\n');
  snippets.push({ file: "canary.ts", document: "(canary)", firstLine: 1, prefixLines: 0 });
  writeFileSync(
    join(snippetsDir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../tsconfig.base.json",
      compilerOptions: { noEmit: true, types: ["node"] },
      include: ["*.ts"],
    }),
  );
  let output = "";
  try {
    execFileSync(
      process.execPath,
      [join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", snippetsDir],
      { encoding: "utf8" },
    );
  } catch (error) {
    output = (error as { stdout: string }).stdout;
  }
  for (const line of output.split("\n")) {
    const m = /^(?:.*\/)?([^/(]+\.ts)\((\d+),\d+\): (.*)$/.exec(line);
    if (m === null) continue;
    const snippet = snippets.find((s) => s.file === m[1]);
    if (snippet === undefined) continue;
    const docLine = snippet.firstLine + Number(m[2]) - 1 - snippet.prefixLines;
    const list = errors.get(snippet.document) ?? [];
    list.push(`${snippet.document}:${docLine}: ${m[3]}`);
    errors.set(snippet.document, list);
  }
}, 120_000);

describe("TypeScript snippets in the documents", () => {
  it("fail where a snippet has a type error (a canary)", () => {
    expect(errors.get("(canary)")).toEqual([
      "(canary):1: error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
  });

  it("are found in the README files and the guides", () => {
    expect(snippets.length).toBeGreaterThan(10);
    expect(new Set(snippets.map((s) => s.document))).toContain("packages/core/README.md");
  });

  for (const doc of documents().map((d) => d.path)) {
    it(`type-check: ${doc}`, () => {
      expect(errors.get(doc) ?? []).toEqual([]);
    });
  }
});
