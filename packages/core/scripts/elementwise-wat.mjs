// The WebAssembly SIMD elementwise loops of @koubai/core, float32 and float64 from one table:
// build-wasm.mjs writes src/kernels/elementwise.wat from `elementwiseWat()` and assembles it, and
// the op lists that elementwise-wasm.ts and elementwise.ts dispatch on are generated from the same
// table. Each entry gives a loop's body once, for a lane type (`t`: f32x4 or f64x2); only rsqrt
// has a float32 body of its own (computed in float64 and rounded once).

/** The two lane types: their instruction prefix and the constants the bodies use. */
const TYPES = [
  {
    suffix: "F32",
    t: "f32x4",
    nan: "(v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)",
    ones: "(v128.const f32x4 1 1 1 1)",
    zeros: "(v128.const f32x4 0 0 0 0)",
  },
  {
    suffix: "F64",
    t: "f64x2",
    nan: "(v128.const i64x2 0x7ff8000000000000 0x7ff8000000000000)",
    ones: "(v128.const f64x2 1 1)",
    zeros: "(v128.const f64x2 0 0)",
  },
];

const A = "(v128.load (local.get $a))";
const B = "(v128.load (local.get $b))";
const P = "(v128.load (local.get $p))";

/** NaN if either is NaN, else x `cmp` y ? x : y. */
const extreme =
  (cmp) =>
  ({ t, nan }) => [
    "(local.set $x (v128.load (local.get $a)))",
    "(local.set $y (v128.load (local.get $b)))",
    `(v128.store (local.get $o) (v128.bitselect
        ${nan}
        (v128.bitselect (local.get $x) (local.get $y) (${t}.${cmp} (local.get $x) (local.get $y)))
        (v128.or (${t}.ne (local.get $x) (local.get $x)) (${t}.ne (local.get $y) (local.get $y)))))`,
  ];

/**
 * Binary loops: out = a op b, where $a and $b advance by $as and $bs bytes per vector (16 for a
 * streamed operand, 0 for a broadcast scalar). `body` returns the statements that store to $o.
 */
export const BINARY = [
  { name: "add", body: ({ t }) => [`(v128.store (local.get $o) (${t}.add ${A} ${B}))`] },
  { name: "sub", body: ({ t }) => [`(v128.store (local.get $o) (${t}.sub ${A} ${B}))`] },
  { name: "mul", body: ({ t }) => [`(v128.store (local.get $o) (${t}.mul ${A} ${B}))`] },
  { name: "div", body: ({ t }) => [`(v128.store (local.get $o) (${t}.div ${A} ${B}))`] },
  {
    name: "maximum",
    note: "NaN if either is NaN, else x > y ? x : y (so y when x = y, -0 and +0 included).",
    locals: "(local $x v128) (local $y v128)",
    body: extreme("gt"),
  },
  {
    name: "minimum",
    note: "NaN if either is NaN, else x < y ? x : y (so y when x = y, -0 and +0 included).",
    locals: "(local $x v128) (local $y v128)",
    body: extreme("lt"),
  },
  {
    name: "reluBackward",
    note: "a·(b > 0 ? 1 : 0): the mask keeps 1.0 or leaves +0, so a·0 gives -0, NaN for ±Inf, as in JS.",
    body: ({ t, ones, zeros }) => [
      `(v128.store (local.get $o) (${t}.mul ${A}
        (v128.and ${ones} (${t}.gt ${B} ${zeros}))))`,
    ],
  },
];

/**
 * `value` with the quiet bit set in its NaN lanes, for float32: the JS rows read a float32 into a
 * float64 and back, which makes a signalling NaN quiet, so the loops that only move bits (neg, abs,
 * relu) do it too; arithmetic does it anyway. float64 lanes are left as they are, as JS leaves
 * them.
 */
const quieted = ({ suffix }, value) =>
  suffix === "F32"
    ? `(v128.or ${value} (v128.and (f32x4.ne ${value} ${value})
        (v128.const i32x4 0x00400000 0x00400000 0x00400000 0x00400000)))`
    : value;

/** neg or abs: the lane op on the sign bit (`what` it does to it), its result quieted. */
const signBitOp = (name, what) => ({
  name,
  note: `${what} the sign bit; a float32 signalling NaN comes out quiet (see quieted).`,
  locals: "(local $v v128)",
  body: (type) => [
    `(local.set $v (${type.t}.${name} ${P}))`,
    `(v128.store (local.get $p) ${quieted(type, "(local.get $v)")})`,
  ],
});

