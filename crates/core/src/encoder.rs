//! The [`Encoder`] trait: a batch of texts in, one L2-normalised vector each out.
//!
//! The model tier knows encoders only through this trait. Core ships the
//! weight-free [`LexicalEncoder`](crate::lexical::LexicalEncoder); neural
//! encoders (all-MiniLM-L6-v2) live in their own crate and plug in here.

/// An encoder failed on a batch (e.g. a runtime error in a neural network).
#[derive(Debug, thiserror::Error)]
#[error("encoder {encoder}: {message}")]
pub struct EncodeError {
    /// The encoder's id.
    pub encoder: String,
    /// What went wrong.
    pub message: String,
}

/// Turns texts into fixed-size, L2-normalised `f32` vectors.
///
/// Contract: `encode(texts)` returns `texts.len()` vectors of length
/// [`dim`](Encoder::dim), each of Euclidean norm 1 (or all zeros for a text
/// with no features), and the vector of a text does not depend on the other
/// texts of the batch.
pub trait Encoder: Send + Sync {
    /// A stable identifier of the encoder and its version, stored in bundles
    /// (`lexical-v1`, `minilm-l6-v2`); a bundle refuses an encoder of another id.
    fn id(&self) -> &str;

    /// Length of each vector.
    fn dim(&self) -> usize;

    /// Encodes a batch.
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError>;

    /// A fingerprint of the weights (sha256), for encoders that have any.
    fn weights_sha256(&self) -> Option<String> {
        None
    }

    /// The batch size the encoder is fastest with.
    fn preferred_batch(&self) -> usize {
        256
    }

    /// Whether one call already uses every core (a neural network's matrix
    /// products do): callers then hand it batches one at a time instead of
    /// running several calls in parallel, which would only add memory.
    fn parallel_inside(&self) -> bool {
        false
    }
}

/// Scales `v` to unit Euclidean norm (leaves an all-zero vector as it is).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Several encoders side by side: each part's vector is scaled by the square
/// root of its weight and the concatenation is L2-normalised, so the dot
/// product of two outputs is the weighted mean of the parts' cosines.
///
/// This is how a bundle uses lexical and semantic features together.
pub struct Concat {
    parts: Vec<(std::sync::Arc<dyn Encoder>, f32)>,
    id: String,
    dim: usize,
}

impl Concat {
    /// Joins `parts` (encoder, weight); the id is `a+b+…` of the parts' ids.
    pub fn new(parts: Vec<(std::sync::Arc<dyn Encoder>, f32)>) -> Self {
        let id = parts.iter().map(|(e, _)| e.id()).collect::<Vec<_>>().join("+");
        let dim = parts.iter().map(|(e, _)| e.dim()).sum();
        Concat { parts, id, dim }
    }
}

impl Encoder for Concat {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        let mut out: Vec<Vec<f32>> = texts.iter().map(|_| Vec::with_capacity(self.dim)).collect();
        for (enc, w) in &self.parts {
            let scale = w.max(0.0).sqrt();
            for (o, v) in out.iter_mut().zip(enc.encode(texts)?) {
                o.extend(v.into_iter().map(|x| x * scale));
            }
        }
        out.iter_mut().for_each(|v| l2_normalize(v));
        Ok(out)
    }

    fn weights_sha256(&self) -> Option<String> {
        self.parts.iter().find_map(|(e, _)| e.weights_sha256())
    }

    fn preferred_batch(&self) -> usize {
        self.parts.iter().map(|(e, _)| e.preferred_batch()).max().unwrap_or(256)
    }

    fn parallel_inside(&self) -> bool {
        self.parts.iter().any(|(e, _)| e.parallel_inside())
    }
}
