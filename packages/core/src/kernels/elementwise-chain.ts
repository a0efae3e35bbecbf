// A chain of elementwise loops run chunk by chunk: the WebAssembly loops of elementwise.wat, one
// after another on each chunk, with the values in between kept in scratch regions (so in cache)
// and only the values the caller asks for copied out. Each loop is the one a single op runs, so
// every value rounds exactly as it does op by op. compile() uses this to fuse the elementwise
// calls of a traced function; eager code keeps the one-op path of elementwise-wasm.ts.

import {
  type Operand,
  privateElementwiseModule,
  type Scratch,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./elementwise-wasm.js";
import type { FloatArray } from "./gemm-js.js";
import { tryGrowMemory } from "./wasm-module.js";

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
 * Bytes per region. A chain touches a few regions per chunk (region 0 holds the scalars), so
 * they are half the one-op size to stay in L2 together.
 */
const CHUNK_BYTES = 16384;

/** The private module and whole-memory views, remade when the memory grows. */
interface ChainMemory {
  module: Scratch;
  f32: Float32Array;
  f64: Float64Array;
}

let memory: ChainMemory | null | undefined;

/** The chain module's memory with at least `regions` regions, or null where it cannot be had. */
function chainMemory(regions: number): ChainMemory | null {
  if (memory === undefined) {
    const module = privateElementwiseModule();
    memory =
      module === null ? null : { module, f32: new Float32Array(0), f64: new Float64Array(0) };
  }
  if (memory === null) return null;
  const buffer = tryGrowMemory(memory.module.memory, regions * CHUNK_BYTES);
  if (buffer === null) return null;
  if (memory.f32.buffer !== buffer || memory.f32.length === 0) {
    memory.f32 = new Float32Array(buffer);
    memory.f64 = new Float64Array(buffer);
  }
  return memory;
}

/** What a chunk does, in order: load an operand, run a loop, copy a slot, store a result. */
type Action =
  | { kind: "load"; operand: ChainOperand; at: number }
  | { kind: "binary"; op: WasmBinaryOp; a: number; as: number; b: number; bs: number; o: number }
  | { kind: "unary"; op: WasmUnaryOp; from: number; fromScalar: boolean; o: number }
  | { kind: "store"; at: number; out: FloatArray };

/** Where each slot lives: an element index into the memory view, and whether it is one scalar. */
interface Place {
  at: number;
  scalar: boolean;
}

/**
 * Runs `steps` over `n` elements laid out as rows of `inner` (for "row", "column" and "channel"
 * operands) and writes the `outputs`' slots. Every array must be of one float type. Returns false, having
 * written nothing, where the module cannot run or the layout is not supported (rows longer
 * than a chunk with row, column or channel operands).
 */
export function chainWasm(
  operands: readonly ChainOperand[],
  steps: readonly ChainStep[],
  outputs: readonly ChainOutput[],
  n: number,
  inner: number,
): boolean {
  const f64 = (outputs[0]?.out ?? operands[0]?.data) instanceof Float64Array;
  const per = CHUNK_BYTES / (f64 ? 8 : 4);
  const rows = operands.some((x) => x.layout !== "flat" && x.layout !== "scalar");
  if (n === 0 || (rows && inner > per) || operands.length > per / 4) return false;
  const chunk = rows ? Math.floor(per / inner) * inner : per;
  const plan = schedule(operands, steps, outputs, per);
  const mem = chainMemory(plan.regions);
  if (mem === null) return false;
  const view = f64 ? mem.f64 : mem.f32;
  const lanes = f64 ? 2 : 4;
  // Once per call: scalars stored as one vector each, rows tiled over a chunk's worth of rows.
  operands.forEach((x, slot) => {
    const at = plan.places[slot].at;
    if (x.layout === "scalar") view.fill(x.data[x.offset], at, at + lanes);
    else if (x.layout === "row") {
      view.set(x.data.subarray(x.offset, x.offset + inner), at);
      for (let filled = inner; filled < chunk; filled *= 2) {
        view.copyWithin(at + filled, at, at + Math.min(filled, chunk - filled));
      }
    }
  });
  const loops = mem.module;
  const type = f64 ? "F64" : "F32";
  const bytes = f64 ? 8 : 4;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const vectorBytes = (len * bytes + 15) & ~15;
    for (const act of plan.actions) {
      switch (act.kind) {
        case "load":
          load(act.operand, view, act.at, start, len, inner);
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
        case "store":
          act.out.set(view.subarray(act.at, act.at + len), start);
          break;
      }
    }
  }
  return true;
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
  if (x.layout === "flat") view.set(data.subarray(offset + start, offset + start + len), at);
  else if (x.layout === "column") {
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
  per: number,
): { actions: Action[]; places: Place[]; regions: number } {
  const k = operands.length;
  const lastUse = new Array<number>(k + steps.length).fill(-1);
  steps.forEach((s, j) => {
    lastUse[s.a] = j;
    if (s.b >= 0) lastUse[s.b] = j;
  });
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
        actions.push({ kind: "load", operand: operands[slot], at: places[slot].at });
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
    for (const output of outputs) {
      if (output.slot === slot) actions.push({ kind: "store", at: o, out: output.out });
    }
    if (lastUse[slot] === -1) free.push(o / per);
  });
  return { actions, places, regions };
}
