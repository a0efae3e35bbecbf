// One generated WebAssembly function per chain of elementwise steps: each vector of a chunk is
// loaded once, every step runs on it in registers, and only the values the caller needs in memory
// (values copied out, values summed over rows) are stored. The op-by-op loops of elementwise.wat
// instead read and write a whole chunk per step. Each step is the very instruction sequence of
// its loop in scripts/elementwise-wat.mjs, so every value rounds bit for bit as it does op by op
// (test/kernels/chain-kernel.test.ts checks each op against its loop, NaN, ±0 and ±Inf included).
// The bytes are written here, at run time, with no toolchain; a kernel is compiled once per
// structure (dtype, steps, and where each slot lives) and kept.

import type { WasmBinaryOp, WasmUnaryOp } from "./elementwise-wasm.js";

/** Where a chain's slot lives in the chain's memory: a byte address, and whether it is one scalar vector. */
export interface KernelSlot {
  readonly at: number;
  readonly scalar: boolean;
}

/** One step: the op and its operand slots (b = -1 for a unary op); step j makes slot k + j. */
export interface KernelStep {
  readonly op: WasmBinaryOp | WasmUnaryOp;
  readonly a: number;
  readonly b: number;
}

/**
 * A kernel over `end` bytes of every region (a multiple of 16, at least 16): vector by vector,
 * the operands at their addresses plus the vector's offset, the stored slots likewise.
 */
export type ChainKernel = (end: number) => void;

/** Browsers refuse to compile larger modules synchronously on the main thread. */
const MAX_MODULE_BYTES = 4096;

const kernels = new WeakMap<WebAssembly.Memory, Map<string, ChainKernel | null>>();

/**
 * The kernel running `steps` on `operands` (slots 0 to k - 1) and storing the slots of `stored`
 * at their addresses, on `memory`; null where it cannot be made (no SIMD128, or a module too
 * large to compile synchronously everywhere), and the caller then runs the loops op by op.
 */
export function chainKernel(
  memory: WebAssembly.Memory,
  dtype: "float32" | "float64",
  operands: readonly KernelSlot[],
  steps: readonly KernelStep[],
  stored: readonly { slot: number; at: number }[],
): ChainKernel | null {
  const key = [
    dtype,
    operands.map((x) => `${x.scalar ? "s" : "r"}${x.at}`).join(","),
    steps.map((s) => `${s.op}:${s.a}:${s.b}`).join(","),
    stored.map((s) => `${s.slot}@${s.at}`).join(","),
  ].join("|");
  let cache = kernels.get(memory);
  if (cache === undefined) {
    cache = new Map();
    kernels.set(memory, cache);
  }
  let kernel = cache.get(key);
  if (kernel === undefined) {
    kernel = compileKernel(memory, emitModule(dtype, operands, steps, stored));
    cache.set(key, kernel);
  }
  return kernel;
}

function compileKernel(memory: WebAssembly.Memory, bytes: Uint8Array): ChainKernel | null {
  if (bytes.length > MAX_MODULE_BYTES) return null;
  try {
    const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return instance.exports.run as ChainKernel;
  } catch {
    return null;
  }
}

// Opcodes (WebAssembly core and SIMD128 specifications).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_LT_U = 0x49;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const I32 = 0x7f;
const V128 = 0x7b;
const SIMD = 0xfd;

/** SIMD128 instructions (after the 0xfd prefix, LEB128-encoded). */
const V = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  and: 0x4e,
  or: 0x50,
  bitselect: 0x52,
  promoteLow: 0x5f,
  demoteZero: 0x5e,
} as const;

/** The lane-type instructions each dtype uses. */
const LANES = {
  float32: {
    add: 0xe4,
    sub: 0xe5,
    mul: 0xe6,
    div: 0xe7,
    neg: 0xe1,
    abs: 0xe0,
    sqrt: 0xe3,
    gt: 0x44,
    lt: 0x43,
    ne: 0x42,
  },
  float64: {
    add: 0xf0,
    sub: 0xf1,
    mul: 0xf2,
    div: 0xf3,
    neg: 0xed,
    abs: 0xec,
    sqrt: 0xef,
    gt: 0x4a,
    lt: 0x49,
    ne: 0x48,
  },
} as const;

