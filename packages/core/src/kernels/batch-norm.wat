;; Training-mode BatchNorm loops in WebAssembly SIMD128 over float32 data laid out [n, c, s]
;; (s = 1 for [N, C]), with float64 per-channel arrays. Source of batch-norm-wasm-module.ts
;; (regenerate with `pnpm run build:wasm`); batch-norm-wasm.ts streams chunks of the data through
;; the module's memory and calls these loops once per chunk.
;;
;; A chunk is `n` contiguous units: rows of c values when s = 1 (`ch` unused), runs of s values
;; of one channel when s > 1 (the first of channel `ch`, the channel index wrapping at c). Sums
;; accumulate into float64 arrays that stay in memory across chunks, so chunking changes no result.
;;
;; Every element is promoted to float64, combined with its channel's float64 factors and rounded
;; once on store, the same arithmetic as the JS kernels. With s = 1 the rows go in groups of up to
;; 8: each block of four channels walks down the group with its sums and factors in registers,
;; then stores the sums, so each channel's sums still run over rows in order and [N, C] results
;; are bit-identical to the JS kernels. Why 8: rows 4 KB apart (c = 1024) all fall into one L1
;; set, which holds 8 lines, so walking more rows misses L1 on every load (3-5x slower); walking
;; rows one at a time reloads every sum and factor per row (1.5-1.8x slower). Measured on the
;; [4096, 1024] benchmark case against both, and against padding rows off 4 KB, which needed one
;; copy per row into the module and cost more than the loops. With s > 1 four consecutive values
;; of a run are summed in two float64x2 accumulators (a different summation order, same
;; precision). All pointers are byte offsets; a channel's float64 ch sits at ptr + 8·ch.

