;; GEMM in WebAssembly SIMD128: C[mp, np] += A[mp, k] · B[k, np] on panels packed by
;; gemm-wasm.ts, or on operands copied as they are when their layout and sizes fit the tiles
;; (see $gemm). Source of gemm-wasm-module.ts (regenerate with `pnpm run build:wasm`).
;;
;; Packed layout (padded with zeros by the packer, so there are no edge cases here):
;;   A: mp/MR panels, panel i holds rows i*MR..i*MR+MR-1 as [k][MR]   (MR = 4)
;;   B: np/NR panels, panel j holds cols j*NR..j*NR+NR-1 as [k][NR]   (NR = 8 for f32, 4 for f64)
;;   C: row-major [mp][np]; the first K block overwrites it, so it needs no zeroing.
;; Loops follow BLIS: K in blocks of KC = 256, M in blocks of MC = 128 rows (the A block stays in
;; L2), then each B micro-panel (KC x NR, L1-resident) meets every A micro-panel of the block.
;; Every C element receives a[i,p]*b[p,j] for p = 0, 1, ..., k-1 in order with a separate
;; multiply and add (no FMA). float64 sums run straight through; float32 sums run in groups of
;; 64 consecutive p (groups start at multiples of 64, KC being one), each group summed from +0
;; and then added into C, so results are bit-identical to that loop written out in JS.

