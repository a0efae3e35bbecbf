// The Tensor methods: chainable wrappers over the registry's ops (registry.ts), attached to
// Tensor.prototype here, in the one module that imports both the class and the ops (tensor.ts
// cannot: the ops build on it). Importing @koubai/core runs this module first; package.json lists
// it and index.ts (whose bare import of it bundlers would otherwise drop) under `sideEffects`.
// The interface below declares the methods with their docs, as users meet them. Two checks run
// at compile time: `declared` (each method that passes the tensor as an op's first argument has
// that op's own signature) and `implemented` (each method named like an op is implemented here).

import { backward } from "./autograd/backward.js";
import type { BackwardOptions } from "./autograd/engine.js";
import * as inplace from "./ops/inplace.js";
import type { ValuesIndices, VarianceOptions } from "./ops/reduce.js";
import type { SortOptions, TopkOptions } from "./ops/sort.js";
import { OPS, type PublicOpName } from "./registry.js";
import type { DType } from "./tensor/dtype.js";
import { type Dims, Tensor, type TensorLike } from "./tensor/tensor.js";

declare module "./tensor/tensor.js" {
  interface Tensor {
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

    // --- dtype ------------------------------------------------------------------------------------
    /** This tensor in `dtype` (itself when it already is); differentiable between float dtypes. */
    to(dtype: DType): Tensor;
    /** `to("float32")`. */
    float(): Tensor;
    /** `to("float64")`: the dtype `gradcheck` needs. */
    double(): Tensor;