const F64_SQRT = LANES.float64.sqrt;
const F64_DIV = LANES.float64.div;

function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** The 16 bytes of a vector of `lanes` copies of `value`. */
function splatBytes(dtype: "float32" | "float64", value: number): number[] {
  const bytes = new Uint8Array(16);
  if (dtype === "float32") new Float32Array(bytes.buffer).fill(value);
  else new Float64Array(bytes.buffer).fill(value);
  return [...bytes];
}

/** The float32 quiet bit in every lane. */
const QUIET_BITS = [...new Uint8Array(new Uint32Array(4).fill(0x00400000).buffer)];

/** The canonical quiet NaN of each lane, as elementwise-wat.mjs stores it. */
function nanBytes(dtype: "float32" | "float64"): number[] {
  const bytes = new Uint8Array(16);
  if (dtype === "float32") new Uint32Array(bytes.buffer).fill(0x7fc00000);
  else new BigUint64Array(bytes.buffer).fill(0x7ff8000000000000n);
  return [...bytes];
}

/** A function body's instructions, with helpers named after the text format. */
class Code {
  readonly bytes: number[] = [];

  simd(op: number): this {
    this.bytes.push(SIMD);
    uleb(this.bytes, op);
    return this;
  }
  i32(value: number): this {
    this.bytes.push(I32_CONST);
    sleb(this.bytes, value);
    return this;
  }
  get(local: number): this {
    this.bytes.push(LOCAL_GET);
    uleb(this.bytes, local);
    return this;
  }
  set(local: number): this {
    this.bytes.push(LOCAL_SET);
    uleb(this.bytes, local);
    return this;
  }
  /** v128.load offset=`offset` of the address on the stack (alignment hint 16 bytes). */
  load(offset: number): this {
    this.simd(V.load).bytes.push(4);
    uleb(this.bytes, offset);
    return this;
  }
  store(offset: number): this {
    this.simd(V.store).bytes.push(4);
    uleb(this.bytes, offset);
    return this;
  }
  vconst(bytes: readonly number[]): this {
    this.simd(V.const).bytes.push(...bytes);
    return this;
  }
  shuffle(lanes: readonly number[]): this {
    this.simd(V.shuffle).bytes.push(...lanes);
    return this;
  }
}

/** i8x16.shuffle lanes: the high half of the first operand, then its low half (x ↔ swapped halves). */
const SWAP_HALVES = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** i8x16.shuffle lanes: the low halves of both operands. */
const LOW_HALVES = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/**
 * Sets local `out` to step `op` of locals `a` (and `b`): the instructions of the op's loop in
 * scripts/elementwise-wat.mjs, on locals instead of loads.
 */
function emitStep(
  code: Code,
  dtype: "float32" | "float64",
  op: WasmBinaryOp | WasmUnaryOp,
  a: number,
  b: number,
  out: number,
): void {
  pushStep(code, dtype, op, a, b);
  code.set(out);
  // The loops that only move bits make a float32 signalling NaN quiet, as JS does (the loop's
  // `quieted`): out |= the quiet bit of its NaN lanes.
  if (dtype === "float32" && (op === "neg" || op === "abs" || op === "relu")) {
    code.get(out).get(out).get(out).simd(LANES.float32.ne).vconst(QUIET_BITS).simd(V.and);
    code.simd(V.or).set(out);
  }
}

