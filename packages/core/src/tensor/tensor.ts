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
import {
  allocate,
  allocateUnfilled,
  type DType,
  dtypeOfArray,
  isFloat,
  type TypedArray,
} from "./dtype.js";
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

/**
 * An n-dimensional array of one dtype that can record the operations applied to it, so that
 * `backward()` can compute gradients (PyTorch's `torch.Tensor`, with camelCase names).
 *
 * A tensor is a strided view onto a shared {@link Storage}: element `[i₀, i₁, ...]` lives at
 * `data[offset + Σ iₖ·strides[k]]`, so views (`transpose`, `slice`, `expand`, ...) never copy.
 * Create tensors with {@link tensor}, {@link zeros}, {@link randn} and friends, not the
 * constructor. Methods are chainable wrappers over the functions of the same name; elementwise
 * methods broadcast like NumPy and take a plain number wherever a tensor is accepted.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true }); // [2, 2] float32
 * const y = x.mul(x).sum();                                     // Σ x², a 0-d tensor
 * y.backward();
 * x.grad!.tolist(); // [[2, 4], [6, 8]]  (d/dx Σ x² = 2x)
 * ```
 */
export class Tensor {
  /** The typed array behind this tensor (shared with its views); element `idx` is at `offset + idx·strides`. */
  readonly data: TypedArray;
  #grad: Tensor | null = null;
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
    /** The buffer shared by this tensor and all its views; its `version` counts in-place writes. */
    readonly storage: Storage,
    /** Size of each dim, outermost first; `[]` for a 0-d (scalar) tensor. */
    readonly shape: readonly number[],
    /** Elements to skip in `data` per step along each dim; 0 along broadcast (expanded) dims. */
    readonly strides: readonly number[],
    /** Position in `data` of the first element (nonzero for some views). */
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

  /**
   * Gradient accumulated by `backward()` (leaves and `retainGrad()` tensors), or null. Assigning
   * is checked as in PyTorch: a Tensor of this tensor's shape and dtype (any strides), or null.
   *
   * @throws TypeError when assigned something other than a Tensor or null, or a tensor of another
   * dtype; RangeError for another shape; Error for the tensor itself.
   */
  get grad(): Tensor | null {
    return this.#grad;
  }

  /** Sets the gradient, checked as the getter describes (as `p.grad = ...` does in PyTorch). */
  set grad(value: Tensor | null) {
    if (value !== null) checkGradAssignment(this, value);
    this.#grad = value;
  }

  /** Number of dims (`shape.length`); 0 for a scalar. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements: the product of `shape` (1 for a 0-d tensor). */
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

  /**
   * Same as `requiresGrad_(value)`.
   *
   * @throws TypeError when turning it on for a non-float tensor; Error when turning it off on a
   * non-leaf.
   */
  set requiresGrad(value: boolean) {
    this.requiresGrad_(value);
  }

  /** True for tensors not produced by a recorded op: user-created tensors and parameters. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * Sets `requiresGrad` in place, like `torch.Tensor.requires_grad_`. Returns `this`.
   *
   * @throws TypeError when `value` is true and the dtype is not float32/float64.
   * @throws Error when `value` is false on a non-leaf (use `detach()` instead).
   */
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

