//! Loading a bundle, its encoder, and the pipeline over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use logsift_core::encoder::Concat;
use logsift_core::lexical::{LexicalEncoder, LEXICAL_ID};
use logsift_core::tier::DisabledLlm;
use logsift_core::{Bundle, Encoder, Pipeline};
use logsift_embed::{resolve_model_dir, MiniLmEncoder, MINILM_ID};

/// Encoders a bundle can be trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EncoderArg {
    /// Hashed word and character n-grams (no weights, no download).
    Lexical,
    /// all-MiniLM-L6-v2 sentence embeddings (weights: --encoder-dir, the HF cache, or the Hub).
    Minilm,
    /// Both side by side (lexical and MiniLM features, equally weighted).
    Both,
}

/// Loads the MiniLM encoder from `dir` or wherever [`resolve_model_dir`] finds it.
pub fn minilm(dir: Option<&Path>) -> Result<Arc<dyn Encoder>> {
    let dir = resolve_model_dir(dir)?;
    let enc = MiniLmEncoder::load(&dir)?;
    tracing::info!("MiniLM weights from {}", dir.display());
    Ok(Arc::new(enc))
}

/// A fresh encoder of the given kind.
pub fn new_encoder(kind: EncoderArg, lexical_dim: usize, encoder_dir: Option<&Path>) -> Result<Arc<dyn Encoder>> {
    Ok(match kind {
        EncoderArg::Lexical => Arc::new(LexicalEncoder::new(lexical_dim)),
        EncoderArg::Minilm => minilm(encoder_dir)?,
        EncoderArg::Both => Arc::new(Concat::new(vec![(Arc::new(LexicalEncoder::new(lexical_dim)), 1.0), (minilm(encoder_dir)?, 1.0)])),
    })
}

/// The encoder a bundle was trained with.
pub fn encoder_for(bundle: &Bundle, encoder_dir: Option<&Path>) -> Result<Arc<dyn Encoder>> {
    if let Some(e) = bundle.builtin_encoder() {
        return Ok(e);
    }
    let spec = &bundle.manifest.encoder;
    let both = format!("{LEXICAL_ID}+{MINILM_ID}");
    if spec.id == MINILM_ID {
        return minilm(encoder_dir).with_context(|| format!("{} needs the MiniLM encoder", bundle.dir.display()));
    }
    if spec.id == both && spec.dim > 384 {
        let lexical = Arc::new(LexicalEncoder::new(spec.dim - 384));
        let m = minilm(encoder_dir).with_context(|| format!("{} needs the MiniLM encoder", bundle.dir.display()))?;
        return Ok(Arc::new(Concat::new(vec![(lexical, 1.0), (m, 1.0)])));
    }
    bail!(
        "{}: the bundle needs encoder '{}', which this build of logsift does not provide (it has '{LEXICAL_ID}', '{MINILM_ID}' and '{both}')",
        bundle.dir.display(),
        spec.id
    )
}

/// A loaded bundle and the pipeline over it.
pub struct Loaded {
    pub bundle: Bundle,
    pub pipeline: Pipeline,
}

/// Where the model comes from, as the user said it.
pub struct ModelChoice {
    pub dir: PathBuf,
    pub encoder_dir: Option<PathBuf>,
}

/// Loads the bundle and builds its pipeline with the LLM tier disabled.
pub fn load(choice: &ModelChoice, cache_capacity: usize) -> Result<Loaded> {
    let bundle = Bundle::load(&choice.dir).with_context(|| format!("cannot load model bundle {}", choice.dir.display()))?;
    let encoder = encoder_for(&bundle, choice.encoder_dir.as_deref())?;
    let pipeline = bundle.pipeline(encoder, Box::new(DisabledLlm), cache_capacity)?;
    Ok(Loaded { bundle, pipeline })
}
