import { Generator, ones, tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import {
  Dropout,
  ELU,
  Flatten,
  GELU,
  Hardtanh,
  Identity,
  LeakyReLU,
  LogSoftmax,
  Mish,
  ReLU,
  SELU,
  Sigmoid,
  SiLU,
  Softmax,
  Softplus,
  Tanh,
} from "../src/activation.js";

const x = tensor([-2, 0, 3], { dtype: "float64" });
const values = (t: { toArray(): ArrayLike<number> }) => Array.from(t.toArray());

describe("activation modules", () => {
  it("SiLU, Mish, ELU, SELU, Softplus and Hardtanh compute their formulas with their arguments", () => {
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const sp = (v: number, beta = 1) => Math.log1p(Math.exp(beta * v)) / beta;
    const close = (got: number[], want: number[]) => {
      for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 14);
    };
    close(values(new SiLU().forward(x)), [-2 * sig(-2), 0, 3 * sig(3)]);
    close(values(new Mish().forward(x)), [-2 * Math.tanh(sp(-2)), 0, 3 * Math.tanh(sp(3))]);
    close(values(new ELU(0.5).forward(x)), [0.5 * Math.expm1(-2), 0, 3]);
    const [alpha, scale] = [1.6732632423543772, 1.0507009873554805];
    close(values(new SELU().forward(x)), [scale * alpha * Math.expm1(-2), 0, scale * 3]);
    close(values(new Softplus(2, 5).forward(x)), [sp(-2, 2), sp(0, 2), 3]);
    expect(values(new Hardtanh(-1, 2).forward(x))).toEqual([-1, 0, 2]);
    expect(() => new Hardtanh(1, -1)).toThrow(
      "Hardtanh: minVal cannot be greater than maxVal, got minVal 1 and maxVal -1",
    );
  });

  it("compute their elementwise formulas", () => {
    expect(values(new ReLU().forward(x))).toEqual([0, 0, 3]);
    expect(values(new LeakyReLU(0.1).forward(x))).toEqual([-0.2, 0, 3]);
    expect(values(new Tanh().forward(x))).toEqual([Math.tanh(-2), 0, Math.tanh(3)]);
    const s = values(new Sigmoid().forward(x));
    const expected = [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-3))];
    for (const [i, v] of expected.entries()) expect(s[i]).toBeCloseTo(v, 15);
    // GELU(3) = 3·Φ(3) with Φ(3) = 0.9986501019683699.
    expect(new GELU().forward(x).toArray()[2]).toBeCloseTo(3 * 0.9986501019683699, 12);
    expect(values(new Identity().forward(x))).toEqual(values(x));
  });

  it("normalise along their dim: Softmax sums to 1, LogSoftmax is its log", () => {
    const logits = tensor(
      [
        [1, 2, 3],
        [0, 0, 0],
      ],
      { dtype: "float64" },
    );
    const p = values(new Softmax(1).forward(logits));
    expect(p[3]).toBeCloseTo(1 / 3, 15);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 15);
    expect(new LogSoftmax(1).forward(logits).toArray()[2]).toBeCloseTo(Math.log(p[2]), 14);
  });

  it("Flatten keeps the batch dim by default", () => {
    expect(new Flatten().forward(ones([2, 3, 4])).shape).toEqual([2, 12]);
    expect(new Flatten(0).forward(ones([2, 3, 4])).shape).toEqual([24]);
  });

  it("Dropout zeroes and rescales in training and is the identity in eval", () => {
    const d = new Dropout(0.5, { generator: new Generator(1) });
    const out = values(d.forward(ones([1000], { dtype: "float64" })));
    expect(new Set(out)).toEqual(new Set([0, 2]));
    d.eval();
    expect(values(d.forward(x))).toEqual(values(x));
    expect(() => new Dropout(1.5)).toThrow(/p must be in \[0, 1\]/);
  });
});