  /**
   * Keeps `.grad` for this non-leaf tensor during backward (leaves always keep it). Returns `this`.
   *
   * @throws Error when the tensor does not require grad.
   */
  retainGrad(): this {
    if (!this.requiresGradFlag) throw new Error("retainGrad: this tensor does not require grad");
    if (this.gradFn !== null) this.gradFn.retained = this;
    return this;
  }

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad and adds
   * it into their `.grad` (gradients accumulate across calls, as in PyTorch: zero them between
   * steps). A one-element tensor needs no `gradient` (the seed is 1); any other shape needs a
   * `gradient` of exactly its shape (a number is broadcast to it), and the result is the
   * vector-Jacobian product gradientᵀ·∂this/∂leaf. The graph is freed afterwards unless
   * `retainGraph` (or `createGraph`, for higher-order gradients) is set. Call it as
   * `backward()`, `backward({ retainGraph: true })`, `backward(gradient)` or
   * `backward(gradient, { createGraph: true })`.
   *
   * @throws Error when this tensor does not require grad, when a non-scalar output gets no
   * `gradient`, when `gradient` has another shape, or when the graph was already freed.
   * @throws TypeError when `gradient` is neither a Tensor nor a number, or when an option is
   * misspelt or not a boolean.
   *
   * @example
   * ```ts
   * const w = randn([3, 2], { requiresGrad: true });
   * const loss = tensor([[1, 2, 3]]).matmul(w).square().mean(); // [1, 3] @ [3, 2] -> [1, 2] -> 0-d
   * loss.backward();
   * w.grad!.shape; // [3, 2]
   *
   * const y = w.square().sum();
   * y.backward({ retainGraph: true }); // keep the graph for a second pass
   * y.backward();                      // w.grad now holds the sum of both passes
   * ```
   */
  backward(options?: BackwardOptions): void;
  /** `gradient` seeds a non-scalar output (see the overload above); `options` as there. */
  backward(gradient: TensorLike | undefined, options?: BackwardOptions): void;
  backward(gradientOrOptions?: TensorLike | BackwardOptions, maybeOptions?: BackwardOptions): void {
    const [gradient, options] = splitBackwardArguments(gradientOrOptions, maybeOptions);
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

  /** A tensor sharing storage (and shape, strides, offset) with this one but cut from the graph: a leaf that does not require grad. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * The single value of a one-element tensor, as a JS number.
   *
   * @throws Error when the tensor has more than one element.
   */
  item(): number {
    if (this.numel() !== 1)
      throw new Error(
        `item: expected a tensor with one element, got shape ${formatShape(this.shape)}`,
      );
    return this.data[this.offset];
  }

  /** A flat, row-major copy of the values as a typed array of this tensor's dtype. */
  toArray(): TypedArray {
    const out = allocateUnfilled(this.dtype, this.numel(), "toArray", this.shape); // copyToContiguous writes every element
    copyToContiguous(this, out);
    return out;
  }

  /**
   * The values as nested JS arrays: a number for a 0-d tensor, `number[]` for 1-d, `number[][]`
   * for 2-d, and so on. The tensor's rank is not part of its type, so name the shape you expect
   * as the type argument to index the result without casts.
   *
   * @example
   * ```ts
   * const rows = tensor([[1, 2], [3, 4]]).tolist<number[][]>();
   * rows[1][0]; // 3
   * ```
   */
  tolist<T extends NestedArray = NestedArray>(): T {
    const flat = this.toArray();
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.shape.length) return flat[start];
      const stride = numelOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * stride));
    };
    return build(0, 0) as T;
  }

  /** A readable, PyTorch-like rendering of the values, shape and dtype (for logging). */
  toString(): string {
    return formatTensor(this);
  }

  /**
   * What `console.log(t)` and Node's `util.inspect(t)` print: the same text as `toString()`
   * instead of the object's fields (storage, strides, graph node).
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
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
  /** `to("float32")`. */
  float(): Tensor {
    return this.to("float32");
  }
  /** `to("float64")`: the dtype `gradcheck` needs. */
  double(): Tensor {
    return this.to("float64");
  }

  // --- elementwise ------------------------------------------------------------------------------
  /** `this + alpha·other`, broadcast; see {@link @koubai/core!add | add}. */
  add(other: TensorLike, alpha?: number): Tensor {
    return binary.add(this, other, alpha);
  }
  /** `this - alpha·other`, broadcast; see {@link @koubai/core!sub | sub}. */
  sub(other: TensorLike, alpha?: number): Tensor {
    return binary.sub(this, other, alpha);
  }
  /** `this · other` elementwise, broadcast; see {@link @koubai/core!mul | mul}. */
  mul(other: TensorLike): Tensor {
    return binary.mul(this, other);
  }
  /** `this / other` elementwise (true division: integers give float32); see {@link @koubai/core!div | div}. */
  div(other: TensorLike): Tensor {
    return binary.div(this, other);
  }
  /** `this ^ exponent` elementwise; see {@link @koubai/core!pow | pow}. */
  pow(exponent: TensorLike): Tensor {
    return binary.pow(this, exponent);
  }
  /** Elementwise maximum with `other` (NaN propagates; ties split the gradient); see {@link @koubai/core!maximum | maximum}. */
  maximum(other: TensorLike): Tensor {
    return binary.maximum(this, other);
  }
  /** Elementwise minimum with `other` (NaN propagates; ties split the gradient); see {@link @koubai/core!minimum | minimum}. */
  minimum(other: TensorLike): Tensor {
    return binary.minimum(this, other);
  }
  /** `-this`; see {@link @koubai/core!neg | neg}. */
  neg(): Tensor {
    return unary.neg(this);
  }
  /** `e^this`; see {@link @koubai/core!exp | exp}. */
  exp(): Tensor {
    return unary.exp(this);
  }
  /** Natural logarithm `ln this`; see {@link @koubai/core!log | log}. */
  log(): Tensor {
    return unary.log(this);
  }
  /** `√this`; see {@link @koubai/core!sqrt | sqrt}. */
  sqrt(): Tensor {
    return unary.sqrt(this);
  }
  /** `1/√this`; see {@link @koubai/core!rsqrt | rsqrt}. */
  rsqrt(): Tensor {
    return unary.rsqrt(this);
  }
  /** `|this|` (subgradient 0 at 0); see {@link @koubai/core!abs | abs}. */
  abs(): Tensor {
    return unary.abs(this);
  }
  /** -1, 0 or 1 per element (zero gradient); see {@link @koubai/core!sign | sign}. */
  sign(): Tensor {
    return unary.sign(this);
  }
  /** `this²`; see {@link @koubai/core!square | square}. */
  square(): Tensor {
    return unary.square(this);
  }
  /** Hyperbolic tangent; see {@link @koubai/core!tanh | tanh}. */
  tanh(): Tensor {
    return unary.tanh(this);
  }
  /** Logistic sigmoid `1/(1+e^-x)`; see {@link @koubai/core!sigmoid | sigmoid}. */
  sigmoid(): Tensor {
    return unary.sigmoid(this);
  }
  /** `max(this, 0)` (gradient 0 at 0); see {@link @koubai/core!relu | relu}. */
  relu(): Tensor {
    return unary.relu(this);
  }
  /** `x` where `x > 0`, else `negativeSlope·x` (default 0.01); see {@link @koubai/core!leakyRelu | leakyRelu}. */
  leakyRelu(negativeSlope?: number): Tensor {
    return unary.leakyRelu(this, negativeSlope);
  }
  /** `x·Φ(x)` (exact, or the tanh approximation); see {@link @koubai/core!gelu | gelu}. */
  gelu(options?: { approximate?: "none" | "tanh" }): Tensor {
    return activation.gelu(this, options);
  }
  /** The Gauss error function; see {@link @koubai/core!erf | erf}. */
  erf(): Tensor {
    return unary.erf(this);
  }
  /** `min(max(this, min), max)`; either bound may be null. See {@link @koubai/core!clamp | clamp}. */
  clamp(min?: number | null, max?: number | null): Tensor {
    return unary.clamp(this, min, max);
  }

  // --- comparisons (not differentiable; return bool) ---------------------------------------------
  /** `this == other` elementwise, as a bool tensor; see {@link @koubai/core!eq | eq}. */
  eq(other: TensorLike): Tensor {
    return compare.eq(this, other);
  }
  /** `this != other` elementwise, as a bool tensor; see {@link @koubai/core!ne | ne}. */
  ne(other: TensorLike): Tensor {
    return compare.ne(this, other);
  }
  /** `this < other` elementwise, as a bool tensor; see {@link @koubai/core!lt | lt}. */
  lt(other: TensorLike): Tensor {
    return compare.lt(this, other);
  }
  /** `this <= other` elementwise, as a bool tensor; see {@link @koubai/core!le | le}. */
  le(other: TensorLike): Tensor {
    return compare.le(this, other);
  }
  /** `this > other` elementwise, as a bool tensor; see {@link @koubai/core!gt | gt}. */
  gt(other: TensorLike): Tensor {
    return compare.gt(this, other);
  }
  /** `this >= other` elementwise, as a bool tensor; see {@link @koubai/core!ge | ge}. */
  ge(other: TensorLike): Tensor {
    return compare.ge(this, other);
  }

  // --- reductions ---------------------------------------------------------------------------------
  /** Σ over `dim` (all dims when omitted); integer and bool tensors sum to int32. See {@link @koubai/core!sum | sum}. */
  sum(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.sum(this, dim, keepdim);
  }
  /** Arithmetic mean over `dim` (all dims when omitted); float tensors only. See {@link @koubai/core!mean | mean}. */
  mean(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.mean(this, dim, keepdim);
  }
  /** Π over one dim (all elements when omitted); see {@link @koubai/core!prod | prod}. */
  prod(dim?: number, keepdim = false): Tensor {
    return reduceOps.prod(this, dim, keepdim);
  }
  /** `Σ(x - mean)² / (N - correction)` over `dim`; unbiased (`correction` 1) by default. See {@link @koubai/core!variance | variance}. */
  var(dim?: Dims, options?: reduceOps.VarianceOptions): Tensor {
    return reduceOps.variance(this, dim, options);
  }
  /** `√var`, unbiased by default; see {@link @koubai/core!std | std}. */
  std(dim?: Dims, options?: reduceOps.VarianceOptions): Tensor {
    return reduceOps.std(this, dim, options);
  }
  /** Maximum over `dim` (all dims when omitted); ties share the gradient evenly. See {@link @koubai/core!amax | amax}. */
  amax(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.amax(this, dim, keepdim);
  }
  /** Minimum over `dim` (all dims when omitted); ties share the gradient evenly. See {@link @koubai/core!amin | amin}. */
  amin(dim?: Dims, keepdim = false): Tensor {
    return reduceOps.amin(this, dim, keepdim);
  }
  /** The maximum of all elements, a 0-d tensor (tied maxima share the gradient); see {@link @koubai/core!max | max}. */
  max(): Tensor;
  /** `{ values, indices }` of the maxima along `dim`, like `torch.max(x, dim)`; the gradient goes to the returned index. */
  max(dim: number, keepdim?: boolean): reduceOps.ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | reduceOps.ValuesIndices {
    return dim === undefined ? reduceOps.max(this) : reduceOps.max(this, dim, keepdim);
  }
  /** The minimum of all elements, a 0-d tensor (tied minima share the gradient); see {@link @koubai/core!min | min}. */
  min(): Tensor;
  /** `{ values, indices }` of the minima along `dim`, like `torch.min(x, dim)`; the gradient goes to the returned index. */
  min(dim: number, keepdim?: boolean): reduceOps.ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | reduceOps.ValuesIndices {
    return dim === undefined ? reduceOps.min(this) : reduceOps.min(this, dim, keepdim);
  }
  /** int32 index of the largest element along `dim` (of the flattened tensor when omitted); first at ties. */
  argmax(dim?: number, keepdim = false): Tensor {
    return reduceOps.argmax(this, dim, keepdim);
  }
  /** int32 index of the smallest element along `dim` (of the flattened tensor when omitted); first at ties. */
  argmin(dim?: number, keepdim = false): Tensor {
    return reduceOps.argmin(this, dim, keepdim);
  }
  /** `log Σ exp(x)` over `dim`, computed stably; see {@link @koubai/core!logsumexp | logsumexp}. */
  logsumexp(dim: Dims, keepdim = false): Tensor {
    return reduceOps.logsumexp(this, dim, keepdim);
  }
  /** `e^xᵢ / Σⱼ e^xⱼ` along `dim`, computed stably; see {@link @koubai/core!softmax | softmax}. */
  softmax(dim: number): Tensor {
    return activation.softmax(this, dim);
  }
  /** `x - logsumexp(x)` along `dim`; see {@link @koubai/core!logSoftmax | logSoftmax}. */
  logSoftmax(dim: number): Tensor {
    return activation.logSoftmax(this, dim);
  }

  // --- linear algebra -------------------------------------------------------------------------------
  /** Matrix product with PyTorch's 1-D and batch-broadcast rules, e.g. `[B, M, K] @ [K, N] -> [B, M, N]`; see {@link @koubai/core!matmul | matmul}. */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }

  // --- views and shape ------------------------------------------------------------------------------
  /** The same elements in a new shape (one size may be -1); a view when the layout allows, else a copy. See {@link @koubai/core!reshape | reshape}. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return view.reshape(this, flattenShapeArgs(shape));
  }
  /** Like `reshape`, but always a view; throws when the strides would need a copy. See {@link @koubai/core!view | view}. */
  view(...shape: number[] | [readonly number[]]): Tensor {
    return view.view(this, flattenShapeArgs(shape));
  }
  /** A view with dims `dim0` and `dim1` swapped; see {@link @koubai/core!transpose | transpose}. */
  transpose(dim0: number, dim1: number): Tensor {
    return view.transpose(this, dim0, dim1);
  }
  /** Transpose of a 2-D tensor (`.T` in PyTorch). */
  t(): Tensor {
    return view.t(this);
  }
  /** A view with the dims reordered: output dim i is input dim `dims[i]`. See {@link @koubai/core!permute | permute}. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return view.permute(this, flattenShapeArgs(dims));
  }
  /** A broadcast view of `shape` (stride 0 along expanded dims; -1 keeps a size); see {@link @koubai/core!expand | expand}. */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return view.expand(this, flattenShapeArgs(shape));
  }
  /** `expand(other.shape)`. */
  expandAs(other: Tensor): Tensor {
    return view.expand(this, other.shape);
  }
  /** A view without size-1 dims (all of them, or those listed in `dim`); see {@link @koubai/core!squeeze | squeeze}. */
  squeeze(dim?: Dims): Tensor {
    return view.squeeze(this, dim);
  }
  /** A view with a size-1 dim inserted at `dim`, e.g. `[C]` to `[1, C]` with `dim` 0. See {@link @koubai/core!unsqueeze | unsqueeze}. */
  unsqueeze(dim: number): Tensor {
    return view.unsqueeze(this, dim);
  }
  /** Dims `startDim..endDim` merged into one, e.g. `[N, C, H, W]` to `[N, C·H·W]` with `startDim` 1. See {@link @koubai/core!flatten | flatten}. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return view.flatten(this, startDim, endDim);
  }
  /** A view of `length` elements from `start` along `dim`; see {@link @koubai/core!narrow | narrow}. */
  narrow(dim: number, start: number, length: number): Tensor {
    return view.narrow(this, dim, start, length);
  }
  /** `x[..., start:stop:step, ...]` along `dim`; `stop` may be omitted or null for the end. */
  slice(dim: number, start?: number | null, stop?: number | null, step?: number): Tensor {
    return view.slice(this, dim, start, stop, step);
  }
  /** A view of the slice at `index` along `dim`, with that dim removed (`x[:, index]` for `dim` 1). */
  select(dim: number, index: number): Tensor {
    return view.select(this, dim, index);
  }
  /** This tensor with a row-major, gap-free layout: itself when it already is, else a copy. */
  contiguous(): Tensor {
    return view.contiguous(this);
  }
  /** A copy in fresh storage that stays in the graph (d/dx = identity); see {@link @koubai/core!clone | clone}. */
  clone(): Tensor {
    return view.clone(this);
  }
  /** Views along `dim` of `splitSize` each (the last may be smaller), or of the listed sizes; see {@link @koubai/core!split | split}. */
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return join.split(this, splitSize, dim);
  }
  /** At most `chunks` views of size ⌈size / chunks⌉ along `dim`; see {@link @koubai/core!chunk | chunk}. */
  chunk(chunks: number, dim = 0): Tensor[] {
    return join.chunk(this, chunks, dim);
  }
  /** The slices at the int32 positions `index` (1-D) along `dim`; see {@link @koubai/core!indexSelect | indexSelect}. */
  indexSelect(dim: number, index: Tensor): Tensor {
    return indexing.indexSelect(this, dim, index);
  }
  /** `out[i][j] = this[i][index[i][j]]` for `dim` 1 (likewise for any dim); see {@link @koubai/core!gather | gather}. */
  gather(dim: number, index: Tensor): Tensor {
    return indexing.gather(this, dim, index);
  }

  // --- in place (never recorded; for optimizers and initialisers, usually inside noGrad) ----------
  // Each throws when grad mode is on and the target requires grad, when the target is an expanded
  // (stride-0) view, or when the source does not broadcast to the target's shape.
  /** `this += alpha * other`, in place. */
  add_(other: TensorLike, alpha = 1): this {
    return inplace.addInPlace(this, other, alpha);
  }
  /** `this -= alpha * other`, in place. */
  sub_(other: TensorLike, alpha = 1): this {
    return inplace.addInPlace(this, other, -alpha, "sub_");
  }
  /** `this *= other`, in place. */
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
  /**
   * Writes `source` (broadcast to this shape, cast to this dtype) into this tensor, in place. A
   * source sharing memory with this tensor (`x.copy_(x.t())`) is read as it was before the copy
   * (PyTorch refuses such a source; the other in-place ops here refuse it too).
   */
  copy_(source: TensorLike): this {
    return inplace.copyInPlace(this, source);
  }
  /** Sets every element to `value`, in place. */
  fill_(value: number): this {
    return inplace.copyInPlace(this, value, "fill_");
  }
  /** Sets every element to 0, in place (e.g. to reset a `.grad`). */
  zero_(): this {
    return inplace.copyInPlace(this, 0, "zero_");
  }
  /** `this = min(max(this, min), max)`, in place; either bound may be null. */
  clamp_(min?: number | null, max?: number | null): this {
    return inplace.copyInPlace(this, unary.clamp(this.detach(), min, max), "clamp_");
  }
}

