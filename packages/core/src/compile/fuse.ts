// Fusing a replay's calls into passes. A run of float add, sub, mul, div, maximum, minimum, neg,
// abs, square, sqrt, rsqrt, relu, relu's backward and addcmul calls of one output shape and dtype,
// with the sums over leading dims (or over every dim but 1) of values of that shape, the column
// sums of products (mul's backward for a broadcast factor) and BatchNorm's centring, becomes one
// fused unit: it streams its operands chunk by chunk through one WebAssembly function generated for
// it (kernels/elementwise-chain.ts, chain-kernel.ts), sums as it goes, and writes out only the
// values later calls or the result read. The calls of a run need not be consecutive: calls that
// change no values move before or after the pass, and in-place updates after it, as long as every
// call still sees what it would see eagerly. Each value is computed by the instructions its op's
// loop runs eagerly, and each sum adds in the eager order, so results stay bit for bit the same. A
// fused unit checks its operands' layouts on every call and, where one is not supported (or the JS
// kernels are selected), the replay runs its calls one by one as before.

import { getKernelBackend } from "../kernels/backend.js";
import {
  ChainMemo,
  type ChainOperand,
  type ChainOutput,
  type ChainReduction,
  type ChainStep,
  chainInner,
  chainOperandOf,
  chainUnit,
  chainWasm,
} from "../kernels/elementwise-chain.js";
import type { WasmBinaryOp, WasmUnaryOp } from "../kernels/elementwise-wasm.js";
import type { FloatArray } from "../kernels/gemm-js.js";
import { allocate, allocateUnfilled, type TypedArray } from "../tensor/dtype.js";
import { formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { KeptFrom } from "./memory.js";
import { type TracedArg, type TracedGraph, type TracedNode, TracedValue } from "./trace.js";

/** Registry ops whose forward is one WebAssembly binary loop over float operands of one dtype. */
const BINARY_OPS: ReadonlyMap<string, WasmBinaryOp> = new Map([
  ["add", "add"],
  ["sub", "sub"],
  ["mul", "mul"],
  ["div", "div"],
  ["maximum", "maximum"],
  ["minimum", "minimum"],
  ["reluBackward", "reluBackward"],
]);

/** Registry ops whose forward is one WebAssembly unary loop. */
const UNARY_OPS: ReadonlyMap<string, WasmUnaryOp> = new Map([
  ["neg", "neg"],
  ["abs", "abs"],
  ["square", "square"],
  ["sqrt", "sqrt"],
  ["rsqrt", "rsqrt"],
  ["relu", "relu"],
]);

/**
 * Kinds of calls that change no tensor's values, so they may run before or after a fused unit:
 * they only make new values. Random creations (rand, randn) read no tensors, so they always move
 * before a pass, in their order, and draw as in eager code. Setting a `.grad` changes no values
 * either, but always moves after a pass (see {@link isSetGrad}).
 */
const MOVABLE_KINDS: ReadonlySet<string> = new Set([
  "movement",
  "reduction",
  "elementwise",
  "opaque",
  "creation",
]);

function movable(unit: TracedNode): boolean {
  return MOVABLE_KINDS.has(unit.kind) || isSetGrad(unit);
}

/** Setting a `.grad`: it changes no values, but two on one tensor must keep their order. */
function isSetGrad(unit: TracedNode): boolean {
  return unit.kind === "effect" && unit.op === "setGrad";
}

/** Below this many elements eager code runs the JS rows, and a fused pass saves nothing. */
const MIN_ELEMENTS = 128;

/** A number operand of a fused call, as the 0-d tensor eager code makes of it would hold it. */
type ScalarOperand = { readonly scalar: FloatArray; readonly value: number };

/** A row of the centring's means, made by a fused unit's first phase (see {@link Centring}). */
type MeanRow = { readonly mean: "hi" | "lo" | "mu" };

/** One external operand of a fused unit: a value the env holds, a number, or a mean row. */
type External = TracedValue | ScalarOperand | MeanRow;

/** What a pass's kept arrays hold between passes: nothing of a value's. */
const NO_ARRAY = new Float32Array(0);
const NO_OPERAND: ChainOperand = { data: NO_ARRAY, offset: 0, layout: "flat" };

/**
 * `center(x, [0, ..., r - 1])` in a fused unit, x of shape [..., C] with only the last dim kept:
 * a first phase sums x's columns (the loop and order eager `center` uses), rounds the means as
 * eager `center` does (float32: a head and a tail, hi + lo), and answers `sum(x)` calls over the
 * same dims from the same sums; the pass then subtracts the means as steps of its own.
 */
interface Centring {
  /** The center call. */
  readonly unit: TracedNode;
  /** Its input, read flat. */
  readonly input: TracedValue;
  /** Values per row (the kept last dim, or a plane) and how many values each mean is over. */
  readonly cols: number;
  readonly count: number;
  /** For per-channel means (planes of [N, C, ...]): the channels. */
  readonly period?: number;
  /** `sum(x, dims)` calls over the same dims, answered by the first phase's sums. */
  readonly sums: readonly TracedNode[];
}

/**
 * A reduction a fused unit runs over one of its slots: `sum` over leading dims, or `sumProducts`
 * (the column sums of a product, whose mul is a step of the unit).
 */
interface FusedReduction {
  /** The call it replaces. */
  readonly unit: TracedNode;
  /** The chain slot summed over rows. */
  readonly slot: number;
  /** Values per row: the kept (trailing) part of the shape, or a plane. */
  readonly cols: number;
  /** For sums per channel: the channels (see ChainReduction). */
  readonly period?: number;
}

/** The steps and outputs of a chain that only sums its operand. */
const NO_STEPS: readonly ChainStep[] = [];
const NO_OUTPUTS: readonly ChainOutput[] = [];

/**
 * Several elementwise calls of one shape, and reductions of their values (or of operands they
 * share), replayed as one pass over their operands.
 */
export class FusedUnit {
  readonly #n: number;
  /** The reductions' sums: outputs of every pass (copied out by #store), kept between calls. */
  readonly #sums: ChainReduction[];
  /**
   * The centring's column sums (its first phase's only reduction) and the means rows made from
   * them, written by every pass; null without a centring.
   */
  readonly #meanRows: {
    reduction: ChainReduction[];
    mu: Float64Array;
    hi: Float32Array;
    lo: Float32Array;
  } | null;
  /** The latest pass's schedule and kernel, and the centring's first phase's. */
  readonly #chain = new ChainMemo();
  readonly #meansChain = new ChainMemo();
  /** Replays that ran the calls one by one, since an operand or the kernel choice did not allow a pass. */
  fallbacks = 0;

  constructor(
    /** The calls it replaces, in order. */
    readonly units: readonly TracedNode[],
    /** The shape every elementwise call makes and every reduction reads. */
    readonly shape: readonly number[],
    /** The dtype of every call's operands and result. */
    readonly dtype: "float32" | "float64",
    /** The operands read from outside the unit: slots 0 to operands.length - 1. */
    readonly operands: readonly External[],
    /** The loops, in order; step j makes slot operands.length + j. */
    readonly steps: readonly ChainStep[],
    /** The value step j makes (null for the product inside a sumProducts). */
    readonly stepValues: readonly (TracedValue | null)[],
    /** The steps whose values are written out (read later, or returned). */
    readonly written: readonly number[],
    /** The reductions, summed while the pass runs. */
    readonly reductions: readonly FusedReduction[],
    /** A centring whose means the pass subtracts, or null. */
    readonly centring: Centring | null,
    /** Each call as `explain()` lists it, in order. */
    readonly calls: readonly string[],
    /**
     * True when the pass works over planes ([N, C, rest] with rows of the rest's values), as
     * per-channel sums and means need; its operands are then full-size or one value per
     * channel (or scalars).
     */
    readonly planes = false,
    /**
     * The 0-d tensors of number operands that calls save for a backward read later (see
     * savesOnlyItsNumber), each made once here and put into the env by every pass.
     */
    madeScalars: readonly { readonly value: TracedValue; readonly number: number }[] = [],
  ) {
    this.#n = numelOf(shape);
    this.#capturedRoots = operands.map((x) => {
      const root = x instanceof TracedValue ? storageOf(x) : null;
      return root?.source === "captured" ? root : null;
    });
    this.#madeScalars = madeScalars.map(({ value, number }) => ({
      id: value.id,
      tensor: Tensor.scalar(number, dtype),
    }));
    this.#view = planes ? [shape[0], shape[1], numelOf(shape.slice(2))] : shape;
    this.#sums = reductions.map(({ slot, cols, period }) => ({
      slot,
      cols,
      period,
      sums: new Float64Array(period ?? cols),
    }));
    if (centring === null) this.#meanRows = null;
    else {
      const { cols, period } = centring;
      const width = period ?? cols;
      const sums = new Float64Array(width);
      this.#meanRows = {
        reduction: [{ slot: 0, cols, period, sums }],
        mu: new Float64Array(width),
        hi: new Float32Array(width),
        lo: new Float32Array(width),
      };
    }
  }

  /** By operand: the captured tensor it is (or is a view of), else null. */
  readonly #capturedRoots: readonly (TracedValue | null)[];

  /** By value id, the saved 0-d tensors of number operands (see the constructor). */
  readonly #madeScalars: readonly { readonly id: number; readonly tensor: Tensor }[];

  /** The shape the chain works over: the unit's, or [N, C, rest] over planes. */
  readonly #view: readonly number[];

  // Arrays every pass fills anew, kept so that a replay does not allocate them (chainWasm and
  // its memo keep none of them past the call).
  /** By operand: how the chain reads it this pass. */
  readonly #operandList: ChainOperand[] = [];
  /** By written step: its output array this pass (made by the allocator: see #pass). */
  readonly #made: FloatArray[] = [];
  /** By written step: its slot, and where this pass writes it. */
  readonly #outputs: { slot: number; out: FloatArray }[] = [];
  /** By operand: the operand objects whose arrays never change (scalars, the means rows). */
  readonly #fixedOperands: (ChainOperand | undefined)[] = [];

  /** How the chain reads `t` (of a shape that broadcasts to the unit's), or null if it cannot. */
  #operand(t: Tensor): ChainOperand | null {
    const data = t.data as FloatArray;
    if (!this.planes) return chainOperandOf(t as Tensor & { data: FloatArray }, this.shape);
    // Broadcast to the unit's shape, then the dims after 1 merged into one: they must be
    // contiguous there, or all broadcast.
    const view = t.broadcastView(this.shape);
    const strides = view.strides;
    const rest = strides.slice(2);
    const broadcast = rest.every((s) => s === 0);
    const contiguous = rest.every(
      (stride, i) => stride === numelOf(this.shape.slice(i + 3)) || this.shape[i + 2] === 1,
    );
    if (!broadcast && !contiguous) return null;
    const merged = [strides[0], strides[1], broadcast ? 0 : 1];
    return chainOperandOf(
      { data, offset: view.offset, shape: this.#view, strides: merged },
      this.#view,
    );
  }

  /**
   * Runs the calls as one pass and puts the values read later into `env`. Returns false, having
   * changed nothing, when this call's operands or kernel choice do not allow it: the caller then
   * replays `units` one by one.
   */
  run(env: (Tensor | undefined)[], keeps?: (array: TypedArray) => boolean): boolean {
    this.#keeps = keeps ?? null;
    if (this.#pass(env)) return true;
    this.fallbacks++;
    return false;
  }

  #pass(env: (Tensor | undefined)[]): boolean {
    try {
      return this.#run(env);
    } finally {
      this.#keeps = null;
      // Let go of this pass's arrays, whether it ran or gave up (the calls then run one by
      // one): they belong to the values now (or to the plan's slots).
      const operands = this.#operandList;
      for (let i = 0; i < operands.length; i++) operands[i] = NO_OPERAND;
      for (let i = 0; i < this.#made.length; i++) this.#made[i] = NO_ARRAY;
      for (let i = 0; i < this.#outputs.length; i++) this.#outputs[i].out = NO_ARRAY;
    }
  }

  #run(env: (Tensor | undefined)[]): boolean {
    if (getKernelBackend() === "js") return false;
    const means = this.centring === null ? null : this.#means(env);
    if (this.centring !== null && means === null) return false;
    const operands = this.#operandList;
    for (let i = 0; i < this.operands.length; i++) {
      const x = this.operands[i];
      if (!(x instanceof TracedValue)) {
        operands[i] = this.#fixedOperand(i, x, means!);
        continue;
      }
      const t = env[x.id];
      if (t === undefined || t.dtype !== this.dtype) return false;
      // A captured tensor's array, or a view of one (BatchNorm's weight as a row), stays alive.
      const root = this.#capturedRoots[i];
      const operand = this.#keptOperand(i, t, root !== null && env[root.id]?.data === t.data);
      if (operand === null) return false;
      operands[i] = operand;
    }
    const k = this.operands.length;
    const made = this.#made;
    const outputs = this.#outputs;
    for (let i = 0; i < this.written.length; i++) {
      const j = this.written[i];
      const op = this.stepValues[j]!.producer?.op;
      made[i] = allocateUnfilled(this.dtype, this.#n, op, this.shape) as FloatArray;
      outputs[i] ??= { slot: k + j, out: made[i] };
      outputs[i].out = made[i];
    }
    const sums = this.#sums;
    const inner = this.planes ? this.#view[2] : chainInner(this.shape);
    if (!chainWasm(operands, this.steps, outputs, this.#n, inner, sums, this.#chain)) return false;
    if (means !== null) {
      const sums = this.centring!.sums;
      for (let i = 0; i < sums.length; i++) {
        this.#store(env, sums[i], means.sums, this.reductions.length + i);
      }
    }
    for (let i = 0; i < this.written.length; i++) {
      const value = this.stepValues[this.written[i]]!;
      env[value.id] = this.#tensorOver(this.#keptWritten, i, made[i], this.shape);
    }
    for (let i = 0; i < this.reductions.length; i++) {
      this.#store(env, this.reductions[i].unit, sums[i].sums, i);
    }
    // Nothing writes them: only a backward reads them, as it would read eager code's.
    for (const { id, tensor } of this.#madeScalars) env[id] = tensor;
    return true;
  }

  /**
   * The tensor over `array` (of `shape`): the one made last call at position `i` of `kept` when it
   * is over the same array, else a new one, kept for the next call when the array is one the
   * memory plan keeps (so the tensor keeps nothing alive that the plan does not, and a value that
   * leaves the call, whose array is never the plan's, always gets a tensor of its own).
   */
  #tensorOver(
    kept: (Tensor | undefined)[],
    i: number,
    array: TypedArray,
    shape: readonly number[],
  ): Tensor {
    const last = kept[i];
    if (last !== undefined && last.data === array) return last;
    const t = Tensor.fromTypedArray(array, shape);
    kept[i] = this.#keeps?.(array) === true ? t : undefined;
    return t;
  }

  /**
   * How the chain reads operand `i`, `t`: the object made last call when `t` has the same
   * elements laid out the same way, else a new one, kept for the next call when its array is a
   * captured tensor's, one the memory plan keeps (see KeptFrom), or holds one element.
   */
  #keptOperand(i: number, t: Tensor, captured: boolean): ChainOperand | null {
    const last = this.#keptOperands[i];
    if (last?.matches(t)) return last.value;
    const operand = this.#operand(t);
    // A one-element array (the 0-d count a mean's division saves) costs nothing to keep alive.
    const keep =
      operand !== null && (captured || t.data.length === 1 || this.#keeps?.(t.data) === true);
    this.#keptOperands[i] = keep ? new KeptFrom(t, operand) : undefined;
    return operand;
  }

  readonly #keptOperands: (KeptFrom<ChainOperand> | undefined)[] = [];

  /** See #tensorOver: by written step, and by reduction (then the centring's sums). */
  readonly #keptWritten: (Tensor | undefined)[] = [];
  readonly #keptSums: (Tensor | undefined)[] = [];
  /** During a pass: whether the memory plan keeps an array (null: nothing is kept). */
  #keeps: ((array: TypedArray) => boolean) | null = null;

  /** The operand object of a scalar or a means row, made once: its array never changes. */
  #fixedOperand(
    i: number,
    x: Exclude<External, TracedValue>,
    means: { rows: Partial<Record<MeanRow["mean"], FloatArray>> },
  ): ChainOperand {
    const fixed = this.#fixedOperands[i];
    if (fixed !== undefined) return fixed;
    let operand: ChainOperand;
    if ("mean" in x) {
      const data = means.rows[x.mean]!;
      operand = this.planes
        ? { data, offset: 0, layout: "channel", repeat: 1, period: data.length, stride: 1 }
        : { data, offset: 0, layout: "row" };
    } else operand = { data: x.scalar, offset: 0, layout: "scalar" };
    this.#fixedOperands[i] = operand;
    return operand;
  }

  /** A reduction's result from its float64 sums, each rounded once as the reduction stores it. */
  #store(env: (Tensor | undefined)[], unit: TracedNode, sums: Float64Array, i: number): void {
    const out = unit.outputs[0];
    const values = allocate(this.dtype, sums.length);
    values.set(sums);
    env[out.id] = this.#tensorOver(this.#keptSums, i, values, out.shape);
  }

  /**
   * The centring's first phase: the column sums of its input, and the means as eager `center`
   * rounds them (float32: hi = fround(μ), lo = fround(μ - hi); float64: μ); null when the input
   * is not flat or the sums cannot run.
   */
  #means(env: (Tensor | undefined)[]): {
    sums: Float64Array;
    rows: Partial<Record<MeanRow["mean"], FloatArray>>;
  } | null {
    const { input, cols, count } = this.centring!;
    const t = env[input.id];
    if (t === undefined || t.dtype !== this.dtype) return null;
    // Kept from call to call as a pass's operands are, in the place after theirs.
    const x = this.#keptOperand(this.operands.length, t, false);
    if (x === null || x.layout !== "flat") return null;
    const { reduction, mu, hi, lo } = this.#meanRows!;
    const sums = reduction[0].sums;
    const operands = this.#meansOperands;
    operands[0] = x;
    let ran: boolean;
    try {
      ran = chainWasm(operands, NO_STEPS, NO_OUTPUTS, this.#n, cols, reduction, this.#meansChain);
    } finally {
      operands[0] = NO_OPERAND;
    }
    if (!ran) return null;
    for (let i = 0; i < mu.length; i++) mu[i] = sums[i] / count;
    if (this.dtype === "float32") {
      for (let i = 0; i < mu.length; i++) {
        hi[i] = mu[i];
        lo[i] = mu[i] - hi[i];
      }
    }
    // The same arrays every call: one object describes them.
    this.#meansRead ??= {
      sums,
      rows: this.dtype === "float64" ? { mu } : { hi, lo },
    };
    return this.#meansRead;
  }

  #meansRead: { sums: Float64Array; rows: Partial<Record<MeanRow["mean"], FloatArray>> } | null =
    null;
  /** The centring's first phase's operand list. */
  readonly #meansOperands: ChainOperand[] = [NO_OPERAND];

  /**
   * Whether a chain can run this unit at all: its rows (broadcast operands, the centring's
   * means, the reductions' rows) fit a chunk. A unit that cannot is not made: its calls replay
   * one by one instead of falling back on every call.
   */
  fits(): boolean {
    const inner = this.planes ? this.#view[2] : chainInner(this.shape);
    const broadcast =
      this.centring !== null ||
      this.operands.some((x) => x instanceof TracedValue && !sameShape(x.shape, this.shape));
    const widths = this.reductions.map((r) => r.cols);
    if (this.centring !== null) widths.push(this.centring.cols);
    return chainUnit(inner, broadcast, widths, this.dtype) !== null;
  }

  /** One line for `explain()`: the shape, the calls and which values are written out. */
  describe(): string {
    const writes = this.written.map((j) => this.stepValues[j]!.label);
    const fallbacks =
      this.fallbacks === 0
        ? ""
        : ` (ran call by call on ${this.fallbacks} ${this.fallbacks === 1 ? "replay" : "replays"}: an operand's layout or the JS kernels)`;
    return (
      `fused ${this.dtype}${formatShape(this.shape)}: ${this.calls.join("; ")}; ` +
      `writes ${writes.length === 0 ? "nothing" : writes.join(", ")}${fallbacks}`
    );
  }
}

