// Koubai's side of the peer benchmark, as a user writes it. `koubai` is what users get by
// default: BatchNorm1d/BatchNorm2d composed from primitives (core's batchNorm, autograd derives
// the gradient), matmul, and an MLP training step whose SGD-momentum update is @koubai/optim's
// SGD. `koubai-fused` passes `fused: true` to the same layers (one op with the hand-derived
// backward); everything else is the same code.

import {
  compile,
  crossEntropy,
  getKernelThreads,
  noGrad,
  setKernelThreads,
  type Tensor,
  tensor,
} from "@koubai/core";
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from "@koubai/layers";
import { SGD } from "@koubai/optim";
import {
  type BatchNormInputs,
  type CnnInputs,
  type MatmulInputs,
  MLP_PARAM_NAMES,
  type MlpInputs,
  type MlpParamName,
} from "./inputs.js";
import type { Case, Framework, Outputs } from "./measure.js";

function leaf(data: Float32Array, shape: readonly number[]): Tensor {
  return tensor(data, { shape, requiresGrad: true });
}

function gradOf(t: Tensor, name: string): Float32Array {
  if (t.grad === null) throw new Error(`koubai: ${name} received no gradient`);
  return t.grad.toArray() as Float32Array;
}

/** The BatchNorm workload through its affine parameters `gamma`, `beta` (leaves) and `forward`. */
interface BatchNormSetup {
  gamma: Tensor;
  beta: Tensor;
  forward(x: Tensor): Tensor;
}

/** The public layer path; in training mode it also updates its [C] running statistics. */
function moduleSetup(inputs: BatchNormInputs, fused: boolean): BatchNormSetup {
  const layer = new BatchNorm1d(inputs.c, { eps: inputs.eps, fused });
  const gamma = layer.weight as Tensor;
  const beta = layer.bias as Tensor;
  noGrad(() => {
    gamma.copy_(tensor(inputs.gamma));
    beta.copy_(tensor(inputs.beta));
  });
  return { gamma, beta, forward: (x) => layer.forward(x) };
}

/** `fn` itself, or `compile(fn)` when `compiled` (the same code a user compiles). */
function maybeCompiled<A extends Tensor[], R>(fn: (...inputs: A) => R, compiled: boolean) {
  return compiled ? compile(fn) : fn;
}

async function batchNorm(
  inputs: BatchNormInputs,
  setup: BatchNormSetup,
  compiled = false,
): Promise<Case> {
  const { n, c } = inputs;
  const x = leaf(inputs.x, [n, c]);
  const { gamma, beta } = setup;
  const gradOut = tensor(inputs.gradOut, { shape: [n, c] });
  const forwardBackward = maybeCompiled((input: Tensor, g: Tensor): Tensor => {
    input.grad = null;
    gamma.grad = null;
    beta.grad = null;
    const y = setup.forward(input);
    y.backward(g);
    return y;
  }, compiled);
  const run = (): Tensor => forwardBackward(x, gradOut);
  return {
    async check(): Promise<Outputs> {
      const y = run();
      return {
        y: y.toArray() as Float32Array,
        gradX: gradOf(x, "x"),
        gradGamma: gradOf(gamma, "gamma"),
        gradBeta: gradOf(beta, "beta"),
      };
    },
    step: () => void run(),
    dispose() {},
  };
}

async function matmul(inputs: MatmulInputs): Promise<Case> {
  const { n } = inputs;
  const a = tensor(inputs.a, { shape: [n, n] });
  const b = tensor(inputs.b, { shape: [n, n] });
  return {
    check: async () => ({ out: a.matmul(b).toArray() as Float32Array }),
    step: () => void a.matmul(b),
    dispose() {},
  };
}

type Params = Record<MlpParamName, Tensor>;

/** The MLP's two BatchNorm1d layers (default or fused), holding γ and β as their parameters. */
interface MlpNorms {
  bn1: BatchNorm1d;
  bn2: BatchNorm1d;
}

