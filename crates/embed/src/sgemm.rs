//! `C = A · Wᵀ` for the dense layers, with an AVX-512 kernel.
//!
//! The `gemm` crate picks AVX2 kernels on stable Rust even on CPUs with
//! AVX-512 (its AVX-512 kernels need a nightly feature), which leaves half of
//! a Zen 4/5 or Xeon core's multiply-add width unused. The weights of a layer
//! never change, so they are packed once, at load time, into panels of 32
//! output columns (`k × 32`, contiguous); the kernel keeps an 8 × 32 tile of
//! `C` in sixteen 512-bit registers, broadcasting one `A` value per row and
//! loading two `W` vectors per step of `k`. Loops are blocked so a panel's
//! slice of `k` stays in L1 and a block of `A` rows in L2; threads take
//! disjoint blocks of rows.
//!
//! Without AVX-512 (checked at run time) the `gemm` crate does the work.

use rayon::prelude::*;

/// Output columns per panel.
pub const NR: usize = 32;
const MR: usize = 8;
const KC: usize = 256;
const MC: usize = 64;

/// A weight matrix `W` (`n × k`, row-major) ready for `A · Wᵀ`.
pub struct PackedW {
    n: usize,
    k: usize,
    /// `W` as given (no AVX-512), or packed into panels (AVX-512).
    data: Vec<f32>,
    packed: bool,
}

/// Whether this CPU runs the AVX-512 kernel.
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl PackedW {
    /// Packs `w` (`n × k`, row-major) for this CPU.
    pub fn new(w: Vec<f32>, n: usize, k: usize) -> PackedW {
        assert_eq!(w.len(), n * k, "weight shape");
        if !(has_avx512() && n.is_multiple_of(NR)) {
            return PackedW { n, k, data: w, packed: false };
        }
        let mut data = vec![0.0f32; n * k];
        for j in 0..n / NR {
            let panel = &mut data[j * k * NR..(j + 1) * k * NR];
            for p in 0..k {
                for c in 0..NR {
                    panel[p * NR + c] = w[(j * NR + c) * k + p];
                }
            }
        }
        PackedW { n, k, data, packed: true }
    }

    /// Output width `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Input width `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// `out[m × n] = a[m × k] · Wᵀ`.
    pub fn matmul(&self, a: &[f32], m: usize, out: &mut [f32]) {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && out.len() >= m * n, "matmul: buffers too small");
        if m == 0 {
            return;
        }
        if !self.packed {
            crate::bert::matmul_wt(a, &self.data, m, k, n, out, gemm::Parallelism::Rayon(0));
            return;
        }
        #[cfg(target_arch = "x86_64")]
        out[..m * n].par_chunks_mut(MC * n).zip(a[..m * k].par_chunks(MC * k)).for_each(|(c, a)| {
            let rows = a.len() / k;
            // SAFETY: the CPU has AVX-512F (checked when packing), `a` holds
            // `rows × k` values, `c` holds `rows × n`, and the packed panels
            // hold `n × k`; `block` indexes only within those bounds.
            #[allow(unsafe_code)]
            unsafe {
                block(a, rows, k, &self.data, n, c)
            }
        });
    }
}

/// `c[rows × n] = a[rows × k] · Wᵀ` for one block of rows.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
unsafe fn block(a: &[f32], rows: usize, k: usize, packed: &[f32], n: usize, c: &mut [f32]) {
    let mut pc = 0;
    while pc < k {
        let kc = KC.min(k - pc);
        for j in 0..n / NR {
            let b = packed.as_ptr().add(j * k * NR + pc * NR);
            let mut i = 0;
            while i < rows {
                let mr = MR.min(rows - i);
                let ap = a.as_ptr().add(i * k + pc);
                let cp = c.as_mut_ptr().add(i * n + j * NR);
                let acc = pc > 0;
                match mr {
                    8 => tile::<8>(kc, ap, k, b, cp, n, acc),
                    7 => tile::<7>(kc, ap, k, b, cp, n, acc),
                    6 => tile::<6>(kc, ap, k, b, cp, n, acc),
                    5 => tile::<5>(kc, ap, k, b, cp, n, acc),
                    4 => tile::<4>(kc, ap, k, b, cp, n, acc),
                    3 => tile::<3>(kc, ap, k, b, cp, n, acc),
                    2 => tile::<2>(kc, ap, k, b, cp, n, acc),
                    _ => tile::<1>(kc, ap, k, b, cp, n, acc),
                }
                i += mr;
            }
        }
        pc += kc;
    }
}

/// An `R × 32` tile: `c = (accumulate ? c : 0) + a[R × kc] · b[kc × 32]`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn tile<const R: usize>(kc: usize, a: *const f32, lda: usize, b: *const f32, c: *mut f32, ldc: usize, accumulate: bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_plain_product_on_every_shape_edge() {
        let mut seed = 7u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for (m, k, n) in [(1, 3, 32), (7, 384, 64), (9, 300, 96), (70, 1536, 32), (130, 384, 1152), (5, 7, 5)] {
            let a: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
            let w: Vec<f32> = (0..n * k).map(|_| rnd()).collect();
            let mut want = vec![0.0f32; m * n];
            for i in 0..m {
                for j in 0..n {
                    want[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * w[j * k + p] as f64).sum::<f64>() as f32;
                }
            }
            let pw = PackedW::new(w, n, k);
            let mut got = vec![f32::NAN; m * n];
            pw.matmul(&a, m, &mut got);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{m}x{k}x{n}: {g} vs {w}");
            }
        }
    }
}
