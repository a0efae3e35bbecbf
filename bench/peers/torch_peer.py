"""PyTorch's side of the peer benchmark (npm run bench -- peers), run by torch.ts as a child
process: one JSON request per line on stdin, one JSON reply per line on stdout. Requests:
  {"cmd": "open", "workload": "bn"|"matmul"|"mlp"|"cnn", "inputs": {...}}   float32 arrays as base64
  {"cmd": "check"}  runs the workload once (two training steps for mlp and cnn), replies its outputs
  {"cmd": "step"}   one timed unit of work
  {"cmd": "dispose"}
Replies: {"ok": true, ...} or {"ok": false, "error": "..."}. PyTorch runs on one thread (the
peers do), in float32, with PyTorch's own BatchNorm kernel (what nn.BatchNorm1d runs) and SGD.

Needs Debian's python3-torch (/usr/bin/python3); torch.ts skips PyTorch when it cannot import it.
"""

import base64
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


def floats(encoded, shape):
    data = np.frombuffer(base64.b64decode(encoded), dtype=np.float32).copy()
    return torch.from_numpy(data).reshape(shape)


def ints(encoded, shape):
    data = np.frombuffer(base64.b64decode(encoded), dtype=np.int32).astype(np.int64)
    return torch.from_numpy(data).reshape(shape)


def out(t):
    return base64.b64encode(t.detach().contiguous().to(torch.float32).numpy().tobytes()).decode()


class BatchNorm:
    """PyTorch's own BatchNorm in training mode (F.batch_norm: the native kernel nn.BatchNorm1d
    runs), with running statistics updated as the layer does, on the given gamma and beta."""

    def __init__(self, c, eps):
        self.running_mean = torch.zeros(c)
        self.running_var = torch.ones(c)
        self.eps = eps

    def __call__(self, x, gamma, beta):
        return F.batch_norm(x, self.running_mean, self.running_var, gamma, beta, True, 0.1, self.eps)


class BatchNormCase:
    def __init__(self, i):
        n, c = i["n"], i["c"]
        self.x = floats(i["x"], (n, c)).requires_grad_(True)
        self.gamma = floats(i["gamma"], (c,)).requires_grad_(True)
        self.beta = floats(i["beta"], (c,)).requires_grad_(True)
        self.grad_out = floats(i["gradOut"], (n, c))
        self.bn = BatchNorm(c, i["eps"])

    def run(self):
        for t in (self.x, self.gamma, self.beta):
            t.grad = None
        y = self.bn(self.x, self.gamma, self.beta)
        y.backward(self.grad_out)
        return y

    def check(self):
        y = self.run()
        return {"y": out(y), "gradX": out(self.x.grad), "gradGamma": out(self.gamma.grad),
                "gradBeta": out(self.beta.grad)}

    def step(self):
        self.run()


class MatmulCase:
    def __init__(self, i):
        n = i["n"]
        self.a = floats(i["a"], (n, n))
        self.b = floats(i["b"], (n, n))

    def check(self):
        return {"out": out(self.a @ self.b)}

    def step(self):
        self.a @ self.b


class TrainCase:
    """Two training steps for check, one per step: the loss, backward and SGD (PyTorch's own)."""

    def __init__(self, i, names, shapes):
        self.params = {n: floats(i["params"][n], shapes[n]).requires_grad_(True) for n in names}
        self.initial = {n: p.detach().clone() for n, p in self.params.items()}
        self.eps = i["eps"]
        self.opt = torch.optim.SGD(list(self.params.values()), lr=i["lr"], momentum=i["momentum"])

    def train_step(self):
        self.opt.zero_grad()
        loss = self.loss()
        loss.backward()
        self.opt.step()
        return loss.item()

    def check_outputs(self, watched):
        l1 = self.train_step()
        l2 = self.train_step()
        result = {"loss": out(torch.tensor([l1, l2]))}
        for n in watched:
            result[f"delta.{n}"] = out(self.params[n].detach() - self.initial[n])
        return result

    def step(self):
        self.train_step()


