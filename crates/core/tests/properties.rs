//! Properties over generated input (proptest): whatever the records — any
//! text, any bytes — the pipeline returns one decision per record, in order,
//! each a label or Unclassified with a reason; masking is idempotent; a bundle
//! saved and loaded classifies exactly as the trained one.

use std::sync::Arc;

use logsift_core::io::{InputOptions, LineInput};
use logsift_core::lexical::LexicalEncoder;
use logsift_core::mask::Masker;
use logsift_core::offline::train::{train, Example, TrainOptions};
use logsift_core::rules::RulesFile;
use logsift_core::tier::DisabledLlm;
use logsift_core::{Bundle, Encoder, Record};
use proptest::prelude::*;

const RULES: &str = r#"
[[rule]]
id = "backup"
label = "System Notification"
regex = '^Backup of \S+ finished'
"#;

fn corpus() -> Vec<Example> {
    let mut v = vec![];
    let e = |s: &str, m: String, l: &str| Example { source: s.into(), message: m, label: l.into() };
    for i in 0..12 {
        v.push(e("web", format!("GET /api/item/{i} HTTP/1.1 status: {} len: {}", 200 + i % 3, 100 + i), "HTTP Status"));
        v.push(e("auth", format!("Failed password for user{i} from 10.0.0.{i}"), "Security Alert"));
        v.push(e("app", format!("User User{i} logged in."), "User Action"));
        v.push(e("db", format!("Disk usage at {}% on /var", 80 + i), "Resource Usage"));
    }
    v
}

fn bundle() -> (Bundle, Arc<dyn Encoder>) {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let opts = TrainOptions { cv_folds: 0, ..TrainOptions::default() };
    let (b, _) =
        train(&corpus(), enc.clone(), RulesFile::parse(RULES, std::path::Path::new("r.toml")).unwrap(), Some(RULES.into()), &opts).unwrap();
    (b, enc)
}

/// Log-like text: words, numbers, addresses, punctuation and stray unicode.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,80}",
        "(User|GET|Disk|Backup|Failed) [a-z0-9./%:-]{0,12}( [A-Za-z0-9_.:/%-]{1,10}){0,6}",
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_record_gets_one_decision_in_order(lines in proptest::collection::vec((line(), "[a-z]{0,6}"), 0..40)) {
        let (b, enc) = bundle();
        let p = b.pipeline(enc.clone(), Box::new(DisabledLlm), 1000).unwrap();
        let records: Vec<Record> = lines.iter().map(|(m, s)| Record::new(s.clone(), m.clone())).collect();
        let out = p.classify(&records);
        prop_assert_eq!(out.len(), records.len());
        for d in &out {
            prop_assert!(d.is_classified() || !d.detail.as_str().is_empty(), "a label or a reason: {:?}", d);
        }
        // Same answers, in the same order, as one record at a time on a fresh pipeline.
        let single = b.pipeline(enc, Box::new(DisabledLlm), 0).unwrap();
        for (r, d) in records.iter().zip(&out) {
            let alone = single.classify(std::slice::from_ref(r));
            prop_assert_eq!(&alone[0], d);
        }
    }

    #[test]
    fn any_bytes_as_lines_become_one_record_per_non_blank_line(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        for json in [false, true] {
            let recs: Vec<Record> = LineInput::new(&data[..], "p", json, InputOptions::default()).map(Result::unwrap).collect();
            let non_blank = data
                .split(|&b| b == b'\n')
                .filter(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
                .count();
            prop_assert_eq!(recs.len(), non_blank);
            let rows: Vec<u64> = recs.iter().map(|r| r.row).collect();
            prop_assert!(rows.windows(2).all(|w| w[0] < w[1]), "in order: {:?}", rows);
        }
    }

    #[test]
    fn masking_is_idempotent(text in line()) {
        let m = Masker::default();
        let once = m.mask(&text);
        prop_assert_eq!(m.mask(&once), once.clone(), "{:?} -> {:?}", text, once);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn a_saved_and_loaded_bundle_classifies_identically(lines in proptest::collection::vec(line(), 1..30), c in 0.5f64..20.0) {
        let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(2048));
        let opts = TrainOptions { cv_folds: 0, fit: logsift_core::head::FitOptions { c, ..Default::default() }, ..TrainOptions::default() };
        let (b, _) = train(&corpus(), enc.clone(), RulesFile::default(), None, &opts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        b.save(dir.path()).unwrap();
        let loaded = Bundle::load(dir.path()).unwrap();
        let records: Vec<Record> = lines.iter().map(|m| Record::new("app", m.clone())).collect();
        let a = b.pipeline(enc.clone(), Box::new(DisabledLlm), 0).unwrap().classify(&records);
        let z = loaded.pipeline(enc, Box::new(DisabledLlm), 0).unwrap().classify(&records);
        prop_assert_eq!(a, z);
    }
}
