import { afterEach, describe, expect, it } from "vitest";
import { getKernelBackend, type KernelBackend, setKernelBackend } from "../../src/index.js";

afterEach(() => setKernelBackend("auto"));

describe("setKernelBackend", () => {
  it("defaults to auto and remembers each choice", () => {
    expect(getKernelBackend()).toBe("auto");
    for (const choice of ["js", "wasm", "auto"] as const) {
      setKernelBackend(choice);
      expect(getKernelBackend()).toBe(choice);
    }
  });

  it("rejects an unknown backend, naming the accepted ones", () => {
    expect(() => setKernelBackend("gpu" as KernelBackend)).toThrow(
      'setKernelBackend: unknown backend "gpu"; expected "auto", "js" or "wasm"',
    );
    expect(getKernelBackend()).toBe("auto");
  });
});
