// Matrix product with PyTorch's rules: 1-D·1-D is a dot product, a 1-D operand gains (and then
// loses) a dim, and leading batch dims broadcast. d/dA = dOut·Bᵀ, d/dB = Aᵀ·dOut.

import { gemm, type StridedMatrix } from "../kernels/matmul.js";
import { allocateUnfilled, promoteTypes, type TypedArray } from "../tensor/dtype.js";
import { broadcastShapes, formatShape, numelOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineOp, type TensorMeta } from "./define.js";
import { checkTensor, unbroadcast } from "./helpers.js";

/** Shape rule of matmul: broadcast batch dims, then [M, N], without the dims 1-D operands gained. */
function matmulShape(a: TensorMeta, b: TensorMeta): readonly number[] {
  const batch = broadcastShapes(
    a.shape.length > 2 ? a.shape.slice(0, -2) : [],
    b.shape.length > 2 ? b.shape.slice(0, -2) : [],
    "matmul",
  );
  const m = a.shape.length === 1 ? [] : [a.shape[a.shape.length - 2]];
  const n = b.shape.length === 1 ? [] : [b.shape[b.shape.length - 1]];
  return [...batch, ...m, ...n];
}

/**
 * Matrix product `a @ b`, like `torch.matmul`: `[M, K] @ [K, N] -> [M, N]`; batch dims broadcast
 * (`[B, M, K] @ [K, N] -> [B, M, N]`, `[B, 1, M, K] @ [H, K, N] -> [B, H, M, N]`); a 1-D `a` of
 * `[K]` acts as `[1, K]` and a 1-D `b` as `[K, 1]`, the added dim being removed again, so
 * `[K] @ [K]` is a 0-d dot product. d/dA = gradOut·Bᵀ, d/dB = Aᵀ·gradOut (summed over broadcast
 * batch dims).
 *
 * @throws RangeError when an operand is 0-d, when the inner sizes differ, or when the batch dims
 * do not broadcast.
 * @throws TypeError when the dtypes differ or an operand is bool.
 *
 * @example
 * ```ts
 * const x = randn([8, 3]);  // [N, in]
 * const w = randn([3, 4]);  // [in, out]
 * matmul(x, w).shape;       // [8, 4]
 * ```
 * @function
 */