function mlpLoss(p: Params, norms: MlpNorms, x: Tensor, labels: Tensor): Tensor {
  let h = x.matmul(p.w1).add(p.b1);
  h = norms.bn1.forward(h).relu();
  h = h.matmul(p.w2).add(p.b2);
  h = norms.bn2.forward(h).relu();
  return crossEntropy(h.matmul(p.w3).add(p.b3), labels);
}

/** A BatchNorm1d layer whose γ and β start at the shared inputs' values. */
function batchNormLayer(gamma: Float32Array, beta: Float32Array, eps: number, fused: boolean) {
  const layer = new BatchNorm1d(gamma.length, { eps, fused });
  noGrad(() => {
    layer.weight!.copy_(tensor(gamma));
    layer.bias!.copy_(tensor(beta));
  });
  return layer;
}

async function mlp(inputs: MlpInputs, fused: boolean, compiled = false): Promise<Case> {
  const { batch, eps, lr, momentum } = inputs;
  const x = tensor(inputs.x, { shape: [batch, inputs.shapes.w1[0]] });
  const labels = tensor(inputs.labels);
  const norms: MlpNorms = {
    bn1: batchNormLayer(inputs.params.g1, inputs.params.be1, eps, fused),
    bn2: batchNormLayer(inputs.params.g2, inputs.params.be2, eps, fused),
  };
  const params = {} as Params;
  for (const name of MLP_PARAM_NAMES) {
    params[name] = leaf(inputs.params[name], inputs.shapes[name]);
  }
  // γ and β live in the layers, as in a user's model.
  params.g1 = norms.bn1.weight!;
  params.be1 = norms.bn1.bias!;
  params.g2 = norms.bn2.weight!;
  params.be2 = norms.bn2.bias!;
  // PyTorch SGD (dampening 0, no Nesterov): buf = momentum * buf + grad; p -= lr * buf, with
  // buf = grad on step 1.
  const optimizer = new SGD(
    MLP_PARAM_NAMES.map((name) => params[name]),
    { lr, momentum },
  );
  const step = maybeCompiled((input: Tensor, target: Tensor): Tensor => {
    optimizer.zeroGrad();
    const loss = mlpLoss(params, norms, input, target);
    loss.backward();
    optimizer.step();
    return loss;
  }, compiled);
  const trainStep = (): number => step(x, labels).item();
  return {
    async check(): Promise<Outputs> {
      const loss1 = trainStep();
      const loss2 = trainStep();
      const out: Outputs = { loss: new Float32Array([loss1, loss2]) };
      for (const name of ["w1", "g1", "w3", "b3"] as const) {
        const now = params[name].toArray() as Float32Array;
        out[`delta.${name}`] = now.map((v, i) => v - inputs.params[name][i]);
      }
      return out;
    },
    step: () => void trainStep(),
    dispose() {},
  };
}

/**
 * The CNN example's network built from the layers a user writes (Conv2d, BatchNorm2d, ReLU,
 * MaxPool2d, Flatten, Linear) with the shared parameters loaded, trained by @koubai/optim's SGD.
 */
