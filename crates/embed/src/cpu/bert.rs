//! A BERT encoder forward pass for the CPU, written for sentence embeddings.
//!
//! The texts of a batch are *packed*: their tokens are stacked into one
//! `tokens × hidden` matrix with no padding at all, so every dense layer
//! (Q/K/V, attention output, feed-forward) is one large matrix product over
//! exactly the real tokens, and attention runs per text on its own tokens.
//! Padding to the longest line — what a framework's batched forward does —
//! costs nothing here, whatever the mix of lengths. Dense layers run on
//! [`super::sgemm`]'s kernels in blocks of rows over rayon's threads, and each
//! block's bias, GELU, residual sum and layer norm run on the thread that
//! computed it, straight after (one parallel pass a dense layer, not one a
//! step); attention runs as one task per text and head.
//!
//! The mathematics is that of Hugging Face's `BertModel` (absolute position
//! embeddings, post-layer-norm, exact erf GELU), which the parity test checks
//! against sentence-transformers' output to a cosine of 0.9999 or better.

use std::path::Path;

use super::kernels;
use super::sgemm::{attention_head, PackedW, Precision};
use rayon::prelude::*;

/// BERT hyper-parameters (from `config.json`).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct BertConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Hidden width.
    pub hidden_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Positions.
    pub max_position_embeddings: usize,
    /// Token types.
    #[serde(default = "two")]
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    /// Activation; only `gelu` (exact) is supported.
    #[serde(default = "gelu")]
    pub hidden_act: String,
}

fn two() -> usize {
    2
}
fn eps() -> f64 {
    1e-12
}
fn gelu() -> String {
    "gelu".into()
}

struct Linear {
    /// `out × in` as stored by PyTorch, packed for this CPU.
    w: PackedW,
    b: Vec<f32>,
}

struct LayerNorm {
    g: Vec<f32>,
    b: Vec<f32>,
    eps: f32,
}

struct Layer {
    /// Q, K and V stacked: `3·hidden × hidden`.
    qkv: Linear,
    attn_out: Linear,
    ln1: LayerNorm,
    ff_in: Linear,
    ff_out: Linear,
    ln2: LayerNorm,
}

/// Activation buffers of one forward pass, kept between passes so that a
/// batch does not page-fault its way through fresh allocations.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    heads_out: Vec<f32>,
    tmp: Vec<f32>,
    ff: Vec<f32>,
}

/// A buffer of at least `n` values (contents unspecified: every user writes before reading).
fn sized(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

/// The weights of a BERT encoder.
pub struct Bert {
    scratch: std::sync::Mutex<Vec<Scratch>>,
    cfg: BertConfig,
    word: std::sync::Mutex<WordRows>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    ln_emb: LayerNorm,
    layers: Vec<Layer>,
}

/// The word-embedding table, read from the weights file a row at a time, the
/// first time a token is seen.
///
/// MiniLM's table is 30,522 × 384 f32 values, 47 MB: over half the model,
/// where a log stream uses a few thousand distinct tokens. Rows are kept
/// once read (exact f32, nothing rounded), so resident memory grows with the
/// vocabulary a run meets (about 1.5 KB a token) rather than the whole table.
/// The file stays open: a weights file replaced by a rename leaves this one
/// reading the file it was loaded (and fingerprinted) from.
struct WordRows {
    file: std::fs::File,
    offset: u64,
    /// Per token id: where its row starts in `values`, or `u32::MAX`.
    slot: Vec<u32>,
    values: Vec<f32>,
}

impl WordRows {
    /// Reads the rows of `ids` that are not yet in memory.
    fn fill(&mut self, ids: impl Iterator<Item = u32>, h: usize) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut buf = vec![0u8; 4 * h];
        for id in ids {
            if self.slot[id as usize] != u32::MAX {
                continue;
            }
            self.file.seek(SeekFrom::Start(self.offset + (id as u64) * 4 * h as u64))?;
            self.file.read_exact(&mut buf)?;
            let at = self.values.len() as u32;
            self.values.extend(le_f32(&buf));
            self.slot[id as usize] = at;
        }
        Ok(())
    }

    fn row(&self, id: u32, h: usize) -> &[f32] {
        let at = self.slot[id as usize] as usize;
        &self.values[at..at + h]
    }
}