    // --- elementwise ------------------------------------------------------------------------------
    /** `this + alpha·other`, broadcast; see {@link @koubai/core!add | add}. */
    add(other: TensorLike, alpha?: number): Tensor;
    /** `this - alpha·other`, broadcast; see {@link @koubai/core!sub | sub}. */
    sub(other: TensorLike, alpha?: number): Tensor;
    /** `this · other` elementwise, broadcast; see {@link @koubai/core!mul | mul}. */
    mul(other: TensorLike): Tensor;
    /** `this + value·tensor1·tensor2` in one pass, broadcast; see {@link @koubai/core!addcmul | addcmul}. */
    addcmul(tensor1: Tensor, tensor2: Tensor, value?: number): Tensor;
    /** `this / other` elementwise (true division: integers give float32); see {@link @koubai/core!div | div}. */
    div(other: TensorLike): Tensor;
    /** `this ^ exponent` elementwise; see {@link @koubai/core!pow | pow}. */
    pow(exponent: TensorLike): Tensor;
    /** Elementwise maximum with `other` (NaN propagates; ties split the gradient); see {@link @koubai/core!maximum | maximum}. */
    maximum(other: TensorLike): Tensor;
    /** Elementwise minimum with `other` (NaN propagates; ties split the gradient); see {@link @koubai/core!minimum | minimum}. */
    minimum(other: TensorLike): Tensor;
    /** `-this`; see {@link @koubai/core!neg | neg}. */
    neg(): Tensor;
    /** `e^this`; see {@link @koubai/core!exp | exp}. */
    exp(): Tensor;
    /** Natural logarithm `ln this`; see {@link @koubai/core!log | log}. */
    log(): Tensor;
    /** `ln(1 + this)`, exact for small values; see {@link @koubai/core!log1p | log1p}. */
    log1p(): Tensor;
    /** `√this`; see {@link @koubai/core!sqrt | sqrt}. */
    sqrt(): Tensor;
    /** `1/√this`; see {@link @koubai/core!rsqrt | rsqrt}. */
    rsqrt(): Tensor;
    /** `|this|` (subgradient 0 at 0); see {@link @koubai/core!abs | abs}. */
    abs(): Tensor;
    /** -1, 0 or 1 per element (zero gradient); see {@link @koubai/core!sign | sign}. */
    sign(): Tensor;
    /** `this²`; see {@link @koubai/core!square | square}. */
    square(): Tensor;
    /** Hyperbolic tangent; see {@link @koubai/core!tanh | tanh}. */
    tanh(): Tensor;
    /** Sine; see {@link @koubai/core!sin | sin}. */
    sin(): Tensor;
    /** Tangent; see {@link @koubai/core!tan | tan}. */
    tan(): Tensor;
    /** Arcsine; see {@link @koubai/core!asin | asin}. */
    asin(): Tensor;
    /** Arccosine; see {@link @koubai/core!acos | acos}. */
    acos(): Tensor;
    /** Arctangent; see {@link @koubai/core!atan | atan}. */
    atan(): Tensor;
    /** Hyperbolic sine; see {@link @koubai/core!sinh | sinh}. */
    sinh(): Tensor;
    /** Hyperbolic cosine; see {@link @koubai/core!cosh | cosh}. */
    cosh(): Tensor;
    /** eˣ - 1; see {@link @koubai/core!expm1 | expm1}. */
    expm1(): Tensor;
    /** Base-2 logarithm; see {@link @koubai/core!log2 | log2}. */
    log2(): Tensor;
    /** Base-10 logarithm; see {@link @koubai/core!log10 | log10}. */
    log10(): Tensor;
    /** 2ˣ; see {@link @koubai/core!exp2 | exp2}. */
    exp2(): Tensor;
    /** atan2(this, other); see {@link @koubai/core!atan2 | atan2}. */
    atan2(other: TensorLike): Tensor;
    /** √(this² + other²); see {@link @koubai/core!hypot | hypot}. */
    hypot(other: TensorLike): Tensor;
    /** Reversed along dims; see {@link @koubai/core!flip | flip}. */
    flip(dims: number | readonly number[]): Tensor;
    /** Shifted with wrap-around; see {@link @koubai/core!roll | roll}. */
    roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor;
    /** Repeated along each dim; see {@link @koubai/core!repeat | repeat}. */
    repeat(repeats: readonly number[]): Tensor;
    /** Tiled; see {@link @koubai/core!tile | tile}. */
    tile(reps: readonly number[]): Tensor;
    /** Running sums; see {@link @koubai/core!cumsum | cumsum}. */
    cumsum(dim: number): Tensor;
    /** Running products; see {@link @koubai/core!cumprod | cumprod}. */
    cumprod(dim: number): Tensor;
    /** Sorted values and their positions; see {@link @koubai/core!sort | sort}. */
    sort(dim?: number, options?: SortOptions): ValuesIndices;
    /** The positions that sort; see {@link @koubai/core!argsort | argsort}. */
    argsort(dim?: number, descending?: boolean): Tensor;
    /** The k largest (or smallest); see {@link @koubai/core!topk | topk}. */
    topk(k: number, dim?: number, options?: TopkOptions): ValuesIndices;
    /** Cosine; see {@link @koubai/core!cos | cos}. */
    cos(): Tensor;
    /** Logistic sigmoid `1/(1+e^-x)`; see {@link @koubai/core!sigmoid | sigmoid}. */
    sigmoid(): Tensor;
    /** `max(this, 0)` (gradient 0 at 0); see {@link @koubai/core!relu | relu}. */
    relu(): Tensor;
    /** `x` where `x > 0`, else `negativeSlope·x` (default 0.01); see {@link @koubai/core!leakyRelu | leakyRelu}. */
    leakyRelu(negativeSlope?: number): Tensor;
    /** `x·Φ(x)` (exact, or the tanh approximation); see {@link @koubai/core!gelu | gelu}. */
    gelu(options?: { approximate?: "none" | "tanh" }): Tensor;
    /** The Gauss error function; see {@link @koubai/core!erf | erf}. */
    erf(): Tensor;
    /** `log(1 + e^(beta·this))/beta`, linear where `beta·this > threshold`; see {@link @koubai/core!softplus | softplus}. */
    softplus(beta?: number, threshold?: number): Tensor;
    /** `min(max(this, min), max)`; either bound may be null. See {@link @koubai/core!clamp | clamp}. */
    clamp(min?: number | null, max?: number | null): Tensor;

