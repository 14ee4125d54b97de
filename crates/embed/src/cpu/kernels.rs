//! The element-wise parts of the forward pass (bias, GELU, residual, layer
//! norm, softmax), compiled three times — AVX-512, AVX2+FMA and the baseline —
//! and chosen at run time, so a portable binary still uses the CPU's widest
//! vectors. Each body is plain Rust written so the compiler can vectorise it:
//! no calls into libm (GELU's erf and softmax's exp are polynomials here) and
//! reductions split over 16 lanes.

/// An instruction set the element-wise kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F.
    Avx512,
    /// AVX2 with FMA.
    Avx2Fma,
    /// Whatever the target's baseline is (SSE2 on x86-64).
    Baseline,
}

impl Isa {
    /// Every variant, widest first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2Fma, Isa::Baseline];

    /// Whether this CPU can run code compiled for it.
    pub fn available(self) -> bool {
        match self {
            Isa::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The widest this CPU has.
    pub fn best() -> Isa {
        Isa::ALL.into_iter().find(|i| i.available()).unwrap_or(Isa::Baseline)
    }
}

/// Defines `pub fn $name(args)`, which runs `$body` compiled for the best
/// instruction set this CPU has, and `pub fn $on(isa, args)`, which runs the
/// variant for `isa` (tests call each explicitly).
macro_rules! multiversion {
    ($(#[$m:meta])* pub fn $name:ident / $on:ident ($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        pub fn $name($($arg: $ty),*) {
            $on(Isa::best(), $($arg),*)
        }

        #[doc = concat!("[`", stringify!($name), "`] compiled for `isa`.\n\n# Panics\n\nWhen this CPU lacks `isa` ([`Isa::available`]).")]
        #[allow(unsafe_code)]
        pub fn $on(isa: Isa, $($arg: $ty),*) {
            #[inline(always)]
            fn imp($($arg: $ty),*) $body
            assert!(isa.available(), "this CPU lacks {isa:?}");
            match isa {
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => {
                    /// # Safety
                    ///
                    /// Only on a CPU with AVX-512F.
                    #[target_feature(enable = "avx512f")]
                    unsafe fn v4($($arg: $ty),*) {
                        imp($($arg),*)
                    }
                    // SAFETY: asserted above: the CPU has the features v4 was compiled for.
                    unsafe { v4($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2Fma => {
                    /// # Safety
                    ///
                    /// Only on a CPU with AVX2 and FMA.
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn v3($($arg: $ty),*) {
                        imp($($arg),*)
                    }
                    // SAFETY: asserted above: the CPU has the features v3 was compiled for.
                    unsafe { v3($($arg),*) }
                }
                _ => imp($($arg),*),
            }
        }
    };
}

const LANES: usize = 16;

#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for j in 0..LANES {
            acc[j] += c[j];
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[inline(always)]
fn max(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for j in 0..LANES {
            // Not `f32::max`: its NaN handling doubles the instructions.
            acc[j] = if c[j] > acc[j] { c[j] } else { acc[j] };
        }
    }
    acc.iter().chain(chunks.remainder()).fold(f32::NEG_INFINITY, |a, &b| a.max(b))
}

/// e^x for x ≤ 0 (larger inputs are not needed by softmax after the max is
/// subtracted): range reduction by ln 2 and a degree-6 polynomial, relative
/// error below 5e-7.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
                                     // Comparisons rather than `clamp`, whose NaN rules cost extra
                                     // instructions a lane (no NaN reaches softmax).
    #[allow(clippy::manual_clamp)]
    let x = if x < -87.0 {
        -87.0
    } else if x > 0.0 {
        0.0
    } else {
        x
    };
    let shifted = x * std::f32::consts::LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let mut p = 1.0 / 720.0f32;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // 2^n from the integer the magic addition left in the low mantissa bits
    // (n in [-126, 0]): no float-to-int conversion, which Rust's saturating
    // `as` would do lane by lane.
    let two_n = (shifted.to_bits().wrapping_sub(MAGIC.to_bits()).wrapping_add(127)) << 23;
    p * f32::from_bits(two_n)
}

/// erf as a rational function of x² on [-4, 4] (Eigen's
/// `generic_fast_erf_float` coefficients); within 1e-6 of `libm::erff`.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906_3e-4;
    p = p * x2 + -2.9546e-3;
    p = p * x2 + -1.609_603_3e-2;
    let mut q = -1.456_607_2e-5f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329_4e-3;
    q = q * x2 + -1.426_474e-2;
    x * p / q
}

multiversion! {
    /// `x[r] += b` for every row `r` of width `b.len()`.
    pub fn add_bias / add_bias_on(x: &mut [f32], b: &[f32]) {
        for row in x.chunks_exact_mut(b.len()) {
            for (v, b) in row.iter_mut().zip(b) {
                *v += b;
            }
        }
    }
}

multiversion! {
    /// `x[r] = gelu(x[r] + b)` (exact, erf-based GELU) for every row.
    pub fn bias_gelu / bias_gelu_on(x: &mut [f32], b: &[f32]) {
        for row in x.chunks_exact_mut(b.len()) {
            for (v, b) in row.iter_mut().zip(b) {
                let z = *v + b;
                *v = 0.5 * z * (1.0 + erf(z * std::f32::consts::FRAC_1_SQRT_2));
            }
        }
    }
}

multiversion! {
    /// `x[r] += y[r] + b` for every row.
    pub fn add_residual_bias / add_residual_bias_on(x: &mut [f32], y: &[f32], b: &[f32]) {
        let h = b.len();
        for (xr, yr) in x.chunks_exact_mut(h).zip(y.chunks_exact(h)) {
            for ((xv, yv), bv) in xr.iter_mut().zip(yr).zip(b) {
                *xv += yv + bv;
            }
        }
    }
}

multiversion! {
    /// Layer norm of every row of width `g.len()`: `(x - mean) / sqrt(var + eps) * g + b`.
    pub fn layer_norm / layer_norm_on(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
        let h = g.len();
        let n = h as f32;
        for row in x.chunks_exact_mut(h) {
            let mean = sum(row) / n;
            let mut sq = [0.0f32; LANES];
            let mut chunks = row.chunks_exact(LANES);
            for c in chunks.by_ref() {
                for j in 0..LANES {
                    let d = c[j] - mean;
                    sq[j] += d * d;
                }
            }
            let var = (sq.iter().sum::<f32>() + chunks.remainder().iter().map(|v| (v - mean) * (v - mean)).sum::<f32>()) / n;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(g).zip(b) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

multiversion! {
    /// Softmax of every row of width `len` of `scores · scale`.
    pub fn softmax / softmax_on(scores: &mut [f32], len: usize, scale: f32) {
        for row in scores.chunks_exact_mut(len) {
            let m = max(row) * scale;
            // The sum is taken as the exponentials are written (one pass less).
            let mut acc = [0.0f32; LANES];
            let mut chunks = row.chunks_exact_mut(LANES);
            for c in chunks.by_ref() {
                for j in 0..LANES {
                    c[j] = exp_nonpositive(c[j] * scale - m);
                    acc[j] += c[j];
                }
            }
            let mut total = acc.iter().sum::<f32>();
            for s in chunks.into_remainder() {
                *s = exp_nonpositive(*s * scale - m);
                total += *s;
            }
            let inv = 1.0 / total;
            for s in row.iter_mut() {
                *s *= inv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_erf_matches_libm() {
        let mut worst = 0.0f32;
        for i in -60_000..=60_000 {
            let x = i as f32 / 10_000.0;
            worst = worst.max((erf(x) - libm::erff(x)).abs());
        }
        assert!(worst < 1e-6, "max error {worst}");
    }

    #[test]
    fn fast_exp_matches_libm() {
        let mut worst = 0.0f32;
        for i in 0..=870_000 {
            let x = -(i as f32) / 10_000.0;
            let want = libm::expf(x);
            worst = worst.max((exp_nonpositive(x) - want).abs() / want.max(f32::MIN_POSITIVE));
        }
        assert!(worst < 5e-7, "max relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
    }

    /// Every kernel, run explicitly for every instruction set this CPU has,
    /// gives the baseline's answer; a missing one is said, not passed over.
    #[test]
    fn each_instruction_set_gives_the_baseline_answer() {
        let x: Vec<f32> = (0..96).map(|i| (i as f32 * 0.73).sin() * 4.0).collect();
        let (b, g): (Vec<f32>, Vec<f32>) = ((0..24).map(|i| i as f32 * 0.01).collect(), (0..24).map(|i| 1.0 + i as f32 * 0.02).collect());
        let run = |isa: Isa| {
            let mut out: Vec<f32> = vec![];
            let mut v = x.clone();
            add_bias_on(isa, &mut v, &b);
            out.extend(&v);
            let mut v = x.clone();
            bias_gelu_on(isa, &mut v, &b);
            out.extend(&v);
            let mut v = x.clone();
            add_residual_bias_on(isa, &mut v, &x, &b);
            out.extend(&v);
            let mut v = x.clone();
            layer_norm_on(isa, &mut v, &g, &b, 1e-12);
            out.extend(&v);
            let mut v = x.clone();
            softmax_on(isa, &mut v, 24, 0.125);
            out.extend(&v);
            out
        };
        let want = run(Isa::Baseline);
        for isa in [Isa::Avx512, Isa::Avx2Fma] {
            if !isa.available() {
                logsift_testkit::notice(&format!("this CPU lacks {isa:?}: its kernels were not run (the dispatch uses {:?})", Isa::best()));
                continue;
            }
            let got = run(isa);
            let worst = got.iter().zip(&want).map(|(a, b): (&f32, &f32)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{isa:?} differs from the baseline by {worst}");
        }
    }

    #[test]
    fn kernels_agree_with_plain_loops() {
        let row: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let mut s = row.clone();
        softmax(&mut s, 20, 0.5);
        for half in s.chunks(20) {
            assert!((half.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let m = row[..20].iter().cloned().fold(f32::MIN, f32::max);
        let want: Vec<f32> = row[..20].iter().map(|v| ((v - m) * 0.5).exp()).collect();
        let total: f32 = want.iter().sum();
        for (a, b) in s[..20].iter().zip(&want) {
            assert!((a - b / total).abs() < 1e-6);
        }
        let mut ln = row.clone();
        layer_norm(&mut ln, &[1.0; 20], &[0.0; 20], 1e-12);
        for r in ln.chunks(20) {
            let mean: f32 = r.iter().sum::<f32>() / 20.0;
            let var: f32 = r.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 20.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
        }
        let mut g = vec![0.0f32, 1.0, -1.0, 3.0];
        bias_gelu(&mut g, &[0.0; 4]);
        for (v, x) in g.iter().zip([0.0f32, 1.0, -1.0, 3.0]) {
            let want = 0.5 * x * (1.0 + libm::erff(x / 2f32.sqrt()));
            assert!((v - want).abs() < 1e-6);
        }
    }
}
