//! The model tier: an [`Encoder`] followed by a [`SoftmaxHead`], trusted only
//! at or above a calibrated confidence threshold.

use std::sync::Arc;

use rayon::prelude::*;

use crate::encoder::Encoder;
use crate::head::SoftmaxHead;
use crate::record::{Decision, Detail, TierKind};
use crate::tier::{Query, Tier, TierError, Verdict};

/// An encoder whose vectors are not as wide as the head's input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("encoder {encoder} gives {got}-dimensional vectors but the head expects {want}")]
pub struct WidthMismatch {
    /// The encoder's id.
    pub encoder: String,
    /// Its width.
    pub got: usize,
    /// The head's.
    pub want: usize,
}

/// Encoder + head + threshold.
pub struct ModelTier {
    encoder: Arc<dyn Encoder>,
    head: SoftmaxHead,
    threshold: f32,
}

/// Most vector values (f32) held at once by [`ModelTier::predict`]: 8 MB.
pub const VALUES_IN_FLIGHT: usize = 1 << 21;

impl ModelTier {
    /// A model tier; the encoder's width must be the head's.
    pub fn new(encoder: Arc<dyn Encoder>, head: SoftmaxHead, threshold: f32) -> Result<Self, WidthMismatch> {
        if encoder.dim() != head.dim() {
            return Err(WidthMismatch { encoder: encoder.id().to_string(), got: encoder.dim(), want: head.dim() });
        }
        Ok(ModelTier { encoder, head, threshold })
    }

    /// The confidence a prediction needs to be kept.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The encoder.
    pub fn encoder(&self) -> &Arc<dyn Encoder> {
        &self.encoder
    }

    /// The head.
    pub fn head(&self) -> &SoftmaxHead {
        &self.head
    }

    /// Best label index and probability for each text (no threshold).
    ///
    /// Texts go to the encoder in chunks of its preferred batch, but never
    /// more than [`VALUES_IN_FLIGHT`] vector values at once: the default
    /// bundle's vectors have 33,536 dimensions (hashed lexical features and
    /// MiniLM), and its 1,024-text batches held 137 MB of them, plus as much
    /// again while the parts were joined — most of the service's and the
    /// CLI's peak memory on a stream with many new templates.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<(usize, f32)>, TierError> {
        let batch = self.encoder.preferred_batch().clamp(1, (VALUES_IN_FLIGHT / self.encoder.dim().max(1)).max(1));
        let run = |chunk: &[&str]| -> Result<Vec<(usize, f32)>, TierError> {
            let vectors = self.encoder.encode(chunk).map_err(|e| TierError { tier: TierKind::Model, message: e.to_string() })?;
            if vectors.len() != chunk.len() {
                return Err(TierError {
                    tier: TierKind::Model,
                    message: format!("encoder returned {} vectors for {} texts", vectors.len(), chunk.len()),
                });
            }
            Ok(vectors.iter().map(|v| self.head.predict(v)).collect())
        };
        let chunks: Vec<Result<Vec<(usize, f32)>, TierError>> = if self.encoder.parallel_inside() {
            texts.chunks(batch).map(run).collect()
        } else {
            texts.par_chunks(batch).map(run).collect()
        };
        let mut out = Vec::with_capacity(texts.len());
        for c in chunks {
            out.extend(c?);
        }
        Ok(out)
    }
}

impl Tier for ModelTier {
    fn kind(&self) -> TierKind {
        TierKind::Model
    }

    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let texts: Vec<&str> = queries.iter().map(|q| q.template).collect();
        let labels = self.head.labels();
        Ok(self
            .predict(&texts)?
            .into_iter()
            .map(|(i, p)| {
                if p >= self.threshold {
                    Verdict::Decided(Decision { label: labels[i].clone(), tier: TierKind::Model, confidence: p, detail: Detail::None })
                } else {
                    Verdict::Guess(Decision {
                        label: labels[i].clone(),
                        tier: TierKind::Model,
                        confidence: p,
                        detail: Detail::Guess(Arc::from(guess_detail(&labels[i], p, self.threshold))),
                    })
                }
            })
            .collect())
    }

    fn describe(&self) -> String {
        format!("model ({} → {} labels, threshold {:.2})", self.encoder.id(), self.head.labels().len(), self.threshold)
    }
}

/// The `detail` of a guess below the threshold. Its confidence is shown
/// rounded down to the hundredth, as the threshold is written: rounded to the
/// nearest, 0.9869 under a threshold of 0.99 would read "at 0.99, below
/// threshold 0.99".
fn guess_detail(label: &str, p: f32, threshold: f32) -> String {
    let shown = (p * 100.0).floor() / 100.0;
    format!("model: best guess '{label}' at {shown:.2}, below threshold {threshold:.2}")
}

#[cfg(test)]
mod tests {
    use super::guess_detail;

    #[test]
    fn a_guess_reads_below_its_threshold() {
        assert_eq!(guess_detail("Error", 0.9869, 0.99), "model: best guess 'Error' at 0.98, below threshold 0.99");
        assert_eq!(guess_detail("Error", 0.404, 0.6), "model: best guess 'Error' at 0.40, below threshold 0.60");
    }
}