/**
 * The tensors `unit` saves for a backward that it made itself and that are read later: such a
 * tensor would not exist after a fused pass unless the pass makes it.
 */
function savedAndRead(unit: TracedNode, lastRead: readonly number[]): TracedValue[] {
  const inputs = unit.inputs;
  return unit.saved.filter(
    (v) => !unit.outputs.includes(v) && !inputs.includes(v) && lastRead[v.id] !== -1,
  );
}

/**
 * True when a fused pass can stand in for what `unit` saves and is read later: nothing, or the
 * 0-d tensor eager code makes of its one number operand (`mean`'s division by the count saves
 * it for its backward), which the pass then makes once and hands out on every call.
 */
function savesOnlyItsNumber(
  unit: TracedNode,
  args: readonly (TracedValue | number)[],
  lastRead: readonly number[],
): boolean {
  const saved = savedAndRead(unit, lastRead);
  if (saved.length === 0) return true;
  const out = unit.outputs[0];
  return (
    saved.length === 1 &&
    saved[0].shape.length === 0 &&
    saved[0].dtype === out.dtype &&
    args.filter((a) => typeof a === "number").length === 1
  );
}

/** The operands of `unit` when it can join a fused unit, else null. */
function fusableArgs(
  unit: TracedNode,
  lastRead: readonly number[],
): (TracedValue | number)[] | null {
  if (unit.kind !== "elementwise" || unit.children.length > 0 || unit.outputs.length !== 1) {
    return null;
  }
  const out = unit.outputs[0];
  if (out.producer !== unit || (out.dtype !== "float32" && out.dtype !== "float64")) return null;
  if (numelOf(out.shape) < MIN_ELEMENTS) return null;
  if (unit.op === "addcmul") {
    // input + value·t1·t2: three tensors of the dtype and a number (mul, mul, add steps).
    const [input, t1, t2, value = 1] = unit.args;
    const tensors = [input, t1, t2];
    if (!tensors.every((t) => t instanceof TracedValue && t.dtype === out.dtype)) return null;
    if (typeof value !== "number" || unit.args.length > 4) return null;
    return savedAndRead(unit, lastRead).length === 0
      ? [...(tensors as TracedValue[]), value]
      : null;
  }
  const binary = BINARY_OPS.has(unit.op);
  if (!binary && !UNARY_OPS.has(unit.op)) return null;
  let args: readonly TracedArg[] = unit.args;
  // add and sub with alpha = 1 only: another alpha scales the operand first, in a call of its own.
  if ((unit.op === "add" || unit.op === "sub") && args.length === 3 && args[2] === 1) {
    args = args.slice(0, 2);
  }
  if (args.length !== (binary ? 2 : 1)) return null;
  const numbersAllowed = binary && unit.op !== "reluBackward";
  for (const arg of args) {
    if (arg instanceof TracedValue) {
      if (arg.dtype !== out.dtype) return null;
    } else if (typeof arg !== "number" || !numbersAllowed) return null;
  }
  const operands = args as (TracedValue | number)[];
  return savesOnlyItsNumber(unit, operands, lastRead) ? operands : null;
}

