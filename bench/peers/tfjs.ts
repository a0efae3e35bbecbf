// TensorFlow.js's side of the peer benchmark, on its `cpu` backend (plain JS kernels) or its `wasm`
// backend (XNNPACK, single threaded under Node). The same composite BatchNorm as Koubai's, and
// the MLP trained with tf.train.momentum, whose update is PyTorch's SGD-momentum form.
// NOTE: tensors live on the backend active when they were made, so each case switches the
// backend when it is created and the runner runs cases one after another, never interleaved.

import * as tf from "@tensorflow/tfjs";
import { getThreadsCount, version_wasm } from "@tensorflow/tfjs-backend-wasm";
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

export type TfBackend = "cpu" | "wasm";

function batchNormComposite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number) {
  const mean = tf.mean(x, 0, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), 0, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

async function floats(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

async function useBackend(backend: TfBackend): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to start`);
  await tf.ready();
}

function batchNorm(backend: TfBackend) {
  return async (inputs: BatchNormInputs): Promise<Case> => {
    await useBackend(backend);
    const { n, c, eps } = inputs;
    const x = tf.tensor2d(inputs.x, [n, c]);
    const gamma = tf.tensor1d(inputs.gamma);
    const beta = tf.tensor1d(inputs.beta);
    const gradOut = tf.tensor2d(inputs.gradOut, [n, c]);
    const forwardBackward = tf.valueAndGrads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      batchNormComposite(xs, g, b, eps),
    );
    const run = () => forwardBackward([x, gamma, beta], gradOut);
    return {
      async check(): Promise<Outputs> {
        const { value, grads } = run();
        const out = {
          y: await floats(value),
          gradX: await floats(grads[0]),
          gradGamma: await floats(grads[1]),
          gradBeta: await floats(grads[2]),
        };
        tf.dispose([value, ...grads]);
        return out;
      },
      step() {
        const { value, grads } = run();
        tf.dispose([value, ...grads]);
      },
      dispose: () => tf.dispose([x, gamma, beta, gradOut]),
    };
  };
}

function matmul(backend: TfBackend) {
  return async (inputs: MatmulInputs): Promise<Case> => {
    await useBackend(backend);
    const a = tf.tensor2d(inputs.a, [inputs.n, inputs.n]);
    const b = tf.tensor2d(inputs.b, [inputs.n, inputs.n]);
    return {
      async check(): Promise<Outputs> {
        const out = tf.matMul(a, b);
        const values = await floats(out);
        out.dispose();
        return { out: values };
      },
      step: () => tf.matMul(a, b).dispose(),
      dispose: () => tf.dispose([a, b]),
    };
  };
}

function mlp(backend: TfBackend) {
  return async (inputs: MlpInputs): Promise<Case> => {
    await useBackend(backend);
    const { batch, eps } = inputs;
    const x = tf.tensor2d(inputs.x, [batch, inputs.shapes.w1[0]]);
    const oneHot = tf.tensor2d(inputs.oneHot, [batch, inputs.shapes.w3[1]]);
    const p = {} as Record<MlpParamName, tf.Variable>;
    for (const name of MLP_PARAM_NAMES) {
      p[name] = tf.variable(tf.tensor(inputs.params[name], [...inputs.shapes[name]]), true, name);
    }
    const optimizer = tf.train.momentum(inputs.lr, inputs.momentum);
    const loss = (): tf.Scalar => {
      let h = tf.add(tf.matMul(x, p.w1), p.b1);
      h = tf.relu(batchNormComposite(h, p.g1, p.be1, eps));
      h = tf.add(tf.matMul(h, p.w2), p.b2);
      h = tf.relu(batchNormComposite(h, p.g2, p.be2, eps));
      const logits = tf.add(tf.matMul(h, p.w3), p.b3);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    const varList = MLP_PARAM_NAMES.map((name) => p[name]);
    const trainStep = async (): Promise<number> => {
      const cost = optimizer.minimize(loss, true, varList);
      if (cost === null) throw new Error("tfjs: minimize returned no cost");
      const value = (await cost.data())[0];
      cost.dispose();
      return value;
    };
    return {
      async check(): Promise<Outputs> {
        const loss1 = await trainStep();
        const loss2 = await trainStep();
        const out: Outputs = { loss: new Float32Array([loss1, loss2]) };
        for (const name of ["w1", "g1", "w3", "b3"] as const) {
          const now = await floats(p[name]);
          out[`delta.${name}`] = now.map((v, i) => v - inputs.params[name][i]);
        }
        return out;
      },
      step: async () => void (await trainStep()),
      dispose() {
        optimizer.dispose();
        tf.dispose([x, oneHot, ...varList]);
      },
    };
  };
}

/**
 * The CNN in TF.js's own layout, NHWC with HWIO filters (its conv2d's native format): inputs and
 * weights are transposed once, outside the timed step, and the features back to NCHW before
 * Flatten so the Linear layer sees the same order as every other framework.
 */
function cnn(backend: TfBackend) {
  return async (inputs: CnnInputs): Promise<Case> => {
    await useBackend(backend);
    const { batch, eps } = inputs;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(inputs.x, [batch, 1, 28, 28]), [0, 2, 3, 1]));
    const oneHot = tf.tensor2d(inputs.oneHot, [batch, 10]);
    const hwio = (data: Float32Array, shape: readonly number[]) =>
      tf.tidy(() => tf.transpose(tf.tensor(data, [...shape]), [2, 3, 1, 0]));
    const p = {} as Record<CnnParamName, tf.Variable>;
    for (const name of CNN_PARAM_NAMES) {
      const initial =
        name === "c1w" || name === "c2w"
          ? hwio(inputs.params[name], CNN_SHAPES[name])
          : tf.tensor(inputs.params[name], [...CNN_SHAPES[name]]);
      p[name] = tf.variable(initial, true, name);
    }
    const bn = (h: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D => {
      const { mean, variance } = tf.moments(h, [0, 1, 2], true);
      return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
    };
    const optimizer = tf.train.momentum(inputs.lr, inputs.momentum);
    const loss = (): tf.Scalar => {
      let h = tf.add(
        tf.conv2d(x as tf.Tensor4D, p.c1w as tf.Tensor4D, 1, "same"),
        p.c1b,
      ) as tf.Tensor4D;
      h = tf.maxPool(tf.relu(bn(h, p.g1, p.be1)), 2, 2, "valid");
      h = tf.add(tf.conv2d(h, p.c2w as tf.Tensor4D, 1, "same"), p.c2b) as tf.Tensor4D;
      h = tf.maxPool(tf.relu(bn(h, p.g2, p.be2)), 2, 2, "valid");
      const flat = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [batch, -1]);
      const logits = tf.add(tf.matMul(flat as tf.Tensor2D, p.fw as tf.Tensor2D), p.fb);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    };
    const varList = CNN_PARAM_NAMES.map((name) => p[name]);
    const trainStep = async (): Promise<number> => {
      const cost = optimizer.minimize(loss, true, varList);
      if (cost === null) throw new Error("tfjs: minimize returned no cost");
      const value = (await cost.data())[0];
      cost.dispose();
      return value;
    };
    return {
      async check(): Promise<Outputs> {
        const loss1 = await trainStep();
        const loss2 = await trainStep();
        const c1w = tf.tidy(() => tf.transpose(p.c1w, [3, 2, 0, 1]));
        const now = { c1w: await floats(c1w), g2: await floats(p.g2), fw: await floats(p.fw) };
        c1w.dispose();
        const out: Outputs = { loss: new Float32Array([loss1, loss2]) };
        for (const name of ["c1w", "g2", "fw"] as const) {
          out[`delta.${name}`] = now[name].map((v, i) => v - inputs.params[name][i]);
        }
        return out;
      },
      step: async () => void (await trainStep()),
      dispose() {
        optimizer.dispose();
        tf.dispose([x, oneHot, ...varList]);
      },
    };
  };
}

/** The TF.js adapter on one backend; the version string names the packages that ran. */
export async function tfjsFramework(backend: TfBackend): Promise<Framework> {
  await useBackend(backend);
  const threads = backend === "wasm" ? `, ${getThreadsCount()} thread(s)` : "";
  const version =
    backend === "wasm"
      ? `@tensorflow/tfjs ${tf.version.tfjs}, tfjs-backend-wasm ${version_wasm}${threads}`
      : `@tensorflow/tfjs ${tf.version.tfjs} (tfjs-backend-cpu ${tf.version["tfjs-backend-cpu"]})`;
  return {
    name: `tfjs-${backend}`,
    version,
    exclusiveGroup: "tfjs",
    batchNorm: batchNorm(backend),
    matmul: matmul(backend),
    mlp: mlp(backend),
    cnn: cnn(backend),
  };
}
