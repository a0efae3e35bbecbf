// The Network view: a small network trained live on a 2-D toy set, with its decision boundary,
// its loss curve, and per-layer gradient norms coloured where gradients vanish or explode or
// ReLUs die; pause and click a layer to see its weight gradient and last update.

import { crossEntropy, manualSeed, noGrad, type Tensor, tensor } from "@koubai/core";
import { BatchNorm1d, Dropout, Linear, type Module, ReLU, Sequential, Tanh } from "@koubai/layers";
import { SGD } from "@koubai/optim";
import { DATASETS, type DatasetName, makeDataset, type Points } from "./datasets.js";
import { button, el, formatValues } from "./dom.js";

export interface NetworkChoice {
  hidden: number[];
  activation: "relu" | "tanh";
  batchNorm: boolean;
  dropout: number;
}

/** The layers chosen: Linear(2, h) [-BatchNorm1d] -activation [-Dropout] per hidden width, then Linear(h, 2). */
export function buildNetwork(choice: NetworkChoice): Sequential {
  const layers: Module[] = [];
  let width = 2;
  for (const h of choice.hidden) {
    layers.push(new Linear(width, h));
    if (choice.batchNorm) layers.push(new BatchNorm1d(h));
    layers.push(choice.activation === "relu" ? new ReLU() : new Tanh());
    if (choice.dropout > 0) layers.push(new Dropout(choice.dropout));
    width = h;
  }
  layers.push(new Linear(width, 2));
  return new Sequential(...layers);
}

/** Per Linear layer: its gradient norm and, for a following ReLU, the share of units never active. */
export interface LayerHealth {
  name: string;
  gradNorm: number;
  deadFraction: number | null;
  verdict: "ok" | "vanishing" | "exploding" | "dead";
  /** The layer's activations on the batch (after its activation function). */
  activations: number[];
  /** Its weight gradient's values. */
  gradients: number[];
}

export class Trainer {
  readonly model: Sequential;
  readonly optimizer: SGD;
  readonly x: Tensor;
  readonly y: Tensor;
  readonly losses: number[] = [];
  /** The update each parameter got at the last step (new - old), by name. */
  lastUpdate = new Map<string, Tensor>();

  /** Trains `model` (or the network `choice` describes, seeded by `seed`) with SGD momentum 0.9. */
  constructor(
    readonly points: Points,
    model: Sequential | NetworkChoice,
    lr: number,
    seed = 1,
  ) {
    manualSeed(seed);
    this.model = model instanceof Sequential ? model : buildNetwork(model);
    this.optimizer = new SGD(this.model.parameters(), { lr, momentum: 0.9 });
    this.x = tensor(points.xy, { shape: [points.labels.length, 2] }).float();
    this.y = tensor(points.labels);
  }

  /** Each layer's output at the last training step (detached), by layer index. */
  lastOutputs: Tensor[] = [];

  step(): number {
    const before = new Map(this.model.namedParameters().map(([n, p]) => [n, p.detach().clone()]));
    this.optimizer.zeroGrad();
    // Layer by layer, so each layer's output can be shown (no second forward pass, which would
    // also move BatchNorm's running statistics).
    let h = this.x;
    const outputs: Tensor[] = [];
    for (const layer of this.model.children()) {
      h = layer.forward(h);
      outputs.push(h.detach());
    }
    this.lastOutputs = outputs;
    const loss = crossEntropy(h, this.y);
    loss.backward();
    this.optimizer.step();
    this.lastUpdate = new Map(
      this.model
        .namedParameters()
        .map(([n, p]) => [n, noGrad(() => p.sub(before.get(n) as Tensor))]),
    );
    const value = loss.item();
    this.losses.push(value);
    return value;
  }

  /** Class-1 probability on a grid×grid lattice over [-2, 2]², in eval mode. */
  probabilities(grid: number): Float32Array {
    const coords = new Float32Array(grid * grid * 2);
    for (let i = 0; i < grid; i++)
      for (let j = 0; j < grid; j++) {
        coords[2 * (i * grid + j)] = -2 + (4 * j) / (grid - 1);
        coords[2 * (i * grid + j) + 1] = 2 - (4 * i) / (grid - 1);
      }
    this.model.eval();
    const p = noGrad(() =>
      this.model
        .forward(tensor(coords, { shape: [grid * grid, 2] }))
        .softmax(1)
        .select(1, 1)
        .toArray(),
    );
    this.model.train();
    return p as Float32Array;
  }

