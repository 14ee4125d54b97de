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
}

/// Scales `v` to unit Euclidean norm (leaves an all-zero vector as it is).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
