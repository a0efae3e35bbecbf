// The convolution's loops in WebAssembly: im2col (below), the columns matrix of input patches
// written where the GEMM reads it; col2im, its adjoint, adding every entry of a columns matrix
// back onto the input element it was read from (the input gradient); and the forward's bias added
// to each output channel's row of the product (addRowBias, below). build-wasm.mjs
// writes src/kernels/conv.wat from `convWat()` (float32 and float64 from one template) and
// assembles it; the module works on the memory it is given, the GEMM's, where the columns are.
//
// col2im{F32,F64}(cols, rowBytes, dx, channels, kh, kw, tab, outW, inW, planeBytes, strideH,
// strideW), all offsets in bytes: row r = (c·kh + i)·kw + j of the columns (at cols + r·rowBytes,
// one value per output position oh·outW + ow) is added onto channel c's plane of dx (at dx +
// c·planeBytes) at input row oh·strideH + rowOffset_i and column ow·strideW + shift_j, for the
// valid output rows [ohFirst_i, ohEnd_i) and columns [lo_j, hi_j) only. `tab` holds those as i32:
// kh triples (ohFirst, ohEnd, rowOffset), then kw triples (lo, hi, shift); conv-wasm.ts computes
// them as conv.ts's loop does. The loops run in conv.ts's order (c, i, j, oh, ow), so every
// element receives its additions in the same order: the same bits as the JS loop. With stride 1,
// the columns of one output row go to consecutive elements, four (or two) per vector. (Where two
// NaNs of different payloads meet, which survives is left open: in the JS loop it depends on how
// V8 compiled it.)

/** The lane types: scalar and vector instruction prefixes, element size and lanes per vector. */
const TYPES = [
  { suffix: "F32", s: "f32", v: "f32x4", size: 4, lanes: 4 },
  { suffix: "F64", s: "f64", v: "f64x2", size: 8, lanes: 2 },
];

const get = (name) => `(local.get $${name})`;
const i32 = (n) => `(i32.const ${n})`;
/** The i32 at tab + index·4. */
const entry = (base, index) => `(i32.load offset=${index * 4} ${base})`;

/**
 * The loops of col2im and im2col over channel c, kernel row i and kernel column j: sets $plane
 * (channel c's plane of the planes at the `planes` parameter), $ohFirst, $ohEnd and $rowOffset
 * (kernel row i's table entry), $lo, $hi and $shift (kernel column j's), runs `body` for the
 * columns row at $row, and moves $row on by $rowBytes.
 */
function patchLoops(planes, body) {
  return `(local.set $row ${get("cols")})
    (block $channelsDone (loop $channelLoop
      (br_if $channelsDone (i32.ge_u ${get("c")} ${get("channels")}))
      (local.set $plane (i32.add ${get(planes)} (i32.mul ${get("c")} ${get("planeBytes")})))
      (local.set $i ${i32(0)})
      (block $rowsDone (loop $rowLoop
        (br_if $rowsDone (i32.ge_u ${get("i")} ${get("kh")}))
        (local.set $rowTab (i32.add ${get("tab")} (i32.mul ${get("i")} ${i32(12)})))
        (local.set $ohFirst ${entry(get("rowTab"), 0)})
        (local.set $ohEnd ${entry(get("rowTab"), 1)})
        (local.set $rowOffset ${entry(get("rowTab"), 2)})
        (local.set $j ${i32(0)})
        (block $colsDone (loop $colLoop
          (br_if $colsDone (i32.ge_u ${get("j")} ${get("kw")}))
          (local.set $colTab (i32.add ${get("tab")}
            (i32.mul (i32.add ${get("kh")} ${get("j")}) ${i32(12)})))
          (local.set $lo ${entry(get("colTab"), 0)})
          (local.set $hi ${entry(get("colTab"), 1)})
          (local.set $shift ${entry(get("colTab"), 2)})
${body}
          (local.set $row (i32.add ${get("row")} ${get("rowBytes")}))
          (local.set $j (i32.add ${get("j")} ${i32(1)}))
          (br $colLoop)))
        (local.set $i (i32.add ${get("i")} ${i32(1)}))
        (br $rowLoop)))
      (local.set $c (i32.add ${get("c")} ${i32(1)}))
      (br $channelLoop)))`;
}

