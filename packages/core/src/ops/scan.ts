// Running sums and products along a dim, as torch.cumsum and torch.cumprod. cumsum's gradient is
// the reversed running sum of the gradient. cumprod's is Σ_{j≥k} g_j·out_j / x_k where no input
// is zero (PyTorch's fast path), and otherwise Σ_{j≥k} g_j·Π_{i≤j, i≠k} x_i, written with
// cumprod itself, so inputs with zeros get exact gradients too.

import { full, tensor } from "../tensor/creation.js";
import { allocateUnfilled, floatDType, isFloat } from "../tensor/dtype.js";
import { normalizeDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { chooseOnValue, where } from "./binary.js";
import { defineOp } from "./define.js";
import { checkTensor, sameShapeAs } from "./helpers.js";
import { cat } from "./join.js";
import { flip } from "./rearrange.js";

/** Runs `step` along dim d of x's contiguous values: out[..., i, ...] = step(out[..., i-1, ...], x[..., i, ...]). */
function scan(op: string, x: Tensor, dim: number, product: boolean): Tensor {
  checkTensor(x, op);
  const d = normalizeDim(dim, x.ndim, op, x.shape);
  // Integer and bool inputs accumulate in float32 here (PyTorch gives int64, which Koubai lacks).
  const dtype = isFloat(x.dtype) ? x.dtype : floatDType(x.dtype);
  const values = x.to(dtype).toArray();
  const out = allocateUnfilled(dtype, values.length, op, x.shape);
  const n = x.ndim === 0 ? 1 : x.shape[d];
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const outer = n === 0 ? 0 : values.length / (n * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let i = 0; i < inner; i++) {
      let acc = product ? 1 : 0;
      for (let k = 0; k < n; k++) {
        const at = base + k * inner + i;
        acc = product ? acc * values[at] : acc + values[at];
        out[at] = acc;
      }
    }
  }
  return Tensor.fromTypedArray(out, x.shape);
}

/**
 * Running sums along `dim`, like `torch.cumsum`: out[i] = x[0] + ... + x[i]. d/dx is the running
 * sum of the gradient taken from the end. Integer input gives float32.
 *
 * @throws RangeError when dim is out of range.
 * @function
 */
export const cumsum = defineOp({
  name: "cumsum",
  rule: "d/dx = the running sum of g taken from the end",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number) => {
    const out = scan("cumsum", x, dim, false);
    return {
      out,
      inputs: [x],
      saved: { d: x.ndim === 0 ? 0 : normalizeDim(dim, x.ndim, "cumsum") },
    };
  },
  backward: ({ d }, gradOut): Tensor[] => [
    gradOut.ndim === 0 ? gradOut : flip(cumsum(flip(gradOut, d), d) as Tensor, d),
  ],
});

/**
 * Running products along `dim`, like `torch.cumprod`: out[i] = x[0]·...·x[i]. d/dx_k =
 * Σ_{j≥k} g_j·Π_{i≤j, i≠k} x_i, exact also where inputs are zero. Integer input gives float32.
 *
 * @throws RangeError when dim is out of range.
 * @function
 */
export const cumprod = defineOp({
  name: "cumprod",
  rule: "d/dxₖ = Σ_{j≥k} gⱼ·Π_{i≤j, i≠k} xᵢ",
  kind: "opaque",
  shape: sameShapeAs,
  forward: (x: Tensor, dim: number) => {
    const out = scan("cumprod", x, dim, true);
    const d = x.ndim === 0 ? 0 : normalizeDim(dim, x.ndim, "cumprod");
    return { out, inputs: [x], saved: { x, out, d } };
  },
  backward: ({ x, out, d }, gradOut): Tensor[] => {
    if (x.ndim === 0) return [gradOut];
    const xs = x.to(out.dtype);
    const withoutZeros = () => flip(cumsum(flip(gradOut.mul(out), d), d) as Tensor, d).div(xs);
    const withZeros = () =>
      cumprodGradWithZeros(xs.transpose(d, -1), gradOut.transpose(d, -1)).transpose(d, -1);
    return [chooseOnValue(xs.eq(0).sum().gt(0), withZeros, withoutZeros)];
  },
});

/**
 * d cumprod(x)/dx along the last dim for inputs that may hold zeros: grad_k = L_k ·
 * Σ_{j≥k} g_j·C[k, j], with L_k = Π_{i<k} x_i and C[k, j] = Π_{k<i≤j} x_i (a cumprod over a
 * matrix whose row k keeps x_i for i > k and 1 elsewhere). O(n²) per row, like PyTorch's.
 */
function cumprodGradWithZeros(x: Tensor, g: Tensor): Tensor {
  const n = x.shape[x.ndim - 1];
  const ones = full([...x.shape.slice(0, -1), 1], 1, { dtype: x.dtype });
  const exclusive = cumprod(cat([ones, x.narrow(-1, 0, n - 1)], -1), -1) as Tensor;
  const after = new Uint8Array(n * n);
  const fromK = new Uint8Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      after[k * n + i] = i > k ? 1 : 0;
      fromK[k * n + i] = i >= k ? 1 : 0;
    }
  }
  const afterMask = tensor(after, { shape: [n, n] });
  const fromMask = tensor(fromK, { shape: [n, n] });
  const rows = where(afterMask, x.unsqueeze(-2).expand([...x.shape.slice(0, -1), n, n]), 1);
  const partial = cumprod(rows, -1) as Tensor; // [..., k, j] = Π_{k<i≤j} x_i for j ≥ k
  const weighted = where(fromMask, g.unsqueeze(-2).mul(partial), 0).sum(-1);
  return exclusive.mul(weighted);
}
