// Rearranging elements, as PyTorch's: flip (a primitive: a copy through negated strides, its
// own gradient), and roll, repeat, tile and pad as composites of flip, narrow, cat and expand,
// whose gradients (of every order) autograd derives.

import { copyToContiguous } from "../kernels/strided.js";
import { full } from "../tensor/creation.js";
import { allocateUnfilled } from "../tensor/dtype.js";
import { formatShape, normalizeDims } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { defineComposite, defineOp } from "./define.js";
import { checkTensor, sameShapeAs } from "./helpers.js";
import { cat } from "./join.js";

/**
 * `x` with the order of elements reversed along each of `dims`, like `torch.flip` (a copy, not a
 * view). d/dx = flip of the gradient along the same dims.
 *
 * @throws RangeError when a dim is out of range or repeated.
 * @function
 */
export const flip = defineOp({
  name: "flip",
  rule: "d/dx = g flipped back",
  kind: "movement",
  shape: sameShapeAs,
  forward: (x: Tensor, dims: number | readonly number[]) => {
    checkTensor(x, "flip");
    const list = normalizeDims(dims, x.ndim, "flip", x.shape);
    const strides = [...x.strides];
    let offset = x.offset;
    for (const d of list) {
      if (x.shape[d] === 0) continue;
      offset += (x.shape[d] - 1) * strides[d];
      strides[d] = -strides[d];
    }
    const out = allocateUnfilled(x.dtype, x.numel(), "flip", x.shape);
    copyToContiguous({ data: x.data, shape: x.shape, strides, offset }, out);
    return { out: Tensor.fromTypedArray(out, x.shape), inputs: [x], saved: { list } };
  },
  backward: ({ list }, gradOut): Tensor[] => [flip(gradOut, list) as Tensor],
});