function col2im({ suffix, s, v, size, lanes }) {
  const at = (base, index) => `(i32.add ${get(base)} (i32.mul ${index} ${i32(size)}))`;
  return `
  (func (export "col2im${suffix}") (param $cols i32) (param $rowBytes i32) (param $dx i32)
    (param $channels i32) (param $kh i32) (param $kw i32) (param $tab i32) (param $outW i32)
    (param $inW i32) (param $planeBytes i32) (param $strideH i32) (param $strideW i32)
    (local $c i32) (local $i i32) (local $j i32) (local $oh i32) (local $ow i32)
    (local $plane i32) (local $row i32) (local $rowTab i32) (local $colTab i32)
    (local $ohFirst i32) (local $ohEnd i32) (local $rowOffset i32) (local $lo i32) (local $hi i32)
    (local $shift i32) (local $src i32) (local $dst i32) (local $p i32) (local $q i32)
    ${patchLoops(
      "dx",
      `          (local.set $oh ${get("ohFirst")})
          (block $outRowsDone (loop $outRowLoop
            (br_if $outRowsDone (i32.ge_s ${get("oh")} ${get("ohEnd")}))
            ;; src: this output row's columns; dst: input element (row, 0 + shift), which may lie
            ;; before the plane when shift < 0 (only columns ow >= lo, inside it, are touched).
            (local.set $src ${at("row", `(i32.mul ${get("oh")} ${get("outW")})`)})
            (local.set $dst ${at("plane", `(i32.add (i32.mul (i32.add (i32.mul ${get("oh")} ${get("strideH")}) ${get("rowOffset")}) ${get("inW")}) ${get("shift")})`)})
            (local.set $ow ${get("lo")})
            (if (i32.eq ${get("strideW")} ${i32(1)})
              (then
                (block $vectorsDone (loop $vectorLoop
                  (br_if $vectorsDone (i32.gt_s (i32.add ${get("ow")} ${i32(lanes)}) ${get("hi")}))
                  (local.set $p ${at("dst", get("ow"))})
                  (v128.store ${get("p")} (${v}.add (v128.load ${at("src", get("ow"))}) (v128.load ${get("p")})))
                  (local.set $ow (i32.add ${get("ow")} ${i32(lanes)}))
                  (br $vectorLoop)))
                (block $tailDone (loop $tailLoop
                  (br_if $tailDone (i32.ge_s ${get("ow")} ${get("hi")}))
                  (local.set $p ${at("dst", get("ow"))})
                  (${s}.store ${get("p")} (${s}.add (${s}.load ${at("src", get("ow"))}) (${s}.load ${get("p")})))
                  (local.set $ow (i32.add ${get("ow")} ${i32(1)}))
                  (br $tailLoop))))
              (else
                (block $stridedDone (loop $stridedLoop
                  (br_if $stridedDone (i32.ge_s ${get("ow")} ${get("hi")}))
                  (local.set $q ${at("dst", `(i32.mul ${get("ow")} ${get("strideW")})`)})
                  (${s}.store ${get("q")} (${s}.add (${s}.load ${at("src", get("ow"))}) (${s}.load ${get("q")})))
                  (local.set $ow (i32.add ${get("ow")} ${i32(1)}))
                  (br $stridedLoop)))))
            (local.set $oh (i32.add ${get("oh")} ${i32(1)}))
            (br $outRowLoop)))`,
    )})
`;
}

/**
 * addRowBias{F32,F64}(c, rowBytes, rows, cols, bias): row r of the matrix at c (rows rowBytes
 * apart) gets bias[r] added to each of its first `cols` values, skipped where bias[r] is ±0 as
 * conv.ts's JS loop skips it (adding +0 would turn a -0 into +0).
 */
