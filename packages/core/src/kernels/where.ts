// The ternary select behind `where`: out[i] = cond[i] ? a[i] : b[i], all three already
// broadcast to the output shape (stride-0 views), walked with one odometer.

import type { TypedArray } from "../tensor/dtype.js";
import type { View } from "./strided.js";

export function selectWhere(cond: View, a: View, b: View, out: TypedArray): void {
  const shape = cond.shape;
  const ndim = shape.length;
  const index = new Array<number>(ndim).fill(0);
  let ci = cond.offset;
  let ai = a.offset;
  let bi = b.offset;
  const c = cond.data;
  for (let o = 0; o < out.length; o++) {
    out[o] = c[ci] !== 0 ? a.data[ai] : b.data[bi];
    for (let d = ndim - 1; d >= 0; d--) {
      index[d]++;
      ci += cond.strides[d];
      ai += a.strides[d];
      bi += b.strides[d];
      if (index[d] < shape[d]) break;
      ci -= cond.strides[d] * shape[d];
      ai -= a.strides[d] * shape[d];
      bi -= b.strides[d] * shape[d];
      index[d] = 0;
    }
  }
}