function checkInteger(op: string, what: string, value: unknown): number {
  if (!Number.isInteger(value)) {
    throw new TypeError(`${op}: ${what} must be an integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/**
 * `x` with its elements shifted `shifts` places along `dims`, those pushed off the end coming back
 * at the start, like `torch.roll`. Without dims, x is flattened, rolled, and given its shape back.
 *
 * @throws RangeError when shifts and dims differ in length or a dim is out of range.
 * @function
 */
export const roll = defineComposite(
  "roll",
  (x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor => {
    checkTensor(x, "roll");
    if (dims === undefined) {
      if (typeof shifts !== "number" && shifts.length !== 1) {
        throw new RangeError(
          `roll: without dims, shifts must be one number, got ${JSON.stringify(shifts)}`,
        );
      }
      return roll(x.flatten(), typeof shifts === "number" ? shifts : shifts[0], 0).reshape(x.shape);
    }
    const shiftList = typeof shifts === "number" ? [shifts] : [...shifts];
    const dimList = typeof dims === "number" ? [dims] : [...dims];
    if (shiftList.length !== dimList.length) {
      throw new RangeError(
        `roll: shifts and dims must have the same length, got ${shiftList.length} shifts and ${dimList.length} dims`,
      );
    }
    let out = x;
    shiftList.forEach((shift, i) => {
      checkInteger("roll", "each shift", shift);
      const [d] = normalizeDims(dimList[i], x.ndim, "roll", x.shape);
      const size = x.shape[d];
      if (size === 0) return;
      const s = ((shift % size) + size) % size;
      if (s === 0) return;
      out = cat([out.narrow(d, size - s, s), out.narrow(d, 0, size - s)], d);
    });
    return out === x ? x.clone() : out;
  },
);

/**
 * `x` repeated `repeats[i]` times along each dim, like `torch.Tensor.repeat`: repeats may be
 * longer than x's rank (x then gains leading dims of size 1 first), not shorter.
 *
 * @throws RangeError when repeats has fewer entries than x has dims, or a negative entry.
 * @function
 */
export const repeat = defineComposite("repeat", (x: Tensor, repeats: readonly number[]): Tensor => {
  checkTensor(x, "repeat");
  if (!Array.isArray(repeats) || repeats.length < x.ndim) {
    throw new RangeError(
      `repeat: needs at least one count per dim of the tensor (shape ${formatShape(x.shape)}), got ${JSON.stringify(repeats)}`,
    );
  }
  for (const r of repeats) {
    if (!Number.isInteger(r) || r < 0) {
      throw new RangeError(
        `repeat: counts must be non-negative integers, got ${JSON.stringify(repeats)}`,
      );
    }
  }
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  // [s0, s1] → [1, s0, 1, s1] → expand to [r0, s0, r1, s1] → [r0·s0, r1·s1]
  const interleaved = shape.flatMap((s) => [1, s]);
  const expanded = shape.flatMap((s, i) => [repeats[i], s]);
  return x
    .reshape(interleaved)
    .expand(expanded)
    .reshape(shape.map((s, i) => s * repeats[i]));
});

/**
 * `x` tiled `reps` times, like `torch.tile`: as repeat, but reps shorter than x's rank are
 * padded with leading 1s.
 *
 * @throws RangeError for a negative or non-integer count.
 * @function
 */
export const tile = defineComposite("tile", (x: Tensor, reps: readonly number[]): Tensor => {
  checkTensor(x, "tile");
  if (!Array.isArray(reps))
    throw new TypeError(`tile: reps must be an array of counts, got ${JSON.stringify(reps)}`);
  const padded =
    reps.length < x.ndim ? [...new Array<number>(x.ndim - reps.length).fill(1), ...reps] : reps;
  return repeat(x, padded);
});

/** How {@link pad} fills the new elements. */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/**
 * `x` padded like `torch.nn.functional.pad`: `pad` lists (before, after) counts from the LAST dim
 * backwards (`[left, right, top, bottom]` pads W then H). `"constant"` fills with `value` (negative
 * counts crop); `"reflect"` mirrors without repeating the edge (counts < the dim's size);
 * `"replicate"` repeats the edge; `"circular"` wraps around. Gradients flow to the elements copied.
 *
 * @throws RangeError for an odd-length or too long pad list, counts out of range for the mode, or
 * an unknown mode.
 * @function
 */
export const pad = defineComposite(
  "pad",
  (x: Tensor, pad: readonly number[], mode: PadMode = "constant", value = 0): Tensor => {
    checkTensor(x, "pad");
    if (!Array.isArray(pad) || pad.length % 2 !== 0 || pad.length / 2 > x.ndim) {
      throw new RangeError(
        `pad: pad must list (before, after) pairs for at most ${x.ndim} dims (last dim first), got ${JSON.stringify(pad)}`,
      );
    }
    if (!["constant", "reflect", "replicate", "circular"].includes(mode)) {
      throw new RangeError(
        `pad: mode must be "constant", "reflect", "replicate" or "circular", got ${JSON.stringify(mode)}`,
      );
    }
    for (const p of pad) checkInteger("pad", "each pad count", p);
    let out = x;
    for (let pair = 0; pair < pad.length / 2; pair++) {
      const d = x.ndim - 1 - pair;
      const [before, after] = [pad[2 * pair], pad[2 * pair + 1]];
      out = padDim(out, d, before, after, mode, value);
    }
    return out === x ? x.clone() : out;
  },
);

function padDim(
  x: Tensor,
  d: number,
  before: number,
  after: number,
  mode: PadMode,
  value: number,
): Tensor {
  const size = x.shape[d];
  if (mode === "constant") {
    let out = x;
    if (before < 0) out = out.narrow(d, -before, out.shape[d] + before);
    if (after < 0) out = out.narrow(d, 0, out.shape[d] + after);
    if (out.shape[d] < 0) throw new RangeError(`pad: cropping more than dim ${d}'s size ${size}`);
    const block = (n: number) => {
      const shape = [...out.shape];
      shape[d] = n;
      return full(shape, value, { dtype: x.dtype });
    };
    const parts = [];
    if (before > 0) parts.push(block(before));
    parts.push(out);
    if (after > 0) parts.push(block(after));
    return parts.length === 1 ? out : cat(parts, d);
  }
  if (before < 0 || after < 0) {
    throw new RangeError(
      `pad: ${mode} padding takes no negative counts, got (${before}, ${after}) for dim ${d}`,
    );
  }
  if (before === 0 && after === 0) return x;
  if (mode === "reflect" && (before >= size || after >= size)) {
    throw new RangeError(
      `pad: reflect padding must be smaller than the dim it pads, got (${before}, ${after}) for dim ${d} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  if ((mode === "circular" && (before > size || after > size)) || size === 0) {
    throw new RangeError(
      `pad: ${mode} padding of (${before}, ${after}) does not fit dim ${d} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  const parts: Tensor[] = [];
  if (mode === "reflect") {
    if (before > 0) parts.push(flip(x.narrow(d, 1, before), d));
    parts.push(x);
    if (after > 0) parts.push(flip(x.narrow(d, size - 1 - after, after), d));
  } else if (mode === "replicate") {
    const edge = (start: number, n: number) => {
      const shape = [...x.shape];
      shape[d] = n;
      return x.narrow(d, start, 1).expand(shape);
    };
    if (before > 0) parts.push(edge(0, before));
    parts.push(x);
    if (after > 0) parts.push(edge(size - 1, after));
  } else {
    if (before > 0) parts.push(x.narrow(d, size - before, before));
    parts.push(x);
    if (after > 0) parts.push(x.narrow(d, 0, after));
  }
  return cat(parts, d);
}
