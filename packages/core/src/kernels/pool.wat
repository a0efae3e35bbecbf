;; Max pooling over 2×2 windows with stride 2 and no padding, float32, in WebAssembly SIMD128
;; (source of pool-wasm-module.ts; pool-wasm.ts copies planes through this memory). Each window's
;; maximum and its flat position in the plane, decided as pool.ts's maxPool2x2 decides them: start
;; from the window's first value, then for the second, third and fourth (row-major) take v where
;; v > best or v is NaN. So the first maximum wins a tie and the last NaN wins over any number,
;; and every value is one of the inputs, bit for bit (a signalling NaN made quiet, as JS reads it).
;; Four windows of a row at a time: the two input rows are read eight values at a time and split
;; into even and odd columns.

(module
  (memory (export "memory") 1)

  ;; $planes planes of $inH·$inW values at $x (byte address) into $outH·$outW maxima at $out and
  ;; int32 positions at $idx. Needs 2·$outH <= $inH and 2·$outW <= $inW.
  (func (export "maxPool2x2F32")
    (param $x i32) (param $out i32) (param $idx i32) (param $planes i32)
    (param $inH i32) (param $inW i32) (param $outH i32) (param $outW i32)
    (local $plane i32) (local $base i32) (local $oh i32) (local $ow i32) (local $ow4 i32)
    (local $top i32) (local $pt i32) (local $pb i32) (local $rowBytes i32)
    (local $t0 v128) (local $t1 v128) (local $v v128) (local $best v128) (local $m v128)
    (local $at v128) (local $first v128)
    (local $s f32) (local $b f32) (local $i i32)
    (local.set $rowBytes (i32.shl (local.get $inW) (i32.const 2)))
    (local.set $ow4 (i32.and (local.get $outW) (i32.const -4)))
    (block $planesDone (loop $planesLoop
      (br_if $planesDone (i32.ge_u (local.get $plane) (local.get $planes)))
      (local.set $base (i32.add (local.get $x)
        (i32.mul (local.get $plane) (i32.mul (local.get $inH) (local.get $rowBytes)))))
      (local.set $oh (i32.const 0))
      (block $rowsDone (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $oh) (local.get $outH)))
        ;; Flat position (in the plane) of the top-left value of window 0 of this output row.
        (local.set $top (i32.mul (i32.shl (local.get $oh) (i32.const 1)) (local.get $inW)))
        (local.set $pt (i32.add (local.get $base) (i32.shl (local.get $top) (i32.const 2))))
        (local.set $pb (i32.add (local.get $pt) (local.get $rowBytes)))
        ;; Positions of the first value of windows ow..ow+3: top + 2·ow + (0, 2, 4, 6).
        (local.set $first (i32x4.add (i32x4.splat (local.get $top)) (v128.const i32x4 0 2 4 6)))
        (local.set $ow (i32.const 0))
        (block $vecDone (loop $vecLoop
          (br_if $vecDone (i32.ge_u (local.get $ow) (local.get $ow4)))
          ;; Top row: even columns (each window's first value), then odd (its second).
          (local.set $t0 (v128.load (local.get $pt)))
          (local.set $t1 (v128.load offset=16 (local.get $pt)))
          (local.set $best (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
            (local.get $t0) (local.get $t1)))
          (local.set $at (local.get $first))
          (local.set $v (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
            (local.get $t0) (local.get $t1)))
          (local.set $m (v128.or (f32x4.gt (local.get $v) (local.get $best))
            (f32x4.ne (local.get $v) (local.get $v))))
          (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
          (local.set $at (v128.bitselect
            (i32x4.add (local.get $first) (v128.const i32x4 1 1 1 1)) (local.get $at) (local.get $m)))
          ;; Bottom row: the third and fourth values.
          (local.set $t0 (v128.load (local.get $pb)))
          (local.set $t1 (v128.load offset=16 (local.get $pb)))
          (local.set $v (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
            (local.get $t0) (local.get $t1)))
          (local.set $m (v128.or (f32x4.gt (local.get $v) (local.get $best))
            (f32x4.ne (local.get $v) (local.get $v))))
          (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
          (local.set $at (v128.bitselect
            (i32x4.add (local.get $first) (i32x4.splat (local.get $inW)))
            (local.get $at) (local.get $m)))
          (local.set $v (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31
            (local.get $t0) (local.get $t1)))
          (local.set $m (v128.or (f32x4.gt (local.get $v) (local.get $best))
            (f32x4.ne (local.get $v) (local.get $v))))
          (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $m)))
          (local.set $at (v128.bitselect
            (i32x4.add (local.get $first) (i32x4.splat (i32.add (local.get $inW) (i32.const 1))))
            (local.get $at) (local.get $m)))
          ;; A signalling NaN comes out quiet, as the JS loop's float64 round trip leaves it.
          (local.set $best (v128.or (local.get $best) (v128.and
            (f32x4.ne (local.get $best) (local.get $best)) (v128.const i32x4 0x00400000 0x00400000 0x00400000 0x00400000))))
          (v128.store (local.get $out) (local.get $best))
          (v128.store (local.get $idx) (local.get $at))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (local.set $idx (i32.add (local.get $idx) (i32.const 16)))
          (local.set $pt (i32.add (local.get $pt) (i32.const 32)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (local.set $first (i32x4.add (local.get $first) (v128.const i32x4 8 8 8 8)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 4)))
          (br $vecLoop)))
        ;; The last outW mod 4 windows one at a time, by the same rule.
        (block $tailDone (loop $tailLoop
          (br_if $tailDone (i32.ge_u (local.get $ow) (local.get $outW)))
          (local.set $i (i32.add (local.get $top) (i32.shl (local.get $ow) (i32.const 1))))
          (local.set $s (f32.load (local.get $pt)))
          (local.set $b (f32.load offset=4 (local.get $pt)))
          (if (i32.or (f32.gt (local.get $b) (local.get $s)) (f32.ne (local.get $b) (local.get $b)))
            (then
              (local.set $s (local.get $b))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))))
          (local.set $b (f32.load (local.get $pb)))
          (if (i32.or (f32.gt (local.get $b) (local.get $s)) (f32.ne (local.get $b) (local.get $b)))
            (then
              (local.set $s (local.get $b))
              (local.set $i (i32.add (local.get $top)
                (i32.add (local.get $inW) (i32.shl (local.get $ow) (i32.const 1)))))))
          (local.set $b (f32.load offset=4 (local.get $pb)))
          (if (i32.or (f32.gt (local.get $b) (local.get $s)) (f32.ne (local.get $b) (local.get $b)))
            (then
              (local.set $s (local.get $b))
              (local.set $i (i32.add (local.get $top) (i32.add (i32.add (local.get $inW)
                (i32.shl (local.get $ow) (i32.const 1))) (i32.const 1))))))
          (if (f32.ne (local.get $s) (local.get $s))
            (then (local.set $s (f32.reinterpret_i32
              (i32.or (i32.reinterpret_f32 (local.get $s)) (i32.const 0x00400000))))))
          (f32.store (local.get $out) (local.get $s))
          (i32.store (local.get $idx) (local.get $i))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
          (local.set $pt (i32.add (local.get $pt) (i32.const 8)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
          (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
          (br $tailLoop)))
        (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
        (br $rowsLoop)))
      (local.set $plane (i32.add (local.get $plane) (i32.const 1)))
      (br $planesLoop))))
)
