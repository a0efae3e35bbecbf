// Decoding the fixture encoding: numbers as they are, the three non-finite strings, and an
// error (not NaN) for anything else; readJson parses a fixture file.

import { describe, expect, it } from "vitest";
import { decodeNumber, decodeValues, readJson } from "../src/index.js";

describe("decodeNumber and decodeValues", () => {
  it("decodes numbers and the strings for NaN and the infinities", () => {
    expect(decodeValues({ data: [1.5, "nan", "inf", "-inf", -0] })).toEqual([
      1.5,
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
    ]);
  });

  it("refuses any other string", () => {
    expect(() => decodeNumber("NaN")).toThrow('fixture: unknown encoded number "NaN"');
  });
});

describe("readJson", () => {
  it("reads and parses a JSON file", () => {
    const manifest = readJson<{ name: string }>(new URL("../package.json", import.meta.url));
    expect(manifest.name).toBe("@koubai/test-utils");
  });
});
