// A chain of elementwise steps run chunk by chunk: one WebAssembly function generated for the
// chain (chain-kernel.ts) runs every step on each vector of a chunk in registers, and only the
// values the caller asks for are copied out. Each step is the instruction sequence of the loop a
// single op runs, so every value rounds exactly as it does op by op. Where no such function can be
// made, the loops of elementwise.wat run one after another on each chunk instead, with the values
// in between kept in scratch regions (so in cache). A chain may also sum values over rows (column
// sums accumulated in float64 by reduce.wat's own loop, instantiated on the chain's memory), so a
// reduction of a value the chain makes never needs that value written out. compile() uses this
// to fuse the calls of a traced function; eager ops use it for a few passes of their own
// (center's two subtractions, the column sums of a product).

import { type ChainKernel, chainKernel } from "./chain-kernel.js";
import {
  layoutOf,
  type Operand,
  privateElementwiseModule,
  type Scratch,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./elementwise-wasm.js";
import type { FloatArray } from "./gemm-js.js";
import { REDUCE_IMPORTED_WASM_BASE64 } from "./reduce-imported-wasm-module.js";
import { isContiguous } from "./strided.js";
import { onImportedMemory, tryGrowMemory } from "./wasm-module.js";

/**
 * An operand constant along each row of `inner` values, with one value per group of rows: row r
 * reads data[offset + (floor(r / repeat) % period) · stride]. A per-channel operand of
 * [N, C, H, W] (rows of W) has repeat H, period C and its channel stride.
 */
export interface ChannelOperand {
  readonly data: FloatArray;
  readonly offset: number;
  readonly layout: "channel";
  readonly repeat: number;
  readonly period: number;
  readonly stride: number;
}

/** An operand of a chain: the layouts of the one-op loops, or a per-channel one. */
export type ChainOperand = Operand | ChannelOperand;

/**
 * One loop of a chain. Slots number the chain's operands first (0 to operands - 1), then the
 * steps' results (step j makes slot operands + j). `b` is -1 for a unary op.
 */
export interface ChainStep {
  readonly op: WasmBinaryOp | WasmUnaryOp;
  readonly a: number;
  readonly b: number;
}

/** A slot whose values are copied out into `out` (the chain's full length). */
export interface ChainOutput {
  readonly slot: number;
  readonly out: FloatArray;
}

/**
 * Sums of a slot over rows of `cols` values. Column sums (no `period`): sums[j] = Σ_r
 * value[r·cols + j], each column accumulated in float64 over rows in order (reduce.wat's columns
 * loop, bit for bit the sum over leading dims that `reduce("sum")` gives). Plane sums (with
 * `period` P): each row (a plane of [N, P, ...]) is added, value by value in order, onto
 * sums[r mod P] (reduce.wat's row sums continuing from the running sums: bit for bit the sum over
 * every dim but dim 1). `cols` must be a multiple of the chain's `inner`.
 */
export interface ChainReduction {
  readonly slot: number;
  readonly cols: number;
  readonly period?: number;
  readonly sums: Float64Array;
}

/** How many float64 sums a reduction keeps. */
const sumsOf = (r: ChainReduction): number => r.period ?? r.cols;

/** The bytes a reduction's sums take after the regions, rounded up to whole vectors. */
const sumBytes = (r: ChainReduction): number => (sumsOf(r) * 8 + 15) & ~15;

/** reduce.wat's column loops, run on the chain's memory. */
interface ColumnLoops {
  columnsF32(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
  columnsF64(x: number, rows: number, cols: number, mean: number, acc: number, mode: number): void;
  rowSumsF32(x: number, rows: number, len: number, acc: number): void;
  rowSumsF64(x: number, rows: number, len: number, acc: number): void;
}

const columnLoopsOn = onImportedMemory(
  REDUCE_IMPORTED_WASM_BASE64,
  (e) => e as unknown as ColumnLoops,
);

/**
 * Bytes per region. A chain touches a few regions per chunk (region 0 holds the scalars); up to
 * eight of them fit a 512 KB L2 together. Larger chunks also make fewer calls per pass, and let
 * column sums run over more rows per call (a BatchNorm pass over [4096, 1024] float32: 18 ms
 * with 16 KB regions, 13 ms with 64 KB).
 */
const CHUNK_BYTES = 65536;

/**
 * The longest row a chain takes when rows matter (broadcast operands, reductions): one region's
 * worth of values of the dtype. A pass whose rows are longer cannot run as a chain.
 */
function chainRowLimit(dtype: "float32" | "float64"): number {
  return CHUNK_BYTES / (dtype === "float64" ? 8 : 4);
}

/** The private module and whole-memory views, remade when the memory grows. */
interface ChainMemory {
  module: Scratch;
  columns: ColumnLoops;
  f32: Float32Array;
  f64: Float64Array;
}

let memory: ChainMemory | null | undefined;

/** The chain module's memory with at least `bytes` bytes, or null where it cannot be had. */
function chainMemory(bytes: number): ChainMemory | null {
  if (memory === undefined) {
    const module = privateElementwiseModule();
    const columns = module === null ? null : columnLoopsOn(module.memory);
    memory =
      module === null || columns === null
        ? null
        : { module, columns, f32: new Float32Array(0), f64: new Float64Array(0) };
  }
  if (memory === null) return null;
  const buffer = tryGrowMemory(memory.module.memory, bytes);
  if (buffer === null) return null;
  if (memory.f32.buffer !== buffer || memory.f32.length === 0) {
    memory.f32 = new Float32Array(buffer);
    memory.f64 = new Float64Array(buffer);
  }
  return memory;
}

/** What a chunk does, in order: load an operand, run a loop, copy a slot, store a result. */
type Action =
  | { kind: "load"; operand: number; at: number }
  | { kind: "kernel" }
  | { kind: "binary"; op: WasmBinaryOp; a: number; as: number; b: number; bs: number; o: number }
  | { kind: "unary"; op: WasmUnaryOp; from: number; fromScalar: boolean; o: number }
  | {
      kind: "store";
      at: number;
      output: number;
      /** The memory's values this store copies out, kept while the memory and length stay. */
      window?: FloatArray;
    }
  | { kind: "reduce"; at: number; cols: number; period: number; acc: number };

/** Where each slot lives: an element index into the memory view, and whether it is one scalar. */
interface Place {
  at: number;
  scalar: boolean;
}

/** A strided view of an array: what {@link chainOperandOf} reads. */
export interface ChainView {
  readonly data: FloatArray;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/**
 * How a chain reads `t`, which broadcasts to `shape`, over rows of shape's last dim (dims of
 * size 1 ignored): flat, scalar, a row, a column, or one value per channel (a [1, C, 1, 1]
 * operand of [N, C, H, W]); null for layouts the loops do not read (transposed or strided
 * views).
 */
export function chainOperandOf(t: ChainView, shape: readonly number[]): ChainOperand | null {
  const { data, offset } = t;
  if (equalDims(t.shape, shape) && isContiguous(t.shape, t.strides)) {
    return { data, offset, layout: "flat" };
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
  if (layout !== null) return { data, offset, layout };
  // One leading dim with a stride, the dims after it (the last included) broadcast.
  const moving = strides.flatMap((s, d) => (s === 0 ? [] : [d]));
  if (moving.length !== 1 || moving[0] === kept.length - 1) return null;
  const c = moving[0];
  const repeat = kept.slice(c + 1, -1).reduce((p, s) => p * s, 1);
  return { data, offset, layout: "channel", repeat, period: kept[c], stride: strides[c] };
}

/** True when the two shapes are the same (a loop: this runs for every operand of every pass). */
function equalDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

/** The last dim of `shape` that is not 1 (1 for none): the row length chains work in. */
export function chainInner(shape: readonly number[]): number {
  for (let d = shape.length - 1; d >= 0; d--) if (shape[d] !== 1) return shape[d];
  return 1;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/**
 * How many values a chunk must hold whole: rows of `inner` when `rows` (broadcast operands need
 * them), and every reduction's rows of `widths` values. Null when a width is not whole rows of
 * `inner` or the unit is longer than a chunk of the dtype: a chain cannot run such a pass.
 */
export function chainUnit(
  inner: number,
  rows: boolean,
  widths: readonly number[],
  dtype: "float32" | "float64",
): number | null {
  let unit = rows ? inner : 1;
  for (const cols of widths) {
    if (cols % inner !== 0) return null;
    unit = (unit / gcd(unit, cols)) * cols;
  }
  return unit <= chainRowLimit(dtype) ? unit : null;
}

/**
 * Runs `steps` over `n` elements laid out as rows of `inner` (for "row", "column" and "channel"
 * operands), writes the `outputs`' slots (steps' values, never operands) and sums the
 * `reductions`' slots over rows. Every array must be of one float type. Returns false, having
 * written nothing, where the module cannot run or the layout is not supported (rows longer than a
 * chunk with row, column or channel operands or reductions, `n` not whole rows of a reduction, or
 * an output naming an operand).
 */
export function chainWasm(
  operands: readonly ChainOperand[],
  steps: readonly ChainStep[],
  outputs: readonly ChainOutput[],
  n: number,
  inner: number,
  reductions: readonly ChainReduction[] = [],
  memo?: ChainMemo,
): boolean {
  if (reductions.some((r) => r.sums.length !== sumsOf(r))) return false;
  const f64 = (outputs[0]?.out ?? operands[0]?.data) instanceof Float64Array;
  const prepared =
    memo === undefined
      ? prepare(operands, steps, outputs, n, inner, reductions, f64)
      : memo.prepare(operands, steps, outputs, n, inner, reductions, f64);
  if (prepared === null) return false;
  const { plan, kernel, chunk, channelsOnce, patternRows, accBytes } = prepared;
  if (steps.length > 0) chainRuns[kernel === null ? "loops" : "kernel"]++;
  const mem = chainMemory(plan.regions * CHUNK_BYTES + accBytes);
  if (mem === null) return false;
  const view = f64 ? mem.f64 : mem.f32;
  const lanes = f64 ? 2 : 4;
  // The sums sit after the regions.
  const accAt = plan.regions * CHUNK_BYTES;
  const accStart = accAt / 8;
  mem.f64.fill(0, accStart, accStart + accBytes / 8);
  const columns = f64 ? mem.columns.columnsF64 : mem.columns.columnsF32;
  const rowSums = f64 ? mem.columns.rowSumsF64 : mem.columns.rowSumsF32;
  // Once per call: scalars stored as one vector each, rows tiled over a chunk's worth of rows, and
  // (for the generated kernel, when chunks are whole patterns) per-channel operands' patterns too.
  for (let slot = 0; slot < operands.length; slot++) {
    const x = operands[slot];
    // An operand no step reads and no reduction sums has no place.
    if (plan.places[slot] === undefined) continue;
    const at = plan.places[slot].at;
    let tile = 0;
    if (x.layout === "scalar") view.fill(x.data[x.offset], at, at + lanes);
    else if (x.layout === "row") {
      view.set(span(x, x.offset, inner), at);
      tile = inner;
    } else if (x.layout === "channel" && channelsOnce && kernel !== null) {
      load(x, view, at, 0, patternRows * inner, inner);
      tile = patternRows * inner;
    }
    if (tile > 0) {
      for (let filled = tile; filled < chunk; filled *= 2) {
        view.copyWithin(at + filled, at, at + Math.min(filled, chunk - filled));
      }
    }
  }
  const loops = mem.module;
  const type = f64 ? "F64" : "F32";
  const bytes = f64 ? 8 : 4;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const vectorBytes = (len * bytes + 15) & ~15;
    for (const act of plan.actions) {
      switch (act.kind) {
        case "load":
          load(operands[act.operand], view, act.at, start, len, inner);
          break;
        case "kernel":
          kernel!(vectorBytes);
          break;
        case "binary":
          loops.binary[type][act.op](act.a, act.as, act.b, act.bs, act.o, act.o + vectorBytes);
          break;
        case "unary": {
          const o = act.o / bytes;
          if (act.fromScalar) view.fill(view[act.from], o, o + len);
          else if (act.from !== o) view.copyWithin(o, act.from, act.from + len);
          loops.unary[type][act.op](act.o, act.o + vectorBytes);
          break;
        }
        case "store": {
          // The same window of the memory on every call (a schedule is memoised per pass),
          // made again only for another length (the last chunk) or after the memory grew.
          let window = act.window;
          if (
            window === undefined ||
            window.buffer !== view.buffer ||
            window.length !== len ||
            window.BYTES_PER_ELEMENT !== bytes
          ) {
            window = view.subarray(act.at, act.at + len);
            act.window = window;
          }
          outputs[act.output].out.set(window, start);
          break;
        }
        case "reduce":
          // The mean argument is not read when summing (mode 0).
          if (act.period === 0) {
            columns(act.at * bytes, len / act.cols, act.cols, 0, accAt + act.acc, 0);
          } else {
            // Rows r0.. of this chunk onto sums[r mod period], in runs that do not wrap around.
            const rows = len / act.cols;
            const r0 = start / act.cols;
            for (let r = 0; r < rows; ) {
              const first = (r0 + r) % act.period;
              const run = Math.min(act.period - first, rows - r);
              const at = (act.at + r * act.cols) * bytes;
              rowSums(at, run, act.cols, accAt + act.acc + first * 8);
              r += run;
            }
          }
          break;
      }
    }
  }
  let acc = accStart;
  const f64s = mem.f64;
  for (const r of reductions) {
    // A loop rather than set(subarray): a row of sums is short, and a view per call is garbage.
    const sums = r.sums;
    const count = sumsOf(r);
    for (let i = 0; i < count; i++) sums[i] = f64s[acc + i];
    acc += sumBytes(r) / 8;
  }
  return true;
}

/** What a chain call works out before touching memory: the same for every call of a layout. */
interface Prepared {
  readonly plan: { actions: Action[]; places: Place[]; regions: number };
  readonly kernel: ChainKernel | null;
  readonly chunk: number;
  readonly channelsOnce: boolean;
  readonly patternRows: number;
  readonly accBytes: number;
}

/** The schedule and kernel of a chain call, or null where the chain cannot run it. */
function prepare(
  operands: readonly ChainOperand[],
  steps: readonly ChainStep[],
  outputs: readonly ChainOutput[],
  n: number,
  inner: number,
  reductions: readonly ChainReduction[],
  f64: boolean,
): Prepared | null {
  const per = chainRowLimit(f64 ? "float64" : "float32");
  const rows = operands.some((x) => x.layout !== "flat" && x.layout !== "scalar");
  if (outputs.some((o) => o.slot < operands.length)) return null;
  const widths = reductions.map((r) => r.cols);
  let unit = chainUnit(inner, rows, widths, f64 ? "float64" : "float32");
  if (unit === null || n === 0 || n % unit !== 0 || operands.length > per / 4) return null;
  // Per-channel operands repeat every repeat·period rows. Where chunks can be whole repeats of
  // that pattern, each such operand's region is filled once per call instead of row by row for
  // every chunk (the generated kernel never writes its operands' regions).
  const patternRows = operands.reduce(
    (rowsSoFar, x) => (x.layout === "channel" ? lcm(rowsSoFar, x.repeat * x.period) : rowsSoFar),
    1,
  );
  const patterned = operands.some((x) => x.layout === "channel")
    ? chainUnit(inner, rows, [...widths, patternRows * inner], f64 ? "float64" : "float32")
    : null;
  const channelsOnce = patterned !== null && n % patterned === 0;
  if (channelsOnce) unit = patterned;
  for (const r of reductions) {
    if (r.slot < operands.length && operands[r.slot].layout !== "flat") return null;
  }
  // No more than n: a row operand is tiled over a whole chunk once per call.
  const chunk = Math.min(Math.floor(per / unit) * unit, n);
  const accBytes = reductions.reduce((b, r) => b + sumBytes(r), 0);
  // One generated kernel for all the steps where it can be made, else the loops op by op. The
  // kernel is bound to the memory, not to its size: the memory grows for the plan chosen.
  const loaded = chainMemory(0);
  if (loaded === null) return null;
  const generated = generatedSchedule(operands, steps, outputs, reductions, per, channelsOnce);
  let plan: Prepared["plan"] = generated;
  let kernel: ChainKernel | null = null;
  if (steps.length > 0) {
    const bytesPer = CHUNK_BYTES / per;
    const place = (slot: number) => generated.places[slot] ?? { at: 0, scalar: true };
    kernel = generateKernels
      ? chainKernel(
          loaded.module.memory,
          f64 ? "float64" : "float32",
          operands.map((_, slot) => ({
            at: place(slot).at * bytesPer,
            scalar: place(slot).scalar,
          })),
          steps,
          generated.stored.map((slot) => ({ slot, at: place(slot).at * bytesPer })),
        )
      : null;
    if (kernel === null) plan = schedule(operands, steps, outputs, reductions, per);
  }
  return { plan, kernel, chunk, channelsOnce, patternRows, accBytes };
}

/**
 * A caller's memory of its latest chain call (a fused pass keeps one): when the next call has the
 * same steps, length, rows, operand layouts, outputs and reductions, its schedule and kernel are
 * reused instead of worked out again. Only the layouts count, not the arrays: those are read
 * from the call's own operands and outputs.
 */
export class ChainMemo {
  #steps: readonly ChainStep[] | null = null;
  #n = -1;
  #inner = -1;
  #f64 = false;
  #generate = true;
  /** Per operand: layout, repeat, period, stride (0 where the layout has none). */
  #layouts: (string | number)[] = [];
  /** Per output, its slot; per reduction, slot, cols and period (-1 for none). */
  #outputs: number[] = [];
  #reductions: number[] = [];
  /** The latest call's schedule (null: the chain could not run it). */
  prepared: Prepared | null = null;

  /** {@link prepare}'s result for this call: the latest one's when nothing it depends on changed. */
  prepare(
    operands: readonly ChainOperand[],
    steps: readonly ChainStep[],
    outputs: readonly ChainOutput[],
    n: number,
    inner: number,
    reductions: readonly ChainReduction[],
    f64: boolean,
  ): Prepared | null {
    if (this.#matches(operands, steps, outputs, n, inner, reductions, f64)) return this.prepared;
    this.#steps = steps;
    this.#n = n;
    this.#inner = inner;
    this.#f64 = f64;
    this.#generate = generateKernels;
    this.#layouts = operands.flatMap((x) =>
      x.layout === "channel" ? [x.layout, x.repeat, x.period, x.stride] : [x.layout, 0, 0, 0],
    );
    this.#outputs = outputs.map((o) => o.slot);
    this.#reductions = reductions.flatMap((r) => [r.slot, r.cols, r.period ?? -1]);
    this.prepared = prepare(operands, steps, outputs, n, inner, reductions, f64);
    return this.prepared;
  }

  #matches(
    operands: readonly ChainOperand[],
    steps: readonly ChainStep[],
    outputs: readonly ChainOutput[],
    n: number,
    inner: number,
    reductions: readonly ChainReduction[],
    f64: boolean,
  ): boolean {
    if (
      steps !== this.#steps ||
      n !== this.#n ||
      inner !== this.#inner ||
      f64 !== this.#f64 ||
      generateKernels !== this.#generate ||
      operands.length * 4 !== this.#layouts.length ||
      outputs.length !== this.#outputs.length ||
      reductions.length * 3 !== this.#reductions.length
    ) {
      return false;
    }
    for (let i = 0; i < operands.length; i++) {
      const x = operands[i];
      const at = 4 * i;
      if (x.layout !== this.#layouts[at]) return false;
      if (
        x.layout === "channel" &&
        (x.repeat !== this.#layouts[at + 1] ||
          x.period !== this.#layouts[at + 2] ||
          x.stride !== this.#layouts[at + 3])
      ) {
        return false;
      }
    }
    for (let i = 0; i < outputs.length; i++) if (outputs[i].slot !== this.#outputs[i]) return false;
    for (let i = 0; i < reductions.length; i++) {
      const r = reductions[i];
      if (
        r.slot !== this.#reductions[3 * i] ||
        r.cols !== this.#reductions[3 * i + 1] ||
        (r.period ?? -1) !== this.#reductions[3 * i + 2]
      ) {
        return false;
      }
    }
    return true;
  }
}

/** The last view {@link span} made of each operand object's array. */
const spans = new WeakMap<ChainOperand, FloatArray>();

/**
 * Values [from, from + len) of `x`'s array: the array itself when that is all of it, else a view
 * of it, kept with the operand object: a fused pass keeps its operands' objects from call to call,
 * so a pass run in one chunk reads each operand through the same view every call.
 */
function span(x: ChainOperand, from: number, len: number): FloatArray {
  const { data } = x;
  if (from === 0 && len === data.length) return data;
  const kept = spans.get(x);
  if (
    kept !== undefined &&
    kept.buffer === data.buffer &&
    kept.byteOffset === data.byteOffset + from * data.BYTES_PER_ELEMENT &&
    kept.length === len
  ) {
    return kept;
  }
  const view = data.subarray(from, from + len);
  spans.set(x, view);
  return view;
}

/** Copies values [start, start + len) of a flat, column or channel operand into the view at `at`. */
function load(
  x: ChainOperand,
  view: FloatArray,
  at: number,
  start: number,
  len: number,
  inner: number,
) {
  const { data, offset } = x;
  if (x.layout === "flat") {
    view.set(span(x, offset + start, len), at);
  } else if (x.layout === "column") {
    const row0 = offset + start / inner;
    for (let r = 0; r < len / inner; r++) {
      view.fill(data[row0 + r], at + r * inner, at + (r + 1) * inner);
    }
  } else if (x.layout === "channel") {
    // Runs of `repeat` rows share a value: one fill per run.
    const first = start / inner;
    const end = first + len / inner;
    for (let r = first; r < end; ) {
      const group = Math.floor(r / x.repeat);
      const runEnd = Math.min(end, (group + 1) * x.repeat);
      const value = data[offset + (group % x.period) * x.stride];
      view.fill(value, at + (r - first) * inner, at + (runEnd - first) * inner);
      r = runEnd;
    }
  }
}

/** False to run every chain op by op (tests compare the two). */
let generateKernels = true;

/** How many chains with steps ran as one generated kernel, and how many op by op. For tests. */
export const chainRuns = { kernel: 0, loops: 0 };

/** Turns the generated kernels on or off; returns the previous setting. For tests. */
export function setChainKernels(on: boolean): boolean {
  const previous = generateKernels;
  generateKernels = on;
  return previous;
}

/**
 * The actions of one chunk when one generated kernel runs every step: each operand the steps read
 * or a reduction sums gets a region of its own (loaded before the kernel: a flat, column or
 * channel operand per chunk, a row once per call, and a channel operand too when `channelsOnce`:
 * chunks are then whole patterns), so does each step value copied out or summed
 * (`stored`), and region 0 holds the scalars. Values only other steps read stay in registers.
 */
function generatedSchedule(
  operands: readonly ChainOperand[],
  steps: readonly ChainStep[],
  outputs: readonly ChainOutput[],
  reductions: readonly ChainReduction[],
  per: number,
  channelsOnce: boolean,
): { actions: Action[]; places: Place[]; regions: number; stored: number[] } {
  const k = operands.length;
  const needed = new Set<number>(reductions.map((r) => r.slot));
  for (const s of steps) {
    needed.add(s.a);
    if (s.b >= 0) needed.add(s.b);
  }
  const places: Place[] = new Array(k + steps.length);
  const vector = 16 / (CHUNK_BYTES / per);
  let scalars = 0;
  let regions = 1;
  const actions: Action[] = [];
  operands.forEach((x, slot) => {
    if (x.layout === "scalar") places[slot] = { at: scalars++ * vector, scalar: true };
    else if (x.layout === "row" || needed.has(slot)) {
      places[slot] = { at: regions++ * per, scalar: false };
      const once = x.layout === "row" || (x.layout === "channel" && channelsOnce);
      if (!once) actions.push({ kind: "load", operand: slot, at: places[slot].at });
    }
  });
  if (steps.length > 0) actions.push({ kind: "kernel" });
  const stored = [
    ...new Set([...outputs.map((o) => o.slot), ...reductions.map((r) => r.slot)]),
  ].filter((slot) => slot >= k);
  for (const slot of stored) places[slot] = { at: regions++ * per, scalar: false };
  outputs.forEach((output, i) => {
    actions.push({ kind: "store", at: places[output.slot].at, output: i });
  });
  actions.push(...reduceActions(reductions, places));
  return { actions, places, regions, stored };
}

/**
 * The actions of one chunk and how many regions they use. Region 0 holds the scalars (one
 * vector each); a row operand keeps a region for the whole call; a flat, column or channel operand is
 * loaded into a region just before its first use, and every region is reused once its slot's
 * last reader has run (a loop may write over an operand it reads: each vector is read before it
 * is stored).
 */
function schedule(
  operands: readonly ChainOperand[],
  steps: readonly ChainStep[],
  outputs: readonly ChainOutput[],
  reductions: readonly ChainReduction[],
  per: number,
): { actions: Action[]; places: Place[]; regions: number } {
  const k = operands.length;
  const lastUse = new Array<number>(k + steps.length).fill(-1);
  steps.forEach((s, j) => {
    lastUse[s.a] = j;
    if (s.b >= 0) lastUse[s.b] = j;
  });
  // Reductions run after the last step: their slots stay until then.
  for (const r of reductions) lastUse[r.slot] = steps.length;
  const places: Place[] = new Array(k + steps.length);
  const free: number[] = [];
  let regions = 1;
  const take = (): number => free.pop() ?? regions++;
  // Scalars sit one 16-byte vector apart at the start of region 0.
  const vector = 16 / (CHUNK_BYTES / per);
  let scalars = 0;
  operands.forEach((x, slot) => {
    if (x.layout === "scalar") places[slot] = { at: scalars++ * vector, scalar: true };
    else if (x.layout === "row") places[slot] = { at: take() * per, scalar: false };
  });
  const transient = (slot: number) =>
    slot >= k || (operands[slot].layout !== "row" && operands[slot].layout !== "scalar");
  const actions: Action[] = [];
  const bytes = CHUNK_BYTES / per;
  steps.forEach((s, j) => {
    for (const slot of s.b >= 0 ? [s.a, s.b] : [s.a]) {
      if (places[slot] === undefined) {
        places[slot] = { at: take() * per, scalar: false };
        actions.push({ kind: "load", operand: slot, at: places[slot].at });
      }
    }
    const dying = [...new Set(s.b >= 0 ? [s.a, s.b] : [s.a])].filter(
      (slot) => lastUse[slot] === j && transient(slot),
    );
    const a = places[s.a];
    let o: number;
    if (s.b < 0) {
      // Unary loops run in place: on the operand's own region when this is its last use.
      o = dying.includes(s.a) ? a.at : take() * per;
      for (const slot of dying) if (places[slot].at !== o) free.push(places[slot].at / per);
      actions.push({
        kind: "unary",
        op: s.op as WasmUnaryOp,
        from: a.at,
        fromScalar: a.scalar,
        o: o * bytes,
      });
    } else {
      for (const slot of dying) free.push(places[slot].at / per);
      o = take() * per;
      const b = places[s.b];
      actions.push({
        kind: "binary",
        op: s.op as WasmBinaryOp,
        a: a.at * bytes,
        as: a.scalar ? 0 : 16,
        b: b.at * bytes,
        bs: b.scalar ? 0 : 16,
        o: o * bytes,
      });
    }
    const slot = k + j;
    places[slot] = { at: o, scalar: false };
    for (let i = 0; i < outputs.length; i++) {
      if (outputs[i].slot === slot) actions.push({ kind: "store", at: o, output: i });
    }
    if (lastUse[slot] === -1) free.push(o / per);
  });
  // An operand only summed is loaded for its reduction.
  for (const r of reductions) {
    if (places[r.slot] === undefined) {
      places[r.slot] = { at: take() * per, scalar: false };
      actions.push({ kind: "load", operand: r.slot, at: places[r.slot].at });
    }
  }
  actions.push(...reduceActions(reductions, places));
  return { actions, places, regions };
}

/** The reductions' actions, after every step: each sums its slot's place into its own sums. */
function reduceActions(reductions: readonly ChainReduction[], places: readonly Place[]): Action[] {
  let acc = 0;
  return reductions.map((r) => {
    const action: Action = {
      kind: "reduce",
      at: places[r.slot].at,
      cols: r.cols,
      period: r.period ?? 0,
      acc,
    };
    acc += sumBytes(r);
    return action;
  });
}
