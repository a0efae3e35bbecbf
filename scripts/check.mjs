// The whole suite behind `npm test`: typecheck and unit tests (turbo, per package), lint, the
// import direction of core (check-layers.mjs), build, API docs. Every step runs even if an
// earlier one fails, so one run shows every problem; the last line is the test total CI reads:
// `N passed, N failed, N skipped`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";

const root = join(import.meta.dirname, "..");
// pnpm rebuilds PATH for scripts without the pinned pnpm in .tools/, but turbo must find it there.
const env = {
  ...process.env,
  PATH: `${join(root, ".tools", "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
  TURBO_TELEMETRY_DISABLED: "1",
  FORCE_COLOR: process.env.CI ? "0" : "1",
};
const reportDirs = [
  "packages/core",
  "packages/layers",
  "packages/optim",
  "examples",
  "bench",
  "browser-test",
].map((p) => join(root, p, "reports"));
for (const dir of reportDirs) rmSync(dir, { recursive: true, force: true });

const bin = (name) => join(root, "node_modules", ".bin", name);
const steps = [
  ["typecheck + unit tests", bin("turbo"), ["run", "typecheck", "test", "--continue"]],
  ["lint", bin("biome"), ["ci", "."]],
  ["import layers", process.execPath, [join(root, "scripts", "check-layers.mjs")]],
  ["build", bin("tsc"), ["-b", "tsconfig.build.json"]],
  ["docs", bin("typedoc"), []],
];
const failedSteps = [];
for (const [label, cmd, args] of steps) {
  console.log(`\n=== ${label} ===`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.error) console.error(`could not start ${cmd}: ${result.error.message}`);
  if (result.status !== 0) failedSteps.push(label);
  console.log(`=== ${label}: ${result.status === 0 ? "ok" : "FAILED"} (${seconds} s) ===`);
}

// Totals come from each package's vitest JSON report (turbo restores them on cache hits).
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of reportDirs) {
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
}
if (failedSteps.length > 0) console.log(`\nFailed steps: ${failedSteps.join(", ")}`);
if (passed + failed === 0) console.log("\nNo test ran: that counts as a failure.");
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failedSteps.length > 0 || failed > 0 || passed === 0 ? 1 : 0);
