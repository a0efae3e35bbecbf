"""What PyTorch 1.13 does with the bad input that docs/guides/bad-input.md decides on.

Run with Debian's python3-torch: /usr/bin/python3 docs/guides/bad-input-torch.py > docs/guides/bad-input-torch.txt
Each line is a case and torch's result or error (its first line).
"""

import warnings

import torch

warnings.simplefilter("error")  # show warnings as results, like errors


def case(name, fn):
    try:
        result = fn()
        print(f"{name}: {result}")
    except Exception as e:  # noqa: BLE001 - every outcome is printed
        message = str(e).splitlines()[0].split("; see ")[0]  # drop links to the tracker
        print(f"{name}: {type(e).__name__}: {message}")


def param(values):
    p = torch.nn.Parameter(torch.tensor(values))
    return p


def copy_transpose():
    x = torch.arange(9.0).reshape(3, 3)
    x.copy_(x.t())
    return x.tolist()


def clip_norm_negative():
    p = param([1.0, 1.0])
    p.grad = torch.tensor([3.0, 4.0])
    torch.nn.utils.clip_grad_norm_([p], -1.0)
    return p.grad.tolist()


def clip_value_negative():
    p = param([1.0, 1.0, 1.0])
    p.grad = torch.tensor([-3.0, 0.5, 2.0])
    torch.nn.utils.clip_grad_value_([p], -1.0)
    return p.grad.tolist()


def assign_grad(value):
    def run():
        p = param([1.0, 2.0])
        p.grad = value(p)
        return "accepted"

    return run


print(f"torch {torch.__version__}")
case("x.copy_(x.t())", copy_transpose)
case("torch.tensor([1, [2]])", lambda: torch.tensor([1, [2]]))
case("torch.where(float condition)", lambda: torch.where(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0]), 0.0))
case("SGD([p, p])", lambda: type(torch.optim.SGD([param([1.0]), ] * 2, lr=0.1)).__name__)
case("SGD(lr=inf)", lambda: torch.optim.SGD([param([1.0])], lr=float("inf")).param_groups[0]["lr"])
case("clip_grad_norm_(maxNorm=-1) on grad [3, 4]", clip_norm_negative)
case("clip_grad_value_(-1) on grad [-3, 0.5, 2]", clip_value_negative)
case("p.grad = wrong shape", assign_grad(lambda p: torch.ones(3)))
case("p.grad = wrong dtype", assign_grad(lambda p: torch.ones(2, dtype=torch.float64)))
case("p.grad = list", assign_grad(lambda p: [1.0, 2.0]))
case("p.grad = p", assign_grad(lambda p: p))
case("torch.tensor([2**31], dtype=int32)", lambda: torch.tensor([2**31], dtype=torch.int32))
case("torch.randint(0, 2**40, (3,), dtype=int32)", lambda: torch.randint(0, 2**40, (3,), dtype=torch.int32))
case("int32 tensor([1]) < 2**31", lambda: (torch.tensor([1], dtype=torch.int32) < 2**31).tolist())
case("torch.tensor([nan], dtype=bool)", lambda: torch.tensor([float("nan")], dtype=torch.bool).tolist())
