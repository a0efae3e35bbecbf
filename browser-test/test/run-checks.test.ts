// The page's program run directly in Node: the same assertions the browser run must pass.

import { describe, expect, it } from "vitest";
import { type CheckResults, runChecks } from "../src/run-checks.js";
import {
  expectBackward,
  expectGradchecks,
  expectMatmul,
  expectMlpMatchesTorch,
  expectReadableErrors,
  expectSafetensors,
} from "./helpers/expectations.js";

describe("runChecks under Node", () => {
  const results: CheckResults = runChecks(`Node.js ${process.version}`);

  it("computes the hand-derived gradient of Σ a·b·a exactly", () => expectBackward(results));
  it("passes gradcheck on composites and rejects a wrong backward", () =>
    expectGradchecks(results));
  it("trains the BatchNorm MLP along PyTorch's losses, fused and composite alike", () =>
    expectMlpMatchesTorch(results));
  it("multiplies on the wasm kernel bit-identically to a plain loop", () => expectMatmul(results));
  it("round-trips a state dict through safetensors bytes", () => expectSafetensors(results));
  it("names the op and the layer in error messages", () => {
    expect(results.errors.batchNormClassName).toBe("BatchNorm1d");
    expectReadableErrors(results);
  });
});
