// The Tensor class: a strided view (shape, strides, offset) onto a shared Storage, plus the
// autograd fields. Methods are thin, chainable wrappers over the functions in ops/ and
// functional/, where each op's forward and backward live side by side. This file is long
// (~450 lines) because it is the one place users discover the API by autocompletion.

import { type BackwardOptions, runBackward } from "../autograd/engine.js";
import type { Node } from "../autograd/node.js";
import * as activation from "../functional/activation.js";
import { copyToContiguous, isContiguous } from "../kernels/strided.js";
import * as binary from "../ops/binary.js";
import * as compare from "../ops/compare.js";
import * as indexing from "../ops/indexing.js";
import * as join from "../ops/join.js";
import { matmul } from "../ops/matmul.js";
import * as reduceOps from "../ops/reduce.js";
import * as unary from "../ops/unary.js";
import * as view from "../ops/view.js";
import { allocate, type DType, dtypeOfArray, isFloat, type TypedArray } from "./dtype.js";
import { formatTensor } from "./format.js";
import * as inplace from "./inplace.js";
import { contiguousStrides, formatShape, numelOf } from "./shape.js";
import { Storage } from "./storage.js";

/** A tensor or a plain number (a "wrapped scalar" that never widens a float tensor's dtype). */
export type TensorLike = Tensor | number;
/** A dim or a list of dims; negative values count from the end. */
export type Dims = number | readonly number[];

/** Nested arrays of numbers as returned by `tolist()`. */
export type NestedArray = number | NestedArray[];

