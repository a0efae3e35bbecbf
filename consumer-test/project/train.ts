// Strict TypeScript against the installed packages' .d.ts files: a BatchNorm network trained
// with SGD momentum and a schedule, plus the typed corners users reach for (backward options,
// tolist's type argument, grad of grad).
import { grad, manualSeed, randn, type Tensor, tensor } from "@koubai/core";
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from "@koubai/layers";
import { SGD, StepLR } from "@koubai/optim";

manualSeed(1);
const model = new Sequential(new Linear(2, 16), new BatchNorm1d(16), new ReLU(), new Linear(16, 2));
const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
const scheduler = new StepLR(optimizer, { stepSize: 50, gamma: 0.5 });
const lossFn = new CrossEntropyLoss();

const x: Tensor = randn([128, 2]);
const labels: Tensor = x.select(1, 0).mul(x.select(1, 1)).gt(0).to("int32"); // XOR of signs

const losses: number[] = [];
for (let step = 0; step < 150; step++) {
  const loss = lossFn.forward(model.forward(x), labels);
  losses.push(loss.item());
  optimizer.zeroGrad();
  loss.backward({ retainGraph: false });
  optimizer.step();
  scheduler.step();
}
model.eval();
const predicted = model.forward(x).argmax(1);
const accuracy = predicted.eq(labels).to("float32").mean().item();

const secondDerivative = grad((t: Tensor) => grad((u: Tensor) => u.pow(3).sum())(t).sum());
const d2 = secondDerivative(tensor([1, 2], { dtype: "float64" })).tolist<number[]>();

console.log(JSON.stringify({ first: losses[0], last: losses[losses.length - 1], accuracy, d2 }));