    // --- comparisons (not differentiable; return bool) ---------------------------------------------
    /** `this == other` elementwise, as a bool tensor; see {@link @koubai/core!eq | eq}. */
    eq(other: TensorLike): Tensor;
    /** `this != other` elementwise, as a bool tensor; see {@link @koubai/core!ne | ne}. */
    ne(other: TensorLike): Tensor;
    /** `this < other` elementwise, as a bool tensor; see {@link @koubai/core!lt | lt}. */
    lt(other: TensorLike): Tensor;
    /** `this <= other` elementwise, as a bool tensor; see {@link @koubai/core!le | le}. */
    le(other: TensorLike): Tensor;
    /** `this > other` elementwise, as a bool tensor; see {@link @koubai/core!gt | gt}. */
    gt(other: TensorLike): Tensor;
    /** `this >= other` elementwise, as a bool tensor; see {@link @koubai/core!ge | ge}. */
    ge(other: TensorLike): Tensor;

    // --- reductions ---------------------------------------------------------------------------------
    /** Σ over `dim` (all dims when omitted); integer and bool tensors sum to int32. See {@link @koubai/core!sum | sum}. */
    sum(dim?: Dims, keepdim?: boolean): Tensor;
    /** Arithmetic mean over `dim` (all dims when omitted); float tensors only. See {@link @koubai/core!mean | mean}. */
    mean(dim?: Dims, keepdim?: boolean): Tensor;
    /** Π over one dim (all elements when omitted); see {@link @koubai/core!prod | prod}. */
    prod(dim?: number, keepdim?: boolean): Tensor;
    /** `Σ(x - mean)² / (N - correction)` over `dim`; unbiased (`correction` 1) by default. See {@link @koubai/core!variance | variance}. */
    var(dim?: Dims, options?: VarianceOptions): Tensor;
    /** `√var`, unbiased by default; see {@link @koubai/core!std | std}. */
    std(dim?: Dims, options?: VarianceOptions): Tensor;
    /** Maximum over `dim` (all dims when omitted); ties share the gradient evenly. See {@link @koubai/core!amax | amax}. */
    amax(dim?: Dims, keepdim?: boolean): Tensor;
    /** Minimum over `dim` (all dims when omitted); ties share the gradient evenly. See {@link @koubai/core!amin | amin}. */
    amin(dim?: Dims, keepdim?: boolean): Tensor;
    /** The maximum of all elements, a 0-d tensor (tied maxima share the gradient); see {@link @koubai/core!max | max}. */
    max(): Tensor;
    /** `{ values, indices }` of the maxima along `dim`, like `torch.max(x, dim)`; the gradient goes to the returned index. */
    max(dim: number, keepdim?: boolean): ValuesIndices;
    /** The minimum of all elements, a 0-d tensor (tied minima share the gradient); see {@link @koubai/core!min | min}. */
    min(): Tensor;
    /** `{ values, indices }` of the minima along `dim`, like `torch.min(x, dim)`; the gradient goes to the returned index. */
    min(dim: number, keepdim?: boolean): ValuesIndices;
    /** int32 index of the largest element along `dim` (of the flattened tensor when omitted); first at ties. */
    argmax(dim?: number, keepdim?: boolean): Tensor;
    /** int32 index of the smallest element along `dim` (of the flattened tensor when omitted); first at ties. */
    argmin(dim?: number, keepdim?: boolean): Tensor;
    /** `log Σ exp(x)` over `dim`, computed stably; see {@link @koubai/core!logsumexp | logsumexp}. */
    logsumexp(dim: Dims | undefined, keepdim?: boolean): Tensor;
    /** `e^xᵢ / Σⱼ e^xⱼ` along `dim`, computed stably; see {@link @koubai/core!softmax | softmax}. */
    softmax(dim: number): Tensor;
    /** `x - logsumexp(x)` along `dim`; see {@link @koubai/core!logSoftmax | logSoftmax}. */
    logSoftmax(dim: number): Tensor;

