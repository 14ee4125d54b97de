//! The built-in CPU forward pass, fenced in one place as memchr fences its
//! SIMD: [`bert`] (the model: embeddings, attention, pooling) on top of
//! [`sgemm`] (the dense layers: packed weights, the AVX-512 f32/bf16
//! kernels in a file of their own, and the gemm crate elsewhere; one head of
//! attention on the same f32 kernel) and [`kernels`] (element-wise steps compiled per instruction
//! set). Dependencies run one way: bert → sgemm → kernels (attention's
//! softmax); kernels uses nothing above it.
//!
//! Every `unsafe fn` states its `# Safety` contract, and `unsafe` inside it
//! is explicit (`unsafe_op_in_unsafe_fn` is denied crate-wide). A kernel
//! runs only behind a capability token (`sgemm::Kernel`) that proves the
//! CPU has its instruction set.

pub mod bert;
pub mod kernels;
pub mod sgemm;
