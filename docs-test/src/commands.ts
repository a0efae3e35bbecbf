// The commands that documents and program output tell readers to type, and whether each one
// works on a fresh machine with only Node and npm. Commands are read from shell blocks and from
// inline code spans of Markdown, and from `npm ...`, `npx ...` or `pnpm ...` text in source
// files (comments and printed strings). A command either passes one of the rules below or is
// reported with the reason; an unknown command is a problem too, so a new kind needs a rule.

import { codeBlocks, inlineCode } from "./markdown.js";

export interface DocumentCommand {
  /** Where it was found, as `file:line`. */
  where: string;
  command: string;
  /** The `npm install`ed packages and saved files of its document (a project of the reader's). */
  document: { installs: Set<string>; savedFiles: Set<string> } | null;
}

/** What the rules check commands against. */
export interface Repository {
  /** The root package.json's scripts. */
  scripts: Record<string, string>;
  /** Names `npm run example -- <name>` accepts. */
  examples: readonly string[];
  /** Subcommands `npm run bench -- <sub>` accepts. */
  benchmarks: readonly string[];
  /** Arguments `npm test -- ...` accepts. */
  testOptions: readonly string[];
  /** Environment variables some source reads (KOUBAI_*). */
  environment: ReadonlySet<string>;
  /** True when the path (relative to the repository root) exists. */
  exists(path: string): boolean;
}

const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);
/** Variables the system itself reads (glibc's malloc settings), which no source of ours need read. */
const SYSTEM_ENVIRONMENT: ReadonlySet<string> = new Set(["GLIBC_TUNABLES"]);
/** An inline code span that is a command: a known tool and at least one argument. */
const COMMAND_START =
  /^(?:[A-Z][A-Z0-9_]*=\S*\s+)*(?:npm|npx|node|pnpm|tsx|bash|cd|mkdir|apt-get|python3|\/usr\/bin\/python3|git|\.tools\/\S*)\s+\S/;
/**
 * Instructions in source text: npm scripts, and the pnpm invocations that only work after an
 * install (prose about pnpm itself, as in the bootstrap script, is not an instruction).
 */