function addRowBias({ suffix, s, v, size, lanes }) {
  const at = (index) => `(i32.add ${get("p")} (i32.mul ${index} ${i32(size)}))`;
  return `
  (func (export "addRowBias${suffix}") (param $c i32) (param $rowBytes i32) (param $rows i32)
    (param $cols i32) (param $bias i32)
    (local $r i32) (local $e i32) (local $p i32) (local $b ${s}) (local $splat v128)
    (block $rowsDone (loop $rowLoop
      (br_if $rowsDone (i32.ge_u ${get("r")} ${get("rows")}))
      (local.set $b (${s}.load (i32.add ${get("bias")} (i32.mul ${get("r")} ${i32(size)}))))
      (if (${s}.ne ${get("b")} (${s}.const 0))
        (then
          (local.set $splat (${v}.splat ${get("b")}))
          (local.set $p (i32.add ${get("c")} (i32.mul ${get("r")} ${get("rowBytes")})))
          (local.set $e ${i32(0)})
          (block $vectorsDone (loop $vectorLoop
            (br_if $vectorsDone (i32.gt_s (i32.add ${get("e")} ${i32(lanes)}) ${get("cols")}))
            (v128.store ${at(get("e"))} (${v}.add ${get("splat")} (v128.load ${at(get("e"))})))
            (local.set $e (i32.add ${get("e")} ${i32(lanes)}))
            (br $vectorLoop)))
          (block $tailDone (loop $tailLoop
            (br_if $tailDone (i32.ge_s ${get("e")} ${get("cols")}))
            (${s}.store ${at(get("e"))} (${s}.add ${get("b")} (${s}.load ${at(get("e"))})))
            (local.set $e (i32.add ${get("e")} ${i32(1)}))
            (br $tailLoop)))))
      (local.set $r (i32.add ${get("r")} ${i32(1)}))
      (br $rowLoop))))
`;
}

/** Inline loops (V8 does not inline calls between wasm functions; a call per row cost 2x). */
let labels = 0;

/**
 * Zeroes the bytes [from, to), a multiple of 4 apart (16 at a time, then 4); uses $zp, $ze.
 * Addresses compare unsigned: memory may pass 2 GiB.
 */
function zeroBytes(from, to) {
  const n = labels++;
  return `(local.set $zp ${from})
            (local.set $ze ${to})
            (block $zv${n} (loop $zvl${n}
              (br_if $zv${n} (i32.gt_u (i32.add ${get("zp")} ${i32(16)}) ${get("ze")}))
              (v128.store ${get("zp")} (v128.const i64x2 0 0))
              (local.set $zp (i32.add ${get("zp")} ${i32(16)}))
              (br $zvl${n})))
            (block $zw${n} (loop $zwl${n}
              (br_if $zw${n} (i32.ge_u ${get("zp")} ${get("ze")}))
              (i32.store ${get("zp")} ${i32(0)})
              (local.set $zp (i32.add ${get("zp")} ${i32(4)}))
              (br $zwl${n})))`;
}

/** Copies `bytes` (a multiple of 4) from src to dst, not overlapping; uses $cd, $cs, $ce. */
function copyBytes(dst, src, bytes) {
  const n = labels++;
  return `(local.set $cd ${dst})
            (local.set $cs ${src})
            (local.set $ce (i32.add ${get("cd")} ${bytes}))
            (block $cv${n} (loop $cvl${n}
              (br_if $cv${n} (i32.gt_u (i32.add ${get("cd")} ${i32(16)}) ${get("ce")}))
              (v128.store ${get("cd")} (v128.load ${get("cs")}))
              (local.set $cd (i32.add ${get("cd")} ${i32(16)}))
              (local.set $cs (i32.add ${get("cs")} ${i32(16)}))
              (br $cvl${n})))
            (block $cw${n} (loop $cwl${n}
              (br_if $cw${n} (i32.ge_u ${get("cd")} ${get("ce")}))
              (i32.store ${get("cd")} (i32.load ${get("cs")}))
              (local.set $cd (i32.add ${get("cd")} ${i32(4)}))
              (local.set $cs (i32.add ${get("cs")} ${i32(4)}))
              (br $cwl${n})))`;
}