  /**
   * Per Linear layer, from the last step: the weight gradient's norm, the share of units a
   * following ReLU never lets through on the batch, the values of its activation (the output
   * of the activation after it) and of its weight gradient, for the histograms.
   */
  health(): LayerHealth[] {
    const out: LayerHealth[] = [];
    const children = this.model.children();
    children.forEach((layer, i) => {
      if (!(layer instanceof Linear) || this.lastOutputs.length === 0) return;
      const g = layer.weight.grad;
      const gradNorm = g === null ? 0 : g.square().sum().sqrt().item();
      const activationAt = children.findIndex(
        (c, k) => k > i && (c instanceof ReLU || c instanceof Tanh || c instanceof Linear),
      );
      const isRelu = activationAt >= 0 && children[activationAt] instanceof ReLU;
      const activation =
        activationAt >= 0 && !(children[activationAt] instanceof Linear)
          ? this.lastOutputs[activationAt]
          : this.lastOutputs[i];
      const deadFraction = isRelu
        ? noGrad(() => activation.gt(0).to("float32").amax(0).lt(0.5).to("float32").mean().item())
        : null;
      const verdict: LayerHealth["verdict"] =
        deadFraction !== null && deadFraction > 0.5
          ? "dead"
          : gradNorm < 1e-5
            ? "vanishing"
            : gradNorm > 1e3
              ? "exploding"
              : "ok";
      out.push({
        name: `${i}`,
        gradNorm,
        deadFraction,
        verdict,
        activations: Array.from(activation.toArray()),
        gradients: g === null ? [] : Array.from(g.toArray()),
      });
    });
    return out;
  }
}

/** A 20-bin histogram of `values` drawn into a small canvas, with its range underneath. */
export function histogram(values: readonly number[], colour: string): HTMLElement {
  const canvas = el("canvas", { width: "140", height: "36", class: "histogram" });
  const finite = values.filter(Number.isFinite);
  const ctx = canvas.getContext("2d");
  if (finite.length === 0 || ctx === null)
    return el("div", {}, canvas, el("div", { class: "range" }, "no values"));
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const bins = new Array<number>(20).fill(0);
  for (const v of finite)
    bins[hi === lo ? 0 : Math.min(19, Math.floor(((v - lo) / (hi - lo)) * 20))]++;
  const top = Math.max(...bins);
  ctx.fillStyle = colour;
  bins.forEach((count, b) => {
    const height = (count / top) * 34;
    ctx.fillRect(b * 7, 36 - height, 6, height);
  });
  return el(
    "div",
    {},
    canvas,
    el("div", { class: "range" }, `${lo.toPrecision(2)} … ${hi.toPrecision(2)}`),
  );
}

