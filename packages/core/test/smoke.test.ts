import { describe, expect, it } from "vitest";
import { DTYPES } from "../src/index.js";

describe("dtypes", () => {
  it("lists float32 first as the default", () => {
    expect(DTYPES[0]).toBe("float32");
  });
});
