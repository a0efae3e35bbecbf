// Checks that tests mirror sources: every src/**/NAME.ts of the packages has test/**/NAME.test.ts,
// or an entry in scripts/test-mirror-allow-list.json saying where it is covered instead (a table
// of samples, an end-to-end test, a generated-file check). Entries must stay true: an entry for a
// source that now has a twin, or no longer exists, is an error too.
// Run by scripts/check.mjs inside `npm test`: `node scripts/check-mirror.mjs [repository root]`.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The packages whose sources are mirrored. */
export const PACKAGES = [
  "packages/core",
  "packages/layers",
  "packages/optim",
  "packages/onnx",
  "packages/test-utils",
];

/** Every .ts file below `dir` (relative paths with "/"), or none when it does not exist. */
function sourceFiles(dir, sub = "") {
  if (!existsSync(join(dir, sub))) return [];
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((entry) => {
    const path = sub === "" ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(dir, path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The sources of `root`'s packages without a test twin, as repository-relative paths. */
export function sourcesWithoutTwin(root, packages = PACKAGES) {
  return packages.flatMap((pkg) =>
    sourceFiles(join(root, pkg, "src"))
      .filter((path) => !existsSync(join(root, pkg, "test", path.replace(/\.ts$/, ".test.ts"))))
      .map((path) => `${pkg}/src/${path}`),
  );
}

/**
 * The problems: a source without a twin and without an allow-list entry, an entry without a
 * reason, and an entry for a source that has a twin or does not exist.
 */
export function mirrorProblems(root, allowList, packages = PACKAGES) {
  const missing = sourcesWithoutTwin(root, packages);
  const problems = [];
  for (const path of missing) {
    if (!(path in allowList))
      problems.push(`${path} has no test twin (${twinOf(path)}) and no allow-list entry`);
    else if (typeof allowList[path] !== "string" || allowList[path].trim() === "")
      problems.push(`${path}: its allow-list entry must say where it is covered`);
  }
  for (const path of Object.keys(allowList)) {
    if (!existsSync(join(root, path))) problems.push(`allow-list entry ${path}: no such source`);
    else if (!missing.includes(path))
      problems.push(
        `allow-list entry ${path}: it has a twin now (${twinOf(path)}); remove the entry`,
      );
  }
  return problems;
}

function twinOf(path) {
  return path.replace("/src/", "/test/").replace(/\.ts$/, ".test.ts");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const listFile = join(root, "scripts", "test-mirror-allow-list.json");
  const allowList = existsSync(listFile) ? JSON.parse(readFileSync(listFile, "utf8")) : {};
  const problems = mirrorProblems(root, allowList);
  for (const problem of problems) console.error(`  ${problem}`);
  const covered = Object.keys(allowList).length;
  console.log(
    problems.length === 0
      ? `every source has a test twin or says where it is covered (${covered} allow-list entries)`
      : `${problems.length} test-mirror problem(s); see scripts/test-mirror-allow-list.json`,
  );
  process.exit(problems.length === 0 ? 0 : 1);
}
