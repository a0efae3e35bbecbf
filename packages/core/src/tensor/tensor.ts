// The Tensor class: a strided view (shape, strides, offset) onto a shared Storage, plus the
// autograd fields and what reads them. The op methods (`add`, `sum`, `reshape`, `backward`, ...)
// are not here: methods.ts attaches them, since they call into ops/ and autograd/, which build
// on this file and not the other way round.

import type { Node } from "../autograd/node.js";
import { copyToContiguous, isContiguous } from "../kernels/strided.js";
import {
  allocate,
  allocateUnfilled,
  arrayPool,
  type DType,
  dtypeOfArray,
  isFloat,
  type TypedArray,
} from "./dtype.js";
import { formatTensor } from "./format.js";
import { contiguousStrides, formatShape, normalizeDim, numelOf, sameShape } from "./shape.js";
import { Storage } from "./storage.js";
import { activeTracer, type OpTracer, tracedCall } from "./tracing.js";

/** How a tracer sees `detach()`: a movement (no arithmetic), with no gradient. */
const DETACH = { name: "detach", kind: "movement" };
const detachTensor = (t: Tensor): Tensor => t.detach();

/** How a tracer sees `t.grad = value`: a change of state it must replay. */
const SET_GRAD = { name: "setGrad", kind: "effect" };
const setGrad = (t: Tensor, value: Tensor | null): void => {
  t.grad = value;
};

// Gradients a compiled function's replay assigned that no code has read through `.grad` since:
// nothing outside Koubai can hold one, so once `zeroGrad()` drops it, its array may become the
// next call's gradient (compile/memory.ts), as PyTorch's allocator reuses a gradient freed when
// its reference count drops to zero. Reading `.grad` removes a gradient from the set for good.
const unreadGrads = new WeakSet<Tensor>();

/** @internal Marks `grad`, just assigned by a replay, as read by nobody yet. */
export function markGradUnread(grad: Tensor): void {
  unreadGrads.add(grad);
}

/**
 * @internal True when `grad` was marked by {@link markGradUnread} and nobody has read it since;
 * it is unmarked either way, so its array is given away at most once.
 */
export function claimUnreadGrad(grad: Tensor): boolean {
  return unreadGrads.delete(grad);
}

/**
 * @internal `t.grad` for Koubai code that keeps no reference to it past the call (an optimizer's
 * step, compile's checks): unlike the getter, it leaves the gradient reusable.
 */
export let peekGrad: (t: Tensor) => Tensor | null;

/**
 * How a tracer sees `requiresGrad_(value)`: a change of state it must replay, since whether later
 * calls record an autograd graph depends on it (freezing a network inside a training step).
 */
const SET_REQUIRES_GRAD = { name: "requiresGrad_", kind: "effect" };
const setRequiresGrad = (t: Tensor, value: boolean): void => {
  t.requiresGrad_(value);
};

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
    activeTracer()?.created(this);
  }

  /** @internal A contiguous tensor over a fresh typed array. */
  static fromTypedArray(data: TypedArray, shape: readonly number[]): Tensor {
    // A compiled function's replay may hand back the tensor its previous call made over the
    // same planned array (a value no one outside the call sees): see compile/memory.ts.
    const pool = arrayPool();
    if (pool?.tensorOver === undefined) {
      return new Tensor(new Storage(data), shape, contiguousStrides(shape), 0);
    }
    const kept = pool.tensorOver(data, shape);
    if (kept !== undefined) return kept;
    const made = new Tensor(new Storage(data), shape, contiguousStrides(shape), 0);
    pool.madeTensor?.(data, made);
    return made;
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
    const grad = this.#grad;
    activeTracer()?.gradRead(this, grad);
    // Whoever reads it may keep it: its array is never reused for another gradient.
    if (grad !== null) unreadGrads.delete(grad);
    return grad;
  }

  static {
    peekGrad = (t) => t.#grad;
  }

  /** Sets the gradient, checked as the getter describes (as `p.grad = ...` does in PyTorch). */
  set grad(value: Tensor | null) {
    if (value !== null) checkGradAssignment(this, value);
    const tracer = activeTracer();
    if (tracer === null) this.#grad = value;
    else this.#setGradTraced(tracer, value);
  }

  /** A method of its own: the setter's frame then allocates no context for the closure. */
  #setGradTraced(tracer: OpTracer, value: Tensor | null): void {
    tracedCall(
      tracer,
      SET_GRAD,
      [this, value],
      () => {
        this.#grad = value;
      },
      setGrad,
    );
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
    return this.shape[normalizeDim(dim, this.shape.length, "size", this.shape)];
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
    const tracer = activeTracer();
    // On a non-leaf (value is then true) the call changes nothing eager code sees; a replay
    // that records no graph would turn the value into a leaf requiring grad, so it is not traced.
    if (tracer === null || this.gradFn !== null) this.requiresGradFlag = value;
    else {
      tracedCall(
        tracer,
        SET_REQUIRES_GRAD,
        [this, value],
        () => {
          this.requiresGradFlag = value;
        },
        setRequiresGrad,
      );
    }
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

  /** A tensor sharing storage (and shape, strides, offset) with this one but cut from the graph: a leaf that does not require grad. */
  detach(): Tensor {
    const tracer = activeTracer();
    if (tracer === null) return new Tensor(this.storage, this.shape, this.strides, this.offset);
    // A tracer records it as a call, or the result would look like a constant to it.
    return tracedCall(tracer, DETACH, [this], () => this.#detached(), detachTensor);
  }

  #detached(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * The single value of a one-element tensor, as a JS number.
   *
   * @throws Error when the tensor has more than one element.
   */
  item(): number {
    activeTracer()?.read("item", this);
    if (this.numel() !== 1)
      throw new Error(
        `item: expected a tensor with one element, got shape ${formatShape(this.shape)}`,
      );
    return this.data[this.offset];
  }

  /** A flat, row-major copy of the values as a typed array of this tensor's dtype. */
  toArray(): TypedArray {
    activeTracer()?.read("toArray", this);
    return this.#values();
  }

  /** The values as a flat typed array, without telling a tracer (tolist reports itself). */
  #values(): TypedArray {
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
    activeTracer()?.read("tolist", this);
    const flat = this.#values();
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
  if (!sameShape(value.shape, t.shape)) {
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
