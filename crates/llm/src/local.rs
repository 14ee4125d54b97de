//! An in-process chat model: a GGUF file run with candle's quantized llama,
//! no server, no key (`--llm-preset local --llm-model PATH`).
//!
//! * **Tokenizer from the file.** A GGUF model carries its vocabulary and
//!   merges (`tokenizer.ggml.*`); a byte-level BPE tokenizer is built from
//!   them, so one file is all a user needs.
//! * **Constrained to the labels.** The answer is decoded greedily over a
//!   trie of the label set plus `Unclassified`, each followed by the
//!   end-of-turn token: at each step only tokens that continue some label are
//!   allowed, and decoding stops as soon as one label is left. The model
//!   cannot answer anything else, the same guarantee grammar-constrained
//!   decoding gives on llama.cpp's server. The confidence is the probability
//!   the model gave the chosen path, renormalised over the allowed tokens.
//! * **One line per decode, the system prompt computed once.** The system
//!   message (task and labels) is the same for every line: its attention
//!   cache is computed when the model loads and shared by every line, so a
//!   line costs its own tokens plus a few decoding steps. Control tokens are
//!   inserted by id, never parsed from text, so a log line that contains
//!   `<|im_end|>` cannot close the turn.
//!
//! Only ChatML chat templates (`<|im_start|>` … `<|im_end|>`, used by SmolLM2,
//! Qwen and many others) are supported; other models are refused with a
//! clear error rather than prompted wrongly.

use std::path::Path;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{PreTokenizerWrapper, Tokenizer};

use crate::prompt::{Example, Item, LabelSpec, UNCLASSIFIED};

/// A loaded GGUF chat model, primed with the system prompt of one label set.
pub struct LocalModel {
    /// The model with the system prompt's attention cache.
    primed: ModelWeights,
    primed_len: usize,
    tokenizer: Tokenizer,
    im_start: u32,
    im_end: u32,
    /// Token sequences of the answers (labels, then Unclassified), each
    /// ending with `im_end`.
    answers: Vec<Vec<u32>>,
    names: Vec<String>,
    device: Device,
    /// The file's name, for the review file and the summary.
    pub name: String,
}

/// A label chosen by the model with the probability it gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalAnswer {
    /// The label, or `Unclassified`.
    pub label: String,
    /// Probability of the decoded path among the allowed answers.
    pub confidence: f32,
    /// Tokens of the line's prompt (the shared system prompt not counted).
    pub prompt_tokens: usize,
    /// Tokens decoded.
    pub completion_tokens: usize,
}

