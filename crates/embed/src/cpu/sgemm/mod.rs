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
//! With [`Precision::Bf16`] (the default where the CPU has AVX512-BF16), weights and activations
//! are rounded to bfloat16 and multiplied in pairs with `vdpbf16ps`,
//! accumulating in f32: twice the products per instruction, at the cost of
//! 8-bit mantissas (the parity test bounds the effect).
//!
//! A layer's products are cut into blocks of rows over rayon's threads; a
//! block's rows are rounded to bf16 on the thread that multiplies them (32
//! values an instruction, `vcvtne2ps2bf16`), and the step after the product
//! (bias, GELU, residual and layer norm) runs there too, while the block is in
//! cache ([`PackedW::matmul_then`]). [`attention_head`] runs one head of
//! attention on the f32 tile kernel.
//!
//! Without AVX-512 (checked at run time) the `gemm` crate does the work.
//!
//! The `unsafe` kernels, one instruction set, are in `avx512.rs`; this file
//! holds the safe side: packing, the run-time checks, the blocking over
//! threads, and the calls.

#[cfg(target_arch = "x86_64")]
mod avx512;

use gemm::Parallelism;
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use avx512::*;

/// Output columns per panel.
pub const NR: usize = 32;
const MR: usize = 8;
const KC: usize = 256;
const MC: usize = 64;

/// Arithmetic of the dense layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 throughout (sentence-transformers' numbers; the default without
    /// AVX512-BF16, and `LOGSIFT_MINILM_PRECISION=f32`).
    F32,
    /// bfloat16 products, f32 sums (needs AVX512-BF16; else f32; the default
    /// where the CPU has it).
    Bf16,
}

impl Precision {
    /// `LOGSIFT_MINILM_PRECISION=f32` or `=bf16` chooses; by default bf16
    /// where the CPU multiplies it natively (AVX512-BF16: 1.4× the
    /// embeddings a second, minimum cosine 0.99997 to sentence-transformers,
    /// no accuracy change measured on the bundles), exact f32 elsewhere.
    pub fn from_env() -> Precision {
        Precision::choose(std::env::var("LOGSIFT_MINILM_PRECISION").ok().as_deref(), has_avx512_bf16())
    }

    /// The precision for a `LOGSIFT_MINILM_PRECISION` value on a CPU with or
    /// without AVX512-BF16.
    pub fn choose(setting: Option<&str>, cpu_bf16: bool) -> Precision {
        match setting {
            Some("bf16") => Precision::Bf16,
            Some("f32") => Precision::F32,
            _ if cpu_bf16 => Precision::Bf16,
            _ => Precision::F32,
        }
    }
}

#[cfg(test)]
mod precision_tests {
    use super::Precision;

    #[test]
    fn bf16_by_default_only_where_the_cpu_has_it_and_f32_on_request() {
        assert_eq!(Precision::choose(None, true), Precision::Bf16);
        assert_eq!(Precision::choose(None, false), Precision::F32);
        assert_eq!(Precision::choose(Some("f32"), true), Precision::F32);
        assert_eq!(Precision::choose(Some("bf16"), false), Precision::Bf16, "asked for: falls back to f32 kernels itself");
        assert_eq!(Precision::choose(Some("other"), false), Precision::F32);
    }
}

/// Proof that this CPU has AVX-512F: only [`Avx512::detect`] makes one, so
/// a kernel that takes it needs no other check (memchr's fencing: the
/// `unsafe` call sites hold the token, not a `bool` someone might set).
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Avx512 {
    /// The token, when the CPU has AVX-512F.
    pub fn detect() -> Option<Avx512> {
        has_avx512().then_some(Avx512(()))
    }
}

/// Proof that this CPU has AVX-512F and AVX512-BF16 ([`Avx512Bf16::detect`]).
#[derive(Clone, Copy, Debug)]
pub struct Avx512Bf16(());

impl Avx512Bf16 {
    /// The token, when the CPU has both.
    pub fn detect() -> Option<Avx512Bf16> {
        has_avx512_bf16().then_some(Avx512Bf16(()))
    }
}

/// Which code multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// The `gemm` crate (any CPU).
    Gemm,
    /// The AVX-512 f32 kernel.
    Avx512,
    /// The AVX512-BF16 kernel.
    Avx512Bf16,
}

