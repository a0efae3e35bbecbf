// Functional transforms: grad (and grad of grad), valueAndGrad, vjp and autogradGrad return
// gradients as values and leave .grad alone.

import { describe, expect, it } from "vitest";
import { autogradGrad, grad, type Tensor, tensor, valueAndGrad, vjp } from "../../src/index.js";

const xs = [-1.5, -0.3, 0, 0.7, 2];

describe("functional transforms", () => {
  it("grad(grad(x ↦ x³)) is 6x", () => {
    const cube = (x: Tensor) => x.pow(3);
    const second = grad(grad(cube) as (x: Tensor) => Tensor) as (x: Tensor) => Tensor;
    for (const v of xs) expect(second(tensor(v, { dtype: "float64" }))).toBeAllclose(6 * v);
  });

  it("grad(grad(tanh)) is -2·tanh(x)·(1 - tanh²(x))", () => {
    const x = tensor(xs, { dtype: "float64" });
    const d2 = grad((y: Tensor) => (grad((z: Tensor) => z.tanh().sum())(y) as Tensor).sum())(x);
    expect(d2).toBeAllclose(xs.map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)));
  });

  it("grad with a list of argnums returns one gradient per listed argument", () => {
    const f = (a: Tensor, b: Tensor) => a.mul(b).sum();
    const [ga, gb] = grad(f, [0, 1])(
      tensor([1, 2], { dtype: "float64" }),
      tensor([3, 4], { dtype: "float64" }),
    ) as Tensor[];
    expect(ga).toBeAllclose([3, 4]);
    expect(gb).toBeAllclose([1, 2]);
  });

  it("valueAndGrad returns the value and the gradient from one forward pass", () => {
    const [value, g] = valueAndGrad((x: Tensor) => x.square().sum())(
      tensor([1, -2], { dtype: "float64" }),
    );
    expect(value).toBeAllclose(5);
    expect(value.requiresGrad).toBe(false);
    expect(g).toBeAllclose([2, -4]);
  });

  it("vjp returns f(x) and a function mapping cotangents to vᵀJ, callable twice", () => {
    const [out, vjpFn] = vjp((x: Tensor) => x.square(), tensor([1, 2, 3], { dtype: "float64" }));
    expect(out).toBeAllclose([1, 4, 9]);
    expect(vjpFn(tensor([1, 0, 1], { dtype: "float64" }))[0]).toBeAllclose([2, 0, 6]);
    expect(vjpFn(tensor([0, 1, 0], { dtype: "float64" }))[0]).toBeAllclose([0, 4, 0]);
  });

  it("autogradGrad leaves .grad untouched and reports unused inputs as null when allowed", () => {
    const x = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const unused = tensor([5], { dtype: "float64", requiresGrad: true });
    const [gx, gu] = autogradGrad(x.square().sum(), [x, unused], { allowUnused: true });
    expect(gx).toBeAllclose([2, 4]);
    expect(gu).toBeNull();
    expect(x.grad).toBeNull();
    expect(() => autogradGrad(x.square().sum(), [x, unused])).toThrow(/inputs\[1\] was not used/);
  });
});