export const matmul = defineOp({
  name: "matmul",
  rule: "d/dA = g·Bᵀ, d/dB = Aᵀ·g",
  kind: "opaque",
  shape: matmulShape,
  forward: (a: Tensor, b: Tensor) => {
    checkTensor(a, "matmul");
    checkTensor(b, "matmul", "other");
    if (a.ndim === 0 || b.ndim === 0) {
      throw new RangeError(
        `matmul: both arguments need at least 1 dim, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      );
    }
    if (a.dtype === "bool" || b.dtype === "bool") {
      throw new TypeError(
        `matmul: bool tensors are not supported (shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}); cast with .to("int32") or .float()`,
      );
    }
    if (a.dtype !== b.dtype) {
      throw new TypeError(
        `matmul: both arguments must have the same dtype, got ${a.dtype} (shape ${formatShape(a.shape)}) and ${b.dtype} (shape ${formatShape(b.shape)})`,
      );
    }
    // Lift 1-D operands to matrices, multiply, then drop the added dims again (after recording, so
    // that the squeezes are recorded on top).
    const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
    const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
    const out = batchedMatmul(a2, b2, a.shape, b.shape);
    const lifted = a.ndim === 1 || b.ndim === 1;
    return {
      out,
      inputs: [a2, b2],
      saved: { a: a2, b: b2 },
      result: lifted ? (product: Tensor) => dropLiftedDims(product, a.ndim, b.ndim) : undefined,
    };
  },
  // d/dA = gradOut·Bᵀ, d/dB = Aᵀ·gradOut, summed over broadcast batch dims.
  backward: ({ a, b }, gradOut, needs): (Tensor | null)[] => [
    needs[0] ? unbroadcast(gradOut.matmul(b.transpose(-1, -2)), a) : null,
    needs[1] ? unbroadcast(gradientOfRight(a, b, gradOut), b) : null,
  ],
});

/**
 * aᵀ·g, the gradient of b in a·b. When b is a transposed matrix (Linear's `weight.t()`), it is
 * computed as (gᵀ·a)ᵀ: the same values in b's own layout, so the transpose's backward hands the
 * weight a contiguous gradient that becomes its `.grad` without a strided copy.
 */
function gradientOfRight(a: Tensor, b: Tensor, gradOut: Tensor): Tensor {
  const transposed = b.ndim === 2 && a.ndim === 2 && b.strides[0] === 1 && b.strides[1] > 1;
  if (!transposed) return a.transpose(-1, -2).matmul(gradOut);
  return gradOut.transpose(-1, -2).matmul(a).transpose(-1, -2);
}

function dropLiftedDims(product: Tensor, aDims: number, bDims: number): Tensor {
  let out = product;
  if (aDims === 1) out = out.squeeze(-2);
  if (bDims === 1) out = out.squeeze(-1);
  return out;
}

/**
 * [..., M, K] @ [..., K, N] -> [..., M, N] with broadcast batch dims; both at least 2-D.
 * `aShape` and `bShape` are the caller's shapes (before 1-D operands were lifted), for errors.
 */
function batchedMatmul(
  a: Tensor,
  b: Tensor,
  aShape: readonly number[],
  bShape: readonly number[],
): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== k) {
    throw new RangeError(
      `matmul: shapes ${formatShape(aShape)} and ${formatShape(bShape)} cannot be multiplied (inner sizes ${k} and ${b.shape[b.ndim - 2]} differ)`,
    );
  }
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (a.ndim === 2 && b.ndim === 2) {
    // Two matrices (Linear and its gradients): no batch dims to broadcast or walk.
    const shape = [m, n];
    const out = allocateUnfilled(dtype, m * n, "matmul", shape);
    try {
      gemm(matrixInto(left, a), matrixInto(right, b), out, 0, m, n, k);
    } finally {
      // gemm keeps neither operand description: let go of the operands' arrays.
      left.data = right.data = NO_ELEMENTS;
    }
    return Tensor.fromTypedArray(out, shape);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul");
  const outShape = [...batch, m, n];
  const out = allocateUnfilled(dtype, numelOf(outShape), "matmul", outShape); // gemm writes every element
  // The kernels read both operands through their strides: transposes are never materialised.
  const av = a.broadcastView([...batch, m, k]);
  const bv = b.broadcastView([...batch, k, n]);
  const batches = numelOf(batch);
  const [ar, ac] = av.strides.slice(batch.length);
  if (batches > 1 && foldsIntoRows(av.strides, batch, m, bv.strides)) {
    // One shared B and rows of A evenly spaced across batches (e.g. [B, T, K] @ [K, N]): a single
    // [batches·M, K] @ [K, N] product, so B is packed once.
    const aMatrix = { data: av.data, offset: av.offset, rowStride: ar, colStride: ac };
    gemm(aMatrix, matrixAt(bv, bv.offset), out, 0, batches * m, n, k);
  } else {
    const index = new Array<number>(batch.length).fill(0);
    let aOffset = av.offset;
    let bOffset = bv.offset;
    for (let i = 0; i < batches; i++) {
      gemm(matrixAt(av, aOffset), matrixAt(bv, bOffset), out, i * m * n, m, n, k);
      for (let d = batch.length - 1; d >= 0; d--) {
        index[d]++;
        aOffset += av.strides[d];
        bOffset += bv.strides[d];
        if (index[d] < batch[d]) break;
        aOffset -= av.strides[d] * batch[d];
        bOffset -= bv.strides[d] * batch[d];
        index[d] = 0;
      }
    }
  }
  return Tensor.fromTypedArray(out, outShape);
}

/** The operand descriptions of a product of two matrices, filled anew by each (see matrixInto). */
const NO_ELEMENTS = new Float32Array(0);
const left = { data: NO_ELEMENTS as TypedArray, offset: 0, rowStride: 0, colStride: 0 };
const right = { data: NO_ELEMENTS as TypedArray, offset: 0, rowStride: 0, colStride: 0 };

/** `m` describing matrix `v` (2-D): a product of two matrices makes no objects for them. */
function matrixInto(m: typeof left, v: Tensor): StridedMatrix {
  m.data = v.data;
  m.offset = v.offset;
  m.rowStride = v.strides[0];
  m.colStride = v.strides[1];
  return m;
}

/** The matrix in the last two dims of `v`, starting at `offset`. */
function matrixAt(v: Tensor, offset: number): StridedMatrix {
  const d = v.ndim - 2;
  return { data: v.data, offset, rowStride: v.strides[d], colStride: v.strides[d + 1] };
}

/**
 * True when b is the same matrix for every batch (all batch strides 0) and a's batch dims step
 * exactly like further rows (stride of the innermost batch dim = M·rowStride, and so on out).
 */
function foldsIntoRows(
  aStrides: readonly number[],
  batch: readonly number[],
  m: number,
  bStrides: readonly number[],
): boolean {
  let expected = aStrides[batch.length] * m;
  for (let d = batch.length - 1; d >= 0; d--) {
    if (bStrides[d] !== 0 && batch[d] !== 1) return false;
    if (aStrides[d] !== expected && batch[d] !== 1) return false;
    expected *= batch[d];
  }
  return true;
}