    // --- linear algebra -------------------------------------------------------------------------------
    /** Matrix product with PyTorch's 1-D and batch-broadcast rules, e.g. `[B, M, K] @ [K, N] -> [B, M, N]`; see {@link @koubai/core!matmul | matmul}. */
    matmul(other: Tensor): Tensor;

    // --- views and shape ------------------------------------------------------------------------------
    /** The same elements in a new shape (one size may be -1); a view when the layout allows, else a copy. See {@link @koubai/core!reshape | reshape}. */
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    /** Like `reshape`, but always a view; throws when the strides would need a copy. See {@link @koubai/core!view | view}. */
    view(...shape: number[] | [readonly number[]]): Tensor;
    /** A view with dims `dim0` and `dim1` swapped; see {@link @koubai/core!transpose | transpose}. */
    transpose(dim0: number, dim1: number): Tensor;
    /** Transpose of a 2-D tensor (`.T` in PyTorch). */
    t(): Tensor;
    /** A view with the dims reordered: output dim i is input dim `dims[i]`. See {@link @koubai/core!permute | permute}. */
    permute(...dims: number[] | [readonly number[]]): Tensor;
    /** A broadcast view of `shape` (stride 0 along expanded dims; -1 keeps a size); see {@link @koubai/core!expand | expand}. */
    expand(...shape: number[] | [readonly number[]]): Tensor;
    /** `expand(other.shape)`. */
    expandAs(other: Tensor): Tensor;
    /** A view without size-1 dims (all of them, or those listed in `dim`); see {@link @koubai/core!squeeze | squeeze}. */
    squeeze(dim?: Dims): Tensor;
    /** A view with a size-1 dim inserted at `dim`, e.g. `[C]` to `[1, C]` with `dim` 0. See {@link @koubai/core!unsqueeze | unsqueeze}. */
    unsqueeze(dim: number): Tensor;
    /** Dims `startDim..endDim` merged into one, e.g. `[N, C, H, W]` to `[N, C·H·W]` with `startDim` 1. See {@link @koubai/core!flatten | flatten}. */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** A view of `length` elements from `start` along `dim`; see {@link @koubai/core!narrow | narrow}. */
    narrow(dim: number, start: number, length: number): Tensor;
    /** `x[..., start:stop:step, ...]` along `dim`; `stop` may be omitted or null for the end. */
    slice(dim: number, start?: number | null, stop?: number | null, step?: number): Tensor;
    /** A view of the slice at `index` along `dim`, with that dim removed (`x[:, index]` for `dim` 1). */
    select(dim: number, index: number): Tensor;
    /** This tensor with a row-major, gap-free layout: itself when it already is, else a copy. */
    contiguous(): Tensor;
    /** A copy in fresh storage that stays in the graph (d/dx = identity); see {@link @koubai/core!clone | clone}. */
    clone(): Tensor;
    /** Views along `dim` of `splitSize` each (the last may be smaller), or of the listed sizes; see {@link @koubai/core!split | split}. */
    split(splitSize: number | readonly number[], dim?: number): Tensor[];
    /** At most `chunks` views of size ⌈size / chunks⌉ along `dim`; see {@link @koubai/core!chunk | chunk}. */
    chunk(chunks: number, dim?: number): Tensor[];
    /** The slices at the int32 positions `index` (1-D) along `dim`; see {@link @koubai/core!indexSelect | indexSelect}. */
    indexSelect(dim: number, index: Tensor): Tensor;
    /** `out[i][j] = this[i][index[i][j]]` for `dim` 1 (likewise for any dim); see {@link @koubai/core!gather | gather}. */
    gather(dim: number, index: Tensor): Tensor;

