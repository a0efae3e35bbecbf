// Shared Vitest settings: resolve workspace packages from source through the "@koubai/source"
// export condition, and write the reports scripts/check.mjs reads: the JSON totals and
// reports/skips.json, every skipped test with the reason it gave (`ctx.skip(condition, reason)`).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { defaultServerConditions, type UserConfig } from "vite";
import type { Reporter, TestModule, TestSuite } from "vitest/node";

export const sharedTestConfig: UserConfig = {
  ssr: { resolve: { conditions: ["@koubai/source", ...defaultServerConditions] } },
  resolve: { conditions: ["@koubai/source"] },
};

/** True when a beforeAll/afterAll of `suite` or an enclosing suite threw (its tests never ran). */
function hookFailed(suite: TestSuite | TestModule): boolean {
  for (let s: TestSuite | TestModule = suite; ; s = s.parent) {
    if (s.errors().length > 0) return true;
    if (s.type === "module") return false;
  }
}

/** Writes reports/skips.json: `{ file, name, note }` for every skipped test of the run. */
class SkipReasonReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const root = process.cwd();
    const skips: { file: string; name: string; note: string | null }[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== "skipped") continue;
        skips.push({
          file: relative(root, module.moduleId),
          name: test.fullName,
          note:
            result.note ?? (hookFailed(test.parent) ? "not run: a hook of its suite failed" : null),
        });
      }
    }
    mkdirSync(join(root, "reports"), { recursive: true });
    writeFileSync(join(root, "reports", "skips.json"), `${JSON.stringify(skips, null, 2)}\n`);
  }
}

export const sharedTestOptions = {
  include: ["test/**/*.test.ts"],
  reporters: ["default", "json", new SkipReasonReporter()],
  outputFile: { json: "reports/vitest.json" },
  // Generous: these machines are shared, and a loaded 2-core run is several times slower.
  testTimeout: 120_000,
  hookTimeout: 120_000,
};
