// The Explorer's pieces that run without a browser: the expression language (precedence, errors
// that say where, values equal to the same Koubai ops) and the toy data sets. The page itself is
// driven in headless Chromium by browser-test/test/explorer.test.ts.

import { tensor } from "@koubai/core";
import { describe, expect, it } from "vitest";
import { DATASETS, makeDataset } from "./src/datasets.js";
import { evaluate, parseVariables } from "./src/parse.js";

describe("the expression language", () => {
  const vars = parseVariables("a = 2\nb = -3\nc = 10\nW = [[1, 2], [3, 4]]\nx = [1, -1]");

  it("follows the usual precedence and calls the Koubai ops", () => {
    expect(evaluate("a + b * c", vars).item()).toBe(-28);
    expect(evaluate("-(a - b) / 5", vars).item()).toBe(-1);
    expect(evaluate("(a*b + c).tanh()", vars).item()).toBeCloseTo(Math.tanh(4), 15);
    expect(evaluate("W @ x", vars).tolist()).toEqual([-1, -1]);
    const p = evaluate("softmax(W @ x * 0.5, 0)", vars).tolist() as number[];
    expect(p[0]).toBeCloseTo(0.5, 15);
    expect(evaluate("x.square().sum()", vars).item()).toBe(2);
    expect(evaluate(".5e1 * a", vars).item()).toBe(10);
  });

  it("records the graph through the named tensors", () => {
    const y = evaluate("(a*b + c).tanh()", vars);
    y.backward();
    const a = vars.get("a")!;
    expect(a.name).toBe("a");
    expect(a.grad!.item()).toBeCloseTo((1 - Math.tanh(4) ** 2) * -3, 14);
    expect(tensor(1).dtype).toBe("float32");
  });

  it("says what is wrong and where, and never runs what is typed as code", () => {
    expect(() => evaluate("a +", vars)).toThrow("the expression ends too early (at character 4)");
    expect(() => evaluate("a $ b", vars)).toThrow('unexpected "$" (at character 3)');
    expect(() => evaluate("a.constructor()", vars)).toThrow("unknown method constructor");
    expect(() => evaluate("alert(1)", vars)).toThrow("unknown function alert");
    expect(() => evaluate("d * 2", vars)).toThrow("d is not defined (defined: a, b, c, W, x)");
    expect(() => parseVariables("a: 2")).toThrow('line 1: expected "name = value", got "a: 2"');
    expect(() => parseVariables("a = [1,")).toThrow(
      "line 1: [1, is not a number or a [list] of numbers",
    );
  });
});

describe("the toy data sets", () => {
  it.each(DATASETS)("%s: points in [-2, 2]² with both labels", (name) => {
    const { xy, labels } = makeDataset(name, 100);
    expect(xy.length).toBe(200);
    expect(Math.max(...xy.map(Math.abs))).toBeLessThan(2);
    const ones = labels.reduce((n, l) => n + l, 0);
    expect(ones).toBeGreaterThan(20);
    expect(ones).toBeLessThan(80);
  });
});