export class Tensor {
  /** The typed array behind this tensor (shared with its views); element `idx` is at `offset + idx·strides`. */
  readonly data: TypedArray;
  /** Gradient accumulated by `backward()` (leaves and `retainGrad()` tensors), or null. */
  grad: Tensor | null = null;
  /** The recorded op that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  /** @internal Set by the engine and by `requiresGrad_`; read through `requiresGrad`. */
  requiresGradFlag = false;
  /** Optional label shown in graph exports. */
  name: string | undefined = undefined;
  /** The element type, fixed by the typed array (a field: ops read it often, instanceof is slower). */
  readonly dtype: DType;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
  ) {
    this.data = storage.data;
    this.dtype = dtypeOfArray(storage.data);
  }

  /** @internal A contiguous tensor over a fresh typed array. */
  static fromTypedArray(data: TypedArray, shape: readonly number[]): Tensor {
    return new Tensor(new Storage(data), shape, contiguousStrides(shape), 0);
  }

  /** @internal A 0-d tensor holding `value`. */
  static scalar(value: number, dtype: DType): Tensor {
    const data = allocate(dtype, 1);
    data[0] = dtype === "bool" ? (value !== 0 ? 1 : 0) : value;
    return Tensor.fromTypedArray(data, []);
  }

  get ndim(): number {
    return this.shape.length;
  }

  numel(): number {
    return numelOf(this.shape);
  }

  /** Size of one dim (negative counts from the end), or the whole shape. */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[view.dimIndex(dim, this, "size")];
  }

  /** Whether gradients flow to this tensor. Only float tensors can require grad. */
  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }

  set requiresGrad(value: boolean) {
    this.requiresGrad_(value);
  }

  /** True for tensors not produced by a recorded op: user-created tensors and parameters. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Sets `requiresGrad` in place on a leaf, like `torch.Tensor.requires_grad_`. Returns `this`. */
  requiresGrad_(value = true): this {
    if (value && !isFloat(this.dtype)) {
      throw new TypeError(
        `requiresGrad_: only float32/float64 tensors can require gradients, this one is ${this.dtype}`,
      );
    }
    if (this.gradFn !== null && !value) {
      throw new Error(
        "requiresGrad_: cannot turn off requiresGrad on a non-leaf tensor; use detach() instead",
      );
    }
    this.requiresGradFlag = value;
    return this;
  }

  /** Keeps `.grad` for this non-leaf tensor during backward (leaves always keep it). */
  retainGrad(): this {
    if (!this.requiresGradFlag) throw new Error("retainGrad: this tensor does not require grad");
    if (this.gradFn !== null) this.gradFn.retained = this;
    return this;
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and adds
   * it into their `.grad`. A scalar needs no `gradient`; any other shape needs one of its shape.
   */
  backward(gradient?: TensorLike, options: BackwardOptions = {}): void {
    if (!this.requiresGradFlag) {
      throw new Error(
        "backward: this tensor does not require grad and has no graph (did you set requiresGrad on the inputs, or run inside noGrad?)",
      );
    }
    let seed: Tensor;
    if (gradient === undefined) {
      if (this.numel() !== 1) {
        throw new Error(
          `backward: a gradient is needed for a non-scalar output of shape ${formatShape(this.shape)}; pass one of the same shape, e.g. onesLike(out)`,
        );
      }
      seed = Tensor.fromTypedArray(allocate(this.dtype, 1).fill(1), this.shape);
    } else {
      seed =
        typeof gradient === "number"
          ? Tensor.scalar(gradient, this.dtype).expand(this.shape)
          : gradient;
      if (!(seed instanceof Tensor)) {
        throw new TypeError(
          `backward: gradient must be a Tensor or a number, got ${Array.isArray(seed) ? "an array (wrap it with tensor(...))" : typeof seed}`,
        );
      }
      if (
        seed.shape.length !== this.shape.length ||
        seed.shape.some((s, d) => s !== this.shape[d])
      ) {
        throw new Error(
          `backward: gradient has shape ${formatShape(seed.shape)} but the output has shape ${formatShape(this.shape)}`,
        );
      }
      if (seed.dtype !== this.dtype) seed = seed.to(this.dtype);
    }
    const createGraph = options.createGraph ?? false;
    runBackward([this], [seed], {
      createGraph,
      retainGraph: options.retainGraph ?? createGraph,
      inputs: null,
    });
  }

  /** A tensor sharing storage with this one but cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.numel() !== 1)
      throw new Error(
        `item: expected a tensor with one element, got shape ${formatShape(this.shape)}`,
      );
    return this.data[this.offset];
  }

  /** A flat, row-major copy of the values as a typed array of this tensor's dtype. */
  toArray(): TypedArray {
    const out = allocate(this.dtype, this.numel());
    copyToContiguous(this, out);
    return out;
  }

  /** The values as nested JS arrays (a number for a 0-d tensor). */
  tolist(): NestedArray {
    const flat = this.toArray();
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.shape.length) return flat[start];
      const stride = numelOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return formatTensor(this);
  }

  /** @internal True when the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** @internal A non-differentiable stride-0 view broadcast to `shape` (the shape must be compatible). */
  broadcastView(shape: readonly number[]): Tensor {
    if (shape === this.shape) return this;
    const lead = shape.length - this.shape.length;
    const strides = shape.map((size, d) => {
      if (d < lead) return 0;
      return this.shape[d - lead] === 1 && size !== 1 ? 0 : this.strides[d - lead];
    });
    return new Tensor(this.storage, shape, strides, this.offset);
  }

  // --- dtype ------------------------------------------------------------------------------------
  /** This tensor in `dtype` (itself when it already is); differentiable between float dtypes. */
  to(dtype: DType): Tensor {
    return view.cast(this, dtype);
  }
  float(): Tensor {
    return this.to("float32");
  }
  double(): Tensor {
    return this.to("float64");
  }

  // --- elementwise ------------------------------------------------------------------------------
  add(other: TensorLike, alpha?: number): Tensor {
    return binary.add(this, other, alpha);
  }
  sub(other: TensorLike, alpha?: number): Tensor {
    return binary.sub(this, other, alpha);
  }
  mul(other: TensorLike): Tensor {
    return binary.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return binary.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return binary.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return binary.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return binary.minimum(this, other);
  }
  neg(): Tensor {
    return unary.neg(this);
  }
  exp(): Tensor {
    return unary.exp(this);
  }
  log(): Tensor {
    return unary.log(this);
  }
  sqrt(): Tensor {
    return unary.sqrt(this);
  }
  rsqrt(): Tensor {
    return unary.rsqrt(this);
  }
  abs(): Tensor {
    return unary.abs(this);
  }
  sign(): Tensor {
    return unary.sign(this);
  }
  square(): Tensor {
    return unary.square(this);
  }
  tanh(): Tensor {
    return unary.tanh(this);
  }
  sigmoid(): Tensor {
    return unary.sigmoid(this);
  }
  relu(): Tensor {
    return unary.relu(this);
  }
  leakyRelu(negativeSlope?: number): Tensor {
    return unary.leakyRelu(this, negativeSlope);
  }
  gelu(options?: { approximate?: "none" | "tanh" }): Tensor {
    return activation.gelu(this, options);
  }
  erf(): Tensor {
    return unary.erf(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return unary.clamp(this, min, max);
  }

  // --- comparisons (not differentiable; return bool) ---------------------------------------------
  eq(other: TensorLike): Tensor {
    return compare.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return compare.ne(this, other);
  }
  lt(other: TensorLike): Tensor {
    return compare.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return compare.le(this, other);
  }
  gt(other: TensorLike): Tensor {
    return compare.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return compare.ge(this, other);
  }

  // --- reductions ---------------------------------------------------------------------------------
  sum(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.sum(this, dim, keepdim);
  }
  mean(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.mean(this, dim, keepdim);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return reduceOps.prod(this, dim, keepdim);
  }
  var(dim?: Dims, options?: reduceOps.VarianceOptions): Tensor {
    return reduceOps.variance(this, dim, options);
  }
  std(dim?: Dims, options?: reduceOps.VarianceOptions): Tensor {
    return reduceOps.std(this, dim, options);
  }
  amax(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.amax(this, dim, keepdim);
  }
  amin(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.amin(this, dim, keepdim);
  }
  /** Without `dim`: the maximum of all elements. With `dim`: `{ values, indices }` like `torch.max(x, dim)`. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): reduceOps.ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | reduceOps.ValuesIndices {
    return dim === undefined ? reduceOps.max(this) : reduceOps.max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): reduceOps.ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | reduceOps.ValuesIndices {
    return dim === undefined ? reduceOps.min(this) : reduceOps.min(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return reduceOps.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return reduceOps.argmin(this, dim, keepdim);
  }
  logsumexp(dim: Dims, keepdim = false): Tensor {
    return reduceOps.logsumexp(this, dim, keepdim);
  }
  softmax(dim: number): Tensor {
    return activation.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return activation.logSoftmax(this, dim);
  }

  // --- linear algebra -------------------------------------------------------------------------------
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }

  // --- views and shape ------------------------------------------------------------------------------
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return view.reshape(this, flattenShapeArgs(shape));
  }
  view(...shape: number[] | [readonly number[]]): Tensor {
    return view.view(this, flattenShapeArgs(shape));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return view.transpose(this, dim0, dim1);
  }
  /** Transpose of a 2-D tensor (`.T` in PyTorch). */
  t(): Tensor {
    return view.t(this);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return view.permute(this, flattenShapeArgs(dims));
  }
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return view.expand(this, flattenShapeArgs(shape));
  }
  expandAs(other: Tensor): Tensor {
    return view.expand(this, other.shape);
  }
  squeeze(dim?: Dims): Tensor {
    return view.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return view.unsqueeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return view.flatten(this, startDim, endDim);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return view.narrow(this, dim, start, length);
  }
  /** `x[..., start:stop:step, ...]` along `dim`; `stop` may be omitted or null for the end. */
  slice(dim: number, start?: number | null, stop?: number | null, step?: number): Tensor {
    return view.slice(this, dim, start, stop, step);
  }
  select(dim: number, index: number): Tensor {
    return view.select(this, dim, index);
  }
  contiguous(): Tensor {
    return view.contiguous(this);
  }
  clone(): Tensor {
    return view.clone(this);
  }
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return join.split(this, splitSize, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return join.chunk(this, chunks, dim);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return indexing.indexSelect(this, dim, index);
  }
  gather(dim: number, index: Tensor): Tensor {
    return indexing.gather(this, dim, index);
  }

  // --- in place (never recorded; for optimizers and initialisers, usually inside noGrad) ----------
  /** `this += alpha * other`, in place. */
  add_(other: TensorLike, alpha = 1): this {
    return inplace.addInPlace(this, other, alpha);
  }
  sub_(other: TensorLike, alpha = 1): this {
    return inplace.addInPlace(this, other, -alpha);
  }
  mul_(other: TensorLike): this {
    return inplace.mulInPlace(this, other);
  }
  /** `this += value * tensor1 * tensor2`, in place. */
  addcmul_(tensor1: Tensor, tensor2: Tensor, value = 1): this {
    return inplace.addcmulInPlace(this, tensor1, tensor2, value);
  }
  /** `this += value * tensor1 / tensor2`, in place. */
  addcdiv_(tensor1: Tensor, tensor2: Tensor, value = 1): this {
    return inplace.addcdivInPlace(this, tensor1, tensor2, value);
  }
  copy_(source: TensorLike): this {
    return inplace.copyInPlace(this, source);
  }
  fill_(value: number): this {
    return inplace.copyInPlace(this, value);
  }
  zero_(): this {
    return inplace.copyInPlace(this, 0);
  }
  clamp_(min?: number | null, max?: number | null): this {
    return inplace.copyInPlace(this, unary.clamp(this.detach(), min, max));
  }
}

function flattenShapeArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}