(module
  (memory (export "memory") 1)

  ;; C[4x8] += A panel (kc x 4) · B panel (kc x 8), f32 (C = ... when $first is set). ldc is the
  ;; row stride of C in bytes. The products are summed in runs of GROUP = 64 steps, each run from
  ;; +0 in registers, and each run's sum is then added into C: float32 rounding error then grows
  ;; with 64 + k/64 instead of k (10x smaller at k = 784) for 8 loads, adds and stores per run.
  (func $tileF32 (param $a i32) (param $aRow i32) (param $aK i32) (param $b i32) (param $bK i32)
    (param $c i32) (param $kc i32) (param $ldc i32) (param $first i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $end i32) (local $runEnd i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128)
    (local $x20 v128) (local $x21 v128) (local $x30 v128) (local $x31 v128)
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (local.set $a1 (i32.add (local.get $a) (local.get $aRow)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $aRow)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $aRow)))
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $kc) (local.get $bK))))
    (loop $runs
      (local.set $x00 (v128.const i64x2 0 0))
      (local.set $x01 (local.get $x00))
      (local.set $x10 (local.get $x00))
      (local.set $x11 (local.get $x00))
      (local.set $x20 (local.get $x00))
      (local.set $x21 (local.get $x00))
      (local.set $x30 (local.get $x00))
      (local.set $x31 (local.get $x00))
      (local.set $runEnd (i32.add (local.get $b) (i32.shl (local.get $bK) (i32.const 6))))
      (if (i32.gt_u (local.get $runEnd) (local.get $end)) (then (local.set $runEnd (local.get $end))))
      (loop $k
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $av (v128.load32_splat (local.get $a)))
        (local.set $x00 (f32x4.add (local.get $x00) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $x01 (f32x4.add (local.get $x01) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a1)))
        (local.set $x10 (f32x4.add (local.get $x10) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $x11 (f32x4.add (local.get $x11) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a2)))
        (local.set $x20 (f32x4.add (local.get $x20) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $x21 (f32x4.add (local.get $x21) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load32_splat (local.get $a3)))
        (local.set $x30 (f32x4.add (local.get $x30) (f32x4.mul (local.get $av) (local.get $b0))))
        (local.set $x31 (f32x4.add (local.get $x31) (f32x4.mul (local.get $av) (local.get $b1))))
        (local.set $a (i32.add (local.get $a) (local.get $aK)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $aK)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $aK)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $aK)))
        (local.set $b (i32.add (local.get $b) (local.get $bK)))
        (br_if $k (i32.lt_u (local.get $b) (local.get $runEnd))))
      ;; The first run of the product overwrites C; later runs add into it.
      (if (i32.eqz (local.get $first))
        (then
          (local.set $x00 (f32x4.add (v128.load (local.get $c)) (local.get $x00)))
          (local.set $x01 (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $x01)))
          (local.set $x10 (f32x4.add (v128.load (local.get $c1)) (local.get $x10)))
          (local.set $x11 (f32x4.add (v128.load offset=16 (local.get $c1)) (local.get $x11)))
          (local.set $x20 (f32x4.add (v128.load (local.get $c2)) (local.get $x20)))
          (local.set $x21 (f32x4.add (v128.load offset=16 (local.get $c2)) (local.get $x21)))
          (local.set $x30 (f32x4.add (v128.load (local.get $c3)) (local.get $x30)))
          (local.set $x31 (f32x4.add (v128.load offset=16 (local.get $c3)) (local.get $x31)))))
      (v128.store (local.get $c) (local.get $x00))
      (v128.store offset=16 (local.get $c) (local.get $x01))
      (v128.store (local.get $c1) (local.get $x10))
      (v128.store offset=16 (local.get $c1) (local.get $x11))
      (v128.store (local.get $c2) (local.get $x20))
      (v128.store offset=16 (local.get $c2) (local.get $x21))
      (v128.store (local.get $c3) (local.get $x30))
      (v128.store offset=16 (local.get $c3) (local.get $x31))
      (local.set $first (i32.const 0))
      (br_if $runs (i32.lt_u (local.get $b) (local.get $end)))))

  ;; C[4x4] += A panel (kc x 4) · B panel (kc x 4), f64 (C = ... when $first is set).
  (func $tileF64 (param $a i32) (param $aRow i32) (param $aK i32) (param $b i32) (param $bK i32)
    (param $c i32) (param $kc i32) (param $ldc i32) (param $first i32)
    (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $end i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128)
    (local $x20 v128) (local $x21 v128) (local $x30 v128) (local $x31 v128)
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    ;; The first K block starts from +0 (the locals' initial value), so C needs no zeroing.
    (if (i32.eqz (local.get $first))
      (then
        (local.set $x00 (v128.load (local.get $c)))
        (local.set $x01 (v128.load offset=16 (local.get $c)))
        (local.set $x10 (v128.load (local.get $c1)))
        (local.set $x11 (v128.load offset=16 (local.get $c1)))
        (local.set $x20 (v128.load (local.get $c2)))
        (local.set $x21 (v128.load offset=16 (local.get $c2)))
        (local.set $x30 (v128.load (local.get $c3)))
        (local.set $x31 (v128.load offset=16 (local.get $c3)))))
    (local.set $a1 (i32.add (local.get $a) (local.get $aRow)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $aRow)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $aRow)))
    (local.set $end (i32.add (local.get $b) (i32.mul (local.get $kc) (local.get $bK))))
    (loop $k
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $av (v128.load64_splat (local.get $a)))
      (local.set $x00 (f64x2.add (local.get $x00) (f64x2.mul (local.get $av) (local.get $b0))))
      (local.set $x01 (f64x2.add (local.get $x01) (f64x2.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load64_splat (local.get $a1)))
      (local.set $x10 (f64x2.add (local.get $x10) (f64x2.mul (local.get $av) (local.get $b0))))
      (local.set $x11 (f64x2.add (local.get $x11) (f64x2.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load64_splat (local.get $a2)))
      (local.set $x20 (f64x2.add (local.get $x20) (f64x2.mul (local.get $av) (local.get $b0))))
      (local.set $x21 (f64x2.add (local.get $x21) (f64x2.mul (local.get $av) (local.get $b1))))
      (local.set $av (v128.load64_splat (local.get $a3)))
      (local.set $x30 (f64x2.add (local.get $x30) (f64x2.mul (local.get $av) (local.get $b0))))
      (local.set $x31 (f64x2.add (local.get $x31) (f64x2.mul (local.get $av) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $aK)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $aK)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $aK)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $aK)))
      (local.set $b (i32.add (local.get $b) (local.get $bK)))
      (br_if $k (i32.lt_u (local.get $b) (local.get $end))))
    (v128.store (local.get $c) (local.get $x00))
    (v128.store offset=16 (local.get $c) (local.get $x01))
    (v128.store (local.get $c1) (local.get $x10))
    (v128.store offset=16 (local.get $c1) (local.get $x11))
    (v128.store (local.get $c2) (local.get $x20))
    (v128.store offset=16 (local.get $c2) (local.get $x21))
    (v128.store (local.get $c3) (local.get $x30))
    (v128.store offset=16 (local.get $c3) (local.get $x31)))