/** Pushes step `op` of locals `a` (and `b`) onto the stack. */
function pushStep(
  code: Code,
  dtype: "float32" | "float64",
  op: WasmBinaryOp | WasmUnaryOp,
  a: number,
  b: number,
): void {
  const t = LANES[dtype];
  const zeros = splatBytes(dtype, 0);
  const ones = splatBytes(dtype, 1);
  switch (op) {
    case "add":
    case "sub":
    case "mul":
    case "div":
      code.get(a).get(b).simd(t[op]);
      return;
    case "maximum":
    case "minimum":
      // NaN if either is NaN, else x cmp y ? x : y.
      code.vconst(nanBytes(dtype));
      code
        .get(a)
        .get(b)
        .get(a)
        .get(b)
        .simd(op === "maximum" ? t.gt : t.lt)
        .simd(V.bitselect);
      code.get(a).get(a).simd(t.ne).get(b).get(b).simd(t.ne).simd(V.or);
      code.simd(V.bitselect);
      return;
    case "reluBackward":
      // a·(b > 0 ? 1 : 0).
      code.get(a).vconst(ones).get(b).vconst(zeros).simd(t.gt).simd(V.and).simd(t.mul);
      return;
    case "neg":
    case "abs":
    case "sqrt":
      code.get(a).simd(t[op]);
      return;
    case "square":
      code.get(a).get(a).simd(t.mul);
      return;
    case "relu":
      // v AND (v > 0 or v is NaN).
      code.get(a).get(a).vconst(zeros).simd(t.gt).get(a).get(a).simd(t.ne).simd(V.or);
      code.simd(V.and);
      return;
    case "rsqrt": {
      const ones64 = splatBytes("float64", 1);
      if (dtype === "float64") {
        code.vconst(ones64).get(a).simd(F64_SQRT).simd(F64_DIV);
        return;
      }
      // In float64, rounded once: lanes 0-1, then lanes 2-3.
      code.vconst(ones64).get(a).simd(V.promoteLow).simd(F64_SQRT).simd(F64_DIV);
      code.simd(V.demoteZero);
      code.vconst(ones64).get(a).get(a).shuffle(SWAP_HALVES).simd(V.promoteLow);
      code.simd(F64_SQRT).simd(F64_DIV).simd(V.demoteZero);
      code.shuffle(LOW_HALVES);
      return;
    }
  }
}

/** A module importing `env.memory` and exporting `run(end)`: the chain's loop. */
function emitModule(
  dtype: "float32" | "float64",
  operands: readonly KernelSlot[],
  steps: readonly KernelStep[],
  stored: readonly { slot: number; at: number }[],
): Uint8Array {
  const k = operands.length;
  // Locals: 0 = end (the parameter), 1 = the vector's byte offset, then one v128 per slot.
  const OFFSET = 1;
  const slotLocal = (slot: number) => 2 + slot;
  const read = new Set<number>();
  for (const s of steps) {
    read.add(s.a);
    if (s.b >= 0) read.add(s.b);
  }
  const code = new Code();
  // Scalars are the same vector throughout: loaded once.
  operands.forEach((x, slot) => {
    if (x.scalar && read.has(slot)) code.i32(x.at).load(0).set(slotLocal(slot));
  });
  code.bytes.push(LOOP, VOID);
  operands.forEach((x, slot) => {
    if (!x.scalar && read.has(slot)) code.get(OFFSET).load(x.at).set(slotLocal(slot));
  });
  steps.forEach((s, j) => {
    emitStep(code, dtype, s.op, slotLocal(s.a), s.b < 0 ? -1 : slotLocal(s.b), slotLocal(k + j));
  });
  for (const { slot, at } of stored) code.get(OFFSET).get(slotLocal(slot)).store(at);
  // offset += 16; loop while offset < end.
  code.get(OFFSET).i32(16);
  code.bytes.push(I32_ADD, LOCAL_TEE);
  uleb(code.bytes, OFFSET);
  code.get(0);
  code.bytes.push(I32_LT_U, BR_IF, 0, END, END);

  const body: number[] = [];
  // Local declarations: one i32, then k + steps v128s.
  body.push(2, 1, I32);
  uleb(body, k + steps.length);
  body.push(V128, ...code.bytes);
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]) => {
    out.push(id);
    uleb(out, content.length);
    out.push(...content);
  };
  const name = (text: string) => [text.length, ...[...text].map((c) => c.charCodeAt(0))];
  section(1, [1, 0x60, 1, I32, 0]); // type 0: (i32) -> ()
  section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 1]); // memory, at least 1 page
  section(3, [1, 0]); // function 0 has type 0
  section(7, [1, ...name("run"), 0x00, 0]); // export "run" = function 0
  const sized: number[] = [];
  uleb(sized, body.length);
  section(10, [1, ...sized, ...body]);
  return new Uint8Array(out);
}