function checkGradAssignment(t: Tensor, value: unknown): void {
  if (!(value instanceof Tensor)) {
    const got = Array.isArray(value)
      ? "an array (wrap it with tensor(..., { dtype }))"
      : value === undefined
        ? "undefined (use null to clear it)"
        : typeof value;
    throw new TypeError(`grad: expected a Tensor or null, got ${got}`);
  }
  if (value === t)
    throw new Error(
      "grad: a tensor cannot be its own gradient; assign a copy (t.detach().clone())",
    );
  if (!value.shape.every((s, d) => s === t.shape[d]) || value.ndim !== t.ndim) {
    throw new RangeError(
      `grad: the gradient has shape ${formatShape(value.shape)} but the tensor has shape ${formatShape(t.shape)}; they must match`,
    );
  }
  if (value.dtype !== t.dtype) {
    throw new TypeError(
      `grad: the gradient has dtype ${value.dtype} but the tensor is ${t.dtype}; cast it with .to("${t.dtype}")`,
    );
  }
}

function flattenShapeArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

const BACKWARD_OPTION_NAMES: readonly (keyof BackwardOptions)[] = ["retainGraph", "createGraph"];

/** `backward(options)` or `backward(gradient, options)`: which argument is which, checked. */
function splitBackwardArguments(
  first: TensorLike | BackwardOptions | undefined,
  second: BackwardOptions | undefined,
): [TensorLike | undefined, BackwardOptions] {
  const isOptions =
    typeof first === "object" &&
    first !== null &&
    !(first instanceof Tensor) &&
    !Array.isArray(first);
  if (isOptions && second !== undefined) {
    throw new TypeError(
      "backward: got two options objects; call backward(options) or backward(gradient, options)",
    );
  }
  const gradient = isOptions ? undefined : (first as TensorLike | undefined);
  const options = (isOptions ? first : second) ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `backward: options must be an object like { retainGraph: true }, got ${Array.isArray(options) ? "an array" : options === null ? "null" : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(BACKWARD_OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(
        `backward: unknown option "${key}"; the options are ${BACKWARD_OPTION_NAMES.join(" and ")}`,
      );
    }
  }
  for (const key of BACKWARD_OPTION_NAMES) {
    const value = options[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`backward: option ${key} must be true or false, got ${typeof value}`);
    }
  }
  return [gradient, options];
}
