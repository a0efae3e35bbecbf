import { describe, expect, it } from "vitest";
import { formatSteps, runTinyNetwork } from "./graph.js";
import { renderDot } from "./main.js";

describe("graph example", () => {
  const run = runTinyNetwork();

  it("traces one backward step per recorded op, starting from the final mean", () => {
    const nodes = run.dot.split("\n").filter((l) => /^ {2}node\d+ \[/.test(l));
    expect(run.steps).toHaveLength(nodes.length);
    expect(run.steps[0].op).toBe("div");
    // d(sum/8)/d(sum) = 1/8 for the 4×2 output
    expect(run.steps[0].inputGrads[0]).toEqual([0.125]);
    expect(run.steps.map((s) => s.op)).toContain("rsqrt");
    expect(formatSteps(run.steps)).toMatch(
      /^ 1\. div {2}\(gradient in: \[\]\)\n {4}rule: d\/da = g\/b, d\/db = -g·a\/b²\n/,
    );
    expect(run.steps.find((s) => s.op === "matmul")?.rule).toBe("d/dA = g·Bᵀ, d/dB = Aᵀ·g");
  });

  it("gives BatchNorm's β the share of positive ReLU outputs, as the chain rule predicts", () => {
    // loss = mean(relu(y)) over 4×2 values: dL/dβ_c = #{n: y_nc > 0} / 8
    const y = run.model.at(1).forward(run.model.at(0).forward(run.x)).toArray();
    const beta = run.model.namedParameters().find(([n]) => n === "1.bias")![1];
    for (let c = 0; c < 2; c++) {
      let positive = 0;
      for (let n = 0; n < 4; n++) if (y[n * 2 + c] > 0) positive++;
      expect(beta.grad!.toArray()[c]).toBeCloseTo(positive / 8, 6);
    }
  });

  it("shows that a bias before BatchNorm gets no gradient", () => {
    const bias = run.model.namedParameters().find(([n]) => n === "0.bias")![1];
    for (const g of bias.grad!.toArray()) expect(Math.abs(g)).toBeLessThan(1e-6);
  });

  it("labels nodes with values and gradients and renders them to SVG", async () => {
    expect(run.dot).toMatch(/label="x \(constant\)\\n\[4, 3\] float32\\nvalue \[/);
    expect(run.dot).toMatch(/label="0\.weight \(parameter\)\\n\[2, 3\] float32/);
    expect(run.dot).toMatch(/label="relu\\n\[4, 2\] float32\\nvalue \[.*\\ngrad \[0\.1250/);
    const svg = await renderDot(run.dot);
    expect(svg).toContain("<svg");
    expect(svg).toContain("rsqrt");
  });
});