impl LayerNorm {
    fn apply_rows(&self, x: &mut [f32], width: usize) {
        x.par_chunks_mut(width * 16).for_each(|rows| kernels::layer_norm(rows, &self.g, &self.b, self.eps));
    }

    /// The step after a dense layer that feeds the residual stream, for
    /// [`super::sgemm::PackedW::matmul_then`]: the block's product `c` and
    /// `bias` added into its rows of `x`, then this norm over them.
    fn after_residual<'a>(&'a self, bias: &'a [f32]) -> impl Fn(&mut [f32], &mut [f32]) + Sync + 'a {
        move |c, xr| {
            kernels::add_residual_bias(xr, c, bias);
            kernels::layer_norm(xr, &self.g, &self.b, self.eps);
        }
    }
}

/// Most tokens in one forward pass: activations take about 15 KB a token
/// (MiniLM), so a pass holds about 8 MB, where a batch of 32 texts of 256
/// tokens held 126 MB. Matrix products of 512 rows ran as fast as of 1,024
/// (`logsift embed`, within this machine's noise) for 8 MB less.
const TOKENS_PER_PASS: usize = 512;

/// A tensor by name: its shape and values, `None` when the file lacks it.
type Fetched = Result<Option<(Vec<usize>, Vec<f32>)>, String>;