/// Why the in-process model cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The GGUF file cannot be used (unreadable, not llama, not ChatML, …).
    #[error("{}: {message}", .path.display())]
    Model {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Text could not be tokenized.
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
    /// The forward pass failed.
    #[error("local model: {0}")]
    Compute(#[from] candle_core::Error),
}

fn err(path: &Path, what: impl std::fmt::Display) -> LocalError {
    LocalError::Model { path: path.to_path_buf(), message: what.to_string() }
}

/// The system message of the local model: short, one label per answer.
pub fn system_message(labels: &[LabelSpec]) -> String {
    let mut s = String::from("You classify log lines for an operations team. The labels:\n");
    for l in labels {
        if l.description.is_empty() {
            s.push_str(&format!("- {}\n", l.name));
        } else {
            s.push_str(&format!("- {}: {}\n", l.name, l.description));
        }
    }
    s.push_str(&format!("- {UNCLASSIFIED}: none of the above\nAnswer with the label only."));
    s
}

/// The user message of the local model: examples, then the one line.
pub fn user_message(examples: &[Example], item: &Item) -> String {
    let mut s = String::new();
    for e in examples {
        s.push_str(&format!("Line: {}\nLabel: {}\n\n", crate::prompt::clip(&e.line), e.label));
    }
    if item.source.is_empty() {
        s.push_str(&format!("Line: {}\nLabel?", crate::prompt::clip(&item.line)));
    } else {
        s.push_str(&format!("Line: [{}] {}\nLabel?", item.source, crate::prompt::clip(&item.line)));
    }
    s
}

impl LocalModel {
    /// Loads `path` and primes it with the system prompt for `labels`.
    pub fn load(path: &Path, labels: &[LabelSpec]) -> Result<Self, LocalError> {
        let mut file = std::fs::File::open(path).map_err(|e| err(path, format!("cannot open the model: {e}")))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| err(path, format!("not a GGUF model: {e}")))?;
        let md = &content.metadata;
        let text = |key: &str| md.get(key).and_then(|v| v.to_string().ok()).cloned();
        let arch = text("general.architecture").unwrap_or_default();
        if arch != "llama" {
            return Err(err(path, format!("architecture '{arch}' is not supported by the local backend (llama only)")));
        }
        let template = text("tokenizer.chat_template").unwrap_or_default();
        if !template.contains("<|im_start|>") {
            return Err(err(
                path,
                "the model's chat template is not ChatML (<|im_start|>…<|im_end|>); the local backend supports only ChatML",
            ));
        }
        let tokenizer = tokenizer_from_gguf(&content).map_err(|e| err(path, e))?;
        let id = |t: &str| tokenizer.token_to_id(t).ok_or_else(|| err(path, format!("the vocabulary has no {t} token")));
        let (im_start, im_end) = (id("<|im_start|>")?, id("<|im_end|>")?);
        let device = Device::Cpu;
        let load = |e: candle_core::Error| err(path, format!("cannot load the weights: {e}"));
        let mut model = match requantize(&content, &mut file).map_err(load)? {
            Some(mut buf) => {
                let content = gguf_file::Content::read(&mut buf).map_err(load)?;
                ModelWeights::from_gguf(content, &mut buf, &device).map_err(load)?
            }
            None => ModelWeights::from_gguf(content, &mut file, &device).map_err(load)?,
        };

        let mut names: Vec<String> = labels.iter().map(|l| l.name.clone()).collect();
        names.push(UNCLASSIFIED.to_string());
        let mut answers = Vec::with_capacity(names.len());
        for n in &names {
            let mut t = encode(&tokenizer, n)?;
            t.push(im_end);
            answers.push(t);
        }
        let mut prompt = vec![im_start];
        prompt.extend(encode(&tokenizer, &format!("system\n{}", system_message(labels)))?);
        prompt.push(im_end);
        prompt.extend(encode(&tokenizer, "\n")?);
        let input = Tensor::new(prompt.as_slice(), &device).and_then(|t| t.unsqueeze(0))?;
        model.forward(&input, 0).map_err(|e| err(path, format!("priming the model failed: {e}")))?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        Ok(LocalModel { primed: model, primed_len: prompt.len(), tokenizer, im_start, im_end, answers, names, device, name })
    }

    /// The model's token ids for `text` (no special tokens are parsed).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, LocalError> {
        encode(&self.tokenizer, text)
    }

    /// The label of one line, shown `examples` first.
    pub fn classify(&self, examples: &[Example], item: &Item) -> Result<LocalAnswer, LocalError> {
        let mut tokens = vec![self.im_start];
        tokens.extend(encode(&self.tokenizer, &format!("user\n{}", user_message(examples, item)))?);
        tokens.push(self.im_end);
        tokens.extend(encode(&self.tokenizer, "\n")?);
        tokens.push(self.im_start);
        tokens.extend(encode(&self.tokenizer, "assistant\n")?);
        let mut model = self.primed.clone();
        let input = Tensor::new(tokens.as_slice(), &self.device).and_then(|t| t.unsqueeze(0))?;
        let mut logits = model.forward(&input, self.primed_len)?;
        let mut pos = self.primed_len + tokens.len();
        let mut alive: Vec<usize> = (0..self.answers.len()).collect();
        let mut confidence = 1.0f32;
        let mut depth = 0;
        while alive.len() > 1 {
            let row: Vec<f32> = logits.squeeze(0).and_then(|l| l.to_dtype(candle_core::DType::F32)).and_then(|l| l.to_vec1())?;
            let mut allowed: Vec<u32> = alive.iter().map(|&a| self.answers[a][depth]).collect();
            allowed.sort_unstable();
            allowed.dedup();
            let max = allowed.iter().map(|&t| row[t as usize]).fold(f32::NEG_INFINITY, f32::max);
            let z: f32 = allowed.iter().map(|&t| (row[t as usize] - max).exp()).sum();
            // Greedy; ties go to the lowest token id, so decoding is deterministic.
            let best =
                allowed.iter().copied().max_by(|&a, &b| row[a as usize].total_cmp(&row[b as usize]).then(b.cmp(&a))).expect("allowed");
            confidence *= (row[best as usize] - max).exp() / z;
            alive.retain(|&a| self.answers[a][depth] == best);
            depth += 1;
            if alive.len() > 1 {
                let input = Tensor::new(&[best], &self.device).and_then(|t| t.unsqueeze(0))?;
                logits = model.forward(&input, pos)?;
                pos += 1;
            }
        }
        Ok(LocalAnswer { label: self.names[alive[0]].clone(), confidence, prompt_tokens: tokens.len(), completion_tokens: depth })
    }
}