/**
 * im2col(x, cols, rowBytes, channels, kh, kw, tab, outH, outW, inW, planeBytes, strideH,
 * strideW, size): the columns matrix of one image, row r = (c·kh + i)·kw + j at cols + r·rowBytes,
 * from the planes at x (channel c at x + c·planeBytes) with the table col2im reads: each output
 * position (oh, ow) gets the input element (oh·strideH + rowOffset_i, ow·strideW + shift_j), or
 * +0 where that lies in the padding. Values are copied as bits (any dtype: `size` is 4 or 8), as
 * conv.ts's block copy does. With stride 1 and rows as long as the input's (size-keeping
 * padding), the valid output rows read one run of the input: copied in one block, then the
 * columns outside [lo, hi), which that block filled with the neighbouring rows' ends, are zeroed,
 * as conv.ts's copyShifted does.
 */
function im2col() {
  const bytes = (index) => `(i32.mul ${index} ${get("size")})`;
  const outRow = (oh) => `(i32.add ${get("row")} (i32.mul ${oh} ${get("outRowBytes")}))`;
  return `
  (func (export "im2col") (param $x i32) (param $cols i32) (param $rowBytes i32)
    (param $channels i32) (param $kh i32) (param $kw i32) (param $tab i32) (param $outH i32)
    (param $outW i32) (param $inW i32) (param $planeBytes i32) (param $strideH i32)
    (param $strideW i32) (param $size i32)
    (local $c i32) (local $i i32) (local $j i32) (local $oh i32) (local $ow i32)
    (local $plane i32) (local $row i32) (local $rowTab i32) (local $colTab i32)
    (local $ohFirst i32) (local $ohEnd i32) (local $rowOffset i32) (local $lo i32) (local $hi i32)
    (local $shift i32) (local $src i32) (local $dst i32) (local $outRowBytes i32)
    (local $sameRows i32) (local $zp i32) (local $ze i32) (local $cd i32) (local $cs i32)
    (local $ce i32)
    (local.set $outRowBytes ${bytes(get("outW"))})
    (local.set $sameRows (i32.and (i32.and (i32.eq ${get("strideH")} ${i32(1)})
      (i32.eq ${get("strideW")} ${i32(1)})) (i32.eq ${get("outW")} ${get("inW")})))
    ${patchLoops(
      "x",
      `          ;; Output rows whose input row is in the padding: zeros.
          ${zeroBytes(get("row"), outRow(get("ohFirst")))}
          ${zeroBytes(outRow(get("ohEnd")), outRow(get("outH")))}
          ;; The input element of output row ohFirst, column 0 (before the plane when shift < 0:
          ;; only columns ow >= lo, inside it, are read).
          (local.set $src (i32.add ${get("plane")} ${bytes(`(i32.add (i32.mul (i32.add (i32.mul ${get("ohFirst")} ${get("strideH")}) ${get("rowOffset")}) ${get("inW")}) ${get("shift")})`)}))
          (if (i32.and ${get("sameRows")} (i32.lt_s ${get("ohFirst")} ${get("ohEnd")}))
            (then
              ;; Rows [ohFirst, ohEnd) from one run of the input, columns lo of the first row to
              ;; hi of the last (lo < hi: else the columns outside are all there is).
              (if (i32.lt_s ${get("lo")} ${get("hi")})
                (then
                  (local.set $dst (i32.add ${outRow(get("ohFirst"))} ${bytes(get("lo"))}))
                  ${copyBytes(get("dst"), `(i32.add ${get("src")} ${bytes(get("lo"))})`, `(i32.sub (i32.add ${outRow(`(i32.sub ${get("ohEnd")} ${i32(1)})`)} ${bytes(get("hi"))}) ${get("dst")})`)}))
              (local.set $oh ${get("ohFirst")})
              (block $edgesDone (loop $edgeLoop
                (br_if $edgesDone (i32.ge_s ${get("oh")} ${get("ohEnd")}))
                (local.set $dst ${outRow(get("oh"))})
                ${zeroBytes(get("dst"), `(i32.add ${get("dst")} ${bytes(get("lo"))})`)}
                ${zeroBytes(`(i32.add ${get("dst")} ${bytes(`(select ${get("hi")} ${get("lo")} (i32.gt_s ${get("hi")} ${get("lo")}))`)})`, `(i32.add ${get("dst")} ${get("outRowBytes")})`)}
                (local.set $oh (i32.add ${get("oh")} ${i32(1)}))
                (br $edgeLoop))))
            (else
              (local.set $oh ${get("ohFirst")})
              (block $outRowsDone (loop $outRowLoop
                (br_if $outRowsDone (i32.ge_s ${get("oh")} ${get("ohEnd")}))
                (local.set $dst ${outRow(get("oh"))})
                ${zeroBytes(get("dst"), `(i32.add ${get("dst")} ${bytes(get("lo"))})`)}
                (if (i32.eq ${get("strideW")} ${i32(1)})
                  (then
                    ${copyBytes(`(i32.add ${get("dst")} ${bytes(get("lo"))})`, `(i32.add ${get("src")} ${bytes(get("lo"))})`, bytes(`(i32.sub ${get("hi")} ${get("lo")})`))})
                  (else
                    (local.set $ow ${get("lo")})
                    (block $stridedDone (loop $stridedLoop
                      (br_if $stridedDone (i32.ge_s ${get("ow")} ${get("hi")}))
                      ${copyBytes(`(i32.add ${get("dst")} ${bytes(get("ow"))})`, `(i32.add ${get("src")} ${bytes(`(i32.mul ${get("ow")} ${get("strideW")})`)})`, get("size"))}
                      (local.set $ow (i32.add ${get("ow")} ${i32(1)}))
                      (br $stridedLoop)))))
                ${zeroBytes(`(i32.add ${get("dst")} ${bytes(`(select ${get("hi")} ${get("lo")} (i32.gt_s ${get("hi")} ${get("lo")}))`)})`, `(i32.add ${get("dst")} ${get("outRowBytes")})`)}
                (local.set $src (i32.add ${get("src")} ${bytes(`(i32.mul ${get("strideH")} ${get("inW")})`)}))
                (local.set $oh (i32.add ${get("oh")} ${i32(1)}))
                (br $outRowLoop)))))`,
    )})
`;
}

