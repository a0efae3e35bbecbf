// Shared Vitest settings: resolve workspace packages from source through the
// "@koubai/source" export condition, and write a JSON report that scripts/check.mjs totals.
import { defaultServerConditions, type UserConfig } from "vite";

export const sharedTestConfig: UserConfig = {
  ssr: { resolve: { conditions: ["@koubai/source", ...defaultServerConditions] } },
  resolve: { conditions: ["@koubai/source"] },
};

export const sharedTestOptions = {
  include: ["test/**/*.test.ts"],
  reporters: ["default", "json"],
  outputFile: { json: "reports/vitest.json" },
  testTimeout: 60_000,
  // Setup hooks train small models too (the MNIST example); a loaded 2-core machine needs time.
  hookTimeout: 60_000,
};
