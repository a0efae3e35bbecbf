// Fresh-machine entry point behind `npm run demo` and `npm test`: installs the pinned pnpm
// (read from package.json's packageManager) into the git-ignored .tools/, installs the
// workspace from the lockfile, then runs the given root script with that pnpm.
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
run(process.execPath, [pnpmEntry, "install", "--frozen-lockfile"]);

const script = process.argv[2];
if (script) {
  try {
    run(process.execPath, [pnpmEntry, "run", script, ...process.argv.slice(3)]);
  } catch (error) {
    process.exit(typeof error.status === "number" ? error.status : 1);
  }
}