/**
 * channelsOut(src, rowBytes, dst, channels, count, positions, size): a product's rows (channel c
 * of `count` images side by side, rows rowBytes apart) rearranged into images: channel c of image
 * i (positions values) to dst + (i·channels + c)·positions·size, as conv.ts's moveChannels lays
 * them out in the output. Copied as bits.
 */
function channelsOut() {
  const runBytes = `(i32.mul ${get("positions")} ${get("size")})`;
  return `
  (func (export "channelsOut") (param $src i32) (param $rowBytes i32) (param $dst i32)
    (param $channels i32) (param $count i32) (param $positions i32) (param $size i32)
    (local $c i32) (local $i i32) (local $run i32) (local $cd i32) (local $cs i32) (local $ce i32)
    (local.set $run ${runBytes})
    (block $channelsDone (loop $channelLoop
      (br_if $channelsDone (i32.ge_u ${get("c")} ${get("channels")}))
      (local.set $i ${i32(0)})
      (block $imagesDone (loop $imageLoop
        (br_if $imagesDone (i32.ge_u ${get("i")} ${get("count")}))
        ${copyBytes(`(i32.add ${get("dst")} (i32.mul (i32.add (i32.mul ${get("i")} ${get("channels")}) ${get("c")}) ${get("run")}))`, `(i32.add (i32.add ${get("src")} (i32.mul ${get("c")} ${get("rowBytes")})) (i32.mul ${get("i")} ${get("run")}))`, get("run"))}
        (local.set $i (i32.add ${get("i")} ${i32(1)}))
        (br $imageLoop)))
      (local.set $c (i32.add ${get("c")} ${i32(1)}))
      (br $channelLoop))))
`;
}

/** The text of conv.wat. */
export function convWat() {
  labels = 0;
  return `;; Generated by scripts/conv-wat.mjs (see there); do not edit. Regenerate with \`npm run build:wasm\`.
(module
  (import "env" "memory" (memory 1))
${TYPES.map(col2im).join("")}${TYPES.map(addRowBias).join("")}${im2col()}${channelsOut()})
`;
}
