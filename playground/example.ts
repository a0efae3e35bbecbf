// A starting point: fit y = x²/5 - tanh(x) on [-3, 3] with a small network, and print the loss
// as it falls. Copy this file (npm run play -- my-net.ts creates my-net.ts from it) and make it yours.
import { linspace, manualSeed, noGrad } from "@koubai/core";
import { BatchNorm1d, Linear, MSELoss, Sequential, Tanh } from "@koubai/layers";
import { Adam } from "@koubai/optim";

manualSeed(0);
const x = linspace(-3, 3, 256).reshape([256, 1]);
const y = noGrad(() => x.square().div(5).sub(x.tanh())); // any smooth target will do

const model = new Sequential(new Linear(1, 32), new BatchNorm1d(32), new Tanh(), new Linear(32, 1));
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
const lossFn = new MSELoss();

for (let step = 0; step <= 300; step++) {
  const loss = lossFn.forward(model.forward(x), y);
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  if (step % 50 === 0)
    console.log(`step ${String(step).padStart(3)}  loss ${loss.item().toFixed(5)}`);
}

model.eval(); // BatchNorm now uses its running statistics
console.log(noGrad(() => model.forward(x.slice(0, 0, 3)))); // predictions at x = -3, -2.98, -2.95