/// Little-endian f32 values of `bytes` (a multiple of 4 long).
fn le_f32(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Why the weights cannot be loaded or a batch cannot be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BertError {
    /// `config.json` cannot be read or parsed.
    #[error("{}: {message}", .file.display())]
    Config {
        /// The file.
        file: std::path::PathBuf,
        /// What failed.
        message: String,
    },
    /// A configuration this forward pass does not implement.
    #[error("{0}")]
    Unsupported(String),
    /// A tensor is missing, of the wrong shape, or not f32.
    #[error("tensor {name}: {message}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A token sequence longer than the position table.
    #[error("sequence of {tokens} tokens exceeds {max} positions")]
    TooLong {
        /// Its tokens.
        tokens: usize,
        /// The positions.
        max: usize,
    },
    /// A token id past the vocabulary.
    #[error("token id {0} outside the vocabulary")]
    BadToken(u32),
}

impl Bert {
    /// Loads weights from a safetensors *file*, one tensor at a time: the
    /// file is never held in memory whole, so loading peaks at the weights
    /// themselves, not at the file plus the weights (MiniLM: about 90 MB
    /// less).
    pub fn open(weights: &Path, cfg: BertConfig, precision: Precision) -> Result<Bert, BertError> {
        use std::io::{Read, Seek, SeekFrom};
        let io = |name: &str, e: std::io::Error| BertError::Tensor { name: name.to_string(), message: e.to_string() };
        let mut file = std::fs::File::open(weights).map_err(|e| io("(file)", e))?;
        let mut len = [0u8; 8];
        file.read_exact(&mut len).map_err(|e| io("(header)", e))?;
        let n = u64::from_le_bytes(len);
        if n > 100 << 20 {
            return Err(BertError::Tensor { name: "(header)".into(), message: format!("header of {n} bytes") });
        }
        let mut head = vec![0u8; n as usize];
        file.read_exact(&mut head).map_err(|e| io("(header)", e))?;
        let header: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_slice(&head).map_err(|e| BertError::Tensor { name: "(header)".into(), message: e.to_string() })?;
        // Where a tensor's values lie in the file (named with or without a
        // `bert.` prefix), checked to be f32 of the size its shape says.
        let locate = |name: &str| -> Result<Option<(Vec<usize>, u64, usize)>, String> {
            let Some(info) = header.get(name).or_else(|| header.get(&format!("bert.{name}"))) else {
                return Ok(None);
            };
            let dtype = info.get("dtype").and_then(|d| d.as_str()).unwrap_or("?");
            if dtype != "F32" {
                return Err(format!("{dtype}; only F32 weights are supported"));
            }
            let shape: Vec<usize> = info
                .get("shape")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .ok_or_else(|| "no shape in the header".to_string())?;
            let [start, end]: [u64; 2] = info
                .get("data_offsets")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .ok_or_else(|| "no data_offsets in the header".to_string())?;
            let count = shape.iter().product::<usize>();
            if end < start || end - start != 4 * count as u64 {
                return Err(format!("{} bytes for {count} values", end.saturating_sub(start)));
            }
            Ok(Some((shape, 8 + n + start, count)))
        };
        let rows = file.try_clone().map_err(|e| io("(file)", e))?;
        let file = std::cell::RefCell::new(file);
        let fetch = |name: &str| -> Fetched {
            let Some((shape, at, count)) = locate(name)? else {
                return Ok(None);
            };
            let mut f = file.borrow_mut();
            f.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(count);
            let mut buf = vec![0u8; 1 << 16];
            let mut left = 4 * count;
            while left > 0 {
                let take = left.min(buf.len());
                f.read_exact(&mut buf[..take]).map_err(|e| e.to_string())?;
                out.extend(le_f32(&buf[..take]));
                left -= take;
            }
            Ok(Some((shape, out)))
        };
        // The word embeddings stay in the file until a token needs its row.
        let name = "embeddings.word_embeddings.weight";
        let bad = |message: String| BertError::Tensor { name: name.to_string(), message };
        let (shape, offset, _) = locate(name).map_err(bad)?.ok_or_else(|| bad("not in the file".into()))?;
        if shape != [cfg.vocab_size, cfg.hidden_size] {
            return Err(bad(format!("shape {shape:?}, expected {:?}", [cfg.vocab_size, cfg.hidden_size])));
        }
        let word = WordRows { file: rows, offset, slot: vec![u32::MAX; cfg.vocab_size], values: Vec::new() };
        Bert::from_fetch(&fetch, word, cfg, precision)
    }

    /// The model from a source of named f32 tensors (`fetch` finds a name
    /// with or without the `bert.` prefix).
    fn from_fetch(fetch: &dyn Fn(&str) -> Fetched, word: WordRows, cfg: BertConfig, precision: Precision) -> Result<Bert, BertError> {
        if cfg.hidden_act != "gelu" {
            return Err(BertError::Unsupported(format!("activation '{}' is not supported (only 'gelu')", cfg.hidden_act)));
        }
        if !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
            return Err(BertError::Unsupported("hidden_size is not a multiple of num_attention_heads".into()));
        }
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>, BertError> {
            let bad = |message: String| BertError::Tensor { name: name.to_string(), message };
            let (got, values) = fetch(name).map_err(bad)?.ok_or_else(|| bad("not in the file".into()))?;
            if got != shape {
                return Err(bad(format!("shape {got:?}, expected {shape:?}")));
            }
            Ok(values)
        };
        // Old checkpoints name layer-norm parameters gamma/beta.
        let ln = |prefix: &str| -> Result<LayerNorm, BertError> {
            let h = cfg.hidden_size;
            let g = get(&format!("{prefix}.weight"), &[h]).or_else(|_| get(&format!("{prefix}.gamma"), &[h]))?;
            let b = get(&format!("{prefix}.bias"), &[h]).or_else(|_| get(&format!("{prefix}.beta"), &[h]))?;
            Ok(LayerNorm { g, b, eps: cfg.layer_norm_eps as f32 })
        };
        let linear = |prefix: &str, out: usize, inp: usize| -> Result<(Vec<f32>, Vec<f32>), BertError> {
            Ok((get(&format!("{prefix}.weight"), &[out, inp])?, get(&format!("{prefix}.bias"), &[out])?))
        };
        let pack = |(w, b): (Vec<f32>, Vec<f32>), out: usize, inp: usize| Linear { w: PackedW::with_precision(w, out, inp, precision), b };
        let (h, ff) = (cfg.hidden_size, cfg.intermediate_size);
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let (q, k, v) = (
                linear(&format!("{p}.attention.self.query"), h, h)?,
                linear(&format!("{p}.attention.self.key"), h, h)?,
                linear(&format!("{p}.attention.self.value"), h, h)?,
            );
            let qkv = pack(([q.0, k.0, v.0].concat(), [q.1, k.1, v.1].concat()), 3 * h, h);
            layers.push(Layer {
                qkv,
                attn_out: pack(linear(&format!("{p}.attention.output.dense"), h, h)?, h, h),
                ln1: ln(&format!("{p}.attention.output.LayerNorm"))?,
                ff_in: pack(linear(&format!("{p}.intermediate.dense"), ff, h)?, ff, h),
                ff_out: pack(linear(&format!("{p}.output.dense"), h, ff)?, h, ff),
                ln2: ln(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            word: std::sync::Mutex::new(word),
            position: get("embeddings.position_embeddings.weight", &[cfg.max_position_embeddings, h])?,
            token_type: get("embeddings.token_type_embeddings.weight", &[cfg.type_vocab_size, h])?,
            ln_emb: ln("embeddings.LayerNorm")?,
            layers,
            cfg,
            scratch: Default::default(),
        })
    }

    /// Reads `config.json` and the safetensors file `weights` (a tensor at a
    /// time); dense layers in `precision`.
    pub fn load(config: &Path, weights: &Path, precision: Precision) -> Result<Bert, BertError> {
        let bad = |message: String| BertError::Config { file: config.to_path_buf(), message };
        let text = std::fs::read_to_string(config).map_err(|e| bad(e.to_string()))?;
        let cfg: BertConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        Bert::open(weights, cfg, precision)
    }

    /// Hidden width.
    pub fn hidden(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Word-embedding rows read from the file so far (one per distinct
    /// token id embedded; the rest of the table stays on disk).
    pub fn word_rows_in_memory(&self) -> usize {
        let word = self.word.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        word.values.len() / self.cfg.hidden_size
    }

    /// Longest input (positions).
    pub fn max_positions(&self) -> usize {
        self.cfg.max_position_embeddings
    }

    /// Mean-pooled, L2-normalised sentence vectors of token sequences
    /// (`ids`, `types`; special tokens included, no padding).
    pub fn embed(&self, ids: &[Vec<u32>], types: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, BertError> {
        let offsets: Vec<usize> = std::iter::once(0)
            .chain(ids.iter().scan(0, |acc, s| {
                *acc += s.len();
                Some(*acc)
            }))
            .collect();
        for s in ids {
            if s.len() > self.cfg.max_position_embeddings {
                return Err(BertError::TooLong { tokens: s.len(), max: self.cfg.max_position_embeddings });
            }
            if let Some(&bad) = s.iter().find(|&&t| t as usize >= self.cfg.vocab_size) {
                return Err(BertError::BadToken(bad));
            }
        }
        let mut scratch = self.scratch.lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default();
        // Forward passes of at most TOKENS_PER_PASS tokens (a text longer
        // than that goes alone): activation buffers stay the size of one
        // such pass, however long the texts of a batch are.
        let mut out = Vec::with_capacity(ids.len());
        let mut start = 0;
        while start < ids.len() {
            let mut end = start + 1;
            while end < ids.len() && offsets[end + 1] - offsets[start] <= TOKENS_PER_PASS {
                end += 1;
            }
            let base = offsets[start];
            let part: Vec<usize> = offsets[start..=end].iter().map(|o| o - base).collect();
            let pass = self.forward(&ids[start..end], &types[start..end], &part, &mut scratch);
            out.extend(pass.map_err(|e| BertError::Tensor { name: "embeddings.word_embeddings.weight".into(), message: e.to_string() })?);
            start = end;
        }
        if let Ok(mut pool) = self.scratch.lock() {
            pool.push(scratch);
        }
        Ok(out)
    }

    /// One forward pass; fails only when a word-embedding row cannot be read.
    fn forward(&self, ids: &[Vec<u32>], types: &[Vec<u32>], offsets: &[usize], s: &mut Scratch) -> std::io::Result<Vec<Vec<f32>>> {
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_attention_heads;
        let dh = h / heads;
        let total = *offsets.last().unwrap_or(&0);
        let Scratch { x, qkv, ctx, heads_out, tmp, ff } = s;
        let x = sized(x, total * h);
        let qkv = sized(qkv, total * 3 * h);
        let ctx = sized(ctx, total * h);
        let heads_out = sized(heads_out, total * h);
        let tmp = sized(tmp, total * h);
        let ff = sized(ff, total * self.cfg.intermediate_size);
        // Embeddings.
        let mut word = self.word.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        word.fill(ids.iter().flatten().copied(), h)?;
        for (si, (s, ty)) in ids.iter().zip(types).enumerate() {
            for (t, (&id, &tt)) in s.iter().zip(ty.iter().chain(std::iter::repeat(&0))).enumerate() {
                let row = &mut x[(offsets[si] + t) * h..(offsets[si] + t + 1) * h];
                let w = word.row(id, h);
                let p = &self.position[t * h..(t + 1) * h];
                let tt = (tt as usize).min(self.cfg.type_vocab_size - 1);
                let y = &self.token_type[tt * h..(tt + 1) * h];
                for j in 0..h {
                    row[j] = w[j] + p[j] + y[j];
                }
            }
        }
        drop(word);
        self.ln_emb.apply_rows(x, h);
        let scale = 1.0 / (dh as f32).sqrt();
        for layer in &self.layers {
            let b = &layer.qkv.b;
            layer.qkv.w.matmul_then(x, total, qkv, None, |c, _| kernels::add_bias(c, b));
            // Attention: one task per text and head (a pass of long and
            // short texts splits evenly over the threads), each writing its
            // own `len × dh` block of `heads_out`; then back to rows.
            let mut tasks = Vec::with_capacity(ids.len() * heads);
            let mut rest = &mut heads_out[..];
            for (si, w) in offsets.windows(2).enumerate() {
                for head in 0..heads {
                    let (a, b) = std::mem::take(&mut rest).split_at_mut((w[1] - w[0]) * dh);
                    tasks.push((si, head, a));
                    rest = b;
                }
            }
            tasks.into_par_iter().for_each(|(si, head, out)| {
                let (o, len) = (offsets[si], offsets[si + 1] - offsets[si]);
                let base = &qkv[o * 3 * h..(o + len) * 3 * h];
                let at = [head * dh, h + head * dh, 2 * h + head * dh];
                attention_head(base, 3 * h, len, dh, at, scale, out);
            });
            ctx.par_chunks_mut(h).zip(0..total).for_each(|(row, t)| {
                let si = offsets.partition_point(|&o| o <= t) - 1;
                let (o, len) = (offsets[si], offsets[si + 1] - offsets[si]);
                for (head, part) in row.chunks_exact_mut(dh).enumerate() {
                    part.copy_from_slice(&heads_out[(o * heads + head * len + (t - o)) * dh..][..dh]);
                }
            });
            layer.attn_out.w.matmul_then(ctx, total, tmp, Some((x, h)), layer.ln1.after_residual(&layer.attn_out.b));
            let b = &layer.ff_in.b;
            layer.ff_in.w.matmul_then(x, total, ff, None, |c, _| kernels::bias_gelu(c, b));
            layer.ff_out.w.matmul_then(ff, total, tmp, Some((x, h)), layer.ln2.after_residual(&layer.ff_out.b));
        }
        // Mean pooling and L2 normalisation.
        Ok(offsets
            .windows(2)
            .map(|w| {
                let mut v = vec![0.0f32; h];
                for t in w[0]..w[1] {
                    v.iter_mut().zip(&x[t * h..(t + 1) * h]).for_each(|(a, b)| *a += b);
                }
                let n = (w[1] - w[0]).max(1) as f32;
                v.iter_mut().for_each(|a| *a /= n);
                let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|a| *a /= norm);
                v
            })
            .collect())
    }
}
