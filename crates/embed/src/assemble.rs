//! Assembling the encoder a bundle names, in one place for every front end
//! (CLI, service, worker, Python): which encoder, where its weights come
//! from, and whether a download is allowed.
//!
//! Before, the CLI did this itself, resolving the weights twice and reading
//! the resolver's error text back to make its warning; now the policy is a
//! value ([`Weights`]) and the error is typed ([`EmbedError`]).

use std::path::Path;
use std::sync::Arc;

use logsift_core::encoder::{Concat, Encoder};
use logsift_core::lexical::{LexicalEncoder, LEXICAL_ID};
use logsift_core::Bundle;

use crate::{find_model_dir, EmbedError, MiniLmEncoder, MINILM_ID};

/// Where MiniLM weights may come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    /// The given directory (final when given), `$LOGSIFT_MINILM_DIR`, the
    /// Hugging Face cache, then a download from the Hub (feature `hub`).
    Anywhere,
    /// Only what is already on this machine: never a download. The bundled
    /// default is loaded this way, so a first run never reaches the network.
    LocalOnly,
}

/// A fresh encoder, for training or `embed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncoderKind {
    /// Hashed word and character n-grams (no weights).
    Lexical,
    /// all-MiniLM-L6-v2 sentence embeddings.
    Minilm,
    /// Both side by side, equally weighted.
    Both,
}

/// The id a bundle records for lexical and MiniLM features side by side.
pub fn both_id() -> String {
    format!("{LEXICAL_ID}+{MINILM_ID}")
}

/// all-MiniLM-L6-v2, its weights found by `weights` (from `dir` when given).
pub fn minilm(dir: Option<&Path>, weights: Weights) -> Result<Arc<dyn Encoder>, EmbedError> {
    let dir = find_model_dir(dir, weights)?;
    let enc = MiniLmEncoder::load(&dir)?;
    tracing::info!("MiniLM weights from {}", dir.display());
    Ok(Arc::new(enc))
}

/// A fresh encoder of `kind` (`lexical_dim` for the lexical part).
pub fn new_encoder(kind: EncoderKind, lexical_dim: usize, dir: Option<&Path>, weights: Weights) -> Result<Arc<dyn Encoder>, EmbedError> {
    Ok(match kind {
        EncoderKind::Lexical => Arc::new(LexicalEncoder::new(lexical_dim)),
        EncoderKind::Minilm => minilm(dir, weights)?,
        EncoderKind::Both => Arc::new(Concat::new(vec![(Arc::new(LexicalEncoder::new(lexical_dim)), 1.0), (minilm(dir, weights)?, 1.0)])),
    })
}

/// Whether the bundle's encoder needs MiniLM weights.
pub fn needs_weights(bundle: &Bundle) -> bool {
    bundle.manifest.encoder.id.contains(MINILM_ID)
}

/// The encoder `bundle` was trained with; MiniLM weights from `dir` or as
/// `weights` allows.
pub fn bundle_encoder(bundle: &Bundle, dir: Option<&Path>, weights: Weights) -> Result<Arc<dyn Encoder>, EmbedError> {
    if let Some(e) = bundle.builtin_encoder() {
        return Ok(e);
    }
    let spec = &bundle.manifest.encoder;
    if spec.id == MINILM_ID {
        return minilm(dir, weights);
    }
    if spec.id == both_id() && spec.dim > 384 {
        return new_encoder(EncoderKind::Both, spec.dim - 384, dir, weights);
    }
    Err(EmbedError::UnknownEncoder {
        bundle: bundle.dir.clone(),
        id: spec.id.clone(),
        known: vec![LEXICAL_ID.into(), MINILM_ID.into(), both_id()],
    })
}