class MlpCase(TrainCase):
    NAMES = ["w1", "b1", "g1", "be1", "w2", "b2", "g2", "be2", "w3", "b3"]

    def __init__(self, i):
        super().__init__(i, self.NAMES, {n: tuple(i["shapes"][n]) for n in self.NAMES})
        self.x = floats(i["x"], (i["batch"], i["shapes"]["w1"][0]))
        self.labels = ints(i["labels"], (i["batch"],))
        self.bn1 = BatchNorm(i["shapes"]["g1"][0], self.eps)
        self.bn2 = BatchNorm(i["shapes"]["g2"][0], self.eps)

    def loss(self):
        p = self.params
        h = torch.relu(self.bn1(self.x @ p["w1"] + p["b1"], p["g1"], p["be1"]))
        h = torch.relu(self.bn2(h @ p["w2"] + p["b2"], p["g2"], p["be2"]))
        return F.cross_entropy(h @ p["w3"] + p["b3"], self.labels)

    def check(self):
        return self.check_outputs(["w1", "g1", "w3", "b3"])


class CnnCase(TrainCase):
    """The CNN with PyTorch's own layers (Conv2d, BatchNorm2d, MaxPool2d), as a user writes it."""

    NAMES = ["c1w", "c1b", "g1", "be1", "c2w", "c2b", "g2", "be2", "fw", "fb"]
    SHAPES = {"c1w": (16, 1, 3, 3), "c1b": (16,), "g1": (16,), "be1": (16,), "c2w": (32, 16, 3, 3),
              "c2b": (32,), "g2": (32,), "be2": (32,), "fw": (1568, 10), "fb": (10,)}

    def __init__(self, i):
        b = i["batch"]
        self.x = floats(i["x"], (b, 1, 28, 28))
        self.labels = ints(i["labels"], (b,))
        self.model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16, eps=i["eps"]), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32, eps=i["eps"]), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1568, 10))
        m = self.model
        with torch.no_grad():
            for layer, w, bias in ((m[0], "c1w", "c1b"), (m[4], "c2w", "c2b")):
                layer.weight.copy_(floats(i["params"][w], self.SHAPES[w]))
                layer.bias.copy_(floats(i["params"][bias], self.SHAPES[bias]))
            for layer, g, be in ((m[1], "g1", "be1"), (m[5], "g2", "be2")):
                layer.weight.copy_(floats(i["params"][g], self.SHAPES[g]))
                layer.bias.copy_(floats(i["params"][be], self.SHAPES[be]))
            m[9].weight.copy_(floats(i["params"]["fw"], self.SHAPES["fw"]).t())
            m[9].bias.copy_(floats(i["params"]["fb"], self.SHAPES["fb"]))
        self.watched = {"c1w": m[0].weight, "g2": m[5].weight, "fw": m[9].weight}
        self.initial = {n: (p.detach().t() if n == "fw" else p.detach()).clone() for n, p in self.watched.items()}
        self.opt = torch.optim.SGD(m.parameters(), lr=i["lr"], momentum=i["momentum"])
        m.train()

    def loss(self):
        return F.cross_entropy(self.model(self.x), self.labels)

    def check(self):
        l1 = self.train_step()
        l2 = self.train_step()
        result = {"loss": out(torch.tensor([l1, l2]))}
        for n, p in self.watched.items():
            now = p.detach().t() if n == "fw" else p.detach()
            result[f"delta.{n}"] = out(now - self.initial[n])
        return result


CASES = {"bn": BatchNormCase, "matmul": MatmulCase, "mlp": MlpCase, "cnn": CnnCase}


def main():
    current = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            cmd = request["cmd"]
            reply = {"ok": True}
            if cmd == "version":
                reply["version"] = torch.__version__
            elif cmd == "open":
                current = CASES[request["workload"]](request["inputs"])
            elif cmd == "check":
                reply["outputs"] = current.check()
            elif cmd == "step":
                current.step()
            elif cmd == "dispose":
                current = None
            else:
                raise ValueError(f"unknown command {cmd}")
        except Exception as error:  # reported to the benchmark, which prints it in the table
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