function drawBoundary(canvas: HTMLCanvasElement, trainer: Trainer): void {
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  const grid = 40;
  const p = trainer.probabilities(grid);
  const cell = canvas.width / grid;
  for (let i = 0; i < grid; i++)
    for (let j = 0; j < grid; j++) {
      const v = p[i * grid + j];
      ctx.fillStyle = `rgb(${Math.round(255 - 120 * v)}, ${Math.round(200 - 40 * Math.abs(v - 0.5))}, ${Math.round(135 + 120 * v)})`;
      ctx.fillRect(j * cell, i * cell, cell + 1, cell + 1);
    }
  const { xy, labels } = trainer.points;
  for (let k = 0; k < labels.length; k++) {
    const px = ((xy[2 * k] + 2) / 4) * canvas.width;
    const py = ((2 - xy[2 * k + 1]) / 4) * canvas.height;
    ctx.fillStyle = labels[k] === 1 ? "#1d4ed8" : "#b91c1c";
    ctx.beginPath();
    ctx.arc(px, py, 3, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawLoss(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const ctx = canvas.getContext("2d") as CanvasRenderingContext2D;
  ctx.fillStyle = "white";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const finite = losses.filter(Number.isFinite);
  if (finite.length < 2) return;
  const max = Math.max(...finite);
  ctx.strokeStyle = "#111827";
  ctx.beginPath();
  losses.forEach((l, i) => {
    const x = (i / (losses.length - 1)) * canvas.width;
    const y = canvas.height - (Math.min(l, max) / max) * (canvas.height - 4);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

export function networkView(): HTMLElement {
  const errorBox = el("p", { class: "error" });
  const dataset = el(
    "select",
    { id: "net-dataset" },
    ...DATASETS.map((d) => el("option", { value: d }, d)),
  );
  const hidden = el("input", { id: "net-hidden", value: "16,16", size: "8" });
  const activation = el(
    "select",
    { id: "net-activation" },
    el("option", { value: "relu" }, "ReLU"),
    el("option", { value: "tanh" }, "Tanh"),
  );
  const batchNorm = el("input", { id: "net-batchnorm", type: "checkbox" });
  const dropout = el("input", { id: "net-dropout", value: "0", size: "4" });
  const lr = el("input", { id: "net-lr", value: "0.1", size: "5" });
  const boundary = el("canvas", { id: "net-boundary", width: "320", height: "320" });
  const loss = el("canvas", { id: "net-loss", width: "320", height: "120" });
  const status = el("p", { id: "net-status" });
  const healthBox = el("table", { id: "net-health", class: "grads" });
  const detail = el("pre", { id: "net-detail", class: "step" });
  let trainer: Trainer | null = null;
  let running = false;

  const showHealth = () => {
    if (trainer === null) return;
    healthBox.replaceChildren(
      el(
        "tr",
        {},
        el("th", {}, "Linear layer"),
        el("th", {}, "‖∂L/∂W‖"),
        el("th", {}, "dead ReLUs"),
        el("th", {}, ""),
        el("th", {}, "activations"),
        el("th", {}, "∂L/∂W values"),
      ),
    );
    for (const row of trainer.health()) {
      const tr = el(
        "tr",
        { class: `health-${row.verdict}`, "data-layer": row.name },
        el("td", {}, row.name),
        el("td", {}, row.gradNorm.toExponential(2)),
        el("td", {}, row.deadFraction === null ? "–" : `${(100 * row.deadFraction).toFixed(0)}%`),
        el("td", {}, row.verdict),
        el("td", {}, histogram(row.activations, "#1d4ed8")),
        el("td", {}, histogram(row.gradients, row.verdict === "ok" ? "#047857" : "#b91c1c")),
      );
      tr.addEventListener("click", () => {
        const t = trainer as Trainer;
        const w = t.model.namedParameters().find(([n]) => n === `${row.name}.weight`)?.[1];
        const update = t.lastUpdate.get(`${row.name}.weight`);
        const bias = t.model.namedParameters().find(([n]) => n === `${row.name}.bias`)?.[1];
        const biasUpdate = t.lastUpdate.get(`${row.name}.bias`);
        detail.textContent =
          `${row.name}.weight ${JSON.stringify(w?.shape)}\ngrad: ${w?.grad ? formatValues(w.grad.toArray(), 12) : "none yet"}\nlast update (new - old): ${update ? formatValues(update.toArray(), 12) : "none yet"}\n` +
          `${row.name}.bias ${JSON.stringify(bias?.shape)}\ngrad: ${bias?.grad ? formatValues(bias.grad.toArray(), 12) : "none yet"}\nlast update (new - old): ${biasUpdate ? formatValues(biasUpdate.toArray(), 12) : "none yet"}\n` +
          "(an update is -lr × the momentum buffer: it points against the gradient)";
      });
      healthBox.append(tr);
    }
  };

  const reset = () => {
    const widths = hidden.value
      .split(",")
      .map((s) => Number.parseInt(s.trim(), 10))
      .filter((n) => n > 0);
    const p = Number.parseFloat(dropout.value);
    if (widths.length === 0) throw new Error("hidden layers: give widths like 16,16");
    if (!(p >= 0 && p < 1)) throw new Error("dropout must be in [0, 1)");
    trainer = new Trainer(
      makeDataset(dataset.value as DatasetName),
      {
        hidden: widths,
        activation: activation.value as "relu" | "tanh",
        batchNorm: batchNorm.checked,
        dropout: p,
      },
      Number.parseFloat(lr.value),
    );
    drawBoundary(boundary, trainer);
    drawLoss(loss, []);
    status.textContent = "step 0";
    showHealth();
  };

  const frame = () => {
    if (!running || trainer === null) return;
    let last = Number.NaN;
    for (let i = 0; i < 5; i++) last = trainer.step();
    status.textContent = `step ${trainer.losses.length}, loss ${last.toFixed(4)}`;
    status.setAttribute("data-steps", String(trainer.losses.length));
    status.setAttribute("data-first-loss", String(trainer.losses[0]));
    status.setAttribute("data-loss", String(last));
    if (trainer.losses.length % 20 === 0) {
      drawBoundary(boundary, trainer);
      showHealth();
    }
    drawLoss(loss, trainer.losses);
    requestAnimationFrame(frame);
  };

  const start = () => {
    if (trainer === null) reset();
    running = true;
    requestAnimationFrame(frame);
  };
  const pause = () => {
    running = false;
    if (trainer !== null) {
      drawBoundary(boundary, trainer);
      showHealth();
    }
    detail.textContent = "Paused: click a layer row to see its weight gradient and last update.";
  };

  return el(
    "section",
    { id: "view-network" },
    el("h2", {}, "Network: train on a toy set and watch the gradients"),
    el(
      "div",
      { class: "buttons" },
      "data ",
      dataset,
      " hidden ",
      hidden,
      " activation ",
      activation,
      " BatchNorm ",
      batchNorm,
      " dropout ",
      dropout,
      " lr ",
      lr,
    ),
    el(
      "div",
      { class: "buttons" },
      button("Reset", "net-reset", reset, errorBox),
      button("Train", "net-train", start, errorBox),
      button("Pause", "net-pause", pause, errorBox),
    ),
    errorBox,
    status,
    el("div", { class: "row" }, boundary, el("div", {}, loss, healthBox)),
    detail,
  );
}
