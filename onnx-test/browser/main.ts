// The page of test/browser.test.ts: a small network with BatchNorm, trained a few steps in the
// page, exported with exportOnnx in the page and run there by onnxruntime-web (its WebAssembly
// backend, one thread); both outputs go to window.__onnx (or the error to window.__error).

import { crossEntropy, manualSeed, noGrad, randint, randn } from "@koubai/core";
import { BatchNorm1d, Linear, ReLU, Sequential } from "@koubai/layers";
import { exportOnnx } from "@koubai/onnx";
import { SGD } from "@koubai/optim";
import * as ort from "onnxruntime-web/wasm";

declare global {
  interface Window {
    __onnx?: { koubai: number[]; onnx: number[]; dims: number[]; bytes: number };
    __error?: string;
  }
}

async function run() {
  manualSeed(0);
  const model = new Sequential(
    new Linear(8, 16),
    new BatchNorm1d(16),
    new ReLU(),
    new Linear(16, 3),
  );
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = randn([32, 8]);
  const y = randint(0, 3, [32]);
  for (let step = 0; step < 5; step++) {
    optimizer.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    optimizer.step();
  }
  model.eval();
  const bytes = exportOnnx(model, [x.narrow(0, 0, 1)], {
    inputNames: ["features"],
    outputNames: ["scores"],
    dynamicBatch: true,
  });
  // The runtime's .mjs/.wasm pair is served next to the page (see the test); one thread, since
  // the page is not cross-origin isolated.
  ort.env.wasm.wasmPaths = new URL("./ort/", location.href).href;
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  const batch = x.narrow(0, 0, 5).contiguous();
  const result = await session.run({
    features: new ort.Tensor("float32", batch.toArray() as Float32Array, [5, 8]),
  });
  const scores = result.scores;
  return {
    koubai: Array.from(noGrad(() => model.forward(batch)).toArray()),
    onnx: Array.from(scores.data as Float32Array),
    dims: scores.dims.map(Number),
    bytes: bytes.length,
  };
}

const status = document.getElementById("status")!;
run().then(
  (result) => {
    window.__onnx = result;
    status.textContent = "done";
  },
  (error: unknown) => {
    window.__error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
    status.textContent = `failed: ${window.__error}`;
  },
);
