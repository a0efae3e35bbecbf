// GroupNorm against torch-conv-layers.json (PyTorch 1.13), and its errors.

import { randn } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { GroupNorm } from "../src/group-norm.js";
import { convFixture, decode, expectAllclose } from "./helpers.js";

describe("GroupNorm against PyTorch", () => {
  it.each(convFixture.groupNorm.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const [groups, channels] = c.args as [number, number];
    const layer = new GroupNorm(groups, channels, { ...c.options, dtype: "float64" });
    expect(Object.keys(layer.stateDict()).sort()).toEqual(Object.keys(c.state).sort());
    layer.loadStateDict(
      Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, decode(v)])),
    );
    const x = decode(c.input).requiresGrad_(true);
    const y = layer.forward(x);
    y.backward(decode(c.gradOutput));
    expectAllclose(y, decode(c.output), { what: "output" });
    expectAllclose(x.grad, decode(c.gradInput), { what: "gradInput" });
    for (const [name, p] of layer.namedParameters()) {
      expectAllclose(p.grad, decode(c.gradParams[name]), { what: `grad of ${name}` });
    }
  });

  it("names itself when the channels do not match or do not split into groups", () => {
    expect(() => new GroupNorm(4, 6)).toThrow(
      "GroupNorm(4, 6): numChannels must be a positive multiple of numGroups",
    );
    expect(() => new GroupNorm(2, 6).forward(randn([2, 4, 3]))).toThrow(
      "GroupNorm(2, 6): input of shape [2, 4, 3] must be [N, 6, ...]",
    );
  });
});