const SOURCE_COMMAND =
  /(?:npm (?:run|test)\b|pnpm (?:--filter|run|bench|exec|test)\b|\.tools\/node_modules\/\.bin\/)[^`"'\n]*/g;

/** Commands in a Markdown document. `savedFiles` come from "Save as `name`:" blocks. */
export function commandsInMarkdown(markdown: string, file: string): DocumentCommand[] {
  const blocks = codeBlocks(markdown);
  const savedFiles = new Set(
    blocks.map((b) => /as `([^`]+)`:\s*$/.exec(b.introducedBy)?.[1]).filter((f) => f !== undefined),
  );
  const found: { command: string; line: number }[] = [];
  for (const block of blocks.filter((b) => SHELL_LANGS.has(b.lang))) {
    let pending = "";
    let startLine = 0;
    block.body.split("\n").forEach((raw, i) => {
      if (pending === "") startLine = block.line + 1 + i;
      const text = raw.replace(/^\s*\$\s+/, "").trim();
      if (text.endsWith("\\")) {
        pending += `${text.slice(0, -1)} `; // a continued line
        return;
      }
      const command = `${pending}${text}`
        .replace(/\s+#.*$/, "")
        .replace(/\s+/g, " ")
        .trim();
      pending = "";
      if (command !== "" && !command.startsWith("#")) found.push({ command, line: startLine });
    });
  }
  for (const span of inlineCode(markdown)) {
    if (COMMAND_START.test(span.text)) found.push({ command: span.text.trim(), line: span.line });
  }
  const installs = new Set(
    found
      .filter((f) => /^npm install\b/.test(f.command))
      .flatMap((f) => f.command.split(/\s+/).slice(2))
      .filter((arg) => !arg.startsWith("-") && !arg.includes("/"))
      .map((arg) => arg.replace(/(.)@.*$/, "$1")),
  );
  const document = installs.size > 0 || savedFiles.size > 0 ? { installs, savedFiles } : null;
  return found.map(({ command, line }) => ({ where: `${file}:${line}`, command, document }));
}

/** Commands mentioned in a source file's comments or printed strings. */
export function commandsInSource(source: string, file: string): DocumentCommand[] {
  const found: DocumentCommand[] = [];
  source.split("\n").forEach((text, i) => {
    for (const match of text.matchAll(SOURCE_COMMAND)) {
      const command = match[0]
        .split(/ {2,}| \(|\. |;/)[0]
        .replace(/[.,:)\\]+$/, "")
        .trim();
      found.push({ where: `${file}:${i + 1}`, command, document: null });
    }
  });
  return found;
}

/** A placeholder such as `<name>` or `[flags]`, which the rules do not check. */
function isPlaceholder(token: string): boolean {
  return /^[<[]/.test(token) || token === "...";
}

function tokensOf(command: string): { env: string[]; words: string[] } {
  let all = command.split(/\s+/).filter((t) => t !== "");
  // Placeholders (`<name>`, `[flags]`) end what can be checked.
  const placeholder = all.findIndex(isPlaceholder);
  if (placeholder >= 0) all = all.slice(0, placeholder);
  // In messages such as "npm run example: no example named ...", the command ends at the colon.
  const colon = all.findIndex((t) => t.endsWith(":"));
  if (colon >= 0) all = [...all.slice(0, colon), all[colon].slice(0, -1)];
  const env: string[] = [];
  while (all.length > 0 && /^[A-Z][A-Z0-9_]*=/.test(all[0])) env.push(all.shift()!.split("=")[0]);
  return { env, words: all };
}

/** Why `command` would fail on a fresh machine, or null when it resolves. */
export function problemWith(found: DocumentCommand, repo: Repository): string | null {
  const { env, words } = tokensOf(found.command);
  for (const name of env) {
    if (!repo.environment.has(name) && !SYSTEM_ENVIRONMENT.has(name)) {
      return `sets ${name}, which no source reads`;
    }
  }
  const [tool, ...args] = words;
  const project = found.document;
  switch (tool) {
    case "npm":
      return npmProblem(args, repo, project);
    case "node":
    case "bash":
    case "python3":
    case "/usr/bin/python3": {
      const file = args.find((a) => !a.startsWith("-"));
      if (file === undefined || isPlaceholder(file)) return null;
      if (project?.savedFiles.has(file)) return null;
      return repo.exists(file) ? null : `runs ${file}, which does not exist`;
    }
    case "npx": {
      const bin = args[0];
      const pkg = bin === "tsc" ? "typescript" : bin;
      if (project?.installs.has(pkg)) return null;
      return `npx ${bin} downloads or needs a local install on a fresh machine; use an npm run script`;
    }
    case "cd":
    case "mkdir":
      return null;
    case "apt-get":
      return args[0] === "install" ? null : `apt-get ${args[0]} is not a set-up step`;
    case "git":
      return null;
    case "pnpm":
    case "tsx":
      return `${tool} is not on a fresh machine (only Node and npm are); use an npm run script`;
    default:
      if (tool?.startsWith(".tools/"))
        return ".tools/ exists only after a first install; use an npm run script";
      return `unknown command ${JSON.stringify(tool)}: add a rule to docs-test/src/commands.ts`;
  }
}

function npmProblem(
  args: string[],
  repo: Repository,
  project: DocumentCommand["document"],
): string | null {
  const rest = args.filter((a) => a !== "-s" && a !== "--silent");
  const [verb, ...more] = rest;
  const afterDashes = more.includes("--") ? more.slice(more.indexOf("--") + 1) : [];
  if (verb === "test") {
    const unknown = afterDashes.filter((a) => !repo.testOptions.includes(a) && !isPlaceholder(a));
    return unknown.length > 0 ? `npm test does not accept ${unknown.join(" ")}` : null;
  }
  if (verb === "run") {
    const script = more[0];
    if (script === undefined || isPlaceholder(script)) return null;
    const body = repo.scripts[script];
    if (body === undefined) return `npm run ${script}: no such root script`;
    if (!body.startsWith("node scripts/bootstrap.mjs")) {
      return `npm run ${script} needs the tools installed first; document a script that goes through scripts/bootstrap.mjs`;
    }
    if (more.length > 1 && more[1] !== "--")
      return `arguments to npm run ${script} need a "--" before them`;
    const first = afterDashes[0];
    if (first === undefined || isPlaceholder(first)) return null;
    if (script === "example" && !repo.examples.includes(first)) return `no example named ${first}`;
    if (script === "bench" && !first.startsWith("-") && !repo.benchmarks.includes(first)) {
      return `no benchmark named ${first}`;
    }
    if (script === "play" && !/\.(ts|mts|js|mjs)$/.test(first))
      return `npm run play runs a .ts or .js file, not ${first}`;
    return null;
  }
  if (project !== null && (verb === "init" || verb === "pkg" || verb === "install")) return null;
  return `npm ${verb} is not a command of this repository`;
}
