//! Throughput of the cheap stages, per line: masking, the rules tier
//! (the shipped `corpus/rules.toml` in one RegexSet), and the decision-cache
//! hit path of the whole pipeline (mask + hash + lookup, every template
//! already decided). Input: the lines of our own corpus (`corpus/train.csv`),
//! and the codebasics file when `../shared` is present.
//!
//! `cargo bench -p logsift-core --bench tiers`

// criterion_group! generates an undocumented function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logsift_core::lexical::LexicalEncoder;
use logsift_core::mask::Masker;
use logsift_core::offline::train::{train, Example, TrainOptions};
use logsift_core::rules::RulesTier;
use logsift_core::tier::{DisabledLlm, Query, Tier};
use logsift_core::Record;

fn lines(path: &Path) -> Option<Vec<(String, String, String)>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().ok()?.clone();
    let col = |n: &str| h.iter().position(|c| c == n);
    let (s, m, l) = (col("source")?, col("log_message")?, col("target_label")?);
    Some(r.records().flatten().map(|x| (x[s].to_string(), x[m].to_string(), x[l].to_string())).collect())
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = lines(&root.join("corpus/train.csv")).expect("corpus/train.csv");
    let mut inputs = vec![("corpus", corpus.clone())];
    if let Some(cb) = lines(&root.join("../shared/data/codebasics/synthetic_logs.csv")) {
        inputs.push(("codebasics", cb));
    }
    let rules = RulesTier::load(&root.join("corpus/rules.toml")).expect("rules");
    let masker = Masker::default();
    let examples: Vec<Example> =
        corpus.iter().map(|(s, m, l)| Example { source: s.clone(), message: m.clone(), label: l.clone() }).collect();
    let enc = std::sync::Arc::new(LexicalEncoder::new(1 << 15));
    let opts = TrainOptions { cv_folds: 0, ..TrainOptions::default() };
    let (bundle, _) = train(&examples, enc.clone(), logsift_core::rules::RulesFile::default(), None, &opts).expect("train");

    for (name, data) in inputs {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(data.len() as u64));
        g.bench_function("mask", |b| {
            let mut out = String::new();
            b.iter(|| {
                for (_, m, _) in &data {
                    masker.mask_into(m, &mut out);
                    std::hint::black_box(&out);
                }
            })
        });
        let queries: Vec<Query> = data.iter().map(|(s, m, _)| Query { source: s, message: m, template: m }).collect();
        g.bench_function("rules", |b| b.iter(|| std::hint::black_box(rules.decide(&queries).unwrap())));
        let records: Vec<Record> = data.iter().map(|(s, m, _)| Record::new(s.clone(), m.clone())).collect();
        let pipeline = bundle.pipeline(enc.clone(), Box::new(DisabledLlm), 1 << 20).unwrap();
        pipeline.classify(&records); // every template now cached
        g.throughput(Throughput::Elements(200_000));
        g.bench_function("group_patterns_200k", |b| {
            // The grouping pass of `logsift patterns`, lines in memory (as Drain3 is
            // measured): masking in parallel, then the template miner.
            use rayon::prelude::*;
            // 200,000 lines sampled with replacement, as Drain3's anchor figure is measured.
            let mut rng = logsift_core::offline::train::SplitMix64::new(3);
            let messages: Vec<&str> = (0..200_000).map(|_| data[rng.below(data.len())].1.as_str()).collect();
            b.iter(|| {
                let mut miner = logsift_core::offline::mine::TemplateMiner::new(0.7, 10_000);
                for chunk in messages.chunks(1 << 15) {
                    let templates: Vec<String> = chunk.par_iter().map(|m| masker.mask(m)).collect();
                    for t in &templates {
                        miner.add(t, "", 1);
                    }
                }
                std::hint::black_box(miner.clusters.len())
            })
        });
        g.throughput(Throughput::Elements(data.len() as u64));
        g.bench_function("cache_hit_pipeline", |b| {
            b.iter_batched(|| records.clone(), |r| std::hint::black_box(pipeline.classify(&r)), BatchSize::LargeInput)
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