(module
  (memory (export "memory") 1)

  ;; NOTE: the helpers for the high lanes and the join are written out in every loop: V8 (Node
  ;; 20) does not inline wasm calls, and one call per vector made the loops 5x slower.
  ;; High half of a float32x4 v as float64x2: promote_low of (shuffle 8..15 0..7 v v).
  ;; Two float64x2 halves back to one float32x4: shuffle 0..7 16..23 of the two demotions.

  ;; Sum of the two lanes of a float64x2.
  (func $hsum (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; Per channel, acc[ch] += Σ x (mode 0) or acc[ch] += Σ (x - mean[ch])² (mode 1): the two
  ;; passes of the statistics.
  (func (export "channelSumsF32") (param $x i32) (param $n i32) (param $c i32) (param $s i32)
    (param $ch i32) (param $mean i32) (param $acc i32) (param $mode i32)
    (local $rest i32) (local $a i32) (local $p i32) (local $m i32) (local $end i32) (local $end4 i32)
    (local $stride i32)
    (local $v v128) (local $lo v128) (local $hi v128) (local $a0 v128) (local $a1 v128)
    (local $mu v128) (local $mu1 v128) (local $d f64) (local $t f64)
    (if (i32.eq (local.get $s) (i32.const 1))
      (then
        ;; Groups of up to 8 rows, c values apart (see the note at the top).
        (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
        (local.set $rest (local.get $n))
        (loop $groups
          (local.set $n (select (i32.const 8) (local.get $rest) (i32.gt_u (local.get $rest) (i32.const 8))))
          (local.set $ch (i32.const 0))
          (loop $blocks
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 3))))
            (local.set $m (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))
            (local.set $a (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $end (i32.add (local.get $a) (i32.mul (local.get $n) (local.get $stride))))
            (if (i32.le_u (i32.add (local.get $ch) (i32.const 4)) (local.get $c))
              (then
                (local.set $a0 (v128.load (local.get $p)))
                (local.set $a1 (v128.load offset=16 (local.get $p)))
                (local.set $mu (v128.load (local.get $m)))
                (local.set $mu1 (v128.load offset=16 (local.get $m)))
                (if (local.get $mode)
                  (then
                    (loop $squares
                      (local.set $v (v128.load (local.get $a)))
                      (local.set $lo (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu)))
                      (local.set $hi (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu1)))
                      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $lo) (local.get $lo))))
                      (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $hi) (local.get $hi))))
                      (local.set $a (i32.add (local.get $a) (local.get $stride)))
                      (br_if $squares (i32.lt_u (local.get $a) (local.get $end)))))
                  (else
                    (loop $values
                      (local.set $v (v128.load (local.get $a)))
                      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $v))))
                      (local.set $a1 (f64x2.add (local.get $a1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
                      (local.set $a (i32.add (local.get $a) (local.get $stride)))
                      (br_if $values (i32.lt_u (local.get $a) (local.get $end))))))
                (v128.store (local.get $p) (local.get $a0))
                (v128.store offset=16 (local.get $p) (local.get $a1))
                (local.set $ch (i32.add (local.get $ch) (i32.const 4))))
              (else
                (local.set $t (f64.load (local.get $p)))
                (loop $one
                  (local.set $d (f64.promote_f32 (f32.load (local.get $a))))
                  (if (local.get $mode)
                    (then
                      (local.set $d (f64.sub (local.get $d) (f64.load (local.get $m))))
                      (local.set $d (f64.mul (local.get $d) (local.get $d)))))
                  (local.set $t (f64.add (local.get $t) (local.get $d)))
                  (local.set $a (i32.add (local.get $a) (local.get $stride)))
                  (br_if $one (i32.lt_u (local.get $a) (local.get $end))))
                (f64.store (local.get $p) (local.get $t))
                (local.set $ch (i32.add (local.get $ch) (i32.const 1)))))
            (br_if $blocks (i32.lt_u (local.get $ch) (local.get $c))))
          (local.set $x (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $rest (i32.sub (local.get $rest) (local.get $n)))
          (br_if $groups (local.get $rest)))
        (return)))
    (loop $runs
      (local.set $mu (f64x2.splat (f64.load (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))))
      (local.set $a0 (f64x2.splat (f64.const 0)))
      (local.set $a1 (local.get $a0))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $s) (i32.const -4)) (i32.const 2))))
      (block $done4 (loop $quads
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (if (local.get $mode)
          (then
            (local.set $lo (f64x2.sub (local.get $lo) (local.get $mu)))
            (local.set $hi (f64x2.sub (local.get $hi) (local.get $mu)))
            (local.set $lo (f64x2.mul (local.get $lo) (local.get $lo)))
            (local.set $hi (f64x2.mul (local.get $hi) (local.get $hi)))))
        (local.set $a0 (f64x2.add (local.get $a0) (local.get $lo)))
        (local.set $a1 (f64x2.add (local.get $a1) (local.get $hi)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $quads)))
      (local.set $t (f64.add (call $hsum (local.get $a0)) (call $hsum (local.get $a1))))
      (block $done (loop $ones
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $d (f64.promote_f32 (f32.load (local.get $x))))
        (if (local.get $mode)
          (then
            (local.set $d (f64.sub (local.get $d) (f64x2.extract_lane 0 (local.get $mu))))
            (local.set $d (f64.mul (local.get $d) (local.get $d)))))
        (local.set $t (f64.add (local.get $t) (local.get $d)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $ones)))
      (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 3))))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $t)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (if (i32.eq (local.get $ch) (local.get $c)) (then (local.set $ch (i32.const 0))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $runs (local.get $n))))

  ;; Per channel, sumDy[ch] += Σ dy and sumDyXc[ch] += Σ dy·(x - mean[ch]).
  (func (export "gradSumsF32") (param $dy i32) (param $x i32) (param $n i32) (param $c i32)
    (param $s i32) (param $ch i32) (param $mean i32) (param $sumDy i32) (param $sumDyXc i32)
    (local $rest i32) (local $o i32) (local $p i32) (local $q i32) (local $m i32) (local $end i32)
    (local $end4 i32) (local $stride i32) (local $v v128) (local $g v128) (local $glo v128)
    (local $ghi v128) (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $mu v128) (local $mu1 v128) (local $gs f64) (local $ta f64) (local $tb f64)
    (if (i32.eq (local.get $s) (i32.const 1))
      (then
        ;; Groups of up to 8 rows, c values apart (see the note at the top).
        (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
        (local.set $rest (local.get $n))
        (loop $groups
          (local.set $n (select (i32.const 8) (local.get $rest) (i32.gt_u (local.get $rest) (i32.const 8))))
          (local.set $ch (i32.const 0))
          (loop $blocks
            (local.set $p (i32.add (local.get $sumDy) (i32.shl (local.get $ch) (i32.const 3))))
            (local.set $q (i32.add (local.get $sumDyXc) (i32.shl (local.get $ch) (i32.const 3))))
            (local.set $m (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))
            ;; $o walks dy; x sits at the same offset from $x as dy from $dy.
            (local.set $o (i32.add (local.get $dy) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (local.get $stride))))
            (if (i32.le_u (i32.add (local.get $ch) (i32.const 4)) (local.get $c))
              (then
                (local.set $a0 (v128.load (local.get $p)))
                (local.set $a1 (v128.load offset=16 (local.get $p)))
                (local.set $b0 (v128.load (local.get $q)))
                (local.set $b1 (v128.load offset=16 (local.get $q)))
                (local.set $mu (v128.load (local.get $m)))
                (local.set $mu1 (v128.load offset=16 (local.get $m)))
                (loop $rows
                  (local.set $g (v128.load (local.get $o)))
                  (local.set $glo (f64x2.promote_low_f32x4 (local.get $g)))
                  (local.set $ghi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g))))
                  (local.set $v (v128.load (i32.add (local.get $o) (i32.sub (local.get $x) (local.get $dy)))))
                  (local.set $a0 (f64x2.add (local.get $a0) (local.get $glo)))
                  (local.set $a1 (f64x2.add (local.get $a1) (local.get $ghi)))
                  (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $glo)
                    (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu)))))
                  (local.set $b1 (f64x2.add (local.get $b1) (f64x2.mul (local.get $ghi)
                    (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu1)))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $rows (i32.lt_u (local.get $o) (local.get $end))))
                (v128.store (local.get $p) (local.get $a0))
                (v128.store offset=16 (local.get $p) (local.get $a1))
                (v128.store (local.get $q) (local.get $b0))
                (v128.store offset=16 (local.get $q) (local.get $b1))
                (local.set $ch (i32.add (local.get $ch) (i32.const 4))))
              (else
                (local.set $ta (f64.load (local.get $p)))
                (local.set $tb (f64.load (local.get $q)))
                (loop $one
                  (local.set $gs (f64.promote_f32 (f32.load (local.get $o))))
                  (local.set $ta (f64.add (local.get $ta) (local.get $gs)))
                  (local.set $tb (f64.add (local.get $tb) (f64.mul (local.get $gs)
                    (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $o) (i32.sub (local.get $x) (local.get $dy)))))
                      (f64.load (local.get $m))))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $one (i32.lt_u (local.get $o) (local.get $end))))
                (f64.store (local.get $p) (local.get $ta))
                (f64.store (local.get $q) (local.get $tb))
                (local.set $ch (i32.add (local.get $ch) (i32.const 1)))))
            (br_if $blocks (i32.lt_u (local.get $ch) (local.get $c))))
          (local.set $dy (i32.add (local.get $dy) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $x (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $rest (i32.sub (local.get $rest) (local.get $n)))
          (br_if $groups (local.get $rest)))
        (return)))
    (loop $runs
      (local.set $mu (f64x2.splat (f64.load (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))))
      (local.set $a0 (f64x2.splat (f64.const 0)))
      (local.set $a1 (local.get $a0))
      (local.set $b0 (local.get $a0))
      (local.set $b1 (local.get $a0))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $s) (i32.const -4)) (i32.const 2))))
      (block $done4 (loop $quads
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $g (v128.load (local.get $dy)))
        (local.set $glo (f64x2.promote_low_f32x4 (local.get $g)))
        (local.set $ghi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g))))
        (local.set $v (v128.load (local.get $x)))
        (local.set $a0 (f64x2.add (local.get $a0) (local.get $glo)))
        (local.set $a1 (f64x2.add (local.get $a1) (local.get $ghi)))
        (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $glo)
          (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu)))))
        (local.set $b1 (f64x2.add (local.get $b1) (f64x2.mul (local.get $ghi)
          (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (br $quads)))
      (local.set $ta (f64.add (call $hsum (local.get $a0)) (call $hsum (local.get $a1))))
      (local.set $tb (f64.add (call $hsum (local.get $b0)) (call $hsum (local.get $b1))))
      (block $done (loop $ones
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $gs (f64.promote_f32 (f32.load (local.get $dy))))
        (local.set $ta (f64.add (local.get $ta) (local.get $gs)))
        (local.set $tb (f64.add (local.get $tb) (f64.mul (local.get $gs)
          (f64.sub (f64.promote_f32 (f32.load (local.get $x))) (f64x2.extract_lane 0 (local.get $mu))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (br $ones)))
      (local.set $p (i32.add (local.get $sumDy) (i32.shl (local.get $ch) (i32.const 3))))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $ta)))
      (local.set $p (i32.add (local.get $sumDyXc) (i32.shl (local.get $ch) (i32.const 3))))
      (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (local.get $tb)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (if (i32.eq (local.get $ch) (local.get $c)) (then (local.set $ch (i32.const 0))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $runs (local.get $n))))

  ;; The forward's output: out = (x - mean[ch])·scale[ch] + shift[ch], rounded once. The factor
  ;; arrays sit side by side: mean at f, scale at f + 8c, shift at f + 16c.
  (func (export "normalizeF32") (param $x i32) (param $out i32) (param $n i32) (param $c i32)
    (param $s i32) (param $ch i32) (param $f i32)
    (local $rest i32) (local $o i32) (local $p i32) (local $c8 i32) (local $end i32) (local $end4 i32)
    (local $stride i32) (local $wide i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local $mu0 v128) (local $mu1 v128) (local $sc0 v128) (local $sc1 v128)
    (local $sh0 v128) (local $sh1 v128)
    (local.set $c8 (i32.shl (local.get $c) (i32.const 3)))
    (if (i32.eq (local.get $s) (i32.const 1))
      (then
        ;; Groups of up to 8 rows, c values apart (see the note at the top).
        (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
        (local.set $rest (local.get $n))
        (loop $groups
          (local.set $n (select (i32.const 8) (local.get $rest) (i32.gt_u (local.get $rest) (i32.const 8))))
          (local.set $ch (i32.const 0))
          (loop $blocks
            (local.set $p (i32.add (local.get $f) (i32.shl (local.get $ch) (i32.const 3))))
            ;; $o walks x; out sits at the same offset from $out as x from $x.
            (local.set $o (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $wide (i32.le_u (i32.add (local.get $ch) (i32.const 4)) (local.get $c)))
            (if (local.get $wide)
              (then
                (local.set $mu0 (v128.load (local.get $p)))
                (local.set $mu1 (v128.load offset=16 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $c8)))
                (local.set $sc0 (v128.load (local.get $p)))
                (local.set $sc1 (v128.load offset=16 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $c8)))
                (local.set $sh0 (v128.load (local.get $p)))
                (local.set $sh1 (v128.load offset=16 (local.get $p)))
                (local.set $ch (i32.add (local.get $ch) (i32.const 4))))
              (else
                (local.set $mu0 (v128.load64_splat (local.get $p)))
                (local.set $sc0 (v128.load64_splat (i32.add (local.get $p) (local.get $c8))))
                (local.set $sh0 (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $c8) (i32.const 1)))))
                (local.set $ch (i32.add (local.get $ch) (i32.const 1)))))
            (if (local.get $wide)
              (then
                (loop $rows
                  (local.set $v (v128.load (local.get $o)))
                  (local.set $lo (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu0)) (local.get $sc0)) (local.get $sh0)))
                  (local.set $hi (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu1)) (local.get $sc1)) (local.get $sh1)))
                  (v128.store (i32.add (local.get $o) (i32.sub (local.get $out) (local.get $x)))
                    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $rows (i32.lt_u (local.get $o) (local.get $end)))))
              (else
                (loop $one
                  (local.set $lo (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $o))) (local.get $mu0)) (local.get $sc0)) (local.get $sh0)))
                  (f32.store (i32.add (local.get $o) (i32.sub (local.get $out) (local.get $x)))
                    (f32.demote_f64 (f64x2.extract_lane 0 (local.get $lo))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $one (i32.lt_u (local.get $o) (local.get $end))))))
            (br_if $blocks (i32.lt_u (local.get $ch) (local.get $c))))
          (local.set $x (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $out (i32.add (local.get $out) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $rest (i32.sub (local.get $rest) (local.get $n)))
          (br_if $groups (local.get $rest)))
        (return)))
    (loop $runs
      (local.set $p (i32.add (local.get $f) (i32.shl (local.get $ch) (i32.const 3))))
      (local.set $mu0 (v128.load64_splat (local.get $p)))
      (local.set $sc0 (v128.load64_splat (i32.add (local.get $p) (local.get $c8))))
      (local.set $sh0 (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $c8) (i32.const 1)))))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $s) (i32.const -4)) (i32.const 2))))
      (block $done4 (loop $quads
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $lo (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu0)) (local.get $sc0)) (local.get $sh0)))
        (local.set $hi (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu0)) (local.get $sc0)) (local.get $sh0)))
        (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $quads)))
      (block $done (loop $ones
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $lo (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $x))) (local.get $mu0)) (local.get $sc0)) (local.get $sh0)))
        (f32.store (local.get $out) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $lo))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $ones)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (if (i32.eq (local.get $ch) (local.get $c)) (then (local.set $ch (i32.const 0))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $runs (local.get $n))))

  ;; The input gradient: out = scale[ch]·dy - shift[ch] - slope[ch]·(x - mean[ch]), rounded once.
  ;; mean at f, scale at f + 8c, shift at f + 16c, slope at f + 24c.
  (func (export "inputGradF32") (param $dy i32) (param $x i32) (param $out i32) (param $n i32)
    (param $c i32) (param $s i32) (param $ch i32) (param $f i32)
    (local $rest i32) (local $o i32) (local $p i32) (local $c8 i32) (local $end i32) (local $end4 i32)
    (local $stride i32) (local $wide i32) (local $v v128) (local $g v128) (local $lo v128)
    (local $hi v128) (local $mu0 v128) (local $mu1 v128) (local $sc0 v128) (local $sc1 v128)
    (local $sh0 v128) (local $sh1 v128) (local $sl0 v128) (local $sl1 v128)
    (local.set $c8 (i32.shl (local.get $c) (i32.const 3)))
    (if (i32.eq (local.get $s) (i32.const 1))
      (then
        ;; Groups of up to 8 rows, c values apart (see the note at the top).
        (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
        (local.set $rest (local.get $n))
        (loop $groups
          (local.set $n (select (i32.const 8) (local.get $rest) (i32.gt_u (local.get $rest) (i32.const 8))))
          (local.set $ch (i32.const 0))
          (loop $blocks
            (local.set $p (i32.add (local.get $f) (i32.shl (local.get $ch) (i32.const 3))))
            ;; $o walks x; dy and out sit at the same offsets from $dy and $out.
            (local.set $o (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
            (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (local.get $stride))))
            (local.set $wide (i32.le_u (i32.add (local.get $ch) (i32.const 4)) (local.get $c)))
            (if (local.get $wide)
              (then
                (local.set $mu0 (v128.load (local.get $p)))
                (local.set $mu1 (v128.load offset=16 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $c8)))
                (local.set $sc0 (v128.load (local.get $p)))
                (local.set $sc1 (v128.load offset=16 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $c8)))
                (local.set $sh0 (v128.load (local.get $p)))
                (local.set $sh1 (v128.load offset=16 (local.get $p)))
                (local.set $p (i32.add (local.get $p) (local.get $c8)))
                (local.set $sl0 (v128.load (local.get $p)))
                (local.set $sl1 (v128.load offset=16 (local.get $p)))
                (local.set $ch (i32.add (local.get $ch) (i32.const 4))))
              (else
                (local.set $mu0 (v128.load64_splat (local.get $p)))
                (local.set $sc0 (v128.load64_splat (i32.add (local.get $p) (local.get $c8))))
                (local.set $sh0 (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $c8) (i32.const 1)))))
                (local.set $sl0 (v128.load64_splat (i32.add (local.get $p) (i32.mul (local.get $c8) (i32.const 3)))))
                (local.set $ch (i32.add (local.get $ch) (i32.const 1)))))
            (if (local.get $wide)
              (then
                (loop $rows
                  (local.set $v (v128.load (local.get $o)))
                  (local.set $g (v128.load (i32.add (local.get $o) (i32.sub (local.get $dy) (local.get $x)))))
                  (local.set $lo (f64x2.sub
                    (f64x2.sub (f64x2.mul (local.get $sc0) (f64x2.promote_low_f32x4 (local.get $g))) (local.get $sh0))
                    (f64x2.mul (local.get $sl0) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu0)))))
                  (local.set $hi (f64x2.sub
                    (f64x2.sub (f64x2.mul (local.get $sc1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))) (local.get $sh1))
                    (f64x2.mul (local.get $sl1) (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu1)))))
                  (v128.store (i32.add (local.get $o) (i32.sub (local.get $out) (local.get $x)))
                    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $rows (i32.lt_u (local.get $o) (local.get $end)))))
              (else
                (loop $one
                  (local.set $lo (f64x2.sub
                    (f64x2.sub (f64x2.mul (local.get $sc0) (f64x2.promote_low_f32x4 (v128.load32_zero (i32.add (local.get $o) (i32.sub (local.get $dy) (local.get $x)))))) (local.get $sh0))
                    (f64x2.mul (local.get $sl0) (f64x2.sub (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $o))) (local.get $mu0)))))
                  (f32.store (i32.add (local.get $o) (i32.sub (local.get $out) (local.get $x)))
                    (f32.demote_f64 (f64x2.extract_lane 0 (local.get $lo))))
                  (local.set $o (i32.add (local.get $o) (local.get $stride)))
                  (br_if $one (i32.lt_u (local.get $o) (local.get $end))))))
            (br_if $blocks (i32.lt_u (local.get $ch) (local.get $c))))
          (local.set $dy (i32.add (local.get $dy) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $x (i32.add (local.get $x) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $out (i32.add (local.get $out) (i32.mul (local.get $n) (local.get $stride))))
          (local.set $rest (i32.sub (local.get $rest) (local.get $n)))
          (br_if $groups (local.get $rest)))
        (return)))
    (loop $runs
      (local.set $p (i32.add (local.get $f) (i32.shl (local.get $ch) (i32.const 3))))
      (local.set $mu0 (v128.load64_splat (local.get $p)))
      (local.set $sc0 (v128.load64_splat (i32.add (local.get $p) (local.get $c8))))
      (local.set $sh0 (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $c8) (i32.const 1)))))
      (local.set $sl0 (v128.load64_splat (i32.add (local.get $p) (i32.mul (local.get $c8) (i32.const 3)))))
      (local.set $end (i32.add (local.get $x) (i32.shl (local.get $s) (i32.const 2))))
      (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $s) (i32.const -4)) (i32.const 2))))
      (block $done4 (loop $quads
        (br_if $done4 (i32.ge_u (local.get $x) (local.get $end4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $g (v128.load (local.get $dy)))
        (local.set $lo (f64x2.sub
          (f64x2.sub (f64x2.mul (local.get $sc0) (f64x2.promote_low_f32x4 (local.get $g))) (local.get $sh0))
          (f64x2.mul (local.get $sl0) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $mu0)))))
        (local.set $hi (f64x2.sub
          (f64x2.sub (f64x2.mul (local.get $sc0) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))) (local.get $sh0))
          (f64x2.mul (local.get $sl0) (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (local.get $mu0)))))
        (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $quads)))
      (block $done (loop $ones
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $lo (f64x2.sub
          (f64x2.sub (f64x2.mul (local.get $sc0) (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $dy)))) (local.get $sh0))
          (f64x2.mul (local.get $sl0) (f64x2.sub (f64x2.promote_low_f32x4 (v128.load32_zero (local.get $x))) (local.get $mu0)))))
        (f32.store (local.get $out) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $lo))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $ones)))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (if (i32.eq (local.get $ch) (local.get $c)) (then (local.set $ch (i32.const 0))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $runs (local.get $n)))))
