// The pooling layers against torch-conv-layers.json (PyTorch 1.13): output, indices and
// gradInput; and returnIndices through forwardWithIndices.

import { randn, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import type { Module } from "../src/module.js";
import {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AvgPool1d,
  AvgPool2d,
  MaxPool1d,
  MaxPool2d,
  Upsample,
} from "../src/pool.js";
import { convFixture, decode, expectAllclose } from "./helpers.js";

const CLASSES: Record<string, new (...args: never[]) => Module> = {
  MaxPool1d,
  MaxPool2d,
  AvgPool1d,
  AvgPool2d,
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
};

describe("pooling layers against PyTorch", () => {
  it.each(convFixture.pool.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const Layer = CLASSES[c.module] as unknown as new (...args: unknown[]) => Module;
    const layer =
      Object.keys(c.options).length > 0 ? new Layer(...c.args, c.options) : new Layer(...c.args);
    expect(layer.parameters()).toEqual([]);
    const x = decode(c.input).requiresGrad_(true);
    const y = layer.forward(x);
    y.backward(decode(c.gradOutput));
    expectAllclose(y, decode(c.output), { what: "output" });
    expectAllclose(x.grad, decode(c.gradInput), { what: "gradInput" });
    if (c.indices !== null) {
      const { indices } = (layer as MaxPool2d).forwardWithIndices(x);
      expect(indices.tolist()).toEqual(decode(c.indices).tolist());
    }
  });
});

describe("MaxPool2d and MaxPool1d", () => {
  it("return indices through forwardWithIndices and refuse returnIndices as an option", () => {
    const pool = new MaxPool2d(2);
    const { values, indices } = pool.forwardWithIndices(randn([1, 1, 4, 4]));
    expect(values.shape).toEqual([1, 1, 2, 2]);
    expect(indices.dtype).toBe("int32");
    expect(() => new MaxPool1d(2, { returnIndices: true } as object)).toThrow(
      "MaxPool1d: returnIndices is not an option of the layer; call forwardWithIndices(x) for the indices",
    );
  });
});

describe("Upsample", () => {
  it("repeats each pixel scaleFactor times along each spatial dim", () => {
    const x = tensor([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    ]);
    expect(new Upsample({ scaleFactor: 2 }).forward(x).tolist()).toEqual([
      [
        [
          [1, 1, 2, 2],
          [1, 1, 2, 2],
          [3, 3, 4, 4],
          [3, 3, 4, 4],
        ],
      ],
    ]);
  });
});
