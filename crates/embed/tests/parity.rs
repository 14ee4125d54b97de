//! Parity with sentence-transformers on the real all-MiniLM-L6-v2 weights.
//!
//! The weights come from `$LOGSIFT_MINILM_DIR` (CI sets it after running
//! `scripts/fetch-minilm.sh`). Without them the test says it is skipped and
//! why; under CI it fails instead.

use std::path::{Path, PathBuf};

use logsift_core::Encoder;
use logsift_embed::bert::{Bert, BertError};
use logsift_embed::sgemm::{has_avx512_bf16, Precision};
use logsift_embed::{resolve_model_dir, BackendKind, MiniLmEncoder, MINILM_ID};

fn weights() -> Option<PathBuf> {
    logsift_testkit::require_env("LOGSIFT_MINILM_DIR", "run scripts/fetch-minilm.sh and export LOGSIFT_MINILM_DIR=<its output>")
        .map(PathBuf::from)
}

fn reference() -> Vec<(String, Vec<f32>)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm_reference.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let emb = v["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
            (v["text"].as_str().unwrap().to_string(), emb)
        })
        .collect()
}

#[test]
fn word_embeddings_are_read_from_the_file_as_tokens_first_appear() {
    let Some(dir) = weights() else { return };
    let dir = resolve_model_dir(Some(&dir)).unwrap();
    let bert = Bert::load(&dir.join("config.json"), &dir.join("model.safetensors"), Precision::F32).unwrap();
    assert_eq!(bert.word_rows_in_memory(), 0, "no row is read at load");
    // [CLS] disk full [SEP], then [CLS] disk quota [SEP]: ids from vocab.txt.
    let (a, b) = (vec![101u32, 9785, 2440, 102], vec![101u32, 9785, 20563, 102]);
    let first = bert.embed(std::slice::from_ref(&a), &[vec![0; 4]]).unwrap();
    assert_eq!(bert.word_rows_in_memory(), 4);
    let both = bert.embed(&[b, a.clone()], &[vec![0; 4], vec![0; 4]]).unwrap();
    assert_eq!(bert.word_rows_in_memory(), 5, "only the new token's row is read");
    assert_eq!(both[1], first[0], "a text embeds the same from rows read earlier");
    assert!(matches!(bert.embed(&[vec![101, 40_000, 102]], &[vec![0; 3]]), Err(BertError::BadToken(40_000))));
    assert_eq!(bert.word_rows_in_memory(), 5);
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn matches_sentence_transformers_on_every_reference_row() {
    let Some(dir) = weights() else { return };
    let enc = MiniLmEncoder::load_with(&resolve_model_dir(Some(&dir)).unwrap(), BackendKind::Builtin, Precision::F32).unwrap();
    assert_eq!((enc.id(), enc.dim()), (MINILM_ID, 384));
    let rows = reference();
    assert_eq!(rows.len(), 50);
    let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    assert!(texts.contains(&""), "the empty string is covered");
    let counts = enc.token_counts(&texts).unwrap();
    let long = "disk quota exceeded on volume ".repeat(100);
    assert_eq!(enc.token_counts(&[&long]).unwrap(), [256], "truncated at max_seq_length 256, not the tokenizer's 128");
    assert!(counts.iter().filter(|&&c| c > 128).count() > 5, "many lines are over 128 tokens");
    // The weights were read from the file a tensor at a time, and a batch of
    // 32 texts takes several forward passes of at most 512 tokens, and the
    // word embeddings are read a row at a time as tokens first appear: all
    // must leave the numbers as they were.
    assert!(counts.iter().take(32).sum::<usize>() > 2 * 512, "the first batch is split into passes");
    let got = enc.encode(&texts).unwrap();
    let mut worst = (1.0f64, "");
    for ((text, want), v) in rows.iter().zip(&got) {
        let c = cosine(want, v);
        if c < worst.0 {
            worst = (c, text);
        }
        assert!(c >= 0.9999, "cosine {c} for {text:?}");
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "L2-normalised");
    }
    eprintln!("min cosine {:.8} ({:?})", worst.0, &worst.1[..worst.1.len().min(40)]);
    // The vector of a text does not depend on its batch.
    let alone = enc.encode(&[texts[0]]).unwrap();
    assert!(cosine(&alone[0], &got[0]) > 0.99999);
}

#[test]
fn missing_weights_error_lists_what_was_tried() {
    let e = resolve_model_dir(Some(Path::new("/nonexistent/minilm"))).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/minilm") && e.contains("does not exist") && e.contains("--encoder-dir"), "{e}");
    let dir = std::env::temp_dir().join(format!("logsift-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let e = resolve_model_dir(Some(&dir)).unwrap_err().to_string();
    assert!(e.contains("lacks tokenizer.json, model.safetensors"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bf16_stays_within_the_reduced_precision_bound() {
    let Some(dir) = weights() else { return };
    if !has_avx512_bf16() {
        logsift_testkit::notice("this CPU has no AVX512-BF16, so bf16 falls back to f32 (covered by the f32 parity test)");
        return;
    }
    let enc = MiniLmEncoder::load_with(&dir, BackendKind::Builtin, Precision::Bf16).unwrap();
    let rows = reference();
    let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    let got = enc.encode(&texts).unwrap();
    let worst = rows.iter().zip(&got).map(|((_, want), v)| cosine(want, v)).fold(1.0f64, f64::min);
    eprintln!("bf16 min cosine {worst:.8}");
    assert!(worst >= 0.999, "bf16 min cosine {worst}");
    assert!(worst < 0.99999999, "bf16 should differ from f32 at all ({worst}): is the bf16 kernel running?");
}

/// candle's BertModel (feature `candle`, candle 0.11 as the LLM tier uses)
/// computes the same vectors as the built-in forward pass.
#[cfg(feature = "candle")]
#[test]
fn the_candle_backend_matches_sentence_transformers_too() {
    let Some(dir) = weights() else { return };
    let enc = MiniLmEncoder::load_with(&resolve_model_dir(Some(&dir)).unwrap(), BackendKind::CandleCpu, Precision::F32).unwrap();
    let rows = reference();
    let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    let got = enc.encode(&texts).unwrap();
    for ((text, want), v) in rows.iter().zip(&got) {
        let c = cosine(want, v);
        assert!(c >= 0.9999, "candle: cosine {c} for {text:?}");
    }
}
