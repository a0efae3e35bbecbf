import { Generator, randn, randint, crossEntropy } from "@koubai/core";
import { BatchNorm2d } from "@koubai/layers";
import { SGD } from "@koubai/optim";
import { makeCnn } from "./model.ts";
const g = new Generator(1);
const model = makeCnn({ generator: g });
if (process.env.FUSED === "1") {
  for (const i of [1, 5]) (model as any)[i] = new BatchNorm2d(i === 1 ? 16 : 32, { fused: true });
}
const opt = new SGD(model.parameters(), { lr: 0.03, momentum: 0.9 });
const x = randn([64, 1, 28, 28], { generator: g });
const y = randint(0, 10, [64], { generator: g });
const times: number[] = [];
for (let i = 0; i < 40; i++) {
  const t0 = performance.now();
  opt.zeroGrad();
  const loss = crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(process.env.FUSED === "1" ? "fused" : "default", "median step ms", times[20].toFixed(2), "min", times[0].toFixed(2));
