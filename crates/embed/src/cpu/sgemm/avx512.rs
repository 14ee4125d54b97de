//! The AVX-512 kernels of [`super`]: the f32 and bf16 tiles, the blocks of
//! rows over them, rows rounded to bf16 pairs, attention's scores and
//! values, and the dependency chains that measure the peak. Each is an
//! `unsafe fn` compiled for its instruction set, called only behind a
//! run-time check ([`super::Avx512`], [`super::Avx512Bf16`]) by the safe
//! functions of [`super`]; each says what its caller must hold.

use super::*;

/// Calls the tile kernel instantiated for `mr` (1..=8) rows.
macro_rules! by_rows {
    ($tile:ident, $mr:expr, $($arg:expr),*) => {
        match $mr {
            8 => $tile::<8>($($arg),*),
            7 => $tile::<7>($($arg),*),
            6 => $tile::<6>($($arg),*),
            5 => $tile::<5>($($arg),*),
            4 => $tile::<4>($($arg),*),
            3 => $tile::<3>($($arg),*),
            2 => $tile::<2>($($arg),*),
            _ => $tile::<1>($($arg),*),
        }
    };
}

/// The blocked loops around a tile kernel: steps of `k` in chunks of `$kc`
/// (so a panel's slice stays in L1), 32-column panels of `$unit` values per
/// step, 8-row tiles. `$k` counts steps (values for f32, pairs for bf16).
macro_rules! blocked {
    ($tile:ident, $a:expr, $rows:expr, $k:expr, $kc:expr, $packed:expr, $unit:expr, $n:expr, $c:expr) => {{
        let (a, rows, k, packed, n, c) = ($a, $rows, $k, $packed, $n, $c);
        let mut pc = 0;
        while pc < k {
            let kc = ($kc).min(k - pc);
            for j in 0..n / NR {
                let b = packed.as_ptr().add((j * k + pc) * $unit);
                let mut i = 0;
                while i < rows {
                    let mr = MR.min(rows - i);
                    let ap = a.as_ptr().add(i * k + pc);
                    let cp = c.as_mut_ptr().add(i * n + j * NR);
                    by_rows!($tile, mr, kc, ap, k, b, cp, n, pc > 0);
                    i += mr;
                }
            }
            pc += kc;
        }
    }};
}

/// # Safety
///
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn chains_f32(steps: usize) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm512_set1_ps(0.999), _mm512_set1_ps(1e-3));
    let mut acc = [_mm512_setzero_ps(); 16];
    for _ in 0..steps {
        for x in acc.iter_mut() {
            *x = _mm512_fmadd_ps(*x, a, b);
        }
    }
    acc.iter().fold(0.0, |s, x| s + _mm512_reduce_add_ps(*x))
}

/// # Safety
///
/// The CPU must have AVX-512F and AVX512-BF16.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512bf16")]
pub(super) unsafe fn chains_bf16(steps: usize) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: same-size bit casts of integer vectors to bf16 vectors.
    let a: __m512bh = unsafe { std::mem::transmute(_mm512_set1_epi32(0x3f80_3f80)) };
    let b: __m512bh = unsafe { std::mem::transmute(_mm512_set1_epi32(0x3a80_3a80)) };
    let mut acc = [_mm512_setzero_ps(); 16];
    for _ in 0..steps {
        for x in acc.iter_mut() {
            *x = _mm512_dpbf16_ps(*x, a, b);
        }
    }
    acc.iter().fold(0.0, |s, x| s + _mm512_reduce_add_ps(*x))
}

/// # Safety
///
/// The CPU must have AVX-512F and AVX512-BF16; `a` holds whole rows of `k`,
/// `out` `k.div_ceil(2)` pairs for each.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512bf16")]
pub(super) unsafe fn pair_rows_avx512(a: &[f32], k: usize, out: &mut [u32]) {
    use std::arch::x86_64::*;
    let kp = k.div_ceil(2);
    for (row, o) in a.chunks_exact(k).zip(out.chunks_exact_mut(kp)) {
        let mut q = 0;
        while 2 * q + 32 <= k {
            // SAFETY: values 2q..2q+32 lie in the row, pairs q..q+16 in `o`.
            unsafe {
                let lo = _mm512_loadu_ps(row.as_ptr().add(2 * q));
                let hi = _mm512_loadu_ps(row.as_ptr().add(2 * q + 16));
                // The second operand fills the low half: the row's order.
                let v: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(hi, lo));
                _mm512_storeu_si512(o.as_mut_ptr().add(q) as *mut __m512i, v);
            }
            q += 16;
        }
        if 2 * q < k {
            pair_rows(&row[2 * q..], k - 2 * q, &mut o[q..]);
        }
    }
}

/// `c[rows × n] = a[rows × k] · Wᵀ` for one block of rows.
///
/// # Safety
///
/// The CPU must have AVX-512F; `a` must hold `rows × k` values, `c`
/// `rows × n`, `packed` the `n × k` panels (`n` a multiple of 32).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn block(a: &[f32], rows: usize, k: usize, packed: &[f32], n: usize, c: &mut [f32]) {
    // SAFETY: the caller's contract: the pointers `blocked!` forms stay in
    // `a`, `packed` and `c`, and the tiles use AVX-512F, which the CPU has.
    unsafe { blocked!(tile, a, rows, k, KC, packed, NR, n, c) }
}

