// Fusing a replay's elementwise calls: runs of consecutive float add, sub, mul, div, maximum,
// minimum, neg, abs, square, sqrt, rsqrt, relu and relu's backward of one output shape and dtype
// become one fused unit, which streams its operands through the WebAssembly loops chunk by chunk
// (kernels/elementwise-chain.ts) and writes out only the values later calls or the result read.
// Each value is computed by the loop its op runs eagerly, so results stay bit for bit the same.
// A fused unit checks its operands' layouts on every call and, where one is not supported (or
// the JS kernels are selected), the replay runs its calls one by one as before. Besides the
// one-op loops' layouts, a fused unit reads per-channel operands ([1, C, 1, 1] of [N, C, H, W]).

import { getKernelBackend } from "../kernels/backend.js";
import { layoutOf } from "../kernels/elementwise.js";
import {
  type ChainOperand,
  type ChainOutput,
  type ChainStep,
  chainWasm,
} from "../kernels/elementwise-chain.js";
import type { WasmBinaryOp, WasmUnaryOp } from "../kernels/elementwise-wasm.js";
import type { FloatArray } from "../kernels/gemm-js.js";
import { allocateUnfilled } from "../tensor/dtype.js";
import { formatShape, numelOf, sameShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
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
 * they only make new values (random ones draw in their own order, which moving them past
 * elementwise calls keeps). Setting a `.grad` only swaps a reference.
 */
const MOVABLE_KINDS: ReadonlySet<string> = new Set([
  "movement",
  "reduction",
  "elementwise",
  "opaque",
  "creation",
]);

function movable(unit: TracedNode): boolean {
  return MOVABLE_KINDS.has(unit.kind) || (unit.kind === "effect" && unit.op === "setGrad");
}

/** Below this many elements eager code runs the JS rows, and a fused pass saves nothing. */
const MIN_ELEMENTS = 128;

/** A number operand of a fused call, as the 0-d tensor eager code makes of it would hold it. */
type ScalarOperand = { readonly scalar: FloatArray; readonly value: number };

/** One external operand of a fused unit: a value the env holds, or a number. */
type External = TracedValue | ScalarOperand;

/** Several elementwise calls of one shape, replayed as one pass over their operands. */
export class FusedUnit {
  readonly #n: number;
  /** Replays that ran the calls one by one, since an operand or the kernel choice did not allow a pass. */
  fallbacks = 0;

  constructor(
    /** The calls it replaces, in order. */
    readonly units: readonly TracedNode[],
    /** The shape every call makes. */
    readonly shape: readonly number[],
    /** The dtype of every call's operands and result. */
    readonly dtype: "float32" | "float64",
    /** The operands read from outside the unit: slots 0 to operands.length - 1. */
    readonly operands: readonly External[],
    /** The loops, in order; step j makes slot operands.length + j, the value units[j] made. */
    readonly steps: readonly ChainStep[],
    /** The steps whose values are written out (read later, or returned). */
    readonly written: readonly number[],
  ) {
    this.#n = numelOf(shape);
  }

  /**
   * Runs the calls as one pass and puts the values read later into `env`. Returns false, having
   * changed nothing, when this call's operands or kernel choice do not allow it: the caller then
   * replays `units` one by one.
   */
  run(env: (Tensor | undefined)[]): boolean {
    if (this.#pass(env)) return true;
    this.fallbacks++;
    return false;
  }

  #pass(env: (Tensor | undefined)[]): boolean {
    if (getKernelBackend() === "js") return false;
    const operands: ChainOperand[] = [];
    for (const x of this.operands) {
      if (!(x instanceof TracedValue)) {
        operands.push({ data: x.scalar, offset: 0, layout: "scalar" });
        continue;
      }
      const t = env[x.id];
      if (t === undefined || t.dtype !== this.dtype) return false;
      const operand = operandOf(t, this.shape);
      if (operand === null) return false;
      operands.push(operand);
    }
    const k = this.operands.length;
    const made = this.written.map((j) => {
      const op = this.units[j].op;
      return allocateUnfilled(this.dtype, this.#n, op, this.shape) as FloatArray;
    });
    const outputs: ChainOutput[] = this.written.map((j, i) => ({ slot: k + j, out: made[i] }));
    const squeezed = this.shape.filter((s) => s !== 1);
    const inner = squeezed.at(-1) ?? 1;
    if (!chainWasm(operands, this.steps, outputs, this.#n, inner)) return false;
    this.written.forEach((j, i) => {
      env[this.units[j].outputs[0].id] = Tensor.fromTypedArray(made[i], this.shape);
    });
    return true;
  }

  /** One line for `explain()`: the shape, the calls and which values are written out. */
  describe(): string {
    const label = (slot: number): string => {
      if (slot >= this.operands.length)
        return this.units[slot - this.operands.length].outputs[0].label;
      const x = this.operands[slot];
      return x instanceof TracedValue ? x.label : String(x.value);
    };
    const calls = this.steps.map((s, j) => {
      const args = s.b < 0 ? label(s.a) : `${label(s.a)}, ${label(s.b)}`;
      return `${this.units[j].outputs[0].label} = ${this.units[j].op}(${args})`;
    });
    const writes = this.written.map((j) => this.units[j].outputs[0].label);
    const fallbacks =
      this.fallbacks === 0
        ? ""
        : ` (ran call by call on ${this.fallbacks} ${this.fallbacks === 1 ? "replay" : "replays"}: an operand's layout or the JS kernels)`;
    return (
      `fused ${this.dtype}${formatShape(this.shape)}: ${calls.join("; ")}; ` +
      `writes ${writes.length === 0 ? "nothing" : writes.join(", ")}${fallbacks}`
    );
  }
}

/**
 * How the chain reads `t`, which broadcasts to `shape`, over rows of shape's last dim (dims of
 * size 1 ignored): flat, scalar, a row, a column, or one value per channel (a [1, C, 1, 1]
 * operand of [N, C, H, W]); null for layouts the loops do not read (transposed or strided
 * views).
 */
function operandOf(t: Tensor, shape: readonly number[]): ChainOperand | null {
  const data = t.data as FloatArray;
  if (sameShape(t.shape, shape) && t.isContiguous()) {
    return { data, offset: t.offset, layout: "flat" };
  }
  const lead = shape.length - t.shape.length;
  if (lead < 0) return null;
  const kept: number[] = [];
  const strides: number[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    kept.push(size);
    strides.push(d < lead || t.shape[d - lead] === 1 ? 0 : t.strides[d - lead]);
  });
  if (kept.length === 0) return null;
  const layout = layoutOf(strides, kept);
  if (layout !== null) return { data, offset: t.offset, layout };
  // One leading dim with a stride, the dims after it (the last included) broadcast.
  const moving = strides.flatMap((s, d) => (s === 0 ? [] : [d]));
  if (moving.length !== 1 || moving[0] === kept.length - 1) return null;
  const c = moving[0];
  const repeat = kept.slice(c + 1, -1).reduce((p, s) => p * s, 1);
  return {
    data,
    offset: t.offset,
    layout: "channel",
    repeat,
    period: kept[c],
    stride: strides[c],
  };
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
  // What the call saves for a backward must exist after the fused pass: its operands and its
  // result do; a tensor it made itself (a number operand as a 0-d tensor) must not be read.
  const inputs = unit.inputs;
  for (const v of unit.saved) {
    if (v !== out && !inputs.includes(v) && lastRead[v.id] !== -1) return null;
  }
  return args as (TracedValue | number)[];
}

/**
 * `units` with every run of two or more consecutive fusable calls of one shape and dtype
 * replaced by a fused unit. `replaysWithoutGrad(unit)` says whether the replay runs the call with
 * grad mode off (a call that records an autograd graph must stay a call).
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
  const out: (TracedNode | FusedUnit)[] = [];
  let i = 0;
  while (i < units.length) {
    const first = units[i];
    const args = replaysWithoutGrad(first) ? fusableArgs(first, lastRead) : null;
    if (args === null) {
      out.push(first);
      i++;
      continue;
    }
    const run = [{ unit: first, args }];
    const { shape, dtype } = first.outputs[0];
    // Calls between the run's calls that change no values move: before the fused unit when
    // they read none of its values (BatchNorm reshapes its bias between the scale and the
    // shift), after it when they do, or read what such a call made (a reduction of one of its
    // values, and the gradient set from it). A call of the run may not read a call moved after.
    const made = new Set<TracedValue>(first.outputs);
    const after = new Set<TracedValue>();
    const moved: { unit: TracedNode; index: number; before: boolean }[] = [];
    let last = i;
    for (let j = i + 1; j < units.length; j++) {
      const next = units[j];
      const reads = next.inputs;
      const readsAfter = reads.some((v) => after.has(v));
      const nextArgs = replaysWithoutGrad(next) ? fusableArgs(next, lastRead) : null;
      const value = next.outputs[0];
      if (nextArgs !== null) {
        if (!readsAfter && value.dtype === dtype && sameShape(value.shape, shape)) {
          run.push({ unit: next, args: nextArgs });
          made.add(value);
          last = j;
          continue;
        }
        // A call that could start a run as large as this one ends this one instead of moving.
        if (readsAfter || numelOf(value.shape) >= numelOf(shape)) break;
      }
      if (!movable(next)) break;
      if (readsAfter || reads.some((v) => made.has(v))) {
        moved.push({ unit: next, index: j, before: false });
        for (const v of next.outputs) after.add(v);
      } else moved.push({ unit: next, index: j, before: true });
    }
    if (run.length === 1) {
      out.push(first);
      i++;
      continue;
    }
    // Moved calls past the run's last call stay where they are.
    const within = moved.filter((m) => m.index < last);
    const readOutside = new Set<TracedValue>();
    for (const m of within) if (!m.before) for (const v of m.unit.inputs) readOutside.add(v);
    for (const m of within) if (m.before) out.push(m.unit);
    out.push(fusedUnit(run, shape, dtype as "float32" | "float64", last, lastRead, readOutside));
    for (const m of within) if (!m.before) out.push(m.unit);
    i = last + 1;
  }
  return out;
}

function fusedUnit(
  run: readonly { unit: TracedNode; args: (TracedValue | number)[] }[],
  shape: readonly number[],
  dtype: "float32" | "float64",
  lastIndex: number,
  lastRead: readonly number[],
  readOutside: ReadonlySet<TracedValue>,
): FusedUnit {
  const stepOf = new Map<TracedValue, number>();
  run.forEach(({ unit }, j) => {
    stepOf.set(unit.outputs[0], j);
  });
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
  // Operands first (slots 0..k-1), then each step's value: two passes.
  const refs = run.map(({ args }, j) =>
    args.map((arg) => {
      const step = arg instanceof TracedValue ? stepOf.get(arg) : undefined;
      return step !== undefined && step < j ? { step } : { slot: external(arg) };
    }),
  );
  const k = operands.length;
  const slot = (ref: { step: number } | { slot: number }) =>
    "step" in ref ? k + ref.step : ref.slot;
  const steps: ChainStep[] = run.map(({ unit }, j) => {
    const [a, b] = refs[j];
    const op = (BINARY_OPS.get(unit.op) ?? UNARY_OPS.get(unit.op))!;
    return { op, a: slot(a), b: b === undefined ? -1 : slot(b) };
  });
  const written = run
    .map(({ unit }, j) => {
      const v = unit.outputs[0];
      return lastRead[v.id] > lastIndex || readOutside.has(v) ? j : -1;
    })
    .filter((j) => j >= 0);
  return new FusedUnit(
    run.map((r) => r.unit),
    shape,
    dtype,
    operands,
    steps,
    written,
  );
}
