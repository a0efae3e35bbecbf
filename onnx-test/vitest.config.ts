import { defineConfig } from "vitest/config";
import { sharedTestConfig, sharedTestOptions } from "../vitest.shared.ts";

export default defineConfig({
  ...sharedTestConfig,
  test: { ...sharedTestOptions, setupFiles: ["@koubai/test-utils/matchers"] },
});