/// The bf16 twin of [`block`]: `a` holds bf16 pairs, `packed` bf16 panels.
///
/// # Safety
///
/// The CPU must have AVX-512F and AVX512-BF16; `a` must hold `rows × kp`
/// pairs, `c` `rows × n`, `packed` the `n/32 × kp × 64` panel values.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512bf16")]
pub(super) unsafe fn block_bf16(a: &[u32], rows: usize, kp: usize, packed: &[u16], n: usize, c: &mut [f32]) {
    // SAFETY: as for `block`, with the bf16 features the caller checked.
    unsafe { blocked!(tile_bf16, a, rows, kp, KC / 2, packed, 2 * NR, n, c) }
}

/// An `R × 32` tile in bf16 pairs: each step of `q` multiplies two values of `k`.
///
/// # Safety
///
/// The CPU must have AVX-512F and AVX512-BF16; `a` must be readable for
/// `R` rows of `lda` pairs (`kc` used), `b` for `kc × 64` values, `c`
/// writable (and, when `accumulate`, readable) for `R` rows of `ldc` with
/// 32 used.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f,avx512bf16")]
#[inline]
pub(super) unsafe fn tile_bf16<const R: usize>(
    kc: usize,
    a: *const u32,
    lda: usize,
    b: *const u16,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    // SAFETY: the caller's contract above; the loads and stores stay in the rows and columns it names.
    unsafe {
        use std::arch::x86_64::*;
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for q in 0..kc {
            let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(b.add(q * 2 * NR) as *const __m512i));
            let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(b.add(q * 2 * NR + NR) as *const __m512i));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av: __m512bh = std::mem::transmute(_mm512_set1_epi32(*a.add(r * lda + q) as i32));
                acc[0] = _mm512_dpbf16_ps(acc[0], av, b0);
                acc[1] = _mm512_dpbf16_ps(acc[1], av, b1);
            }
        }
        store_tile(&acc, c, ldc, accumulate);
    }
}

/// Writes an `R × 32` tile of accumulators to `c` (adding to what is there
/// when `accumulate`).
///
/// # Safety
///
/// The CPU must have AVX-512F; `c` must be writable (and, when
/// `accumulate`, readable) for `R` rows of `ldc` floats with 32 used.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn store_tile<const R: usize>(acc: &[[std::arch::x86_64::__m512; 2]; R], c: *mut f32, ldc: usize, accumulate: bool) {
    // SAFETY: the caller's contract above.
    unsafe {
        use std::arch::x86_64::*;
        for (r, acc) in acc.iter().enumerate() {
            let cp = c.add(r * ldc);
            let (mut x0, mut x1) = (acc[0], acc[1]);
            if accumulate {
                x0 = _mm512_add_ps(x0, _mm512_loadu_ps(cp));
                x1 = _mm512_add_ps(x1, _mm512_loadu_ps(cp.add(16)));
            }
            _mm512_storeu_ps(cp, x0);
            _mm512_storeu_ps(cp.add(16), x1);
        }
    }
}

/// An `R × 32` tile: `c = (accumulate ? c : 0) + a[R × kc] · b[kc × 32]`.
///
/// # Safety
///
/// The CPU must have AVX-512F; `a` must be readable for `R` rows of `lda`
/// floats (`kc` used), `b` for `kc × 32`, `c` writable (and, when
/// `accumulate`, readable) for `R` rows of `ldc` with 32 used.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn tile<const R: usize>(kc: usize, a: *const f32, lda: usize, b: *const f32, c: *mut f32, ldc: usize, accumulate: bool) {
    // SAFETY: the caller's contract above; the loads and stores stay in the rows and columns it names.
    unsafe {
        use std::arch::x86_64::*;
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for p in 0..kc {
            let b0 = _mm512_loadu_ps(b.add(p * NR));
            let b1 = _mm512_loadu_ps(b.add(p * NR + 16));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(r * lda + p));
                acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
            }
        }
        store_tile(&acc, c, ldc, accumulate);
    }
}

/// `scores[len × lenp] = Q · Kᵀ` (32-wide heads; columns past `len` are
/// products with the zero padding).
///
/// # Safety
///
/// The CPU must have AVX-512F; `q` must be readable for `len` rows of
/// `stride` with 32 used, `keys` hold `lenp / 32` panels of `32 × 32`,
/// `scores` `len × lenp` values.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn attention_avx512(q: *const f32, stride: usize, len: usize, keys: &[f32], scores: &mut [f32]) {
    let lenp = len.div_ceil(NR) * NR;
    for j in 0..lenp / NR {
        let b = keys[j * NR * NR..].as_ptr();
        let mut i = 0;
        while i < len {
            let mr = MR.min(len - i);
            // SAFETY: the caller's contract: rows i..i+mr of Q and of the scores, panel j of the keys.
            unsafe { by_rows!(tile, mr, NR, q.add(i * stride), stride, b, scores.as_mut_ptr().add(i * lenp + j * NR), lenp, false) };
            i += mr;
        }
    }
}

/// `out[len × 32] = P · V` with `P` the first `len` columns of each
/// `lenp`-wide row of `scores`.
///
/// # Safety
///
/// The CPU must have AVX-512F; `scores` must hold `len` rows of `lenp`
/// (`len` rounded up to 32), `values` `len × 32`, `out` `len × 32`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn attention_values_avx512(len: usize, scores: &[f32], values: &[f32], out: &mut [f32]) {
    let lenp = len.div_ceil(NR) * NR;
    let mut i = 0;
    while i < len {
        let mr = MR.min(len - i);
        // SAFETY: the caller's contract: rows i..i+mr of the scores and of `out`, all `len` rows of `values`.
        unsafe { by_rows!(tile, mr, len, scores.as_ptr().add(i * lenp), lenp, values.as_ptr(), out.as_mut_ptr().add(i * NR), NR, false) };
        i += mr;
    }
}