    // --- in place (never recorded; for optimizers and initialisers, usually inside noGrad) ----------
    // Each throws when grad mode is on and the target requires grad, when the target is an expanded
    // (stride-0) view, or when the source does not broadcast to the target's shape.
    /** `this += alpha * other`, in place. */
    add_(other: TensorLike, alpha?: number): this;
    /** `this -= alpha * other`, in place. */
    sub_(other: TensorLike, alpha?: number): this;
    /** `this *= other`, in place. */
    mul_(other: TensorLike): this;
    /** `this += value * tensor1 * tensor2`, in place. */
    addcmul_(tensor1: Tensor, tensor2: Tensor, value?: number): this;
    /** `this += value * tensor1 / tensor2`, in place. */
    addcdiv_(tensor1: Tensor, tensor2: Tensor, value?: number): this;
    /**
     * Writes `source` (broadcast to this shape, cast to this dtype) into this tensor, in place. A
     * source sharing memory with this tensor (`x.copy_(x.t())`) is read as it was before the copy
     * (PyTorch refuses such a source; the other in-place ops here refuse it too).
     */
    copy_(source: TensorLike): this;
    /** Sets every element to `value`, in place. */
    fill_(value: number): this;
    /** Sets every element to 0, in place (e.g. to reset a `.grad`). */
    zero_(): this;
    /** `this = min(max(this, min), max)`, in place; either bound may be null. */
    clamp_(min?: number | null, max?: number | null): this;
  }
}

/**
 * Methods that call the registry's op of the same name (`to` calls `cast`) with `this` as its
 * first argument.
 */
const CHAINED = {
  to: OPS.cast,
  add: OPS.add,
  sub: OPS.sub,
  mul: OPS.mul,
  addcmul: OPS.addcmul,
  div: OPS.div,
  pow: OPS.pow,
  maximum: OPS.maximum,
  minimum: OPS.minimum,
  neg: OPS.neg,
  exp: OPS.exp,
  log: OPS.log,
  log1p: OPS.log1p,
  sqrt: OPS.sqrt,
  rsqrt: OPS.rsqrt,
  abs: OPS.abs,
  sign: OPS.sign,
  square: OPS.square,
  tanh: OPS.tanh,
  sin: OPS.sin,
  tan: OPS.tan,
  asin: OPS.asin,
  acos: OPS.acos,
  atan: OPS.atan,
  sinh: OPS.sinh,
  cosh: OPS.cosh,
  expm1: OPS.expm1,
  log2: OPS.log2,
  log10: OPS.log10,
  exp2: OPS.exp2,
  atan2: OPS.atan2,
  hypot: OPS.hypot,
  flip: OPS.flip,
  roll: OPS.roll,
  repeat: OPS.repeat,
  tile: OPS.tile,
  cumsum: OPS.cumsum,
  cumprod: OPS.cumprod,
  sort: OPS.sort,
  argsort: OPS.argsort,
  topk: OPS.topk,
  cos: OPS.cos,
  sigmoid: OPS.sigmoid,
  relu: OPS.relu,
  leakyRelu: OPS.leakyRelu,
  gelu: OPS.gelu,
  erf: OPS.erf,
  softplus: OPS.softplus,
  clamp: OPS.clamp,
  eq: OPS.eq,
  ne: OPS.ne,
  lt: OPS.lt,
  le: OPS.le,
  gt: OPS.gt,
  ge: OPS.ge,
  sum: OPS.sum,
  mean: OPS.mean,
  prod: OPS.prod,
  var: OPS.var,
  std: OPS.std,
  amax: OPS.amax,
  amin: OPS.amin,
  max: OPS.max,
  min: OPS.min,
  argmax: OPS.argmax,
  argmin: OPS.argmin,
  logsumexp: OPS.logsumexp,
  softmax: OPS.softmax,
  logSoftmax: OPS.logSoftmax,
  matmul: OPS.matmul,
  transpose: OPS.transpose,
  t: OPS.t,
  squeeze: OPS.squeeze,
  unsqueeze: OPS.unsqueeze,
  flatten: OPS.flatten,
  narrow: OPS.narrow,
  slice: OPS.slice,
  select: OPS.select,
  contiguous: OPS.contiguous,
  clone: OPS.clone,
  split: OPS.split,
  chunk: OPS.chunk,
  indexSelect: OPS.indexSelect,
  gather: OPS.gather,
};