/**
 * A reduction a fused unit can run: `sum` of a float value over its leading dims (the dims it
 * keeps are a trailing block of `cols` values per row), or `sumProducts(g, other, shape)` (column
 * sums of g·other, as mul's backward makes for a broadcast factor). Its `reads` are the
 * full-size values it sums, of shape `shape`.
 */
interface ReductionCall {
  readonly reads: readonly TracedValue[];
  readonly shape: readonly number[];
  readonly cols: number;
  /** For a sum over every dim but dim 1: the channels (planes of `cols` values go to channel r mod period). */
  readonly period?: number;
}

/** True when `dims` (sorted) are every dim of an ndim ≥ 3 tensor but dim 1 (BatchNorm2d's). */
function allButChannels(dims: readonly number[], ndim: number): boolean {
  return (
    ndim >= 3 &&
    dims.length === ndim - 1 &&
    dims[0] === 0 &&
    dims.slice(1).every((d, i) => d === i + 2)
  );
}

function fusableReduction(unit: TracedNode, lastRead: readonly number[]): ReductionCall | null {
  if (unit.kind !== "reduction" || unit.children.length > 0 || unit.outputs.length !== 1) {
    return null;
  }
  const out = unit.outputs[0];
  if (out.producer !== unit || (out.dtype !== "float32" && out.dtype !== "float64")) return null;
  const [x, second, third] = unit.args;
  if (!(x instanceof TracedValue) || x.dtype !== out.dtype) return null;
  const n = numelOf(x.shape);
  if (n < MIN_ELEMENTS || savedAndRead(unit, lastRead).length > 0) return null;
  if (unit.op === "sumProducts") {
    if (!(second instanceof TracedValue) || second.dtype !== x.dtype) return null;
    if (!sameShape(second.shape, x.shape) || x.shape.length === 0) return null;
    const cols = x.shape[x.shape.length - 1];
    return n > cols ? { reads: [x, second], shape: x.shape, cols } : null;
  }
  if (
    unit.op !== "sum" ||
    unit.args.length > 3 ||
    (third !== undefined && typeof third !== "boolean")
  ) {
    return null;
  }
  // The reduced dims, normalised: a leading block 0..r-1 with 0 < r < ndim, or every dim but 1.
  const ndim = x.shape.length;
  const dims = dimsOf(second, ndim);
  if (dims === null) return null;
  if (allButChannels(dims, ndim)) {
    return { reads: [x], shape: x.shape, cols: numelOf(x.shape.slice(2)), period: x.shape[1] };
  }
  if (dims.some((d, i) => d !== i) || dims.length >= ndim) return null;
  const cols = numelOf(x.shape.slice(dims.length));
  return { reads: [x], shape: x.shape, cols };
}

