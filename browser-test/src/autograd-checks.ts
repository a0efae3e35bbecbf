// Autograd in miniature: one expression whose gradient is known by hand, and float64 gradcheck
// of composites (crossEntropy of a linear layer, GELU then logSoftmax) built from core ops, plus
// a custom op with a deliberately wrong backward that gradcheck must reject.

import {
  crossEntropy,
  customOp,
  Generator,
  GradcheckError,
  gelu,
  gradcheck,
  linear,
  logSoftmax,
  randn,
  tensor,
} from "@koubai/core";

/** L = Σ aᵢ·bᵢ·aᵢ for a = [1, 2, 3], b = [4, 5, 6]; by hand dL/da = 2ab = [8, 20, 36], dL/db = a². */
export interface BackwardResult {
  loss: number;
  gradA: number[];
  gradB: number[];
}

export function backwardCheck(): BackwardResult {
  const a = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
  const b = tensor([4, 5, 6], { dtype: "float64", requiresGrad: true });
  const loss = a.mul(b).mul(a).sum();
  loss.backward();
  return { loss: loss.item(), gradA: [...a.grad!.toArray()], gradB: [...b.grad!.toArray()] };
}

/** One gradcheck: its name, and the GradcheckError message when it failed (null when it passed). */
export interface GradcheckResult {
  name: string;
  error: string | null;
}

function runGradcheck(name: string, check: () => true): GradcheckResult {
  try {
    check();
    return { name, error: null };
  } catch (error) {
    if (error instanceof GradcheckError) return { name, error: error.message };
    throw error;
  }
}

/** square with the derivative off by a factor 2 (x instead of 2x): gradcheck must catch it. */
const wrongSquare = customOp({
  name: "wrongSquare",
  forward: (ctx, x) => {
    ctx.saveForBackward(x);
    return x.mul(x);
  },
  backward: (ctx, gradOut) => [gradOut.mul(ctx.saved[0])],
});

export function gradcheckChecks(): GradcheckResult[] {
  const generator = new Generator(7);
  const x = randn([5, 4], { dtype: "float64", generator });
  const w = randn([3, 4], { dtype: "float64", generator, requiresGrad: true });
  const bias = randn([3], { dtype: "float64", generator, requiresGrad: true });
  const target = tensor([0, 2, 1, 1, 0], { dtype: "int32" });
  const z = randn([2, 6], { dtype: "float64", generator, requiresGrad: true });
  return [
    runGradcheck("crossEntropy(linear(x, w, b), target)", () =>
      gradcheck((wi, bi) => crossEntropy(linear(x, wi, bi), target), [w, bias]),
    ),
    runGradcheck("logSoftmax(gelu(z), 1)", () => gradcheck((zi) => logSoftmax(gelu(zi), 1), [z])),
    runGradcheck("wrongSquare(z)", () => gradcheck((zi) => wrongSquare(zi), [z])),
  ];
}
