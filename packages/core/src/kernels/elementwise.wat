;; Elementwise loops in WebAssembly SIMD128 for float32 and float64 (source of
;; elementwise-wasm-module.ts; regenerate with `pnpm run build:wasm`). elementwise-wasm.ts streams
;; chunks of the operands through three scratch regions of this memory and calls these loops.
;;
;; Every loop runs whole vectors from the pointer $o (or $p) up to $end, at least one: the caller
;; rounds the byte count up to 16, so lanes past the last element read scratch left from earlier
;; chunks and write lanes nobody copies out (float ops never trap). Binary loops advance $a and $b
;; by $as and $bs bytes per vector: 16 for a streamed operand, 0 for a scalar stored four (float32)
;; or two (float64) times. Results are the IEEE ops of the JS rows in elementwise.ts, bit for bit:
;; +, -, ·, / and sqrt of float32 values in float64 round to the float32 op; rsqrt is computed in
;; float64 and rounded once, as 1 / Math.sqrt(v) is.
;; NOTE: helpers are written out in every loop: V8 (Node 20) does not inline wasm calls.

(module
  ;; Three 32 KiB scratch regions (see CHUNK_BYTES in elementwise-wasm.ts).
  (memory (export "memory") 2)

  ;; --- float32: a op b into o, in place for unary ops on p ---

  (func (export "addF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "subF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "mulF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "divF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f32x4.div (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; NaN if either is NaN, else x > y ? x : y (so y when x = y, -0 and +0 included).
  (func (export "maximumF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (local $x v128) (local $y v128)
    (loop $vectors
      (local.set $x (v128.load (local.get $a)))
      (local.set $y (v128.load (local.get $b)))
      (v128.store (local.get $o) (v128.bitselect
        (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
        (v128.bitselect (local.get $x) (local.get $y) (f32x4.gt (local.get $x) (local.get $y)))
        (v128.or (f32x4.ne (local.get $x) (local.get $x)) (f32x4.ne (local.get $y) (local.get $y)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; NaN if either is NaN, else x < y ? x : y (so y when x = y, -0 and +0 included).
  (func (export "minimumF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (local $x v128) (local $y v128)
    (loop $vectors
      (local.set $x (v128.load (local.get $a)))
      (local.set $y (v128.load (local.get $b)))
      (v128.store (local.get $o) (v128.bitselect
        (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
        (v128.bitselect (local.get $x) (local.get $y) (f32x4.lt (local.get $x) (local.get $y)))
        (v128.or (f32x4.ne (local.get $x) (local.get $x)) (f32x4.ne (local.get $y) (local.get $y)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; a·(b > 0 ? 1 : 0): the mask keeps 1.0 or leaves +0, so a·0 gives -0, NaN for ±Inf, as in JS.
  (func (export "reluBackwardF32") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f32x4.mul (v128.load (local.get $a))
        (v128.and (v128.const f32x4 1 1 1 1) (f32x4.gt (v128.load (local.get $b)) (v128.const f32x4 0 0 0 0)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "negF32") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f32x4.neg (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "absF32") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f32x4.abs (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "sqrtF32") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f32x4.sqrt (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "squareF32") (param $p i32) (param $end i32)
    (local $v v128)
    (loop $vectors
      (local.set $v (v128.load (local.get $p)))
      (v128.store (local.get $p) (f32x4.mul (local.get $v) (local.get $v)))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  ;; v > 0 or NaN keeps v, else +0 (so relu(-0) = +0): v AND the mask.
  (func (export "reluF32") (param $p i32) (param $end i32)
    (local $v v128)
    (loop $vectors
      (local.set $v (v128.load (local.get $p)))
      (v128.store (local.get $p) (v128.and (local.get $v)
        (v128.or (f32x4.gt (local.get $v) (v128.const f32x4 0 0 0 0)) (f32x4.ne (local.get $v) (local.get $v)))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  ;; 1 / sqrt(v) in float64, rounded once to float32, lanes 0-1 then 2-3.
  (func (export "rsqrtF32") (param $p i32) (param $end i32)
    (local $v v128)
    (loop $vectors
      (local.set $v (v128.load (local.get $p)))
      (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.div (v128.const f64x2 1 1)
          (f64x2.sqrt (f64x2.promote_low_f32x4 (local.get $v)))))
        (f32x4.demote_f64x2_zero (f64x2.div (v128.const f64x2 1 1)
          (f64x2.sqrt (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  ;; --- float64: a op b into o, in place for unary ops on p ---

  (func (export "addF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f64x2.add (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "subF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f64x2.sub (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "mulF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f64x2.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "divF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f64x2.div (v128.load (local.get $a)) (v128.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; NaN if either is NaN, else x > y ? x : y (so y when x = y, -0 and +0 included).
  (func (export "maximumF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (local $x v128) (local $y v128)
    (loop $vectors
      (local.set $x (v128.load (local.get $a)))
      (local.set $y (v128.load (local.get $b)))
      (v128.store (local.get $o) (v128.bitselect
        (v128.const i64x2 0x7ff8000000000000 0x7ff8000000000000)
        (v128.bitselect (local.get $x) (local.get $y) (f64x2.gt (local.get $x) (local.get $y)))
        (v128.or (f64x2.ne (local.get $x) (local.get $x)) (f64x2.ne (local.get $y) (local.get $y)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; NaN if either is NaN, else x < y ? x : y (so y when x = y, -0 and +0 included).
  (func (export "minimumF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (local $x v128) (local $y v128)
    (loop $vectors
      (local.set $x (v128.load (local.get $a)))
      (local.set $y (v128.load (local.get $b)))
      (v128.store (local.get $o) (v128.bitselect
        (v128.const i64x2 0x7ff8000000000000 0x7ff8000000000000)
        (v128.bitselect (local.get $x) (local.get $y) (f64x2.lt (local.get $x) (local.get $y)))
        (v128.or (f64x2.ne (local.get $x) (local.get $x)) (f64x2.ne (local.get $y) (local.get $y)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  ;; a·(b > 0 ? 1 : 0): the mask keeps 1.0 or leaves +0, so a·0 gives -0, NaN for ±Inf, as in JS.
  (func (export "reluBackwardF64") (param $a i32) (param $as i32) (param $b i32) (param $bs i32)
    (param $o i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $o) (f64x2.mul (v128.load (local.get $a))
        (v128.and (v128.const f64x2 1 1) (f64x2.gt (v128.load (local.get $b)) (v128.const f64x2 0 0)))))
      (local.set $a (i32.add (local.get $a) (local.get $as)))
      (local.set $b (i32.add (local.get $b) (local.get $bs)))
      (br_if $vectors (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 16))) (local.get $end)))))

  (func (export "negF64") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f64x2.neg (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "absF64") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f64x2.abs (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "sqrtF64") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p) (f64x2.sqrt (v128.load (local.get $p))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "squareF64") (param $p i32) (param $end i32)
    (local $v v128)
    (loop $vectors
      (local.set $v (v128.load (local.get $p)))
      (v128.store (local.get $p) (f64x2.mul (local.get $v) (local.get $v)))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  ;; v > 0 or NaN keeps v, else +0 (so relu(-0) = +0): v AND the mask.
  (func (export "reluF64") (param $p i32) (param $end i32)
    (local $v v128)
    (loop $vectors
      (local.set $v (v128.load (local.get $p)))
      (v128.store (local.get $p) (v128.and (local.get $v)
        (v128.or (f64x2.gt (local.get $v) (v128.const f64x2 0 0)) (f64x2.ne (local.get $v) (local.get $v)))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))

  (func (export "rsqrtF64") (param $p i32) (param $end i32)
    (loop $vectors
      (v128.store (local.get $p)
        (f64x2.div (v128.const f64x2 1 1) (f64x2.sqrt (v128.load (local.get $p)))))
      (br_if $vectors (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))))
