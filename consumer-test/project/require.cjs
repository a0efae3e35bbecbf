// CommonJS: require() of the ES-module packages (Node >= 20.19 loads them synchronously).
const { tensor, setKernelThreads } = require("@koubai/core");
const { Linear } = require("@koubai/layers");
const { SGD } = require("@koubai/optim");

const layer = new Linear(2, 1);
const x = tensor([[1, 2]], { requiresGrad: true });
layer.forward(x).sum().backward();
new SGD(layer.parameters(), { lr: 0.1 }).step();
// The matmul worker threads start from the installed package too.
setKernelThreads(2);
setKernelThreads(1);
console.log(JSON.stringify({ gradShape: x.grad.shape, parameters: layer.parameters().length }));
