// The whole suite behind `npm test`: typecheck and tests (turbo, per package; the consumer test
// among them packs and installs the published packages), lint, core's import direction
// (check-layers.mjs), test twins of the sources (check-mirror.mjs), API docs. Every stage runs
// even if an earlier one fails, so one run shows every problem.
//
// Quiet by default: one line per stage with its time, the full output of a stage only when it
// fails, every skipped test with its reason, and a last line CI reads:
// `N passed, N failed, N skipped`. `npm test -- --verbose` streams every tool's own output.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const verbose = process.argv.includes("--verbose");
const unknown = process.argv.slice(2).filter((a) => a !== "--verbose");
if (unknown.length > 0) {
  console.error(`npm test: unknown argument ${unknown.join(" ")}; the only option is --verbose`);
  process.exit(2);
}
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by this root script, not by a turbo task
const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

// pnpm rebuilds PATH for scripts without the pinned pnpm in .tools/, but turbo must find it there.
const env = {
  ...process.env,
  PATH: `${join(root, ".tools", "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
  TURBO_TELEMETRY_DISABLED: "1",
  FORCE_COLOR: color ? "1" : "0",
  ...(color ? {} : { NO_COLOR: "1" }),
};

const workspaceDirs = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8")
  .split("\n")
  .map((line) => /^\s+-\s+(\S+)\s*$/.exec(line)?.[1])
  .filter((p) => p !== undefined)
  .flatMap((pattern) =>
    pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(pattern.slice(0, -2), d.name))
      : [pattern],
  );
const reportDirs = workspaceDirs.map((p) => join(root, p, "reports"));
for (const dir of reportDirs) rmSync(dir, { recursive: true, force: true });

const bin = (name) => join(root, "node_modules", ".bin", name);
const steps = [
  [
    "typecheck + tests",
    bin("turbo"),
    [
      "run",
      "typecheck",
      "test",
      "--continue",
      color ? "--color" : "--no-color",
      ...(verbose ? [] : ["--output-logs=errors-only"]),
    ],
  ],
  ["lint", bin("biome"), ["ci", `--colors=${color ? "force" : "off"}`, "."]],
  ["import layers", process.execPath, [join(root, "scripts", "check-layers.mjs")]],
  ["test twins", process.execPath, [join(root, "scripts", "check-mirror.mjs")]],
  ["API docs", bin("typedoc"), []],
];

/** Runs one stage; streams its output when verbose, else keeps it to print on failure. */
function runStage(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env,
      stdio: verbose ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    const chunks = [];
    child.stdout?.on("data", (c) => chunks.push(c));
    child.stderr?.on("data", (c) => chunks.push(c));
    child.on("error", (error) =>
      resolve({ ok: false, output: `could not start ${cmd}: ${error.message}` }),
    );
    child.on("close", (code) =>
      resolve({ ok: code === 0, output: Buffer.concat(chunks).toString("utf8") }),
    );
  });
}

const failedSteps = [];
for (const [label, cmd, args] of steps) {
  if (verbose) console.log(`\n=== ${label} ===`);
  const started = Date.now();
  const { ok, output } = await runStage(cmd, args);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!ok) failedSteps.push(label);
  if (!ok && !verbose) console.log(output.trimEnd());
  console.log(`${ok ? "ok    " : "FAILED"} ${label} (${seconds} s)`);
}

// Totals come from each package's vitest JSON report (turbo restores them on cache hits); skip
// reasons from the skip report that vitest.shared.ts's reporter writes beside it.
let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
const skips = [];
for (const dir of reportDirs) {
  const report = join(dir, "vitest.json");
  if (!existsSync(report)) continue;
  const totals = JSON.parse(readFileSync(report, "utf8"));
  passed += totals.numPassedTests;
  failed += totals.numFailedTests;
  skipped += totals.numPendingTests + totals.numTodoTests;
  perPackage.push(`${relative(root, join(dir, ".."))} ${totals.numPassedTests}`);
  const skipReport = join(dir, "skips.json");
  if (existsSync(skipReport)) {
    for (const skip of JSON.parse(readFileSync(skipReport, "utf8"))) {
      skips.push({ ...skip, where: relative(root, join(dir, "..", skip.file)) });
    }
  }
}
console.log(`\ntests passed per package: ${perPackage.join(", ")}`);
const unexplained = skips.filter((s) => !s.note);
if (skips.length > 0) {
  console.log(`\nskipped (${skips.length}):`);
  const byReason = new Map();
  for (const skip of skips) {
    const reason = skip.note ?? "NO REASON GIVEN (skip with ctx.skip(condition, reason))";
    byReason.set(reason, [...(byReason.get(reason) ?? []), skip]);
  }
  for (const [reason, tests] of byReason) {
    console.log(`  ${reason}`);
    for (const t of tests) console.log(`    - ${t.where}: ${t.name}`);
  }
}
if (failedSteps.length > 0) console.log(`\nFailed stages: ${failedSteps.join(", ")}`);
if (unexplained.length > 0)
  console.log(`\n${unexplained.length} skipped test(s) give no reason: that counts as a failure.`);
if (passed + failed === 0) console.log("\nNo test ran: that counts as a failure.");
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(
  failedSteps.length > 0 || failed > 0 || passed === 0 || unexplained.length > 0 ? 1 : 0,
);