/** Unary loops, in place on the scratch region at $p. */
export const UNARY = [
  signBitOp("neg", "Flips"),
  signBitOp("abs", "Clears"),
  { name: "sqrt", body: ({ t }) => [`(v128.store (local.get $p) (${t}.sqrt ${P}))`] },
  {
    name: "square",
    locals: "(local $v v128)",
    body: ({ t }) => [
      "(local.set $v (v128.load (local.get $p)))",
      `(v128.store (local.get $p) (${t}.mul (local.get $v) (local.get $v)))`,
    ],
  },
  {
    name: "relu",
    note: "v > 0 or NaN keeps v, else +0 (so relu(-0) = +0): v AND the mask; a float32 signalling NaN comes out quiet.",
    locals: "(local $v v128)",
    body: (type) => [
      "(local.set $v (v128.load (local.get $p)))",
      `(local.set $v (v128.and (local.get $v)
        (v128.or (${type.t}.gt (local.get $v) ${type.zeros}) (${type.t}.ne (local.get $v) (local.get $v)))))`,
      `(v128.store (local.get $p) ${quieted(type, "(local.get $v)")})`,
    ],
  },
  {
    name: "rsqrt",
    note: "1 / sqrt(v); float32 lanes are computed in float64 and rounded once, lanes 0-1 then 2-3.",
    locals: ({ suffix }) => (suffix === "F32" ? "(local $v v128)" : ""),
    body: ({ suffix }) =>
      suffix === "F32"
        ? [
            "(local.set $v (v128.load (local.get $p)))",
            `(v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.div (v128.const f64x2 1 1)
          (f64x2.sqrt (f64x2.promote_low_f32x4 (local.get $v)))))
        (f32x4.demote_f64x2_zero (f64x2.div (v128.const f64x2 1 1)
          (f64x2.sqrt (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))))`,
          ]
        : [
            `(v128.store (local.get $p)
        (f64x2.div (v128.const f64x2 1 1) (f64x2.sqrt ${P})))`,
          ],
  },
];

const HEADER = `;; Generated by scripts/build-wasm.mjs from the table in scripts/elementwise-wat.mjs; do not edit.
;; Elementwise loops in WebAssembly SIMD128 for float32 and float64 (source of
;; elementwise-wasm-module.ts). elementwise-wasm.ts streams chunks of the operands through three
;; scratch regions of this memory and calls these loops.
;;
;; Every loop runs whole vectors from the pointer $o (or $p) up to $end, at least one: the caller
;; rounds the byte count up to 16, so lanes past the last element read scratch left from earlier
;; chunks and write lanes nobody copies out (float ops never trap). Binary loops advance $a and $b
;; by $as and $bs bytes per vector: 16 for a streamed operand, 0 for a scalar stored four (float32)
;; or two (float64) times. Results are the IEEE ops of the JS rows in elementwise.ts, bit for bit:
;; +, -, ·, / and sqrt of float32 values in float64 round to the float32 op; rsqrt is computed in
;; float64 and rounded once, as 1 / Math.sqrt(v) is.
;; NOTE: helpers are written out in every loop: V8 (Node 20) does not inline wasm calls.`;

const NEXT_VECTOR = (pointer) =>
  `(br_if $vectors (i32.lt_u (local.tee ${pointer} (i32.add (local.get ${pointer}) (i32.const 16))) (local.get $end)))))`;

/** One loop: its note, signature, locals, then the body and the pointer steps inside `loop`. */
function loop(op, type, params, steps, pointer) {
  const locals = typeof op.locals === "function" ? op.locals(type) : (op.locals ?? "");
  return [
    ...(op.note ? [`  ;; ${op.note}`] : []),
    `  (func (export "${op.name}${type.suffix}") ${params}`,
    ...(locals ? [`    ${locals}`] : []),
    "    (loop $vectors",
    ...op.body(type).map((line) => `      ${line}`),
    ...steps.map((line) => `      ${line}`),
    `      ${NEXT_VECTOR(pointer)}`,
  ];
}

const BINARY_PARAMS =
  "(param $a i32) (param $as i32) (param $b i32) (param $bs i32)\n    (param $o i32) (param $end i32)";
const BINARY_STEPS = [
  "(local.set $a (i32.add (local.get $a) (local.get $as)))",
  "(local.set $b (i32.add (local.get $b) (local.get $bs)))",
];

/** The text of elementwise.wat: every loop of the table, float32 first, then float64. */
export function elementwiseWat() {
  const lines = [
    HEADER,
    "",
    "(module",
    "  ;; Three 32 KiB scratch regions (see CHUNK_BYTES in elementwise-wasm.ts).",
    '  (memory (export "memory") 2)',
  ];
  for (const type of TYPES) {
    lines.push(
      "",
      `  ;; --- ${type.suffix === "F32" ? "float32" : "float64"}: a op b into o, in place for unary ops on p ---`,
    );
    for (const op of BINARY) lines.push("", ...loop(op, type, BINARY_PARAMS, BINARY_STEPS, "$o"));
    for (const op of UNARY)
      lines.push("", ...loop(op, type, "(param $p i32) (param $end i32)", [], "$p"));
  }
  lines[lines.length - 1] += ")";
  return `${lines.join("\n")}\n`;
}

/** The TypeScript the module file gets beside the bytes: the ops it exports, by kind. */
export function elementwiseOpLists() {
  // Formatted as Biome formats it (100 columns), so the generated file passes \`biome ci\`.
  const list = (ops) => {
    const line = ops.map((op) => `"${op.name}"`).join(", ");
    return line.length <= 60 ? line : `\n${ops.map((op) => `  "${op.name}",`).join("\n")}\n`;
  };
  return `
/** The binary loops of the module, each exported as \`<op>F32\` and \`<op>F64\`. */
export const ELEMENTWISE_BINARY_OPS = [${list(BINARY)}] as const;

/** The unary loops of the module, each exported as \`<op>F32\` and \`<op>F64\`. */
export const ELEMENTWISE_UNARY_OPS = [${list(UNARY)}] as const;
`;
}
