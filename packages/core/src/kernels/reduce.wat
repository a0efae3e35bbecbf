;; Sums, squared deviations and maxima of row-major [rows, cols] blocks in WebAssembly SIMD128,
;; float32 or float64 data. Source of reduce-wasm-module.ts (regenerate with `pnpm run
;; build:wasm`); reduce-wasm.ts streams chunks of rows through the module's memory.
;;
;; Every result keeps the JS kernels' order, so results are bit-identical to them: column passes
;; put neighbouring columns in the lanes and add each column's rows in order 0..rows-1; row passes
;; put 2-4 neighbouring rows in the lanes and add each row's elements in order. Sums accumulate
;; in float64 (float32 values are promoted first); the running sums/maxima live in memory at
;; `acc` (float64, or the data's type for maxima), so a caller can continue them chunk by chunk.
;; NOTE: lane moves are written out in every loop: V8 (Node 20) does not inline wasm calls.

(module
  ;; 4 pages = 256 KB: reduce-wasm.ts places its chunk, sums and means there, so it never grows.
  (memory (export "memory") 4)

  ;; acc[j] += Σ_i x[i, j] (mode 0) or Σ_i (x[i, j] - mean[j])² (mode 1), float32 x.
  (func (export "columnsF32") (param $x i32) (param $rows i32) (param $cols i32) (param $mean i32)
    (param $acc i32) (param $mode i32)
    (local $j i32) (local $j8 i32) (local $p i32) (local $end i32) (local $stride i32)
    (local $a i32) (local $m i32) (local $v v128) (local $d v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $s f64) (local $e f64) (local $mu f64)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $j8 (i32.and (local.get $cols) (i32.const -8)))
    ;; Eight columns at a time: four float64x2 sums stay in registers over all rows.
    (block $done8 (loop $eights
      (br_if $done8 (i32.ge_u (local.get $j) (local.get $j8)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $m (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $s0 (v128.load offset=0 (local.get $a)))
      (local.set $s1 (v128.load offset=16 (local.get $a)))
      (local.set $s2 (v128.load offset=32 (local.get $a)))
      (local.set $s3 (v128.load offset=48 (local.get $a)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $end (i32.add (local.get $p) (i32.mul (local.get $rows) (local.get $stride))))
      (if (local.get $mode)
        (then
          (local.set $m0 (v128.load offset=0 (local.get $m)))
          (local.set $m1 (v128.load offset=16 (local.get $m)))
          (local.set $m2 (v128.load offset=32 (local.get $m)))
          (local.set $m3 (v128.load offset=48 (local.get $m)))
          (block $done (loop $rowsLoop
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load offset=0 (local.get $p)))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m0)))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
              (local.get $m1)))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $v (v128.load offset=16 (local.get $p)))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m2)))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
              (local.get $m3)))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (br $rowsLoop))))
        (else
          (block $done (loop $rowsLoop
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load offset=0 (local.get $p)))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $v (v128.load offset=16 (local.get $p)))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.promote_low_f32x4 (local.get $v))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (br $rowsLoop)))))
      (v128.store offset=0 (local.get $a) (local.get $s0))
      (v128.store offset=16 (local.get $a) (local.get $s1))
      (v128.store offset=32 (local.get $a) (local.get $s2))
      (v128.store offset=48 (local.get $a) (local.get $s3))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $eights)))
    ;; The last cols % 8 columns one at a time.
    (block $done1 (loop $ones
      (br_if $done1 (i32.ge_u (local.get $j) (local.get $cols)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $s (f64.load (local.get $a)))
      (local.set $mu (f64.load (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 3)))))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $end (i32.add (local.get $p) (i32.mul (local.get $rows) (local.get $stride))))
      (block $done (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (if (local.get $mode)
          (then
            (local.set $e (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $mu)))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $e)))))
          (else (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowsLoop)))
      (f64.store (local.get $a) (local.get $s))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $ones))))

  ;; The float64 twin of columnsF32.
  (func (export "columnsF64") (param $x i32) (param $rows i32) (param $cols i32) (param $mean i32)
    (param $acc i32) (param $mode i32)
    (local $j i32) (local $j8 i32) (local $p i32) (local $end i32) (local $stride i32)
    (local $a i32) (local $m i32) (local $d v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $s f64) (local $e f64) (local $mu f64)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 3)))
    (local.set $j8 (i32.and (local.get $cols) (i32.const -8)))
    (block $done8 (loop $eights
      (br_if $done8 (i32.ge_u (local.get $j) (local.get $j8)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $m (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $s0 (v128.load offset=0 (local.get $a)))
      (local.set $s1 (v128.load offset=16 (local.get $a)))
      (local.set $s2 (v128.load offset=32 (local.get $a)))
      (local.set $s3 (v128.load offset=48 (local.get $a)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $end (i32.add (local.get $p) (i32.mul (local.get $rows) (local.get $stride))))
      (if (local.get $mode)
        (then
          (local.set $m0 (v128.load offset=0 (local.get $m)))
          (local.set $m1 (v128.load offset=16 (local.get $m)))
          (local.set $m2 (v128.load offset=32 (local.get $m)))
          (local.set $m3 (v128.load offset=48 (local.get $m)))
          (block $done (loop $rowsLoop
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $d (f64x2.sub (v128.load offset=0 (local.get $p)) (local.get $m0)))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (v128.load offset=16 (local.get $p)) (local.get $m1)))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (v128.load offset=32 (local.get $p)) (local.get $m2)))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (v128.load offset=48 (local.get $p)) (local.get $m3)))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (br $rowsLoop))))
        (else
          (block $done (loop $rowsLoop
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $s0 (f64x2.add (local.get $s0) (v128.load offset=0 (local.get $p))))
            (local.set $s1 (f64x2.add (local.get $s1) (v128.load offset=16 (local.get $p))))
            (local.set $s2 (f64x2.add (local.get $s2) (v128.load offset=32 (local.get $p))))
            (local.set $s3 (f64x2.add (local.get $s3) (v128.load offset=48 (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (br $rowsLoop)))))
      (v128.store offset=0 (local.get $a) (local.get $s0))
      (v128.store offset=16 (local.get $a) (local.get $s1))
      (v128.store offset=32 (local.get $a) (local.get $s2))
      (v128.store offset=48 (local.get $a) (local.get $s3))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $eights)))
    (block $done1 (loop $ones
      (br_if $done1 (i32.ge_u (local.get $j) (local.get $cols)))
      (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $s (f64.load (local.get $a)))
      (local.set $mu (f64.load (i32.add (local.get $mean) (i32.shl (local.get $j) (i32.const 3)))))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $end (i32.add (local.get $p) (i32.mul (local.get $rows) (local.get $stride))))
      (block $done (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (if (local.get $mode)
          (then
            (local.set $e (f64.sub (f64.load (local.get $p)) (local.get $mu)))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $e)))))
          (else (local.set $s (f64.add (local.get $s) (f64.load (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowsLoop)))
      (f64.store (local.get $a) (local.get $s))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $ones))))
)