;; The BLIS loop nest around a tile; $size is the element size in bytes (4 or 8), $nr the
  ;; panel width of B (8 for f32, 4 for f64). Requires k >= 1, mp % 4 == 0, np % nr == 0.
  ;; Operands are addressed by strides in bytes, so packed panels and plain row-major (or, for A,
  ;; column-major) matrices run through the same loops: A's tile of rows ir..ir+3 and K block pc
  ;; starts at a + ir·aPanel + pc·aK, its rows are aRow apart and each k step is aK; B's panel of
  ;; columns jr..jr+nr-1 starts at b + jr·bPanel + pc·bK, its nr values are contiguous and each
  ;; k step is bK. Packed A: aPanel = k·size, aRow = size, aK = 4·size; packed B: bPanel = k·size,
  ;; bK = nr·size.
  (func $gemm (param $a i32) (param $aPanel i32) (param $aRow i32) (param $aK i32) (param $b i32)
    (param $bPanel i32) (param $bK i32) (param $c i32) (param $mp i32) (param $np i32)
    (param $k i32) (param $size i32) (param $nr i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $icEnd i32) (local $jr i32)
    (local $ir i32) (local $ldc i32) (local $aTile i32) (local $bTile i32) (local $cTile i32)
    (local.set $ldc (i32.mul (local.get $np) (local.get $size)))
    (loop $kBlocks
      (local.set $kc (select (i32.const 256) (i32.sub (local.get $k) (local.get $pc))
        (i32.lt_u (i32.const 256) (i32.sub (local.get $k) (local.get $pc)))))
      (local.set $ic (i32.const 0))
      (loop $mBlocks
        (local.set $icEnd (select (i32.add (local.get $ic) (i32.const 128)) (local.get $mp)
          (i32.lt_u (i32.add (local.get $ic) (i32.const 128)) (local.get $mp))))
        (local.set $jr (i32.const 0))
        (loop $nPanels
          (local.set $ir (local.get $ic))
          (loop $mPanels
            (local.set $aTile (i32.add (local.get $a)
              (i32.add (i32.mul (local.get $ir) (local.get $aPanel)) (i32.mul (local.get $pc) (local.get $aK)))))
            (local.set $bTile (i32.add (local.get $b)
              (i32.add (i32.mul (local.get $jr) (local.get $bPanel)) (i32.mul (local.get $pc) (local.get $bK)))))
            (local.set $cTile (i32.add (local.get $c)
              (i32.add (i32.mul (local.get $ir) (local.get $ldc)) (i32.mul (local.get $jr) (local.get $size)))))
            (if (i32.eq (local.get $size) (i32.const 4))
              (then (call $tileF32 (local.get $aTile) (local.get $aRow) (local.get $aK) (local.get $bTile)
                (local.get $bK) (local.get $cTile) (local.get $kc) (local.get $ldc) (i32.eqz (local.get $pc))))
              (else (call $tileF64 (local.get $aTile) (local.get $aRow) (local.get $aK) (local.get $bTile)
                (local.get $bK) (local.get $cTile) (local.get $kc) (local.get $ldc) (i32.eqz (local.get $pc)))))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br_if $mPanels (i32.lt_u (local.get $ir) (local.get $icEnd))))
          (local.set $jr (i32.add (local.get $jr) (local.get $nr)))
          (br_if $nPanels (i32.lt_u (local.get $jr) (local.get $np))))
        (local.set $ic (local.get $icEnd))
        (br_if $mBlocks (i32.lt_u (local.get $ic) (local.get $mp))))
      (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
      (br_if $kBlocks (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; Packs a row-major B [k][n] at $src (rows $rowBytes apart) into $panels panels of 32 bytes per
  ;; k step (8 float32 or 4 float64 columns), panel j as [k][32 bytes] at $dst + j·k·32: the layout
  ;; $gemm reads for packed B. A plain copy, two v128 moves per step.
  (func (export "packPanels") (param $src i32) (param $dst i32) (param $k i32) (param $rowBytes i32)
    (param $panels i32)
    (local $j i32) (local $from i32) (local $end i32)
    (block $none (br_if $none (i32.or (i32.eqz (local.get $panels)) (i32.eqz (local.get $k))))
      (loop $panel
        (local.set $from (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 5))))
        (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 5))))
        (loop $step
          (v128.store (local.get $dst) (v128.load (local.get $from)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $from)))
          (local.set $from (i32.add (local.get $from) (local.get $rowBytes)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (br_if $step (i32.lt_u (local.get $dst) (local.get $end))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $panel (i32.lt_u (local.get $j) (local.get $panels))))))

  (func (export "gemmF32") (param $a i32) (param $aPanel i32) (param $aRow i32) (param $aK i32)
    (param $b i32) (param $bPanel i32) (param $bK i32) (param $c i32) (param $mp i32)
    (param $np i32) (param $k i32)
    (call $gemm (local.get $a) (local.get $aPanel) (local.get $aRow) (local.get $aK)
      (local.get $b) (local.get $bPanel) (local.get $bK) (local.get $c) (local.get $mp)
      (local.get $np) (local.get $k) (i32.const 4) (i32.const 8)))

  (func (export "gemmF64") (param $a i32) (param $aPanel i32) (param $aRow i32) (param $aK i32)
    (param $b i32) (param $bPanel i32) (param $bK i32) (param $c i32) (param $mp i32)
    (param $np i32) (param $k i32)
    (call $gemm (local.get $a) (local.get $aPanel) (local.get $aRow) (local.get $aK)
      (local.get $b) (local.get $bPanel) (local.get $bK) (local.get $c) (local.get $mp)
      (local.get $np) (local.get $k) (i32.const 8) (i32.const 4))))
