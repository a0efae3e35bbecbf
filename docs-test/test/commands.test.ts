// The command rules on commands that must fail and commands that must pass, so that the
// repository-wide check in documents.test.ts is known to catch what it claims to.

import { describe, expect, it } from "vitest";
import {
  commandsInMarkdown,
  commandsInSource,
  type DocumentCommand,
  problemWith,
  type Repository,
} from "../src/commands.js";

const repo: Repository = {
  scripts: {
    test: "node scripts/bootstrap.mjs check",
    example: "node scripts/bootstrap.mjs example:run",
    bench: "node scripts/bootstrap.mjs bench:run",
    play: "node scripts/bootstrap.mjs play:run",
    check: "node scripts/check.mjs",
  },
  examples: ["mnist", "graph"],
  benchmarks: ["peers", "heap"],
  testOptions: ["--verbose"],
  environment: new Set(["KOUBAI_KERNEL_THREADS"]),
  exists: (path) => path === "scripts/pack.mjs",
};

const inRepo = (command: string): DocumentCommand => ({ where: "doc:1", command, document: null });

describe("problemWith", () => {
  it.each([
    ["npm test"],
    ["npm test -- --verbose"],
    ["npm run example -- mnist --quick"],
    ["npm run -s example -- graph"],
    ["npm run bench -- peers --workloads=bn"],
    ["npm run bench -- --frameworks=koubai"],
    ["KOUBAI_KERNEL_THREADS=2 npm run bench"],
    ["GLIBC_TUNABLES=glibc.malloc.trim_threshold=1 npm run bench"],
    ["npm run play -- my-net.ts"],
    ["npm run example -- <name> [flags]"],
    ["node scripts/pack.mjs"],
    ["apt-get install -y chromium"],
  ])("accepts %s", (command) => {
    expect(problemWith(inRepo(command), repo)).toBeNull();
  });

  it.each([
    ["pnpm bench", /pnpm is not on a fresh machine/],
    [".tools/node_modules/.bin/pnpm --filter @koubai/examples run mnist", /\.tools\/ exists only/],
    ["npm run docs", /no such root script/],
    ["npm run check", /needs the tools installed first/],
    ["npm run example mnist", /need a "--"/],
    ["npm run example -- nope", /no example named nope/],
    ["npm run bench -- nope", /no benchmark named nope/],
    ["npm run play -- notes.txt", /\.ts or \.js file/],
    ["npm test -- --quiet", /does not accept --quiet/],
    ["KOUBAI_NOPE=1 npm run bench", /sets KOUBAI_NOPE, which no source reads/],
    ["node scripts/missing.mjs", /does not exist/],
    ["npx tsc", /npx tsc downloads/],
    ["tsx hello.ts", /not on a fresh machine/],
    ["make all", /unknown command "make"/],
  ])("refuses %s", (command, reason) => {
    expect(problemWith(inRepo(command), repo)).toMatch(reason);
  });

  it("accepts a reader's own project commands only where the document installs and saves them", () => {
    const markdown = [
      "```sh",
      "npm install --save-dev typescript tsx",
      "```",
      "",
      "Save as `hello.mjs`:",
      "",
      "```js",
      "console.log(1);",
      "```",
      "",
      "```sh",
      "npx tsc",
      "npx tsx hello.ts",
      "node hello.mjs",
      "npx vite build",
      "```",
    ].join("\n");
    const problems = commandsInMarkdown(markdown, "guide.md").map((c) => problemWith(c, repo));
    expect(problems).toEqual([null, null, null, null, expect.stringMatching(/npx vite downloads/)]);
  });
});

describe("finding commands", () => {
  it("reads shell blocks (prompts, comments, continuations) and command spans, not prose spans", () => {
    const markdown = [
      "Run `npm run example -- mnist`, or see `tsx` and `npm`.",
      "",
      "```sh",
      "$ npm test   # the suite",
      "# a comment line",
      "npm run bench -- \\",
      "  peers",
      "```",
      "",
      "```ts",
      'const s = "npm run nope";',
      "```",
    ].join("\n");
    expect(commandsInMarkdown(markdown, "doc.md").map((c) => [c.where, c.command])).toEqual([
      ["doc.md:4", "npm test"],
      ["doc.md:6", "npm run bench -- peers"],
      ["doc.md:1", "npm run example -- mnist"],
    ]);
  });

  it("reads instructions in sources up to the end of the command, not prose about pnpm", () => {
    const source = [
      "// Run: npm run example -- mnist [--quick]   (see the README)",
      'console.log("   npm run example -- graph   the graph as SVG");',
      "// pnpm rebuilds PATH for scripts, so the pinned pnpm is added back",
      "// Regenerate with `npm run build:wasm`; a test fails when this is stale.",
      'console.error("npm run example: no example named x");',
      "// old: pnpm --filter @koubai/examples run mnist",
    ].join("\n");
    expect(commandsInSource(source, "s.ts").map((c) => c.command)).toEqual([
      "npm run example -- mnist [--quick]",
      "npm run example -- graph",
      "npm run build:wasm",
      "npm run example: no example named x",
      "pnpm --filter @koubai/examples run mnist",
    ]);
  });
});
