// Fresh-machine entry point behind the root npm scripts (`npm test`, `npm run demo`, `npm run
// example`, ...): installs the pinned pnpm (read from package.json's packageManager) into the
// git-ignored .tools/, installs the workspace from the lockfile, then runs the given root script
// with that pnpm, passing the remaining arguments on. `--pnpm` instead runs the pinned pnpm itself
// with the arguments (`npm run pnpm -- --filter @koubai/core test`).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [, version] = JSON.parse(
  readFileSync(join(root, "package.json"), "utf8"),
).packageManager.split("@");
const toolsDir = join(root, ".tools");
const pnpmEntry = join(toolsDir, "node_modules", "pnpm", "bin", "pnpm.cjs");
const pnpmManifest = join(toolsDir, "node_modules", "pnpm", "package.json");

function run(cmd, args) {
  execFileSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      // Root scripts call `pnpm` (and turbo calls it too): the pinned one in .tools/ comes first.
      PATH: `${join(toolsDir, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
      TURBO_TELEMETRY_DISABLED: "1",
    },
  });
}

function exitLike(error) {
  process.exit(typeof error.status === "number" ? error.status : 1);
}

const installed = existsSync(pnpmManifest)
  ? JSON.parse(readFileSync(pnpmManifest, "utf8")).version
  : null;
if (installed !== version) {
  console.log(`[koubai] installing pnpm ${version} into .tools/`);
  run("npm", [
    "install",
    "--prefix",
    toolsDir,
    "--no-save",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    `pnpm@${version}`,
  ]);
}
// pnpm keeps a copy of the lockfile it last installed in node_modules/.pnpm/lock.yaml: when it
// equals pnpm-lock.yaml, the install is current and its ~3 s check can be skipped.
const current = join(root, "node_modules", ".pnpm", "lock.yaml");
const upToDate =
  existsSync(current) &&
  readFileSync(current, "utf8") === readFileSync(join(root, "pnpm-lock.yaml"), "utf8");
if (!upToDate) {
  try {
    run(process.execPath, [pnpmEntry, "install", "--frozen-lockfile", "--reporter=append-only"]);
  } catch (error) {
    exitLike(error);
  }
}

const [script, ...rest] = process.argv.slice(2);
if (script) {
  try {
    if (script === "--pnpm") run(process.execPath, [pnpmEntry, ...rest]);
    else run(process.execPath, [pnpmEntry, "--silent", "run", script, ...rest]);
  } catch (error) {
    exitLike(error);
  }
}