/// Block types candle runs without SIMD kernels on the CPU (it has them for
/// Q4_0, Q8_0 and the K-quants). Their vector dot products are scalar code,
/// several times slower than Q8_0's.
const SLOW_ON_CPU: [GgmlDType; 3] = [GgmlDType::Q4_1, GgmlDType::Q5_0, GgmlDType::Q5_1];

/// When the model has weights in a block type of [`SLOW_ON_CPU`], rewrites it
/// in memory with those weights re-quantized to Q8_0 (more precise than the
/// 4- and 5-bit originals, so nothing is lost but a little memory).
fn requantize(content: &gguf_file::Content, file: &mut std::fs::File) -> candle_core::Result<Option<std::io::Cursor<Vec<u8>>>> {
    if !content.tensor_infos.values().any(|t| SLOW_ON_CPU.contains(&t.ggml_dtype)) {
        return Ok(None);
    }
    let cpu = Device::Cpu;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let t = content.tensor(file, name, &cpu)?;
        let t = if SLOW_ON_CPU.contains(&t.dtype()) { QTensor::quantize(&t.dequantize(&cpu)?, GgmlDType::Q8_0)? } else { t };
        tensors.push((name.as_str(), t));
    }
    let mut metadata: Vec<(&str, &gguf_file::Value)> = content.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    metadata.sort_by(|a, b| a.0.cmp(b.0));
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut buf = std::io::Cursor::new(Vec::new());
    gguf_file::write(&mut buf, &metadata, &refs)?;
    buf.set_position(0);
    Ok(Some(buf))
}

fn encode(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>, LocalError> {
    tokenizer.encode(text, false).map(|e| e.get_ids().to_vec()).map_err(|e| LocalError::Tokenize(e.to_string()))
}

/// A byte-level BPE tokenizer from the GGUF's `tokenizer.ggml.*` metadata.
fn tokenizer_from_gguf(content: &gguf_file::Content) -> Result<Tokenizer, String> {
    let md = &content.metadata;
    let kind = md.get("tokenizer.ggml.model").and_then(|v| v.to_string().ok()).map_or("", |s| s.as_str());
    if kind != "gpt2" {
        return Err(format!("tokenizer '{kind}' is not supported (byte-level BPE, 'gpt2', only)"));
    }
    let strings = |key: &str| -> Result<Vec<String>, String> {
        let v = md.get(key).ok_or_else(|| format!("no {key} in the model"))?;
        let list = v.to_vec().map_err(|e| format!("{key}: {e}"))?;
        list.iter().map(|x| x.to_string().cloned().map_err(|e| format!("{key}: {e}"))).collect()
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    let merges: Vec<(String, String)> = strings("tokenizer.ggml.merges")?
        .into_iter()
        .map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| format!("bad merge '{m}'")))
        .collect::<Result<_, _>>()?;
    let vocab: tokenizers::models::bpe::Vocab = tokens.into_iter().enumerate().map(|(i, t)| (t, i as u32)).collect();
    let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| format!("building the BPE tokenizer: {e}"))?;
    let mut tokenizer = Tokenizer::new(bpe);
    let byte_level = ByteLevel::new(false, true, true);
    let pre = md.get("tokenizer.ggml.pre").and_then(|v| v.to_string().ok()).map_or("", |s| s.as_str());
    // SmolLM's pre-tokenizer splits digits one by one before the byte-level split.
    if pre == "smollm" {
        tokenizer.with_pre_tokenizer(Some(Sequence::new(vec![
            PreTokenizerWrapper::Digits(Digits::new(true)),
            PreTokenizerWrapper::ByteLevel(byte_level),
        ])));
    } else {
        tokenizer.with_pre_tokenizer(Some(byte_level));
    }
    tokenizer.with_decoder(Some(ByteLevel::default()));
    Ok(tokenizer)
}
