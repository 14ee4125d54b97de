//! The dense kernels' rates against what the CPU can do at most.
//!
//! ```sh
//! cargo run --release -p logsift-embed --example kernels            # threads: rayon's default
//! RAYON_NUM_THREADS=1 cargo run --release -p logsift-embed --example kernels
//! ```
//!
//! Prints one core's peak (independent multiply-add chains, nothing loaded)
//! for f32 and bf16, then `PackedW::matmul` in GFLOP/s on MiniLM's dense
//! shapes (512 rows a pass: Q/K/V 384 → 1,152, attention output 384 → 384,
//! feed-forward 384 → 1,536 and 1,536 → 384), for every kernel this CPU has.
//! BENCHMARKS.md ("The encoder: the steps between the products…") quotes it.

use logsift_embed::sgemm::{peak_gflops, Kernel, PackedW};
use std::time::Instant;

fn main() {
    for kernel in [Kernel::Avx512, Kernel::Avx512Bf16] {
        match peak_gflops(kernel, 20_000_000) {
            Some(g) => println!("peak, one core, {kernel:?}: {g:.1} GFLOP/s"),
            None => println!("peak, {kernel:?}: this CPU lacks it"),
        }
    }
    let threads = rayon::current_num_threads();
    let m = 512;
    for (n, k) in [(1152, 384), (384, 384), (1536, 384), (384, 1536)] {
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5).collect();
        let mut out = vec![0f32; m * n];
        for kernel in [Kernel::Gemm, Kernel::Avx512, Kernel::Avx512Bf16] {
            let Some(packed) = PackedW::for_kernel(&w, n, k, kernel) else { continue };
            packed.matmul(&a, m, &mut out);
            let reps = 100;
            let start = Instant::now();
            for _ in 0..reps {
                packed.matmul(&a, m, &mut out);
            }
            let rate = (2 * m * n * k * reps) as f64 / start.elapsed().as_secs_f64() / 1e9;
            println!("{m} × {k} → {n}, {kernel:?}, {threads} threads: {rate:.1} GFLOP/s");
        }
    }
}