/**
 * The value whose storage `v` views: through the movement calls (reshape, transpose, expand,
 * slices) that made it. Conservative: a reshape that copied still counts as a view.
 */
export function storageOf(v: TracedValue): TracedValue {
  let value = v;
  for (let p = value.producer; p !== null && p.kind === "movement"; p = value.producer) {
    const source = p.inputs[0];
    if (source === undefined) break;
    value = source;
  }
  return value;
}

/**
 * What a run's members ask of the rows its pass works in: per-channel sums and means need
 * planes (rows of the dims after 1), which only full-size, per-channel and scalar operands allow;
 * a row centring needs rows of the last dim. `add` takes a member if it fits with those before.
 */
class RunLayouts {
  #planes = false;
  #rows = false;
  #planeOperands = true;
  /** Whether every column sum so far sums whole planes (rows of `cols` a multiple of a plane). */
  #planeColumns = true;

  constructor(private readonly shape: readonly number[]) {}

  add(
    operands: readonly (TracedValue | number)[],
    needs: { readonly period?: number; readonly cols?: number } | null,
  ): boolean {
    const fits = operands.every((v) => typeof v === "number" || this.#planeReadable(v));
    const planes = needs?.period !== undefined;
    const rows = needs !== null && "input" in needs && needs.period === undefined;
    const columns = needs !== null && !("input" in needs) && needs.period === undefined;
    const plane = numelOf(this.shape.slice(2));
    const wholePlanes = !columns || (needs.cols ?? 0) % plane === 0;
    if (planes && (this.#rows || !this.#planeOperands || !this.#planeColumns || !fits)) {
      return false;
    }
    if (rows && this.#planes) return false;
    if (this.#planes && (!fits || !wholePlanes)) return false;
    this.#planes ||= planes;
    this.#rows ||= rows;
    this.#planeOperands &&= fits;
    this.#planeColumns &&= wholePlanes;
    return true;
  }

  /** True when `v` broadcast to the run's shape is full-size or constant over the dims after 1. */
  #planeReadable(v: TracedValue): boolean {
    const lead = this.shape.length - v.shape.length;
    const rest = this.shape.slice(2).map((_, i) => {
      const d = i + 2 - lead;
      return d < 0 ? 1 : v.shape[d];
    });
    return rest.every((s) => s === 1) || rest.every((s, i) => s === this.shape[i + 2]);
  }
}

/**
 * The storage (ArrayBuffers) of the captured tensors that in-place calls among `units` update.
 * Fusion may move such an update after a pass that reads the function's inputs; an input sharing
 * that storage (a view of a parameter passed in) would then be read before the update, so a call
 * with such an input replays unfused.
 */
export function inPlaceTargets(units: readonly TracedNode[]): Set<ArrayBufferLike> {
  const buffers = new Set<ArrayBufferLike>();
  for (const unit of units) {
    const target = unit.kind === "inplace" ? unit.args[0] : undefined;
    if (!(target instanceof TracedValue)) continue;
    const root = storageOf(target);
    if (root.source === "captured" && root.tensor !== null) buffers.add(root.tensor.data.buffer);
  }
  return buffers;
}

/** ", [dims]" of a `sum` call for explain() (its reduced dims, normalised); "" for other calls. */
function dimsText(unit: TracedNode): string {
  const x = unit.args[0];
  if (unit.op !== "sum" || !(x instanceof TracedValue)) return "";
  const dims = dimsOf(unit.args[1], x.shape.length);
  return dims === null ? "" : `, [${dims.join(", ")}]`;
}

/**
 * A member of a run being built: an elementwise call (addcmul included), a reduction, a
 * centring, or a sum answered from the centring's own sums.
 */
type Member =
  | { unit: TracedNode; args: (TracedValue | number)[] }
  | { unit: TracedNode; reduction: ReductionCall }
  | { unit: TracedNode; centre: CentreCall }
  | { unit: TracedNode; sharedSum: true };

/** A `center` call a fused unit can run: see {@link Centring}. */
interface CentreCall {
  readonly input: TracedValue;
  readonly dims: readonly number[];
  /** Values per row: the last dim, or for a per-channel centring the plane (dims 2..). */
  readonly cols: number;
  readonly count: number;
  /** For a per-channel centring ([N, C, ...] over every dim but 1): the channels. */
  readonly period?: number;
}

/** The reduced dims of `dim` (a number or list) for `ndim` dims, sorted; null if not numbers. */
function dimsOf(dim: TracedArg, ndim: number): number[] | null {
  const given = typeof dim === "number" ? [dim] : Array.isArray(dim) ? dim : null;
  if (given === null || given.length === 0 || !given.every((d) => typeof d === "number")) {
    return null;
  }
  return [...new Set(given.map((d) => (d < 0 ? d + ndim : d)))].sort((a, b) => a - b);
}

/** `center(x, dims)` over all dims of x but the last, of a float x large enough; else null. */
function fusableCentre(unit: TracedNode, lastRead: readonly number[]): CentreCall | null {
  if (unit.op !== "center" || unit.children.length > 0 || unit.outputs.length !== 1) return null;
  const [x, dim] = unit.args;
  const out = unit.outputs[0];
  if (!(x instanceof TracedValue) || out.producer !== unit || out.dtype !== x.dtype) return null;
  if ((x.dtype !== "float32" && x.dtype !== "float64") || x.shape.length < 2) return null;
  const dims = dimsOf(dim, x.shape.length);
  const n = numelOf(x.shape);
  if (dims === null || n < MIN_ELEMENTS || savedAndRead(unit, lastRead).length > 0) return null;
  if (allButChannels(dims, x.shape.length)) {
    // BatchNorm2d's: one mean per channel, over planes of the trailing dims.
    const period = x.shape[1];
    return { input: x, dims, cols: n / x.shape[0] / period, count: n / period, period };
  }
  // The means are a row of the last dim, which must be the rows the chain works in.
  if (x.shape[x.shape.length - 1] < 2) return null;
  if (dims.length !== x.shape.length - 1 || dims.some((d, i) => d !== i)) return null;
  const cols = x.shape[x.shape.length - 1];
  return { input: x, dims, cols, count: n / cols };
}

/** True when `unit` is `sum(x, dims)` over exactly the dims `centre` centres x over. */
function sharesCentreSums(unit: TracedNode, centre: CentreCall): boolean {
  if (unit.op !== "sum" || unit.outputs.length !== 1 || unit.children.length > 0) return false;
  const [x, dim, keepdim] = unit.args;
  if (x !== centre.input || unit.args.length > 3) return false;
  if (keepdim !== undefined && typeof keepdim !== "boolean") return false;
  const dims = dimsOf(dim, centre.input.shape.length);
  return (
    dims !== null &&
    dims.length === centre.dims.length &&
    dims.every((d, i) => d === centre.dims[i]) &&
    unit.outputs[0].dtype === centre.input.dtype
  );
}

/**
 * `units` with every run of two or more fusable calls of one shape and dtype replaced by a fused
 * unit: elementwise calls, centrings, and the sums of values of that shape; then sums of values
 * made before any pass that sit next to each other (once moved) share a pass too.
 * `replaysWithoutGrad(unit)` says whether the replay runs the call with grad mode off (a call
 * that records an autograd graph must stay a call).
 */
export function fuseElementwise(
  graph: TracedGraph,
  units: readonly TracedNode[],
  replaysWithoutGrad: (unit: TracedNode) => boolean,
): (TracedNode | FusedUnit)[] {
  // The last unit reading each value (units.length for the function's result), -1 for none.
  const lastRead = new Array<number>(graph.values.length).fill(-1);
  units.forEach((unit, i) => {
    for (const v of unit.inputs) lastRead[v.id] = i;
  });
  for (const v of graph.outputs) lastRead[v.id] = units.length;
  const position = new Map(units.map((u, i) => [u, i] as const));
  const out: (TracedNode | FusedUnit)[] = [];
  // The units still to place, by index, in trace order. A run takes its members, and the calls
  // that move before it, out of the list; the calls that move after it stay, so one that
  // could not join (it reads the run's sums) may start the next run.
  let pending = units.map((_, k) => k);
  while (pending.length > 0) {
    const i = pending[0];
    const first = units[i];
    const firstWithoutGrad = replaysWithoutGrad(first);
    const args = firstWithoutGrad ? fusableArgs(first, lastRead) : null;
    const firstCentre = firstWithoutGrad && args === null ? fusableCentre(first, lastRead) : null;
    if (args === null && firstCentre === null) {
      out.push(first);
      pending = pending.slice(1);
      continue;
    }
    const run: Member[] = [
      args !== null ? { unit: first, args } : { unit: first, centre: firstCentre! },
    ];
    let centre = firstCentre;
    const { shape, dtype } = first.outputs[0];
    // Per-channel sums and means need the pass to work over planes, which only full-size,
    // per-channel and scalar operands allow; a row centring needs rows of the last dim.
    const layouts = new RunLayouts(shape);
    layouts.add(args ?? [firstCentre!.input], firstCentre);
    // Calls between the run's calls that change no values move: before the fused unit when
    // they read none of its values (BatchNorm reshapes its bias between the scale and the
    // shift), after it when they do, or read what such a call made (a reduction of one of its
    // values, and the gradient set from it). An in-place update always moves after, and what
    // reads the tensor it updates with it. A call of the run may not read a call moved after,
    // nor the result of a reduction the run absorbed (made only once the pass is over).
    const made = new Set<TracedValue>(first.outputs);
    const after = new Set<TracedValue>();
    // The tensors in-place updates moved after the pass change: a view of one made earlier
    // must not be read before the update either. Views made outside the function are not in the
    // trace: after an input is updated, no input or captured tensor is read in the pass; after a
    // captured one, none sharing its storage (an input sharing it makes the replay run unfused:
    // see inPlaceTargets).
    const updated = new Set<TracedValue>();
    const updatedStorage = new Set<ArrayBufferLike>();
    let inputUpdated = false;
    const readsUpdated = (v: TracedValue): boolean => {
      const root = storageOf(v);
      if (updated.has(root)) return true;
      if (root.source !== "input" && root.source !== "captured") return false;
      if (inputUpdated) return true;
      return root.tensor !== null && updatedStorage.has(root.tensor.data.buffer);
    };
    const moved: { unit: TracedNode; index: number; before: boolean }[] = [];
    const members = new Set<number>([i]);
    let last = i;
    const join = (j: number, member: Member) => {
      run.push(member);
      members.add(j);
      last = j;
    };
    for (let p = 1; p < pending.length; p++) {
      const j = pending[p];
      const next = units[j];
      const reads = next.inputs;
      const readsAfter = reads.some((v) => after.has(v) || readsUpdated(v));
      const withoutGrad = replaysWithoutGrad(next);
      const nextArgs = withoutGrad ? fusableArgs(next, lastRead) : null;
      const value = next.outputs[0];
      const sameSize = value !== undefined && numelOf(value.shape) >= numelOf(shape);
      if (nextArgs !== null) {
        if (
          !readsAfter &&
          value.dtype === dtype &&
          sameShape(value.shape, shape) &&
          layouts.add(nextArgs, null)
        ) {
          join(j, { unit: next, args: nextArgs });
          made.add(value);
          continue;
        }
        // A call that could start a run as large as this one ends this one, unless it reads
        // what the pass makes: then it moves after and may start the next run. A smaller one
        // moves (after the pass when it reads what the pass makes: BatchNorm's [C] statistics
        // between its full-size calls).
        if (sameSize && !readsAfter) break;
      }
      // A centring of a value made before the pass runs in it (its means are summed first),
      // and a sum over the same dims of the same value is answered by the same sums.
      const nextCentre = withoutGrad && centre === null ? fusableCentre(next, lastRead) : null;
      if (
        nextCentre !== null &&
        !readsAfter &&
        !made.has(nextCentre.input) &&
        value.dtype === dtype &&
        sameShape(value.shape, shape) &&
        layouts.add([nextCentre.input], nextCentre)
      ) {
        join(j, { unit: next, centre: nextCentre });
        centre = nextCentre;
        made.add(value);
        continue;
      }
      if (withoutGrad && centre !== null && !readsAfter && sharesCentreSums(next, centre)) {
        join(j, { unit: next, sharedSum: true });
        after.add(value);
        continue;
      }
      // A reduction of a value of the run's shape is summed during the pass: one the run
      // makes need not be written out, and one made before shares the pass's reads.
      const reduction = withoutGrad ? fusableReduction(next, lastRead) : null;
      if (
        reduction !== null &&
        !readsAfter &&
        value.dtype === dtype &&
        sameShape(reduction.shape, shape) &&
        layouts.add(reduction.reads, reduction)
      ) {
        join(j, { unit: next, reduction });
        after.add(value);
        continue;
      }
      if (next.kind === "inplace") {
        moved.push({ unit: next, index: j, before: false });
        for (const v of next.outputs) {
          after.add(v);
          updated.add(storageOf(v));
        }
        const target = next.args[0];
        if (target instanceof TracedValue) {
          const root = storageOf(target);
          updated.add(root);
          if (root.source === "input") inputUpdated = true;
          if (root.source === "captured" && root.tensor !== null) {
            updatedStorage.add(root.tensor.data.buffer);
          }
        }
        continue;
      }
      if (!movable(next)) break;
      // Setting a .grad stays after the pass: two on one tensor must keep their order.
      if (readsAfter || reads.some((v) => made.has(v)) || isSetGrad(next)) {
        moved.push({ unit: next, index: j, before: false });
        for (const v of next.outputs) after.add(v);
      } else moved.push({ unit: next, index: j, before: true });
    }
    // One call alone still runs as a pass when it is elementwise: its replay then keeps its
    // result tensor and operand objects from call to call as a longer run's does (a centring
    // alone stays eager's call, which sums in the same order).
    if (run.length === 1 && args === null) {
      out.push(first);
      pending = pending.slice(1);
      continue;
    }
    // Calls moved after stay in the list, as do calls past the run's last one.
    const within = moved.filter((m) => m.index < last);
    const readOutside = new Set<TracedValue>();
    for (const m of within) if (!m.before) for (const v of m.unit.inputs) readOutside.add(v);
    const placed = new Set(members);
    for (const m of within) {
      if (m.before) {
        out.push(m.unit);
        placed.add(m.index);
      }
    }
    const unit = fusedUnit(run, shape, dtype as "float32" | "float64", last, lastRead, readOutside);
    if (unit.fits()) out.push(unit);
    else out.push(...unit.units); // in the traced order, the moved calls as placed
    pending = pending.filter((k) => !placed.has(k));
  }
  return groupReductions(out, lastRead, position, replaysWithoutGrad);
}

/**
 * `steps` with neighbouring reductions of values of one shape (once the calls between them
 * that change no values have moved) run as one pass: the gradient of a bias (a sum of g) and of
 * a scale (a sum of g·x̂) read g once.
 */
function groupReductions(
  steps: readonly (TracedNode | FusedUnit)[],
  lastRead: readonly number[],
  position: ReadonlyMap<TracedNode, number>,
  replaysWithoutGrad: (unit: TracedNode) => boolean,
): (TracedNode | FusedUnit)[] {
  const reductionOf = (step: TracedNode | FusedUnit): ReductionCall | null =>
    step instanceof FusedUnit || !replaysWithoutGrad(step)
      ? null
      : fusableReduction(step, lastRead);
  const out: (TracedNode | FusedUnit)[] = [];
  let i = 0;
  while (i < steps.length) {
    const first = steps[i];
    const firstReduction = reductionOf(first);
    if (firstReduction === null) {
      out.push(first);
      i++;
      continue;
    }
    const node = first as TracedNode;
    const { dtype } = node.outputs[0];
    const { shape } = firstReduction;
    const run: Member[] = [{ unit: node, reduction: firstReduction }];
    const after = new Set<TracedValue>(node.outputs);
    const moved: { step: TracedNode | FusedUnit; index: number; before: boolean }[] = [];
    let last = i;
    for (let j = i + 1; j < steps.length; j++) {
      const next = steps[j];
      // A fused pass only makes new values too, so it may move like a single call.
      const calls = next instanceof FusedUnit ? next.units : [next];
      const readsAfter = calls.some((c) => c.inputs.some((v) => after.has(v)));
      const reduction = reductionOf(next);
      if (
        reduction !== null &&
        !readsAfter &&
        (next as TracedNode).outputs[0].dtype === dtype &&
        sameShape(reduction.shape, shape)
      ) {
        run.push({ unit: next as TracedNode, reduction });
        after.add((next as TracedNode).outputs[0]);
        last = j;
        continue;
      }
      if (!calls.every(movable)) break;
      moved.push({ step: next, index: j, before: !readsAfter && !calls.some(isSetGrad) });
      if (readsAfter) for (const c of calls) for (const v of c.outputs) after.add(v);
    }
    if (run.length === 1) {
      out.push(first);
      i++;
      continue;
    }
    const within = moved.filter((m) => m.index < last);
    for (const m of within) if (m.before) out.push(m.step);
    const lastIndex = position.get(run[run.length - 1].unit)!;
    const unit = fusedUnit(
      run,
      shape,
      dtype as "float32" | "float64",
      lastIndex,
      lastRead,
      new Set(),
    );
    if (unit.fits()) out.push(unit);
    else out.push(...unit.units);
    for (const m of within) if (!m.before) out.push(m.step);
    i = last + 1;
  }
  return out;
}

function fusedUnit(
  run: readonly Member[],
  shape: readonly number[],
  dtype: "float32" | "float64",
  lastIndex: number,
  lastRead: readonly number[],
  readOutside: ReadonlySet<TracedValue>,
): FusedUnit {
  const operands: External[] = [];
  const slotOf = new Map<TracedValue, number>();
  const external = (arg: TracedValue | number): number => {
    if (typeof arg === "number") {
      const scalar = dtype === "float64" ? new Float64Array([arg]) : new Float32Array([arg]);
      return operands.push({ scalar, value: arg }) - 1;
    }
    let slot = slotOf.get(arg);
    if (slot === undefined) {
      slot = operands.push(arg) - 1;
      slotOf.set(arg, slot);
    }
    return slot;
  };
  // Operands first (slots 0..k-1), then each step's value: two passes. A step refers to an
  // earlier step by its index (resolved to a slot once k is known), to an operand by its slot.
  type Ref = { step: number } | { slot: number };
  const stepOf = new Map<TracedValue, number>();
  const refOf = (arg: TracedValue | number): Ref => {
    const step = arg instanceof TracedValue ? stepOf.get(arg) : undefined;
    return step !== undefined ? { step } : { slot: external(arg) };
  };
  const pending: { op: WasmBinaryOp | WasmUnaryOp; refs: Ref[]; value: TracedValue | null }[] = [];
  const sums: { unit: TracedNode; ref: Ref; cols: number; period?: number }[] = [];
  const calls: string[] = [];
  const label = (arg: TracedValue | number) => (typeof arg === "number" ? String(arg) : arg.label);
  let centring: Centring | null = null;
  const sharedSums: TracedNode[] = [];
  const madeScalars: { value: TracedValue; number: number }[] = [];
  for (const member of run) {
    const { unit } = member;
    const out = unit.outputs[0];
    if ("args" in member && unit.op === "addcmul") {
      // (value·t1)·t2 (t1·t2 for value 1), then input plus it: the loops addcmul runs.
      const [input, t1, t2, value] = member.args as [TracedValue, TracedValue, TracedValue, number];
      let product = refOf(t1);
      if (value !== 1) {
        pending.push({ op: "mul", refs: [refOf(value), product], value: null });
        product = { step: pending.length - 1 };
      }
      pending.push({ op: "mul", refs: [product, refOf(t2)], value: null });
      pending.push({ op: "add", refs: [refOf(input), { step: pending.length - 1 }], value: out });
      stepOf.set(out, pending.length - 1);
      const shown = value === 1 ? [input, t1, t2] : [input, t1, t2, value];
      calls.push(`${out.label} = addcmul(${shown.map(label).join(", ")})`);
    } else if ("args" in member) {
      for (const value of savedAndRead(unit, lastRead)) {
        madeScalars.push({ value, number: member.args.find((a) => typeof a === "number")! });
      }
      const op = (BINARY_OPS.get(unit.op) ?? UNARY_OPS.get(unit.op))!;
      pending.push({ op, refs: member.args.map(refOf), value: out });
      stepOf.set(out, pending.length - 1);
      calls.push(`${out.label} = ${unit.op}(${member.args.map(label).join(", ")})`);
    } else if ("centre" in member) {
      // x - μ as eager center computes it: (x - hi) - lo in float32, x - μ in float64.
      const { input, cols, count, period } = member.centre;
      const x = refOf(input);
      const mean = (m: MeanRow["mean"]): Ref => ({ slot: operands.push({ mean: m }) - 1 });
      if (dtype === "float64") pending.push({ op: "sub", refs: [x, mean("mu")], value: out });
      else {
        pending.push({ op: "sub", refs: [x, mean("hi")], value: null });
        pending.push({ op: "sub", refs: [{ step: pending.length - 1 }, mean("lo")], value: out });
      }
      stepOf.set(out, pending.length - 1);
      centring = { unit, input, cols, count, period, sums: sharedSums };
      calls.push(`${out.label} = center(${input.label}, [${member.centre.dims.join(", ")}])`);
    } else if ("sharedSum" in member) {
      sharedSums.push(unit);
      const x = unit.args[0] as TracedValue;
      calls.push(`${out.label} = sum(${label(x)}${dimsText(unit)}) (the centring's sums)`);
    } else {
      const { reduction } = member;
      let ref = refOf(reduction.reads[0]);
      if (unit.op === "sumProducts") {
        // The product is a step of its own, summed in place of being written out.
        pending.push({ op: "mul", refs: reduction.reads.map(refOf), value: null });
        ref = { step: pending.length - 1 };
      }
      sums.push({ unit, ref, cols: reduction.cols, period: reduction.period });
      calls.push(
        `${out.label} = ${unit.op}(${reduction.reads.map(label).join(", ")}${dimsText(unit)})`,
      );
    }
  }
  const k = operands.length;
  const slot = (ref: Ref) => ("step" in ref ? k + ref.step : ref.slot);
  const steps: ChainStep[] = pending.map(({ op, refs: [a, b] }) => ({
    op,
    a: slot(a),
    b: b === undefined ? -1 : slot(b),
  }));
  const written = pending
    .map(({ value }, j) =>
      value !== null && (lastRead[value.id] > lastIndex || readOutside.has(value)) ? j : -1,
    )
    .filter((j) => j >= 0);
  return new FusedUnit(
    run.map((m) => m.unit),
    shape,
    dtype,
    operands,
    steps,
    pending.map((p) => p.value),
    written,
    sums.map(({ unit, ref, cols, period }) => ({ unit, slot: slot(ref), cols, period })),
    centring,
    calls,
    centring?.period !== undefined || sums.some((r) => r.period !== undefined),
    madeScalars,
  );
}
