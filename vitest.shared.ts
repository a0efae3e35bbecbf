// Shared Vitest settings: resolve workspace packages from source through the "@koubai/source"
// export condition, and write the reports scripts/check.mjs reads: the JSON totals and
// reports/skips.json, every skipped test with the reason it gave (`ctx.skip(condition, reason)`).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { defaultServerConditions, type UserConfig } from "vite";
import type { Reporter, TestModule } from "vitest/node";

export const sharedTestConfig: UserConfig = {
  ssr: { resolve: { conditions: ["@koubai/source", ...defaultServerConditions] } },
  resolve: { conditions: ["@koubai/source"] },
};

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
          note: result.note ?? null,
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
  testTimeout: 60_000,
};
