//! Loading a bundle, its encoder, and the pipeline over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use logsift_core::encoder::Concat;
use logsift_core::lexical::{LexicalEncoder, LEXICAL_ID};
use logsift_core::pipeline::Fallback;
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
    minilm_from(&dir)
}

fn minilm_from(dir: &Path) -> Result<Arc<dyn Encoder>> {
    let enc = MiniLmEncoder::load(dir)?;
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
    /// The LLM tier's counters, when it is on.
    pub llm: Option<std::sync::Arc<logsift_llm::client::LlmStats>>,
}

/// The bundle and the encoder weights: `--model` and `--encoder-dir`, the
/// same for `classify`, `eval`, `serve` and `worker` (flattened into each).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// Model bundle directory [default: $LOGSIFT_MODEL, else the bundled models/default,
    /// or models/lexical when the MiniLM weights are absent].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory with the all-MiniLM-L6-v2 weights, for bundles that use them
    /// [default: $LOGSIFT_MINILM_DIR, else the Hugging Face cache, else a download].
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
}

/// The bundled default, and its weight-free fallback.
fn default_dirs() -> (PathBuf, PathBuf) {
    let base = [PathBuf::from("models"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"))]
        .into_iter()
        .find(|b| b.join("default/model.toml").exists())
        .unwrap_or_else(|| PathBuf::from("models"));
    (base.join("default"), base.join("lexical"))
}

/// Loads the bundle and builds its pipeline, with the LLM tier the flags ask for.
///
/// The model is `--model`, else `$LOGSIFT_MODEL`, else the bundled default.
/// The bundled default never downloads anything: when it needs MiniLM weights
/// that are neither given nor in the Hugging Face cache, logsift says so on
/// stderr and uses the bundled lexical model instead.
pub fn load(choice: &ModelArgs, llm: &crate::llm::LlmArgs, cache_capacity: usize) -> Result<Loaded> {
    let explicit = choice.model.clone().or_else(|| std::env::var_os("LOGSIFT_MODEL").map(PathBuf::from));
    let (bundle, encoder) = match explicit {
        Some(dir) => {
            let bundle = Bundle::load(&dir).with_context(|| format!("cannot load model bundle {}", dir.display()))?;
            let encoder = encoder_for(&bundle, choice.encoder_dir.as_deref())?;
            (bundle, encoder)
        }
        None => {
            let (default, fallback) = default_dirs();
            let bundle = Bundle::load(&default).with_context(|| format!("cannot load the default model bundle {}", default.display()))?;
            let local = if bundle.manifest.encoder.id.contains(MINILM_ID) {
                local_minilm_dir(choice.encoder_dir.as_deref()).map(Some)
            } else {
                Ok(None)
            };
            match local {
                Ok(d) => {
                    let encoder = encoder_for(&bundle, d.as_deref())?;
                    (bundle, encoder)
                }
                Err(why) => {
                    // One line: it shows on every run without the weights.
                    let why = why.lines().next().unwrap_or_default().trim().trim_end_matches('.').to_string();
                    eprintln!(
                        "logsift: warning: no all-MiniLM-L6-v2 weights ({why}): using the lexical model {}; \
                         scripts/fetch-minilm.sh and {}=<its output> give the default one",
                        fallback.display(),
                        logsift_embed::DIR_ENV
                    );
                    let bundle =
                        Bundle::load(&fallback).with_context(|| format!("cannot load the fallback model bundle {}", fallback.display()))?;
                    let encoder = encoder_for(&bundle, None)?;
                    (bundle, encoder)
                }
            }
        }
    };
    tracing::info!("model '{}' from {} (encoder {})", bundle.manifest.name, bundle.dir.display(), bundle.manifest.encoder.id);
    let (llm_tier, llm_stats) = crate::llm::tier(llm, &bundle)?;
    let fallback = if llm.strict { Fallback::Strict } else { Fallback::Guess };
    let mut pipeline = bundle.pipeline(encoder, llm_tier, cache_capacity)?.with_fallback(fallback);
    if let Some(id) = crate::llm::identity(llm, &bundle)? {
        if !llm.llm_always && !bundle.manifest.escalation_pays(&id) {
            eprintln!(
                "logsift: {} records that {id} was less accurate than the model's own guess on the lines the model is unsure of: \
                 keeping the guess for them (--llm-always asks the LLM anyway)",
                bundle.dir.join("model.toml").display()
            );
            pipeline = pipeline.with_escalation(false);
        }
    }
    Ok(Loaded { bundle, pipeline, llm: llm_stats })
}

/// MiniLM weights already on this machine (explicit directory, environment
/// variable, or Hugging Face cache) — never a download.
pub fn local_minilm_dir(explicit: Option<&Path>) -> std::result::Result<PathBuf, String> {
    if explicit.is_some() || std::env::var_os(logsift_embed::DIR_ENV).is_some() {
        return resolve_model_dir(explicit).map_err(|e| e.to_string().lines().nth(1).unwrap_or("not found").trim().to_string());
    }
    match logsift_embed::cached_model_dir() {
        Some(d) => Ok(d),
        None => Err(format!("{} is not set and the Hugging Face cache has no copy", logsift_embed::DIR_ENV)),
    }
}
