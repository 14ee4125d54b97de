//! Loading a bundle and building its pipeline.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use logsift_core::tier::DisabledLlm;
use logsift_core::{Bundle, Encoder, Pipeline};

/// A loaded bundle and the pipeline over it.
pub struct Loaded {
    pub bundle: Bundle,
    pub pipeline: Pipeline,
}

/// The encoder a bundle needs.
pub fn encoder_for(bundle: &Bundle) -> Result<Arc<dyn Encoder>> {
    match bundle.builtin_encoder() {
        Some(e) => Ok(e),
        None => bail!(
            "{}: the bundle needs encoder '{}', which this build of logsift does not provide (it has 'lexical-v1')",
            bundle.dir.display(),
            bundle.manifest.encoder.id
        ),
    }
}

/// Loads the bundle at `dir` and builds its pipeline with the LLM tier disabled.
pub fn load(dir: &Path, cache_capacity: usize) -> Result<Loaded> {
    let bundle = Bundle::load(dir).with_context(|| format!("cannot load model bundle {}", dir.display()))?;
    let encoder = encoder_for(&bundle)?;
    let pipeline = bundle.pipeline(encoder, Box::new(DisabledLlm), cache_capacity)?;
    Ok(Loaded { bundle, pipeline })
}
