import { tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { deserializeTensor, isSerializedTensor, serializeTensor } from "../src/serialize.js";

describe("tensor serialisation for state dicts", () => {
  it("writes shape, dtype and row-major values of a strided view", () => {
    const t = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float64" },
    ).t();
    expect(serializeTensor(t)).toEqual({ shape: [2, 2], dtype: "float64", data: [1, 3, 2, 4] });
  });

  it("round-trips every float64 bit pattern JSON can and cannot hold", () => {
    const values = [0.1, -1e-300, 5e-324, 1.7976931348623157e308, Number.NaN, -0, -Infinity];
    const json = JSON.stringify(serializeTensor(tensor(values, { dtype: "float64" })));
    const back = deserializeTensor(JSON.parse(json), "test");
    expect(Array.from(back.toArray())).toEqual(values);
    expect(Object.is(back.toArray()[5], -0)).toBe(true);
  });

  it("accepts typed arrays as data and casts to a requested dtype", () => {
    const record = { shape: [2], dtype: "float64" as const, data: new Float64Array([0.1, 2]) };
    expect(isSerializedTensor(record)).toBe(true);
    const t = deserializeTensor(record, "test", "float32");
    expect(t.dtype).toBe("float32");
    expect(Array.from(t.toArray())).toEqual([Math.fround(0.1), 2]);
  });

  it("names the record when the value count does not fit the shape", () => {
    expect(() =>
      deserializeTensor({ shape: [3], dtype: "float64", data: [1, 2] }, "SGD.loadStateDict"),
    ).toThrow("SGD.loadStateDict: saved tensor of shape [3] has 2 values, expected 3");
  });

  it("rejects values that are not numbers", () => {
    expect(() => deserializeTensor({ shape: [1], dtype: "float64", data: ["x"] }, "here")).toThrow(
      'here: saved tensor value "x" is not a number',
    );
  });
});

describe("tensor records from JSON", () => {
  it("reads only its own special strings, not Object.prototype members such as toString", () => {
    for (const name of ["toString", "__proto__", "constructor", "valueOf"]) {
      expect(() =>
        deserializeTensor({ shape: [1], dtype: "float32", data: [name] }, "load"),
      ).toThrow(`load: saved tensor value ${JSON.stringify(name)} is not a number`);
    }
  });

  it("names a shape that is not a list of sizes", () => {
    expect(() =>
      deserializeTensor({ shape: ["2"] as never, dtype: "float32", data: [1, 2] }, "load"),
    ).toThrow('load: saved tensor has shape ["2"]; expected non-negative integers');
  });
});
