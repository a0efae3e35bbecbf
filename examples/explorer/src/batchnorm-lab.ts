// The BatchNorm lab: the seed article's claim made visible. The same network with and without
// BatchNorm at one learning rate, the first layer's activations over training, and a switch to
// the published NumPy backward (dvar multiplied by the standard deviation where it must divide)
// to see gradcheck flag it and training go wrong.

import { customOp, GradcheckError, gradcheck, manualSeed, randn, type Tensor } from "@koubai/core";
import { BatchNorm1d, Linear, Module, Parameter, ReLU, Sequential } from "@koubai/layers";
import {
  type BatchNormCache,
  batchNormBackwardStaged,
  batchNormForward,
} from "../../batchnorm-gradients/numpy-port.js";
import { makeDataset } from "./datasets.js";
import { button, el, formatValues } from "./dom.js";
import { histogram, Trainer } from "./network-view.js";

/** BatchNorm over dim 0 of [N, C] as a customOp whose backward is the staged NumPy one. */
export function numpyBatchNorm(buggy: boolean): (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor {
  return customOp({
    name: buggy ? "batchNormNumpyPublished" : "batchNormNumpy",
    rule: buggy
      ? "the published NumPy backward: dvar multiplied by std (wrong)"
      : "the staged NumPy backward",
    forward: (ctx, x, gamma, beta) => {
      const { out, cache } = batchNormForward(x, gamma, beta);
      ctx.state.cache = cache;
      return out;
    },
    backward: (ctx, gradOut) => {
      const g = batchNormBackwardStaged(gradOut, ctx.state.cache as BatchNormCache, { buggy });
      return [g.dx, g.dgamma, g.dbeta];
    },
  });
}

/** A BatchNorm1d stand-in (training statistics only) running the NumPy forward and backward. */
class NumpyBatchNorm extends Module {
  weight: Parameter;
  bias: Parameter;
  readonly op: (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor;
  constructor(features: number, buggy: boolean) {
    super();
    this.weight = new Parameter(randn([features]).mul(0).add(1));
    this.bias = new Parameter(randn([features]).mul(0));
    this.op = numpyBatchNorm(buggy);
  }
  forward(x: Tensor): Tensor {
    return this.op(x, this.weight, this.bias);
  }
}

/** The per-feature ratio of the published dvar to the correct one, on a [64, 4] batch: σ² + ε. */
export function dvarRatios(): { ratios: number[]; variances: number[] } {
  const x = randn([64, 4], { dtype: "float64" }).mul(
    randn([4], { dtype: "float64" }).abs().add(0.5),
  );
  const gamma = randn([4], { dtype: "float64" });
  const beta = randn([4], { dtype: "float64" });
  const dout = randn([64, 4], { dtype: "float64" });
  const { cache } = batchNormForward(x, gamma, beta);
  const right = batchNormBackwardStaged(dout, cache).dvar.toArray();
  const wrong = batchNormBackwardStaged(dout, cache, { buggy: true }).dvar.toArray();
  return {
    ratios: Array.from(wrong, (w, i) => w / right[i]),
    variances: Array.from(cache.variance.add(cache.eps).toArray()),
  };
}

/** gradcheck of the NumPy-backward BatchNorm on a float64 batch: "passes" or the error. */
export function checkNumpyBackward(buggy: boolean): string {
  const op = numpyBatchNorm(buggy);
  const inputs = [
    randn([6, 3], { dtype: "float64" }),
    randn([3], { dtype: "float64" }),
    randn([3], { dtype: "float64" }),
  ].map((t) => t.requiresGrad_(true));
  try {
    gradcheck(op, inputs);
    return "gradcheck passes: the hand-written backward agrees with finite differences.";
  } catch (error) {
    if (error instanceof GradcheckError) return `gradcheck FAILS: ${error.message}`;
    throw error;
  }
}

function net(batchNorm: "none" | "autograd" | "numpy" | "numpy-published"): Sequential {
  const norm = (c: number) =>
    batchNorm === "autograd"
      ? [new BatchNorm1d(c)]
      : batchNorm === "none"
        ? []
        : [new NumpyBatchNorm(c, batchNorm === "numpy-published")];
  return new Sequential(
    new Linear(2, 32),
    ...norm(32),
    new ReLU(),
    new Linear(32, 32),
    ...norm(32),
    new ReLU(),
    new Linear(32, 2),
  );
}

export function batchNormLabView(): HTMLElement {
  const errorBox = el("p", { class: "error" });
  const lr = el("input", { id: "bn-lr", value: "1", size: "5" });
  const published = el("input", { id: "bn-published", type: "checkbox" });
  const result = el("pre", { id: "bn-result", class: "step" });
  const drift = el("table", { id: "bn-drift", class: "grads" });
  const check = el("pre", { id: "bn-check", class: "step" });

  const run = () => {
    const points = makeDataset("spiral", 200, 0.05);
    const rate = Number.parseFloat(lr.value);
    if (!(rate > 0)) throw new Error("lr must be a positive number");
    // The same seed before each network: both start from the same Linear weights.
    manualSeed(3);
    const withBn = new Trainer(
      points,
      net(published.checked ? "numpy-published" : "autograd"),
      rate,
      3,
    );
    manualSeed(3);
    const withoutBn = new Trainer(points, net("none"), rate, 3);
    const lines: string[] = [];
    drift.replaceChildren(
      el("caption", {}, "The second Linear layer's inputs (after the first block) over training"),
      el("tr", {}, el("th", {}, "step"), el("th", {}, "with BatchNorm"), el("th", {}, "without")),
    );
    for (let step = 1; step <= 150; step++) {
      const a = withBn.step();
      const b = withoutBn.step();
      if (step === 1 || step % 50 === 0) {
        drift.append(
          el(
            "tr",
            {},
            el("td", {}, String(step)),
            el("td", {}, histogram(blockOutput(withBn), "#1d4ed8")),
            el("td", {}, histogram(blockOutput(withoutBn), "#b45309")),
          ),
        );
      }
      if (step % 25 === 0) {
        lines.push(
          `step ${String(step).padStart(3)}   with BatchNorm ${fmt(a)}   without ${fmt(b)}   first layer's outputs (mean ± std): with ${spread(withBn)}, without ${spread(withoutBn)}`,
        );
      }
    }
    result.textContent = `lr ${lr.value}, ${published.checked ? "BatchNorm with the PUBLISHED NumPy backward" : "BatchNorm built from primitives (autograd's gradient)"}\n${lines.join("\n")}`;
    result.setAttribute("data-final-with", String(withBn.losses.at(-1)));
    result.setAttribute("data-final-without", String(withoutBn.losses.at(-1)));
    check.textContent = `${checkNumpyBackward(published.checked)}\n\n${ratioText()}`;
  };

  return el(
    "section",
    { id: "view-batchnorm" },
    el("h2", {}, "BatchNorm lab: the same network with and without BatchNorm"),
    el(
      "div",
      { class: "buttons" },
      " lr ",
      lr,
      " use the published NumPy backward (multiplies by σ) ",
      published,
      button("Train both (150 steps)", "bn-run", run, errorBox),
    ),
    errorBox,
    result,
    drift,
    check,
  );
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : String(v);
}

function spread(trainer: Trainer): string {
  const h = trainer.model.children()[0].forward(trainer.x).detach();
  return `${h.mean().item().toFixed(2)} ± ${h.std().item().toFixed(2)}`;
}

function ratioText(): string {
  const { ratios, variances } = dvarRatios();
  return `The published dvar divided by the correct one, per feature: ${formatValues(ratios)}\nσ² + ε of those features:                                     ${formatValues(variances)}\n(off by exactly σ² per feature: the published line multiplies by σ where it must divide)`;
}

/** The input of the network's second Linear layer at the trainer's last step. */
function blockOutput(trainer: Trainer): number[] {
  const at = trainer.model.children().findIndex((c, i) => i > 0 && c instanceof Linear);
  return Array.from(trainer.lastOutputs[at - 1]?.toArray() ?? []);
}