/** The method form of a function whose first parameter is the tensor. */
type Chained<F> = F extends (x: Tensor, ...rest: infer A) => infer R ? (...args: A) => R : never;

// Compile-time check: every chained method is declared on Tensor with its function's signature.
const declared: { [K in keyof typeof CHAINED]: Chained<(typeof CHAINED)[K]> } = {} as Pick<
  Tensor,
  keyof typeof CHAINED
>;
void declared;

/** The other methods: several argument forms, in-place updates, and conversions. */
const OWN = {
  backward(gradientOrOptions?: TensorLike | BackwardOptions, maybeOptions?: BackwardOptions) {
    backward(this, gradientOrOptions, maybeOptions);
  },
  float() {
    return OPS.cast(this, "float32");
  },
  double() {
    return OPS.cast(this, "float64");
  },
  reshape(...shape: number[] | [readonly number[]]) {
    return OPS.reshape(this, flattenShapeArgs(shape));
  },
  view(...shape: number[] | [readonly number[]]) {
    return OPS.view(this, flattenShapeArgs(shape));
  },
  permute(...dims: number[] | [readonly number[]]) {
    return OPS.permute(this, flattenShapeArgs(dims));
  },
  expand(...shape: number[] | [readonly number[]]) {
    return OPS.expand(this, flattenShapeArgs(shape));
  },
  expandAs(other: Tensor) {
    return OPS.expand(this, other.shape);
  },
  add_(other: TensorLike, alpha = 1) {
    return inplace.addInPlace(this, other, alpha);
  },
  sub_(other: TensorLike, alpha = 1) {
    return inplace.addInPlace(this, other, -alpha, "sub_");
  },
  mul_(other: TensorLike) {
    return inplace.mulInPlace(this, other);
  },
  addcmul_(tensor1: Tensor, tensor2: Tensor, value = 1) {
    return inplace.addcmulInPlace(this, tensor1, tensor2, value);
  },
  addcdiv_(tensor1: Tensor, tensor2: Tensor, value = 1) {
    return inplace.addcdivInPlace(this, tensor1, tensor2, value);
  },
  copy_(source: TensorLike) {
    return inplace.copyInPlace(this, source);
  },
  fill_(value: number) {
    return inplace.copyInPlace(this, value, "fill_");
  },
  zero_() {
    return inplace.copyInPlace(this, 0, "zero_");
  },
  clamp_(min?: number | null, max?: number | null) {
    return inplace.copyInPlace(this, OPS.clamp(this.detach(), min, max), "clamp_");
  },
} satisfies ThisType<Tensor> & Partial<Tensor>;

// Compile-time check: every Tensor method named like a registry op is one of the above, so a
// method declared in the interface without an implementation does not compile.
type Unimplemented = Exclude<
  Extract<keyof Tensor, PublicOpName>,
  keyof typeof CHAINED | keyof typeof OWN
>;
const implemented: [Unimplemented] extends [never] ? true : Unimplemented = true;
void implemented;

function flattenShapeArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/** `op(this, a, b, c, d)`: every chained function takes at most four more arguments. */
function chain(op: (x: Tensor, ...rest: never[]) => unknown) {
  const call = op as (x: Tensor, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown;
  return function (this: Tensor, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
    return call(this, a, b, c, d);
  };
}

/** Defined like class methods: writable, configurable, not enumerable. */
function attach(name: string, value: unknown): void {
  Object.defineProperty(Tensor.prototype, name, { value, writable: true, configurable: true });
}

for (const [name, op] of Object.entries(CHAINED)) attach(name, chain(op));
for (const [name, method] of Object.entries(OWN)) attach(name, method);
