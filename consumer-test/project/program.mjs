// A user's program against the installed packages, in plain JavaScript: trains a small network
// with BatchNorm and forces the WebAssembly kernels, so that both work from the tarballs. The
// plain Node script, the CommonJS script and the Vite page all run it and report its result.
import { manualSeed, matmul, randn, setKernelBackend, tensor } from "@koubai/core";
import { BatchNorm1d, Linear, MSELoss, ReLU, Sequential } from "@koubai/layers";
import { SGD } from "@koubai/optim";

export function run() {
  manualSeed(0);
  const model = new Sequential(
    new Linear(4, 16),
    new BatchNorm1d(16),
    new ReLU(),
    new Linear(16, 1),
  );
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = randn([64, 4]);
  const y = x.square().sum(1, true); // a target the network can fit
  const lossFn = new MSELoss();
  const losses = [];
  for (let step = 0; step < 60; step++) {
    const loss = lossFn.forward(model.forward(x), y);
    losses.push(loss.item());
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  // "wasm" throws where the WebAssembly SIMD kernels did not load from the package.
  setKernelBackend("wasm");
  const product = matmul(
    tensor([
      [1, 2],
      [3, 4],
    ]),
    tensor([[5], [6]]),
  ).tolist();
  setKernelBackend("auto");
  return { losses, product, printed: String(tensor([1.5, -2])) };
}
