// jax-js's side of the peer benchmark, on its Wasm backend, every workload under `jit` (eager
// mode leaks a buffer per differentiated `div` in 0.1.25, and jit is how jax-js is meant to run).
// jax-js arrays are reference counted: passing an array to a function consumes it, `.ref` keeps
// a copy alive, and reading data (`data()`) consumes the array too.

import { blockUntilReady, init, jit, lax, nn, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import {
  type BatchNormInputs,
  CNN_PARAM_NAMES,
  CNN_SHAPES,
  type CnnInputs,
  type CnnParamName,
  type MatmulInputs,
  MLP_PARAM_NAMES,
  type MlpInputs,
  type MlpParamName,
} from "./inputs.js";
import type { Case, Framework, Outputs } from "./measure.js";

/** A composite BatchNorm: `(x - mean) * 1/sqrt(var + eps) * gamma + beta`, var biased. */
function batchNormComposite(x: np.Array, gamma: np.Array, beta: np.Array, eps: number): np.Array {
  const mean = np.mean(x.ref, 0, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.mean(np.square(centred.ref), 0, { keepdims: true });
  return centred
    .mul(np.reciprocal(np.sqrt(variance.add(eps))))
    .mul(gamma)
    .add(beta);
}

function array(data: Float32Array, shape: readonly number[]): np.Array {
  return np.array(data).reshape([...shape]);
}

async function floats(a: np.Array): Promise<Float32Array> {
  return (await a.data()) as Float32Array;
}

async function batchNorm(inputs: BatchNormInputs): Promise<Case> {
  const { n, c, eps } = inputs;
  const x = array(inputs.x, [n, c]);
  const gamma = array(inputs.gamma, [c]);
  const beta = array(inputs.beta, [c]);
  const gradOut = array(inputs.gradOut, [n, c]);
  // The vjp with cotangent gradOut, as the gradient of sum(y * gradOut); y returned as aux.
  const objective = (
    xs: np.Array,
    g: np.Array,
    b: np.Array,
    dy: np.Array,
  ): [np.Array, np.Array] => {
    const y = batchNormComposite(xs, g, b, eps);
    return [np.sum(y.ref.mul(dy)), y];
  };
  const forwardBackward = jit(valueAndGrad(objective, { argnums: [0, 1, 2], hasAux: true }));
  const run = () => forwardBackward(x.ref, gamma.ref, beta.ref, gradOut.ref);
  return {
    async check(): Promise<Outputs> {
      const [[objectiveValue, y], [gradX, gradGamma, gradBeta]] = run();
      objectiveValue.dispose();
      return {
        y: await floats(y),
        gradX: await floats(gradX),
        gradGamma: await floats(gradGamma),
        gradBeta: await floats(gradBeta),
      };
    },
    async step() {
      const outputs = run();
      await blockUntilReady(outputs);
      tree.dispose(outputs);
    },
    dispose() {
      tree.dispose([x, gamma, beta, gradOut]);
      forwardBackward.dispose();
    },
  };
}

async function matmul(inputs: MatmulInputs): Promise<Case> {
  const a = array(inputs.a, [inputs.n, inputs.n]);
  const b = array(inputs.b, [inputs.n, inputs.n]);
  const product = jit((lhs: np.Array, rhs: np.Array) => np.matmul(lhs, rhs));
  return {
    check: async () => ({ out: await floats(product(a.ref, b.ref)) }),
    async step() {
      const out = await product(a.ref, b.ref).blockUntilReady();
      out.dispose();
    },
    dispose() {
      tree.dispose([a, b]);
      product.dispose();
    },
  };
}

type Params = Record<MlpParamName, np.Array>;

function mlpLoss(p: Params, x: np.Array, oneHot: np.Array, eps: number): np.Array {
  let h = np.matmul(x, p.w1).add(p.b1);
  h = nn.relu(batchNormComposite(h, p.g1, p.be1, eps));
  h = np.matmul(h, p.w2).add(p.b2);
  h = nn.relu(batchNormComposite(h, p.g2, p.be2, eps));
  const logits = np.matmul(h, p.w3).add(p.b3);
  return np.mean(np.sum(nn.logSoftmax(logits, -1).mul(oneHot), -1)).mul(-1);
}

async function mlp(inputs: MlpInputs): Promise<Case> {
  const { batch, eps, lr, momentum } = inputs;
  const x = array(inputs.x, [batch, inputs.shapes.w1[0]]);
  const oneHot = array(inputs.oneHot, [batch, inputs.shapes.w3[1]]);
  let params = {} as Params;
  let buffers = {} as Params;
  for (const name of MLP_PARAM_NAMES) {
    params[name] = array(inputs.params[name], inputs.shapes[name]);
    buffers[name] = np.zeros([...inputs.shapes[name]]);
  }
  // PyTorch SGD (dampening 0, no Nesterov): buf = momentum * buf + grad; p -= lr * buf.
  const step = jit(
    (p: Params, m: Params, xs: np.Array, target: np.Array): [Params, Params, np.Array] => {
      const [loss, grads] = valueAndGrad((q: Params) => mlpLoss(q, xs, target, eps))(tree.ref(p));
      const nextP = {} as Params;
      const nextM = {} as Params;
      for (const name of MLP_PARAM_NAMES) {
        nextM[name] = m[name].mul(momentum).add(grads[name]);
        nextP[name] = p[name].sub(nextM[name].ref.mul(lr));
      }
      return [nextP, nextM, loss];
    },
  );
  const trainStep = async (): Promise<number> => {
    const [nextP, nextM, loss] = step(params, buffers, x.ref, oneHot.ref);
    params = nextP;
    buffers = nextM;
    return (await floats(loss))[0];
  };
  return {
    async check(): Promise<Outputs> {
      const loss1 = await trainStep();
      const loss2 = await trainStep();
      const out: Outputs = { loss: new Float32Array([loss1, loss2]) };
      for (const name of ["w1", "g1", "w3", "b3"] as const) {
        const now = await floats(params[name].ref);
        out[`delta.${name}`] = now.map((v, i) => v - inputs.params[name][i]);
      }
      return out;
    },
    step: async () => void (await trainStep()),
    dispose() {
      tree.dispose([x, oneHot, params, buffers]);
      step.dispose();
    },
  };
}

type CnnParamsOf = Record<CnnParamName, np.Array>;

/** BatchNorm2d in training mode over [N, C, H, W]: statistics over N, H and W, var biased. */
function batchNorm2d(x: np.Array, gamma: np.Array, beta: np.Array, eps: number): np.Array {
  const axes = [0, 2, 3];
  const mean = np.mean(x.ref, axes, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.mean(np.square(centred.ref), axes, { keepdims: true });
  return centred
    .mul(np.reciprocal(np.sqrt(variance.add(eps))))
    .mul(gamma.reshape([1, -1, 1, 1]))
    .add(beta.reshape([1, -1, 1, 1]));
}

/** 2×2 max pooling with stride 2 as a reshape and a max over the window axes. */
function maxPool2(x: np.Array): np.Array {
  const [n, c, h, w] = x.shape;
  return np.max(x.reshape([n, c, h / 2, 2, w / 2, 2]), [3, 5]);
}

function cnnLoss(p: CnnParamsOf, x: np.Array, oneHot: np.Array, eps: number): np.Array {
  const pad: [number, number][] = [
    [1, 1],
    [1, 1],
  ];
  let h = lax.convGeneralDilated(x, p.c1w, [1, 1], pad).add(p.c1b.reshape([1, -1, 1, 1]));
  h = maxPool2(nn.relu(batchNorm2d(h, p.g1, p.be1, eps)));
  h = lax.convGeneralDilated(h, p.c2w, [1, 1], pad).add(p.c2b.reshape([1, -1, 1, 1]));
  h = maxPool2(nn.relu(batchNorm2d(h, p.g2, p.be2, eps)));
  const logits = np.matmul(h.reshape([h.shape[0], -1]), p.fw).add(p.fb);
  return np.mean(np.sum(nn.logSoftmax(logits, -1).mul(oneHot), -1)).mul(-1);
}

async function cnn(inputs: CnnInputs): Promise<Case> {
  const { batch, eps, lr, momentum } = inputs;
  const x = array(inputs.x, [batch, 1, 28, 28]);
  const oneHot = array(inputs.oneHot, [batch, 10]);
  let params = {} as CnnParamsOf;
  let buffers = {} as CnnParamsOf;
  for (const name of CNN_PARAM_NAMES) {
    params[name] = array(inputs.params[name], CNN_SHAPES[name]);
    buffers[name] = np.zeros([...CNN_SHAPES[name]]);
  }
  const step = jit(
    (
      p: CnnParamsOf,
      m: CnnParamsOf,
      xs: np.Array,
      target: np.Array,
    ): [CnnParamsOf, CnnParamsOf, np.Array] => {
      const [loss, grads] = valueAndGrad((q: CnnParamsOf) => cnnLoss(q, xs, target, eps))(
        tree.ref(p),
      );
      const nextP = {} as CnnParamsOf;
      const nextM = {} as CnnParamsOf;
      for (const name of CNN_PARAM_NAMES) {
        nextM[name] = m[name].mul(momentum).add(grads[name]);
        nextP[name] = p[name].sub(nextM[name].ref.mul(lr));
      }
      return [nextP, nextM, loss];
    },
  );
  const trainStep = async (): Promise<number> => {
    const [nextP, nextM, loss] = step(params, buffers, x.ref, oneHot.ref);
    params = nextP;
    buffers = nextM;
    return (await floats(loss))[0];
  };
  return {
    async check(): Promise<Outputs> {
      const loss1 = await trainStep();
      const loss2 = await trainStep();
      const out: Outputs = { loss: new Float32Array([loss1, loss2]) };
      for (const name of ["c1w", "g2", "fw"] as const) {
        const now = await floats(params[name].ref);
        out[`delta.${name}`] = now.map((v, i) => v - inputs.params[name][i]);
      }
      return out;
    },
    step: async () => void (await trainStep()),
    dispose() {
      tree.dispose([x, oneHot, params, buffers]);
      step.dispose();
    },
  };
}

/** Starts jax-js's Wasm backend and returns its adapter. */
export async function jaxFramework(version: string): Promise<Framework> {
  const devices = await init("wasm");
  if (!devices.includes("wasm"))
    throw new Error(`jax-js: no wasm device (got ${devices.join(", ")})`);
  // jax-js spreads Wasm work over Web Workers only when both SharedArrayBuffer and a global
  // Worker exist; Node 20 has no global Worker, so it runs on one thread here.
  const threaded = typeof SharedArrayBuffer !== "undefined" && "Worker" in globalThis;
  return {
    name: "jax-js-wasm",
    version: `@jax-js/jax ${version} (wasm, jit, ${threaded ? "multi-threaded" : "single thread"})`,
    batchNorm,
    matmul,
    mlp,
    cnn,
  };
}