async function cnn(inputs: CnnInputs, fused: boolean, compiled = false): Promise<Case> {
  const { batch, eps, lr, momentum, params } = inputs;
  const conv1 = new Conv2d(1, 16, 3, { padding: 1 });
  const conv2 = new Conv2d(16, 32, 3, { padding: 1 });
  const bn1 = new BatchNorm2d(16, { eps, fused });
  const bn2 = new BatchNorm2d(32, { eps, fused });
  const fc = new Linear(32 * 7 * 7, 10);
  const model = new Sequential(
    conv1,
    bn1,
    new ReLU(),
    new MaxPool2d(2),
    conv2,
    bn2,
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    fc,
  );
  noGrad(() => {
    conv1.weight.copy_(tensor(params.c1w, { shape: [16, 1, 3, 3] }));
    conv1.bias!.copy_(tensor(params.c1b));
    bn1.weight!.copy_(tensor(params.g1));
    bn1.bias!.copy_(tensor(params.be1));
    conv2.weight.copy_(tensor(params.c2w, { shape: [32, 16, 3, 3] }));
    conv2.bias!.copy_(tensor(params.c2b));
    bn2.weight!.copy_(tensor(params.g2));
    bn2.bias!.copy_(tensor(params.be2));
    fc.weight.copy_(tensor(params.fw, { shape: [32 * 7 * 7, 10] }).t());
    fc.bias!.copy_(tensor(params.fb));
  });
  const x = tensor(inputs.x, { shape: [batch, 1, 28, 28] });
  const labels = tensor(inputs.labels);
  const optimizer = new SGD(model.parameters(), { lr, momentum });
  const step = maybeCompiled((input: Tensor, target: Tensor): Tensor => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(input), target);
    loss.backward();
    optimizer.step();
    return loss;
  }, compiled);
  const trainStep = (): number => step(x, labels).item();
  const delta = (now: Tensor, before: Float32Array) =>
    (now.toArray() as Float32Array).map((v, i) => v - before[i]);
  return {
    async check(): Promise<Outputs> {
      const loss1 = trainStep();
      const loss2 = trainStep();
      return {
        loss: new Float32Array([loss1, loss2]),
        "delta.c1w": delta(conv1.weight, params.c1w),
        "delta.g2": delta(bn2.weight!, params.g2),
        "delta.fw": delta(fc.weight.t(), params.fw),
      };
    },
    step: () => void trainStep(),
    dispose() {},
  };
}

export function koubaiFramework(version: string): Framework {
  return {
    name: "koubai",
    version,
    batchNorm: async (inputs) => batchNorm(inputs, moduleSetup(inputs, false)),
    matmul,
    mlp: async (inputs) => mlp(inputs, false),
    cnn: async (inputs) => cnn(inputs, false),
  };
}

/**
 * Koubai's default layers under `compile()`, or with `fused: true` too: the workloads' steps
 * traced once and replayed.
 */
export function koubaiCompiledFramework(version: string, fused: boolean): Framework {
  return {
    name: fused ? "koubai-fused-compile" : "koubai-compile",
    version,
    batchNorm: async (inputs) => batchNorm(inputs, moduleSetup(inputs, fused), true),
    mlp: async (inputs) => mlp(inputs, fused, true),
    cnn: async (inputs) => cnn(inputs, fused, true),
  };
}

/** Koubai with the layers package's fused BatchNorm; matmul is the same kernel, so not repeated. */
export function koubaiFusedFramework(version: string): Framework {
  return {
    name: "koubai-fused",
    version,
    batchNorm: async (inputs) => batchNorm(inputs, moduleSetup(inputs, true)),
    mlp: async (inputs) => mlp(inputs, true),
    cnn: async (inputs) => cnn(inputs, true),
  };
}

/** A case whose check and steps run with `threads` kernel threads, restoring the count after. */
function withThreads(threads: number, inner: Case): Case {
  const run = <T>(work: () => T): T => {
    const previous = getKernelThreads();
    setKernelThreads(threads);
    try {
      return work();
    } finally {
      setKernelThreads(previous);
    }
  };
  return {
    check: () => run(() => inner.check()),
    step: () => run(() => inner.step()),
    dispose: () => inner.dispose(),
  };
}

/**
 * koubai-fused with `threads` kernel threads (core's setKernelThreads) for its matmuls of at
 * least 2^23 multiply-adds: the matmul and MLP workloads (BatchNorm has no matmul).
 */
export function koubaiThreadsFramework(version: string, threads: number): Framework {
  return {
    name: `koubai-fused-${threads}t`,
    version,
    matmul: async (inputs) => withThreads(threads, await matmul(inputs)),
    mlp: async (inputs) => withThreads(threads, await mlp(inputs, true)),
  };
}
