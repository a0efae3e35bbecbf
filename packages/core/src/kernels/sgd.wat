;; SGD with momentum in WebAssembly SIMD128 over float32 arrays (source of sgd-wasm-module.ts;
;; regenerate with `pnpm run build:wasm`); sgd-wasm.ts streams the arrays through in chunks.
;;
;; torch 1.13's float32 arithmetic, element by element, with momentum, keep (1 - dampening) and
;; step (-lr) already rounded to float32 by the caller, as torch casts its scalars:
;;   buf = round32(round32(buf·momentum) + keep·g)   (buf.mul_(momentum).add_(g, alpha=keep))
;;   p   = round32(p + step·buf)                      (p.add_(buf, alpha=-lr))
;; A product of two float32 values is exact in float64, so each "+ scalar·x" is one float64 add
;; then one rounding to float32: torch's fused multiply-add (one rounding) except where the
;; float64 sum is itself a float32 tie (about 2^-29 of inputs). With keep = 1 the first add is
;; a plain float32 add (exact either way), done in float32x4.
;; NOTE: the high-lane promote and the join are written out in the loop: V8 (Node 20) does not
;; inline wasm calls, and one call per vector made such loops 5x slower.

(module
  (memory (export "memory") 1)

  (func (export "momentumF32") (param $p i32) (param $g i32) (param $buf i32) (param $n i32)
    (param $momentum f64) (param $keep f64) (param $step f64)
    (local $end i32) (local $end4 i32) (local $end8 i32) (local $unit i32) (local $m v128)
    (local $kp v128) (local $st v128) (local $v v128) (local $b v128) (local $v1 v128)
    (local $b1 v128) (local $lo v128) (local $hi v128) (local $s f64)
    (local.set $m (f32x4.splat (f32.demote_f64 (local.get $momentum))))
    (local.set $kp (f64x2.splat (local.get $keep)))
    (local.set $st (f64x2.splat (local.get $step)))
    (local.set $unit (f64.eq (local.get $keep) (f64.const 1)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    ;; keep = 1 (no dampening, the usual case): two vectors per iteration and no branch, about
    ;; 25% faster than the general loop below, with the same operations on every element; the
    ;; general loop then takes the last vector, if any, and the scalar loop the rest.
    (if (local.get $unit) (then
      (local.set $end8 (i32.add (local.get $p)
        (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
      (block $done8 (loop $pairs
        (br_if $done8 (i32.ge_u (local.get $p) (local.get $end8)))
        (local.set $b (f32x4.add (f32x4.mul (v128.load (local.get $buf)) (local.get $m))
          (v128.load (local.get $g))))
        (local.set $b1 (f32x4.add (f32x4.mul (v128.load offset=16 (local.get $buf)) (local.get $m))
          (v128.load offset=16 (local.get $g))))
        (v128.store (local.get $buf) (local.get $b))
        (v128.store offset=16 (local.get $buf) (local.get $b1))
        (local.set $v (v128.load (local.get $p)))
        (local.set $v1 (v128.load offset=16 (local.get $p)))
        (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
            (f64x2.mul (local.get $st) (f64x2.promote_low_f32x4 (local.get $b)))))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
            (f64x2.mul (local.get $st)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))))
        (v128.store offset=16 (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $v1))
            (f64x2.mul (local.get $st) (f64x2.promote_low_f32x4 (local.get $b1)))))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v1) (local.get $v1)))
            (f64x2.mul (local.get $st)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b1) (local.get $b1))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (local.set $g (i32.add (local.get $g) (i32.const 32)))
        (local.set $buf (i32.add (local.get $buf) (i32.const 32)))
        (br $pairs)))))
    (block $done4 (loop $quads
      (br_if $done4 (i32.ge_u (local.get $p) (local.get $end4)))
      ;; buf = round32(buf·momentum) + keep·g
      (local.set $v (f32x4.mul (v128.load (local.get $buf)) (local.get $m)))
      (local.set $b (v128.load (local.get $g)))
      (if (local.get $unit)
        (then (local.set $b (f32x4.add (local.get $v) (local.get $b))))
        (else
          (local.set $lo (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
            (f64x2.mul (local.get $kp) (f64x2.promote_low_f32x4 (local.get $b)))))
          (local.set $hi (f64x2.add
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
            (f64x2.mul (local.get $kp)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))
          (local.set $b (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))))
      (v128.store (local.get $buf) (local.get $b))
      ;; p = p + step·buf, one float64 add, rounded to float32
      (local.set $v (v128.load (local.get $p)))
      (local.set $lo (f64x2.add (f64x2.promote_low_f32x4 (local.get $v))
        (f64x2.mul (local.get $st) (f64x2.promote_low_f32x4 (local.get $b)))))
      (local.set $hi (f64x2.add
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
        (f64x2.mul (local.get $st)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))
      (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $buf (i32.add (local.get $buf) (i32.const 16)))
      (br $quads)))
    (block $done (loop $ones
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $s (f64.promote_f32 (f32.demote_f64 (f64.add
        (f64.promote_f32 (f32.mul (f32.load (local.get $buf)) (f32.demote_f64 (local.get $momentum))))
        (f64.mul (local.get $keep) (f64.promote_f32 (f32.load (local.get $g))))))))
      (f32.store (local.get $buf) (f32.demote_f64 (local.get $s)))
      (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p)))
        (f64.mul (local.get $step) (local.get $s)))))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (local.set $g (i32.add (local.get $g) (i32.const 4)))
      (local.set $buf (i32.add (local.get $buf) (i32.const 4)))
      (br $ones)))))
