// The identical inputs every framework receives: seeded Float32Arrays built once in plain JS,
// then copied into each framework's own tensor type by its adapter. No framework code here.

/** BatchNorm forward+backward over a batch `x` [n, c] with an upstream gradient `gradOut` [n, c]. */
export interface BatchNormInputs {
  n: number;
  c: number;
  eps: number;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  gradOut: Float32Array;
}

/** A square float32 matmul `a @ b`, both [n, n] row-major. */
export interface MatmulInputs {
  n: number;
  a: Float32Array;
  b: Float32Array;
}

/**
 * Parameters of the MLP 784-256-BN-ReLU-256-BN-ReLU-10. Weights are stored [in, out] row-major so
 * every framework computes `x @ w + b` with the same memory layout.
 */
export interface MlpParams {
  w1: Float32Array;
  b1: Float32Array;
  g1: Float32Array;
  be1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  g2: Float32Array;
  be2: Float32Array;
  w3: Float32Array;
  b3: Float32Array;
}

export type MlpParamName = keyof MlpParams;

export const MLP_PARAM_NAMES: readonly MlpParamName[] = [
  "w1",
  "b1",
  "g1",
  "be1",
  "w2",
  "b2",
  "g2",
  "be2",
  "w3",
  "b3",
];

/** Layer widths of the MLP: input, hidden, hidden, classes. */
export const MLP_SIZES = [784, 256, 256, 10] as const;

/** One training step: softmax cross-entropy (mean over the batch), then SGD with momentum. */
export interface MlpInputs {
  batch: number;
  eps: number;
  lr: number;
  momentum: number;
  params: MlpParams;
  /** Shape of each parameter, by name. */
  shapes: Record<MlpParamName, readonly number[]>;
  x: Float32Array;
  labels: Int32Array;
  /** `labels` one-hot, [batch, 10], for frameworks whose loss takes probabilities. */
  oneHot: Float32Array;
}

/** mulberry32: a small seeded generator, so the inputs are the same on every run. */
function makeUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` standard normal samples (Box-Muller) times `scale`, plus `shift`. */
function normal(count: number, seed: number, scale = 1, shift = 0): Float32Array {
  const uniform = makeUniform(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(theta) * scale + shift;
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta) * scale + shift;
  }
  return out;
}

export function makeBatchNormInputs(n: number, c: number): BatchNormInputs {
  return {
    n,
    c,
    eps: 1e-5,
    x: normal(n * c, 1, 2, 0.5),
    gamma: normal(c, 2, 0.1, 1),
    beta: normal(c, 3, 0.1),
    gradOut: normal(n * c, 4),
  };
}

export function makeMatmulInputs(n: number): MatmulInputs {
  return { n, a: normal(n * n, 5), b: normal(n * n, 6) };
}

export function makeMlpInputs(batch: number): MlpInputs {
  const [d0, d1, d2, d3] = MLP_SIZES;
  // PyTorch-like scales: weights ~ N(0, 1/fan_in), biases small, BN affine at (1, 0).
  const shapes: Record<MlpParamName, readonly number[]> = {
    w1: [d0, d1],
    b1: [d1],
    g1: [d1],
    be1: [d1],
    w2: [d1, d2],
    b2: [d2],
    g2: [d2],
    be2: [d2],
    w3: [d2, d3],
    b3: [d3],
  };
  const params: MlpParams = {
    w1: normal(d0 * d1, 11, 1 / Math.sqrt(d0)),
    b1: normal(d1, 12, 0.01),
    g1: new Float32Array(d1).fill(1),
    be1: new Float32Array(d1),
    w2: normal(d1 * d2, 13, 1 / Math.sqrt(d1)),
    b2: normal(d2, 14, 0.01),
    g2: new Float32Array(d2).fill(1),
    be2: new Float32Array(d2),
    w3: normal(d2 * d3, 15, 1 / Math.sqrt(d2)),
    b3: normal(d3, 16, 0.01),
  };
  const uniform = makeUniform(17 + batch);
  const x = new Float32Array(batch * d0);
  for (let i = 0; i < x.length; i++) x[i] = uniform();
  const labels = new Int32Array(batch);
  const oneHot = new Float32Array(batch * d3);
  for (let i = 0; i < batch; i++) {
    labels[i] = Math.floor(uniform() * d3);
    oneHot[i * d3 + labels[i]] = 1;
  }
  return { batch, eps: 1e-5, lr: 0.05, momentum: 0.9, params, shapes, x, labels, oneHot };
}

/**
 * Parameters of the CNN Conv(1→16, 3, pad 1)-BN-ReLU-MaxPool(2) → Conv(16→32, 3, pad 1)-BN-ReLU-
 * MaxPool(2) → Linear(32·7·7 → 10) of the CNN example: conv weights [out, in, 3, 3] (every
 * framework's NCHW/OIHW layout or a transpose of it), the linear weight [in, out].
 */
export interface CnnParams {
  c1w: Float32Array;
  c1b: Float32Array;
  g1: Float32Array;
  be1: Float32Array;
  c2w: Float32Array;
  c2b: Float32Array;
  g2: Float32Array;
  be2: Float32Array;
  fw: Float32Array;
  fb: Float32Array;
}

export type CnnParamName = keyof CnnParams;

export const CNN_PARAM_NAMES: readonly CnnParamName[] = [
  "c1w",
  "c1b",
  "g1",
  "be1",
  "c2w",
  "c2b",
  "g2",
  "be2",
  "fw",
  "fb",
];

export const CNN_SHAPES: Record<CnnParamName, readonly number[]> = {
  c1w: [16, 1, 3, 3],
  c1b: [16],
  g1: [16],
  be1: [16],
  c2w: [32, 16, 3, 3],
  c2b: [32],
  g2: [32],
  be2: [32],
  fw: [32 * 7 * 7, 10],
  fb: [10],
};

/** One CNN training step on [batch, 1, 28, 28] images: cross-entropy, then SGD with momentum. */
export interface CnnInputs {
  batch: number;
  eps: number;
  lr: number;
  momentum: number;
  params: CnnParams;
  x: Float32Array;
  labels: Int32Array;
  /** `labels` one-hot, [batch, 10]. */
  oneHot: Float32Array;
}

export function makeCnnInputs(batch: number): CnnInputs {
  // PyTorch's default ranges (U(±1/√fanIn)), here as normals of that scale; BN affine at (1, 0).
  const params: CnnParams = {
    c1w: normal(16 * 9, 31, 1 / 3),
    c1b: normal(16, 32, 0.1),
    g1: new Float32Array(16).fill(1),
    be1: new Float32Array(16),
    c2w: normal(32 * 16 * 9, 33, 1 / 12),
    c2b: normal(32, 34, 0.05),
    g2: new Float32Array(32).fill(1),
    be2: new Float32Array(32),
    fw: normal(1568 * 10, 35, 1 / Math.sqrt(1568)),
    fb: normal(10, 36, 0.01),
  };
  const uniform = makeUniform(37 + batch);
  const x = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = uniform();
  const labels = new Int32Array(batch);
  const oneHot = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) {
    labels[i] = Math.floor(uniform() * 10);
    oneHot[i * 10 + labels[i]] = 1;
  }
  return { batch, eps: 1e-5, lr: 0.03, momentum: 0.9, params, x, labels, oneHot };
}
