//! Loading a bundle, its encoder, and the pipeline over them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::ValueEnum;
use logsift_core::pipeline::Fallback;
use logsift_core::{Bundle, Encoder, Pipeline};
use logsift_embed::assemble::{self, EncoderKind, Weights};
use logsift_embed::EmbedError;

/// Encoders a bundle can be trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EncoderArg {
    /// `both` where the MiniLM weights are on this machine, else `lexical`
    /// (said in one line on stderr); the bundle records which.
    Auto,
    /// Hashed word and character n-grams (no weights, no download).
    Lexical,
    /// all-MiniLM-L6-v2 sentence embeddings (weights: --encoder-dir, the HF cache, or the Hub).
    Minilm,
    /// Both side by side (lexical and MiniLM features, equally weighted).
    Both,
}

impl From<EncoderArg> for EncoderKind {
    fn from(a: EncoderArg) -> Self {
        match a {
            EncoderArg::Lexical => EncoderKind::Lexical,
            EncoderArg::Minilm => EncoderKind::Minilm,
            // Resolved by `resolve` before it gets here; `both` is what it means with weights.
            EncoderArg::Both | EncoderArg::Auto => EncoderKind::Both,
        }
    }
}

/// `auto` made concrete: `both` where the MiniLM weights are on this
/// machine (`encoder_dir`, `$LOGSIFT_MINILM_DIR`, the caches; never a
/// download), else `lexical`, said in one line.
pub fn resolve(kind: EncoderArg, encoder_dir: Option<&Path>) -> EncoderArg {
    match kind {
        EncoderArg::Auto => match logsift_embed::find_model_dir(encoder_dir, Weights::LocalOnly) {
            Ok(_) => EncoderArg::Both,
            Err(why) => {
                eprintln!(
                    "logsift: encoder auto: lexical, as there are no local all-MiniLM-L6-v2 weights ({}); \
                     scripts/fetch-minilm.sh puts them where logsift looks",
                    why.one_line()
                );
                EncoderArg::Lexical
            }
        },
        k => k,
    }
}

/// A fresh encoder of the given kind (weights from `encoder_dir`, the cache
/// or the Hub; `auto` as [`resolve`] says).
pub fn new_encoder(kind: EncoderArg, lexical_dim: usize, encoder_dir: Option<&Path>) -> Result<Arc<dyn Encoder>> {
    Ok(assemble::new_encoder(resolve(kind, encoder_dir).into(), lexical_dim, encoder_dir, Weights::Anywhere)?)
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
    /// Model bundle directory [default: $LOGSIFT_MODEL, else the built-in copy of
    /// models/default, or of models/lexical when the MiniLM weights are absent].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory with the all-MiniLM-L6-v2 weights, for bundles that use them
    /// [default: $LOGSIFT_MINILM_DIR, else ~/.cache/logsift/all-MiniLM-L6-v2 (where
    /// scripts/fetch-minilm.sh puts them), else the Hugging Face cache, else a download].
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
    /// Learn variables from the stream: a word position that took this many
    /// distinct words, all decided with one label, becomes a variable (user
    /// and group names, aliases), so new values reuse the decision instead
    /// of asking the model and LLM again. 0 turns it off. Output templates
    /// and template ids are not affected.
    #[arg(long, value_name = "N", default_value_t = logsift_core::learn::DEFAULT_MIN_VALUES)]
    pub learn_variables: usize,
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
            let encoder = assemble::bundle_encoder(&bundle, choice.encoder_dir.as_deref(), Weights::Anywhere)
                .with_context(|| format!("{} needs its encoder", bundle.dir.display()))?;
            (bundle, encoder)
        }
        None => {
            // Compiled in: an installed binary needs no checkout beside it.
            let bundle = Bundle::builtin_default().context("cannot load the built-in default model bundle")?;
            match assemble::bundle_encoder(&bundle, choice.encoder_dir.as_deref(), Weights::LocalOnly) {
                Ok(encoder) => (bundle, encoder),
                Err(why @ EmbedError::NotFound { .. }) => {
                    // One line: it shows on every run without the weights.
                    eprintln!(
                        "logsift: warning: no all-MiniLM-L6-v2 weights ({}): using the lexical model {}; \
                         scripts/fetch-minilm.sh puts them where logsift looks",
                        why.one_line(),
                        logsift_core::bundle::BUILTIN_LEXICAL,
                    );
                    let bundle = Bundle::builtin_lexical().context("cannot load the built-in lexical model bundle")?;
                    let encoder = assemble::bundle_encoder(&bundle, None, Weights::LocalOnly)?;
                    (bundle, encoder)
                }
                Err(e) => return Err(e).with_context(|| format!("{} needs its encoder", bundle.dir.display())),
            }
        }
    };
    tracing::info!("model '{}' from {} (encoder {})", bundle.manifest.name, bundle.dir.display(), bundle.manifest.encoder.id);
    let (llm_tier, llm_stats) = crate::llm::tier(llm, &bundle)?;
    let fallback = if llm.strict { Fallback::Strict } else { Fallback::Guess };
    let mut pipeline = bundle.pipeline(encoder, llm_tier, cache_capacity)?.with_fallback(fallback).with_learning(choice.learn_variables);
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
