import { defineConfig } from "vitest/config";
import { sharedTestConfig, sharedTestOptions } from "../vitest.shared.ts";

export default defineConfig({
  ...sharedTestConfig,
  // Packing (a clean build of three packages) and installing take a while on 2 cores.
  test: { ...sharedTestOptions, hookTimeout: 240_000, testTimeout: 120_000 },
});
