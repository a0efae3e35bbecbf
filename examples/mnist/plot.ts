// SVG plots of a training run with Vega-Lite, rendered headless in Node (no canvas, no browser):
// the loss per step of several runs, and the mean ± std of a hidden layer's pre-activations.

import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { StepRecord } from "./train.js";

export interface Series {
  name: string;
  steps: readonly StepRecord[];
}

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function finiteRows(series: readonly Series[], pick: (s: StepRecord) => Record<string, number>) {
  return series.flatMap((s) =>
    s.steps
      .map((r) => ({ run: s.name, step: r.step, ...pick(r) }))
      .filter((row) =>
        Object.values(row).every((v) => typeof v === "string" || Number.isFinite(v)),
      ),
  );
}

/** Training loss per step, one line per run, log-scaled y (non-finite losses are left out). */
export function lossCurvesSpec(series: readonly Series[], title: string): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 300,
    data: { values: finiteRows(series, (r) => ({ loss: r.loss })) },
    mark: { type: "line", strokeWidth: 1.2 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "SGD step" },
      y: {
        field: "loss",
        type: "quantitative",
        title: "cross-entropy (log scale)",
        scale: { type: "log" },
      },
      color: { field: "run", type: "nominal", title: null },
    },
  };
}

/** Mean (line) and mean ± std (band) of the probed pre-activations per step, one colour per run. */
export function preActivationSpec(series: readonly Series[], title: string): TopLevelSpec {
  const values = finiteRows(series, (r) => ({
    mean: r.preMean,
    low: r.preMean - r.preStd,
    high: r.preMean + r.preStd,
  }));
  const color = { field: "run", type: "nominal" as const, title: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 300,
    data: { values },
    encoding: { x: { field: "step", type: "quantitative", title: "SGD step" } },
    layer: [
      {
        mark: { type: "area", opacity: 0.25 },
        encoding: {
          y: { field: "low", type: "quantitative", title: "pre-activation: mean ± std" },
          y2: { field: "high" },
          color,
        },
      },
      {
        mark: { type: "line", strokeWidth: 1.2 },
        encoding: { y: { field: "mean", type: "quantitative" }, color },
      },
    ],
  };
}
