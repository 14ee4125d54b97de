//! A weight-free lexical encoder: hashed word and character n-grams.
//!
//! Logs are lexical: identifiers, error codes and keywords carry the class, and
//! on templates a model has not seen, character n-grams + logistic regression
//! beat sentence embeddings by a wide margin. This encoder needs no download,
//! no vocabulary and no fitting, so a bundle that uses it is self-contained.
//!
//! Features of a text (case-folded):
//! * word unigrams and bigrams, where a word is a run of letters, digits, `_`
//!   and the placeholder brackets `<` `>` (so `<NUM>` is one word);
//! * character 3-, 4- and 5-grams of each word padded with a space on each
//!   side (`" err"`, `"erro"`, `"ror "`), which makes `timeout`, `timed-out`
//!   and `TimeoutError` neighbours.
//!
//! Each feature is hashed (XXH3, one seed per feature family) into one of
//! `dim` buckets with a hashed sign, counts are damped (`1 + ln tf`), the
//! families are weighted and the vector is L2-normalised.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::encoder::{l2_normalize, EncodeError, Encoder};

/// The id stored in bundles for this encoder.
pub const LEXICAL_ID: &str = "lexical-v1";

/// The default number of hash buckets.
pub const DEFAULT_DIM: usize = 1 << 15;

const SEED_WORD: u64 = 0x5eed_0001;
const SEED_BIGRAM: u64 = 0x5eed_0002;
const SEED_CHAR: u64 = 0x5eed_0003;
const WEIGHT_WORD: f32 = 1.0;
const WEIGHT_BIGRAM: f32 = 0.7;
const WEIGHT_CHAR: f32 = 0.35;

/// Hashed word + character n-gram encoder.
#[derive(Clone, Debug)]
pub struct LexicalEncoder {
    dim: usize,
}

impl Default for LexicalEncoder {
    fn default() -> Self {
        LexicalEncoder::new(DEFAULT_DIM)
    }
}

impl LexicalEncoder {
    /// An encoder into `dim` buckets (at least 16).
    pub fn new(dim: usize) -> Self {
        LexicalEncoder { dim: dim.max(16) }
    }

    /// The sparse features of one text: (bucket, value) pairs, sorted by
    /// bucket, L2-normalised.
    pub fn features(&self, text: &str) -> Vec<(u32, f32)> {
        let lower = text.to_lowercase();
        let words: Vec<&str> =
            lower.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '<' || c == '>')).filter(|w| !w.is_empty()).collect();
        let mut raw: Vec<(u32, f32)> = Vec::with_capacity(words.len() * 12);
        let mut push = |h: u64, w: f32| {
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            raw.push(((h % self.dim as u64) as u32, sign * w));
        };
        let mut padded = String::new();
        for (i, w) in words.iter().enumerate() {
            push(xxh3_64_with_seed(w.as_bytes(), SEED_WORD), WEIGHT_WORD);
            if i + 1 < words.len() {
                let pair = format!("{w} {}", words[i + 1]);
                push(xxh3_64_with_seed(pair.as_bytes(), SEED_BIGRAM), WEIGHT_BIGRAM);
            }
            padded.clear();
            padded.push(' ');
            padded.push_str(w);
            padded.push(' ');
            let bounds: Vec<usize> = padded.char_indices().map(|(i, _)| i).chain([padded.len()]).collect();
            let chars = bounds.len() - 1;
            for n in 3..=5 {
                for s in 0..chars.saturating_sub(n - 1) {
                    let gram = &padded[bounds[s]..bounds[s + n]];
                    push(xxh3_64_with_seed(gram.as_bytes(), SEED_CHAR ^ n as u64), WEIGHT_CHAR);
                }
            }
        }
        // Sum equal (bucket, sign*weight) contributions, damp term counts.
        raw.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut out: Vec<(u32, f32)> = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let (idx, unit) = raw[i];
            let mut j = i;
            while j < raw.len() && raw[j] == (idx, unit) {
                j += 1;
            }
            let tf = (j - i) as f32;
            let v = unit * (1.0 + tf.ln());
            match out.last_mut() {
                Some(last) if last.0 == idx => last.1 += v,
                _ => out.push((idx, v)),
            }
            i = j;
        }
        out.retain(|&(_, v)| v != 0.0);
        let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|(_, v)| *v /= norm);
        }
        out
    }
}

impl Encoder for LexicalEncoder {
    fn id(&self) -> &str {
        LEXICAL_ID
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; self.dim];
                for (i, x) in self.features(t) {
                    v[i as usize] = x;
                }
                l2_normalize(&mut v);
                v
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn unit_norm_and_deterministic() {
        let e = LexicalEncoder::new(4096);
        let v = e.encode(&["Disk quota exceeded on /var", "Disk quota exceeded on /var", ""]).unwrap();
        assert_eq!(v[0].len(), 4096);
        assert!((cos(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        assert_eq!(v[0], v[1]);
        assert!(v[2].iter().all(|&x| x == 0.0), "empty text has no features");
    }

    #[test]
    fn similar_lines_are_closer_than_unrelated_ones() {
        let e = LexicalEncoder::default();
        let v = e
            .encode(&[
                "Connection timeout while calling payment service",
                "connection timed out calling billing service",
                "User <NUM> logged in",
            ])
            .unwrap();
        assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.2, "{} vs {}", cos(&v[0], &v[1]), cos(&v[0], &v[2]));
    }

    #[test]
    fn sparse_features_match_dense() {
        let e = LexicalEncoder::new(1024);
        let text = "ERROR: kernel: Out of memory: Killed process 4242 (java)";
        let dense = &e.encode(&[text]).unwrap()[0];
        let sparse = e.features(text);
        for &(i, x) in &sparse {
            assert!((dense[i as usize] - x).abs() < 1e-6);
        }
        assert_eq!(sparse.len(), dense.iter().filter(|&&x| x != 0.0).count());
    }
}
