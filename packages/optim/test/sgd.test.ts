import { setKernelBackend, tensor, zeros } from "@koubai/core";
import { afterEach, describe, expect, it } from "vitest";
import { SGD } from "../src/index.js";
import { decodeValues, fixtures, lcgValues } from "./helpers/fixtures.js";
import { expectTrajectoryMatches } from "./helpers/trajectory.js";

const cases = fixtures.optimizers.filter((c) => c.optimizer === "SGD");

describe("SGD matches torch.optim.SGD 1.13", () => {
  it("has fixture cases to check", () => {
    expect(cases.length).toBeGreaterThanOrEqual(9);
  });
  it.each(cases.map((c) => [c.name, c] as const))("follows torch's trajectory: %s", (_, c) => {
    expectTrajectoryMatches(c);
  });
});

describe("SGD on float32 matches torch.optim.SGD 1.13 bit for bit", () => {
  afterEach(() => setKernelBackend("auto"));

  it("has float32 fixture cases to check", () => {
    expect(fixtures.sgdFloat32.length).toBeGreaterThanOrEqual(4);
  });

  const runs = fixtures.sgdFloat32.flatMap((c) =>
    (["js", "wasm"] as const).map((backend) => [c.name, backend, c] as const),
  );
  it.each(runs)("%s with the %s kernel", (_, backend, c) => {
    setKernelBackend(backend);
    const p = tensor(lcgValues(c.n, c.seed), { requiresGrad: true });
    const optimizer = new SGD([p], c.options as never);
    for (let step = 0; step < c.steps; step++) {
      p.grad = tensor(lcgValues(c.n, c.seed + 1 + step));
      optimizer.step();
    }
    expect(Array.from(p.toArray())).toEqual(decodeValues(c.param));
    if (c.momentumBuffer !== null) {
      const buffer = optimizer.state.get(p)?.momentumBuffer;
      expect(Array.from(buffer?.toArray() ?? [])).toEqual(decodeValues(c.momentumBuffer));
    }
  });
});

describe("SGD update rule", () => {
  afterEach(() => setKernelBackend("auto"));

  it("uses the first gradient as the momentum buffer, undamped", () => {
    const p = tensor([1], { dtype: "float64", requiresGrad: true });
    const optimizer = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    p.grad = tensor([2], { dtype: "float64" });
    optimizer.step();
    // buffer = g = 2 (no dampening on the first step): p = 1 - 0.1·2
    expect(p).toBeAllclose([0.8]);
    expect(optimizer.state.get(p)?.momentumBuffer).toBeAllclose([2]);
    optimizer.step();
    // buffer = 0.9·2 + 0.5·2 = 2.8: p = 0.8 - 0.28
    expect(optimizer.state.get(p)?.momentumBuffer).toBeAllclose([2.8]);
    expect(p).toBeAllclose([0.52]);
  });

  it("leaves the gradient untouched and skips parameters without one", () => {
    const a = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const b = tensor([3], { dtype: "float64", requiresGrad: true });
    const optimizer = new SGD([a, b], { lr: 0.5, weightDecay: 0.1, maximize: true });
    a.grad = tensor([1, -1], { dtype: "float64" });
    optimizer.step();
    expect(a.grad).toBeAllclose([1, -1]);
    // maximize: g = -g, then + 0.1·p: d = [-0.9, 1.2]; p = p - 0.5·d
    expect(a).toBeAllclose([1.45, 1.4]);
    expect(b).toBeAllclose([3]);
    expect(optimizer.state.has(b)).toBe(false);
  });

  it("updates float32 parameters in float32", () => {
    const p = zeros([3], { requiresGrad: true });
    const optimizer = new SGD([p], { lr: 0.1 });
    p.grad = tensor([1, 2, 3]);
    optimizer.step();
    expect(p.dtype).toBe("float32");
    expect(p).toBeAllclose([-0.1, -0.2, -0.3], { atol: 1e-7, rtol: 1e-6 });
  });

  it.each(["js", "wasm"] as const)(
    "takes float32 momentum steps of 2000 values with the %s kernel exactly as torch's float32 ops round",
    (backend) => {
      setKernelBackend(backend);
      const n = 2000;
      const start = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
      const grads = [1, 2, 3].map((s) =>
        Float32Array.from({ length: n }, (_, i) => Math.cos(i * s)),
      );
      const p = tensor(start.slice(), { requiresGrad: true });
      const optimizer = new SGD([p], { lr: 0.05, momentum: 0.9, dampening: 0.25 });
      const expected = start.slice();
      const buf = new Float32Array(n);
      grads.forEach((g, step) => {
        p.grad = tensor(g);
        optimizer.step();
        // Scalars in float32; buf·momentum rounded alone; each "+ scalar·x" is a float64 add of
        // an exact product, rounded once (torch's add_ with alpha).
        const [m, keep, lr] = [Math.fround(0.9), Math.fround(0.75), Math.fround(0.05)];
        for (let i = 0; i < n; i++) {
          buf[i] = step === 0 ? g[i] : Math.fround(Math.fround(buf[i] * m) + keep * g[i]);
          expected[i] = Math.fround(expected[i] + -lr * buf[i]);
        }
      });
      expect(Array.from(p.toArray())).toEqual(Array.from(expected));
    },
  );

  it("updates a non-contiguous parameter view in place", () => {
    const base = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float64" },
    );
    const p = base.t();
    const optimizer = new SGD([p], { lr: 1 });
    p.grad = tensor(
      [
        [1, 1],
        [0, 0],
      ],
      { dtype: "float64" },
    );
    optimizer.step();
    // p = base.T = [[1, 3], [2, 4]]; p - g = [[0, 2], [2, 4]]; base sees the transpose.
    expect(base).toBeAllclose([
      [0, 2],
      [2, 4],
    ]);
  });

  it("reads the group's current lr on every step", () => {
    const p = tensor([0], { dtype: "float64", requiresGrad: true });
    const optimizer = new SGD([p], { lr: 1 });
    p.grad = tensor([1], { dtype: "float64" });
    optimizer.step();
    optimizer.paramGroups[0].lr = 0.25;
    optimizer.step();
    expect(p).toBeAllclose([-1.25]);
  });
});

describe("SGD rejects invalid settings like PyTorch", () => {
  const p = () => zeros([1], { requiresGrad: true });
  it.each([
    [{ lr: -0.1 }, /SGD: invalid lr -0.1/],
    [{ lr: 0.1, momentum: -0.5 }, /SGD: invalid momentum -0.5/],
    [{ lr: 0.1, weightDecay: -1 }, /SGD: invalid weightDecay -1/],
    [{ lr: 0.1, nesterov: true }, /Nesterov momentum requires a momentum > 0 and zero dampening/],
    [
      { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true },
      /Nesterov .* \(got momentum 0.9, dampening 0.1\)/,
    ],
  ])("throws for %o", (options, message) => {
    expect(() => new SGD([p()], options)).toThrow(message);
  });

  it("requires a learning rate", () => {
    expect(() => new SGD([p()], {} as never)).toThrow("SGD: the learning rate lr is required");
  });

  it("checks options of added groups too", () => {
    const optimizer = new SGD([p()], { lr: 0.1 });
    expect(() => optimizer.addParamGroup({ params: [p()], momentum: -1 })).toThrow(
      "SGD: invalid momentum -1",
    );
  });

  it("never sees a gradient that does not match its parameter: the assignment is refused", () => {
    const q = p();
    expect(() => {
      q.grad = zeros([2]);
    }).toThrow("grad: the gradient has shape [2] but the tensor has shape [1]");
    expect(q.grad).toBeNull();
  });
});