/// How a weight matrix is held, for the kernel that will use it.
enum Layout {
    /// `W` as given, for the `gemm` crate.
    Plain(Vec<f32>),
    /// f32 panels of 32 columns (`k × 32` each), for the AVX-512 kernel.
    Avx512(Avx512, Vec<f32>),
    /// bf16 panels: per panel, per pair of `k`, 32 columns × 2 values.
    Avx512Bf16(Avx512Bf16, Vec<u16>),
}

/// A weight matrix `W` (`n × k`, row-major) ready for `A · Wᵀ`.
pub struct PackedW {
    n: usize,
    k: usize,
    layout: Layout,
}

/// Whether this CPU runs the bf16 kernel.
pub fn has_avx512_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// f32 → bfloat16, rounding to nearest even.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Consecutive pairs of a row as bf16 pairs (low half: even element).
#[inline(always)]
fn pair_rows(a: &[f32], k: usize, out: &mut [u32]) {
    let kp = k.div_ceil(2);
    for (row, o) in a.chunks_exact(k).zip(out.chunks_exact_mut(kp)) {
        for (q, o) in o.iter_mut().enumerate() {
            let lo = to_bf16(row[2 * q]) as u32;
            let hi = if 2 * q + 1 < k { to_bf16(row[2 * q + 1]) as u32 } else { 0 };
            *o = lo | (hi << 16);
        }
    }
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
    /// Packs `w` (`n × k`, row-major) for this CPU, in f32.
    pub fn new(w: Vec<f32>, n: usize, k: usize) -> PackedW {
        Self::with_precision(w, n, k, Precision::F32)
    }

    /// Packs `w` for this CPU and the given precision: the widest kernel
    /// the CPU has (bf16 only when asked for).
    pub fn with_precision(w: Vec<f32>, n: usize, k: usize, precision: Precision) -> PackedW {
        let wanted: &[Kernel] = if precision == Precision::Bf16 { &[Kernel::Avx512Bf16, Kernel::Avx512] } else { &[Kernel::Avx512] };
        for &kernel in wanted {
            if let Some(p) = Self::for_kernel(&w, n, k, kernel) {
                return p;
            }
        }
        assert_eq!(w.len(), n * k, "weight shape");
        PackedW { n, k, layout: Layout::Plain(w) }
    }

    /// Packs `w` for one kernel, or `None` when this CPU lacks it or the
    /// shape does not fit it (`n` a multiple of 32 for the AVX-512 ones).
    /// Tests call each kernel this way.
    pub fn for_kernel(w: &[f32], n: usize, k: usize, kernel: Kernel) -> Option<PackedW> {
        assert_eq!(w.len(), n * k, "weight shape");
        let layout = match kernel {
            Kernel::Gemm => Layout::Plain(w.to_vec()),
            Kernel::Avx512 => {
                let token = Avx512::detect().filter(|_| n.is_multiple_of(NR))?;
                let mut data = Vec::new();
                pack_panels(|c| &w[c * k..(c + 1) * k], n, k, &mut data);
                Layout::Avx512(token, data)
            }
            Kernel::Avx512Bf16 => {
                let token = Avx512Bf16::detect().filter(|_| n.is_multiple_of(NR))?;
                let kp = k.div_ceil(2);
                let mut panels = vec![0u16; n / NR * kp * 2 * NR];
                for j in 0..n / NR {
                    for q in 0..kp {
                        let base = (j * kp + q) * 2 * NR;
                        for c in 0..NR {
                            let row = &w[(j * NR + c) * k..(j * NR + c + 1) * k];
                            panels[base + 2 * c] = to_bf16(row[2 * q]);
                            panels[base + 2 * c + 1] = if 2 * q + 1 < k { to_bf16(row[2 * q + 1]) } else { 0 };
                        }
                    }
                }
                Layout::Avx512Bf16(token, panels)
            }
        };
        Some(PackedW { n, k, layout })
    }

    /// The kernel this matrix is packed for.
    pub fn kernel(&self) -> Kernel {
        match self.layout {
            Layout::Plain(_) => Kernel::Gemm,
            Layout::Avx512(..) => Kernel::Avx512,
            Layout::Avx512Bf16(..) => Kernel::Avx512Bf16,
        }
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
        self.matmul_then(a, m, out, None, |_, _| {});
    }

    /// `out[m × n] = a[m × k] · Wᵀ`, then `then(out_rows, side_rows)` on
    /// each block of rows as soon as it is computed, on the thread that
    /// computed it, while the block is still in cache: a bias, GELU, or a
    /// residual sum and layer norm into `side` (`m × width`, split in the
    /// same rows; empty slices when `None`). One parallel pass where the
    /// product and each element-wise step were a pass and a wait each.
    pub fn matmul_then<F>(&self, a: &[f32], m: usize, out: &mut [f32], side: Option<(&mut [f32], usize)>, then: F)
    where
        F: Fn(&mut [f32], &mut [f32]) + Sync,
    {
        let (n, k) = (self.n, self.k);
        assert!(a.len() >= m * k && out.len() >= m * n, "matmul: buffers too small");
        if m == 0 {
            return;
        }
        let blocks = m.div_ceil(MC);
        let sides: Vec<&mut [f32]> = match side {
            Some((s, width)) => {
                assert!(width > 0 && s.len() >= m * width, "matmul: side buffer too small");
                s[..m * width].chunks_mut(MC * width).collect()
            }
            None => (0..blocks).map(|_| &mut [][..]).collect(),
        };
        let out = &mut out[..m * n];
        match &self.layout {
            Layout::Plain(w) => {
                matmul_wt(a, w, m, k, n, out, Parallelism::Rayon(0));
                out.par_chunks_mut(MC * n).zip(sides).for_each(|(c, s)| then(c, s));
            }
            #[cfg(target_arch = "x86_64")]
            Layout::Avx512Bf16(token, panels) => {
                let kp = k.div_ceil(2);
                out.par_chunks_mut(MC * n).zip(a[..m * k].par_chunks(MC * k)).zip(sides).for_each(|((c, a), s)| {
                    let rows = a.len() / k;
                    PAIRS.with_borrow_mut(|pairs| {
                        pairs.resize(rows * kp, 0);
                        pair_rows_fast(*token, a, k, pairs);
                        // SAFETY: the token proves AVX-512F and AVX512-BF16;
                        // `pairs` holds `rows × kp` pairs, `c` `rows × n`, the
                        // panels `n/32 × kp × 64` values (packed for this `n, k`).
                        #[allow(unsafe_code)]
                        unsafe {
                            block_bf16(pairs, rows, kp, panels, n, c)
                        }
                    });
                    then(c, s);
                });
            }
            #[cfg(target_arch = "x86_64")]
            Layout::Avx512(_token, panels) => {
                out.par_chunks_mut(MC * n).zip(a[..m * k].par_chunks(MC * k)).zip(sides).for_each(|((c, a), s)| {
                    let rows = a.len() / k;
                    // SAFETY: the token proves AVX-512F; `a` holds `rows × k`
                    // values, `c` `rows × n`, the panels `n × k` (packed for
                    // this `n, k`); `block` indexes only within those.
                    #[allow(unsafe_code)]
                    unsafe {
                        block(a, rows, k, panels, n, c)
                    }
                    then(c, s);
                });
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("AVX-512 tokens are only made on x86-64"),
        }
    }
}

/// What one core's multiply-add units can do at most, in GFLOP/s: sixteen
/// independent chains of `vfmadd` (f32) or `vdpbf16ps` (bf16) on 512-bit
/// registers, `steps` instructions each, with nothing loaded. The ceiling the
/// kernels' rates are judged against (`cargo run --release -p logsift-embed
/// --example kernels`); `None` for the `gemm` crate or a CPU without the
/// instructions.
pub fn peak_gflops(kernel: Kernel, steps: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        let start = std::time::Instant::now();
        let (sink, flop_per_instruction) = match kernel {
            Kernel::Gemm => return None,
            Kernel::Avx512 => {
                Avx512::detect()?;
                // SAFETY: AVX-512F was detected just above.
                #[allow(unsafe_code)]
                let sink = unsafe { chains_f32(steps) };
                (sink, 32)
            }
            Kernel::Avx512Bf16 => {
                Avx512Bf16::detect()?;
                // SAFETY: AVX-512F and AVX512-BF16 were detected just above.
                #[allow(unsafe_code)]
                let sink = unsafe { chains_bf16(steps) };
                (sink, 64)
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        std::hint::black_box(sink);
        Some((steps * 16 * flop_per_instruction) as f64 / seconds / 1e9)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (kernel, steps);
        None
    }
}

/// `n` rows of `k` values (`row(i)`) as f32 panels for the tile kernel:
/// per 32 rows, `k × 32` values, row `c` of the panel in column `c`; the
/// last panel padded with zero rows when `n` is not a multiple of 32.
fn pack_panels<'a>(row: impl Fn(usize) -> &'a [f32], n: usize, k: usize, out: &mut Vec<f32>) {
    out.clear();
    out.resize(n.div_ceil(NR) * NR * k, 0.0);
    for (j, panel) in out.chunks_exact_mut(k * NR).enumerate() {
        for c in 0..NR.min(n - j * NR) {
            for (p, &v) in row(j * NR + c).iter().enumerate() {
                panel[p * NR + c] = v;
            }
        }
    }
}

thread_local! {
    /// A block's rows as bf16 pairs, kept per thread between products.
    static PAIRS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// [`pair_rows`] with `vcvtne2ps2bf16`: 32 values a step, rounded to
/// nearest even as [`to_bf16`] rounds (tails of a row by [`to_bf16`]).
fn pair_rows_fast(token: Avx512Bf16, a: &[f32], k: usize, out: &mut [u32]) {
    let _ = token;
    #[cfg(target_arch = "x86_64")]
    {
        let kp = k.div_ceil(2);
        assert!(a.len().is_multiple_of(k) && out.len() >= a.len() / k * kp);
        // SAFETY: the token proves AVX-512F and AVX512-BF16; the lengths are checked above.
        #[allow(unsafe_code)]
        unsafe {
            pair_rows_avx512(a, k, out)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    pair_rows(a, k, out)
}

thread_local! {
    /// Attention's packed keys, scores and packed values, kept per thread.
    static ATTENTION: std::cell::RefCell<[Vec<f32>; 3]> = const { std::cell::RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// One head of attention over one text, exact f32:
/// `out[len × dh] = softmax(Q·Kᵀ · scale) · V`, where row `t` of Q, K and V
/// starts at `qkv[t·stride + at[0|1|2]]`.
///
/// With AVX-512 and 32-wide heads (MiniLM's), the keys are packed into
/// 32-column panels and the values into one, and both products run on the
/// dense layers' f32 tile kernel: twice the width of the `gemm` crate's
/// AVX2 kernels, which do the work elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn attention_head(qkv: &[f32], stride: usize, len: usize, dh: usize, at: [usize; 3], scale: f32, out: &mut [f32]) {
    if len == 0 {
        return;
    }
    assert!(at.iter().all(|&o| o + dh <= stride) && qkv.len() >= len * stride && out.len() >= len * dh, "attention: bad shapes");
    ATTENTION.with_borrow_mut(|[keys, scores, values]| match Avx512::detect().filter(|_| dh == NR) {
        #[cfg(target_arch = "x86_64")]
        Some(_token) => {
            let lenp = len.div_ceil(NR) * NR;
            pack_panels(|t| &qkv[t * stride + at[1]..][..dh], len, dh, keys);
            values.clear();
            for t in 0..len {
                values.extend_from_slice(&qkv[t * stride + at[2]..][..dh]);
            }
            scores.resize(len * lenp, 0.0);
            // SAFETY: the token proves AVX-512F; `qkv` holds `len` rows of
            // `stride` with Q at `at[0]` (checked above), `keys` `lenp × dh`
            // packed, `scores` `len × lenp`.
            #[allow(unsafe_code)]
            unsafe {
                attention_avx512(qkv[at[0]..].as_ptr(), stride, len, keys, scores)
            };
            // The padding columns are set far below any score, so the
            // softmax runs over whole 32-wide rows (no scalar tail) and gives
            // them nothing (e^-87 at most; P·V reads only `len` columns).
            for row in scores.chunks_exact_mut(lenp) {
                row[len..].fill(-1e30);
            }
            super::kernels::softmax(scores, lenp, scale);
            // SAFETY: as above; the scores now hold probabilities.
            #[allow(unsafe_code)]
            unsafe {
                attention_values_avx512(len, scores, values, out)
            };
        }
        _ => {
            scores.resize(len * len, 0.0);
            let (q, k, v) = (&qkv[at[0]..], &qkv[at[1]..], &qkv[at[2]..]);
            matmul_strided(len, len, dh, scores, len, q, stride, 1, k, 1, stride, Parallelism::None);
            super::kernels::softmax(scores, len, scale);
            matmul_strided(len, dh, len, out, dh, scores, len, 1, v, stride, 1, Parallelism::None);
        }
    });
}

/// `out[m×n] = a[m×k] · wᵀ` for `w` stored `n × k` row-major.
pub(crate) fn matmul_wt(a: &[f32], w: &[f32], m: usize, k: usize, n: usize, out: &mut [f32], par: Parallelism) {
    matmul_strided(m, n, k, out, n, a, k, 1, w, 1, k, par)
}

/// General strided product `dst = lhs · rhs` on views of slices.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_strided(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: &[f32],
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: &[f32],
    rhs_rs: usize,
    rhs_cs: usize,
    par: Parallelism,
) {
    let last =
        |rs: usize, cs: usize, rows: usize, cols: usize| if rows == 0 || cols == 0 { 0 } else { (rows - 1) * rs + (cols - 1) * cs + 1 };
    assert!(dst.len() >= last(dst_rs, 1, m, n) && lhs.len() >= last(lhs_rs, lhs_cs, m, k) && rhs.len() >= last(rhs_rs, rhs_cs, k, n));
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the assertion bounds the highest offset gemm touches in each
    // view; dst is a unique borrow distinct from lhs and rhs.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u32) -> Vec<f32> {
        let mut seed = seed;
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn rows_paired_by_the_vector_instruction_are_the_rows_paired_one_by_one() {
        let Some(token) = Avx512Bf16::detect() else {
            logsift_testkit::notice("the vector bf16 pairing is not tested: this CPU lacks AVX512-BF16");
            return;
        };
        for k in [1, 2, 7, 31, 32, 33, 64, 65, 384, 1536] {
            let mut a = random(3 * k, k as u32);
            // Exact ties between two bf16 values (both roundings to even), and zeros.
            a[0] = f32::from_bits(0x3f80_8000);
            if k > 2 {
                a[1] = f32::from_bits(0x3f81_8000);
                a[2] = 0.0;
            }
            let kp = k.div_ceil(2);
            let (mut want, mut got) = (vec![0u32; 3 * kp], vec![7u32; 3 * kp]);
            pair_rows(&a, k, &mut want);
            pair_rows_fast(token, &a, k, &mut got);
            assert_eq!(got, want, "k = {k}");
        }
    }

    #[test]
    fn the_step_after_each_block_of_rows_sees_those_rows_and_their_side_rows() {
        let (n, k, width) = (64, 48, 5);
        let w = random(n * k, 3);
        for m in [1, 63, 64, 65, 130] {
            let a = random(m * k, m as u32);
            for kernel in [Kernel::Gemm, Kernel::Avx512, Kernel::Avx512Bf16] {
                let Some(pw) = PackedW::for_kernel(&w, n, k, kernel) else { continue };
                let mut plain = vec![0.0f32; m * n];
                pw.matmul(&a, m, &mut plain);
                let mut out = vec![0.0f32; m * n];
                // Each side row gets the sum of its output row, plus its own index.
                let mut side: Vec<f32> = (0..m * width).map(|i| (i / width) as f32).collect();
                pw.matmul_then(&a, m, &mut out, Some((&mut side, width)), |c, s| {
                    assert_eq!(c.len() / n, s.len() / width, "as many side rows as output rows");
                    for (row, srow) in c.chunks_exact_mut(n).zip(s.chunks_exact_mut(width)) {
                        let total: f32 = row.iter().sum();
                        srow.iter_mut().for_each(|v| *v += total);
                        row.iter_mut().for_each(|v| *v *= 2.0);
                    }
                });
                for r in 0..m {
                    let total: f32 = plain[r * n..(r + 1) * n].iter().sum();
                    for j in 0..n {
                        assert_eq!(out[r * n + j], 2.0 * plain[r * n + j], "{kernel:?} m={m} row {r}");
                    }
                    for v in &side[r * width..(r + 1) * width] {
                        assert!((v - (r as f32 + total)).abs() < 1e-4, "{kernel:?} m={m} side row {r}: {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn attention_matches_its_definition_for_every_length() {
        for dh in [32, 16] {
            let (heads, scale) = (3, 1.0 / (dh as f32).sqrt());
            let h = heads * dh;
            for len in [1, 2, 7, 31, 32, 33, 64, 140, 300] {
                let qkv: Vec<f32> = random(len * 3 * h, len as u32).iter().map(|v| v * 6.0).collect();
                for head in [0, heads - 1] {
                    let at = [head * dh, h + head * dh, 2 * h + head * dh];
                    let mut got = vec![f32::NAN; len * dh];
                    attention_head(&qkv, 3 * h, len, dh, at, scale, &mut got);
                    for i in 0..len {
                        let row = |t: usize, part: usize| &qkv[t * 3 * h + at[part]..][..dh];
                        let s: Vec<f64> = (0..len)
                            .map(|j| row(i, 0).iter().zip(row(j, 1)).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>() * scale as f64)
                            .collect();
                        let m = s.iter().cloned().fold(f64::MIN, f64::max);
                        let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                        let total: f64 = e.iter().sum();
                        for d in 0..dh {
                            let want: f64 = (0..len).map(|j| e[j] / total * row(j, 2)[d] as f64).sum();
                            let g = got[i * dh + d] as f64;
                            assert!((g - want).abs() < 1e-5, "dh {dh} len {len} head {head} [{i}][{d}]: {g} vs {want}");
                        }
                    }
                }
            }
        }
        if !has_avx512() {
            logsift_testkit::notice("attention's AVX-512 path is not tested: this CPU lacks AVX-512 (the gemm crate's path was)");
        }
    }

    #[test]
    fn matches_a_plain_product_on_every_shape_edge() {
        let mut seed = 7u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let mut lacking = std::collections::BTreeSet::new();
        for (m, k, n) in [(1, 3, 32), (7, 384, 64), (9, 300, 96), (70, 1536, 32), (130, 384, 1152), (5, 7, 5)] {
            let a: Vec<f32> = (0..m * k).map(|_| rnd()).collect();
            let w: Vec<f32> = (0..n * k).map(|_| rnd()).collect();
            let mut want = vec![0.0f32; m * n];
            for i in 0..m {
                for j in 0..n {
                    want[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * w[j * k + p] as f64).sum::<f64>() as f32;
                }
            }
            // Each kernel called explicitly; one this CPU lacks says so.
            for kernel in [Kernel::Gemm, Kernel::Avx512, Kernel::Avx512Bf16] {
                let Some(pw) = PackedW::for_kernel(&w, n, k, kernel) else {
                    if n.is_multiple_of(NR) {
                        lacking.insert(format!("{kernel:?}"));
                    }
                    continue;
                };
                assert_eq!(pw.kernel(), kernel);
                let mut got = vec![f32::NAN; m * n];
                pw.matmul(&a, m, &mut got);
                // bf16: 8-bit mantissas, so about 2^-8 relative error per product.
                let scale = (k as f32).sqrt() * 0.3;
                for (g, w) in got.iter().zip(&want) {
                    let ok = match kernel {
                        Kernel::Avx512Bf16 => (g - w).abs() <= 0.02 * scale,
                        _ => (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                    };
                    assert!(ok, "{kernel:?} {m}x{k}x{n}: {g} vs {w}");
                }
            }
            // What the encoder uses: the widest kernel the CPU has.
            let best = PackedW::new(w.clone(), n, k).kernel();
            let expect = if has_avx512() && n.is_multiple_of(NR) { Kernel::Avx512 } else { Kernel::Gemm };
            assert_eq!(best, expect);
        }
        for kernel in lacking {
            logsift_testkit::notice(&format!("the {kernel} kernel is not tested: this CPU lacks it"));
        }
    }
}
