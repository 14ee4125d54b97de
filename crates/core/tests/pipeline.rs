//! Behaviour of the cascade through the public API: each tier, the cache,
//! routing, failures, training and the bundle round trip.
//!
//! `Recording` and `Broken` below are test implementations of the `Tier`
//! trait (not stand-ins for an external peer): they record what the pipeline
//! asks and fail on demand, which is how "each tier sees only the residue" and
//! "a failing tier costs only its own records" are observed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use logsift_core::bundle::Bundle;
use logsift_core::lexical::LexicalEncoder;
use logsift_core::mask::Masker;
use logsift_core::offline::train::{train, Example, TrainOptions};
use logsift_core::record::{Detail, Fault, Place, TierKind, UNCLASSIFIED};
use logsift_core::rules::{RulesFile, RulesTier};
use logsift_core::tier::DisabledLlm;
use logsift_core::{Decision, Encoder, Pipeline, Query, Record, Route, Tier, TierError, Verdict};

const RULES: &str = r#"
[[rule]]
id = "backup"
label = "System Notification"
regex = '^Backup of \S+ finished'

[[rule]]
id = "server-error"
label = "Error"
regex = 'status: 5\d\d'
"#;

fn rules() -> RulesTier {
    RulesTier::compile(&RulesFile::parse(RULES, Path::new("rules.toml")).unwrap(), Path::new("rules.toml")).unwrap()
}

/// Answers every query with a fixed label and records the templates it saw.
#[derive(Clone)]
struct Recording {
    kind: TierKind,
    label: &'static str,
    /// Pass on templates containing "unsure" instead of deciding them.
    picky: bool,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn new(kind: TierKind, label: &'static str) -> Self {
        Recording { kind, label, picky: kind == TierKind::Model, seen: Arc::default() }
    }
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Tier for Recording {
    fn kind(&self) -> TierKind {
        self.kind
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let mut seen = self.seen.lock().unwrap();
        Ok(queries
            .iter()
            .map(|q| {
                seen.push(q.template.to_string());
                if self.picky && q.template.contains("unsure") {
                    Verdict::Pass(Arc::from("not sure"))
                } else {
                    Verdict::Decided(Decision { label: Arc::from(self.label), tier: self.kind, confidence: 0.9, detail: Detail::None })
                }
            })
            .collect())
    }
}

/// Fails every batch, or answers with the wrong number of verdicts.
struct Broken {
    wrong_length: bool,
}

impl Tier for Broken {
    fn kind(&self) -> TierKind {
        TierKind::Model
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        if self.wrong_length {
            return Ok(vec![Verdict::Pass(Arc::from("x")); queries.len() + 1]);
        }
        Err(TierError { tier: TierKind::Model, message: "encoder crashed".into() })
    }
}

fn recs(lines: &[(&str, &str)]) -> Vec<Record> {
    lines.iter().map(|(s, m)| Record::new(*s, *m)).collect()
}

#[test]
fn each_tier_sees_only_the_residue_and_order_is_kept() {
    let model = Recording::new(TierKind::Model, "Error");
    let llm = Recording::new(TierKind::Llm, "Critical Error");
    let p = Pipeline::builder().rules(rules()).model(model.clone()).llm(Box::new(llm.clone())).build();
    let mut input = recs(&[
        ("A", "Backup of db1 finished"),
        ("A", "disk 1 failing"),
        ("B", "unsure about 7"),
        ("A", "disk 2 failing"),
        ("B", "GET /x status: 503 len: 1"),
        ("B", "unsure about 8"),
    ]);
    input.insert(3, Record { invalid: Some(Fault::Nul { place: Place::Line }.into()), ..Record::new("A", "bad\0") });
    let out = p.classify(&input);
    assert_eq!(out.len(), input.len());
    let got: Vec<(&str, TierKind)> = out.iter().map(|d| (&*d.label, d.tier)).collect();
    assert_eq!(
        got,
        [
            ("System Notification", TierKind::Rules),
            ("Error", TierKind::Model),
            ("Critical Error", TierKind::Llm),
            (UNCLASSIFIED, TierKind::None),
            ("Error", TierKind::Model),
            ("Error", TierKind::Rules),
            ("Critical Error", TierKind::Llm),
        ]
    );
    assert!(out[3].detail.as_str().contains("invalid input: NUL byte"));
    assert_eq!(out[5].detail.as_str(), "server-error");
    // The model saw each distinct template once; the LLM only what the model passed.
    assert_eq!(model.seen(), ["disk <NUM> failing", "unsure about <NUM>"]);
    assert_eq!(llm.seen(), ["unsure about <NUM>"]);
}

#[test]
fn the_cache_answers_repeated_templates() {
    let model = Recording::new(TierKind::Model, "Error");
    let p = Pipeline::builder().model(model.clone()).build();
    p.classify(&recs(&[("A", "job 1 failed"), ("A", "job 2 failed")]));
    let out = p.classify(&recs(&[("B", "job 3 failed"), ("C", "job 4  failed")]));
    assert!(out.iter().all(|d| &*d.label == "Error"));
    assert_eq!(model.seen(), ["job <NUM> failed"], "asked once for the template");
    let s = p.stats();
    assert_eq!((s.records, s.cache_hits, s.model_queries), (4, 2, 1));
    // With the cache off, every batch asks again.
    let uncached = Recording::new(TierKind::Model, "Error");
    let p = Pipeline::builder().model(uncached.clone()).cache_capacity(0).build();
    p.classify(&recs(&[("A", "job 1 failed")]));
    p.classify(&recs(&[("A", "job 2 failed")]));
    assert_eq!(uncached.seen().len(), 2);
}

#[test]
fn masking_never_merges_lines_the_rules_tell_apart() {
    // Same template ("status: <NUM>"), different rule outcome: the rules see raw lines.
    let a = "GET /x status: 200 len: 1";
    let b = "GET /x status: 500 len: 1";
    let masker = Masker::default();
    assert_eq!(masker.mask(a), masker.mask(b));
    let p = Pipeline::builder().rules(rules()).model(Recording::new(TierKind::Model, "HTTP Status")).build();
    for _ in 0..2 {
        let out = p.classify(&recs(&[("S", a), ("S", b), ("S", a)]));
        assert_eq!(out.iter().map(|d| &*d.label).collect::<Vec<_>>(), ["HTTP Status", "Error", "HTTP Status"]);
        assert_eq!(out[1].tier, TierKind::Rules);
    }
}

#[test]
fn a_failing_tier_costs_only_its_own_records() {
    let p = Pipeline::builder().rules(rules()).model(Broken { wrong_length: false }).build();
    let out = p.classify(&recs(&[("A", "Backup of x finished"), ("A", "something else")]));
    assert_eq!(&*out[0].label, "System Notification");
    assert_eq!(out[1].tier, TierKind::None);
    assert!(out[1].detail.as_str().contains("encoder crashed"), "{:?}", out[1]);
    assert_eq!(p.stats().tier_errors[&TierKind::Model], 1);
    // Failures are not cached: a second batch asks again (and fails again).
    p.classify(&recs(&[("A", "something else")]));
    assert_eq!(p.stats().tier_errors[&TierKind::Model], 2);

    let p = Pipeline::builder().model(Broken { wrong_length: true }).build();
    let out = p.classify(&recs(&[("A", "x"), ("A", "y")]));
    assert!(out.iter().all(|d| d.detail.as_str().contains("returned 3 answers for 2 queries")));
}

#[test]
fn disabled_llm_leaves_unclassified_with_reasons() {
    let p = Pipeline::builder().model(Recording::new(TierKind::Model, "Error")).build();
    let out = p.classify(&recs(&[("A", "unsure line")]));
    assert_eq!(&*out[0].label, UNCLASSIFIED);
    assert_eq!(out[0].detail.as_str(), "not sure; llm disabled");
    let bare = Pipeline::builder().build();
    assert_eq!(bare.classify(&recs(&[("A", "x")]))[0].detail.as_str(), "llm disabled");
    assert!(DisabledLlm.describe().contains("disabled"));
}

#[test]
fn routes_skip_the_model_and_scope_the_cache() {
    let model = Recording::new(TierKind::Model, "Error");
    let llm = Recording::new(TierKind::Llm, "Workflow Error");
    let p = Pipeline::builder().model(model.clone()).llm(Box::new(llm.clone())).routes([("LegacyCRM".to_string(), Route::Llm)]).build();
    let out = p.classify(&recs(&[("ModernCRM", "order 1 failed"), ("LegacyCRM", "order 2 failed"), ("LegacyCRM", "order 3 failed")]));
    assert_eq!(out.iter().map(|d| &*d.label).collect::<Vec<_>>(), ["Error", "Workflow Error", "Workflow Error"]);
    assert_eq!(model.seen().len(), 1);
    assert_eq!(llm.seen().len(), 1, "one LLM question for the LegacyCRM template");
    // The ModernCRM decision is not reused for LegacyCRM (different scope), and vice versa.
    let out = p.classify(&recs(&[("LegacyCRM", "order 9 failed"), ("ModernHR", "order 9 failed")]));
    assert_eq!(out.iter().map(|d| &*d.label).collect::<Vec<_>>(), ["Workflow Error", "Error"]);
    assert_eq!(p.stats().cache_hits, 2);
}

fn corpus() -> Vec<Example> {
    let mut v = vec![];
    let ex = |source: &str, message: String, label: &str| Example { source: source.into(), message, label: label.into() };
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
    for i in 0..40 {
        let w = words[i % words.len()];
        v.push(ex("web", format!("GET /api/{w} HTTP/1.1 status: 200 len: {}", 100 + i), "HTTP Status"));
        v.push(ex("web", format!("login for {w} from 10.0.0.{i} failed: bad password"), "Security Alert"));
        v.push(ex("db", format!("disk usage at {}% on volume {w}", 50 + i), "Resource Usage"));
        v.push(ex("app", format!("connection to {w} cache timed out after {} ms", 100 * i), "Error"));
    }
    // A label with too few rows, from a source of its own.
    v.push(ex("crm", "Escalation for case 17 stalled".into(), "Workflow Error"));
    v.push(ex("crm", "Escalation for case 18 stalled".into(), "Workflow Error"));
    v
}

#[test]
fn by_default_every_label_with_rows_is_in_the_head() {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let (bundle, _) = train(&corpus(), enc.clone(), RulesFile::default(), None, &TrainOptions::default()).unwrap();
    let wf = bundle.manifest.labels.iter().find(|l| l.name == "Workflow Error").unwrap();
    assert!(wf.in_head && wf.rows == 2, "{wf:?}");
    assert!(bundle.manifest.routes.is_empty(), "no source is routed away: {:?}", bundle.manifest.routes);
    let p = bundle.pipeline(enc, Box::new(DisabledLlm), 0).unwrap();
    let out = p.classify(&recs(&[("crm", "Escalation for case 17 stalled")]));
    assert_eq!(&*out[0].label, "Workflow Error", "{:?}", out[0]);
    // The curve of the threshold's trade-off is stored with the figures.
    let cv = bundle.manifest.training.as_ref().unwrap().cv.as_ref().unwrap();
    assert_eq!(cv.curve.len(), 20);
    assert_eq!(cv.curve[0][1], 1.0, "threshold 0 keeps every line");
    assert!(cv.curve.windows(2).all(|w| w[1][1] <= w[0][1]), "coverage never grows with the threshold: {:?}", cv.curve);
}

#[test]
fn training_leaves_rare_labels_to_the_llm_and_routes_their_source() {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let opts = TrainOptions { min_samples: 5, ..TrainOptions::default() };
    let (bundle, report) = train(&corpus(), enc.clone(), RulesFile::default(), None, &opts).unwrap();
    let m = &bundle.manifest;
    let wf = m.labels.iter().find(|l| l.name == "Workflow Error").unwrap();
    assert!(!wf.in_head && wf.rows == 2);
    assert_eq!(bundle.head.labels().len(), 4);
    assert_eq!(m.routes.get("crm"), Some(&Route::Llm));
    // The rare label keeps its lines as guidance for the LLM, like every label.
    let wf_examples: Vec<_> = bundle.examples.iter().filter(|e| e.label == "Workflow Error").collect();
    assert!(!wf_examples.is_empty() && wf_examples.iter().all(|e| e.source == "crm" && !e.template.is_empty()), "{wf_examples:?}");
    let labels: std::collections::BTreeSet<_> = bundle.examples.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels.len(), m.labels.iter().filter(|l| l.rows > 0).count(), "every label with rows has examples");
    assert!(report.cv.is_some() && m.training.as_ref().unwrap().cv.is_some());
    assert!((0.0..=1.0).contains(&m.threshold));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b");
    bundle.save(&path).unwrap();
    let loaded = Bundle::load(&path).unwrap();
    let p = loaded.pipeline(loaded.builtin_encoder().unwrap(), Box::new(DisabledLlm), 1000).unwrap();
    let out = p.classify(&recs(&[("crm", "Escalation for case 99 stalled"), ("web", "GET /api/kilo HTTP/1.1 status: 200 len: 5")]));
    assert_eq!(out[0].detail.as_str(), "routed to llm; llm disabled");
    assert_eq!((&*out[1].label, out[1].tier), ("HTTP Status", TierKind::Model));
}

#[test]
fn a_saved_bundle_classifies_like_the_trained_one_and_training_is_reproducible() {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let opts = TrainOptions { cv_folds: 3, ..TrainOptions::default() };
    let (bundle, _) =
        train(&corpus(), enc.clone(), RulesFile::parse(RULES, Path::new("r.toml")).unwrap(), Some(RULES.into()), &opts).unwrap();
    let (again, _) =
        train(&corpus(), enc.clone(), RulesFile::parse(RULES, Path::new("r.toml")).unwrap(), Some(RULES.into()), &opts).unwrap();
    assert_eq!(bundle.head, again.head);
    assert_eq!(bundle.manifest, again.manifest);
    let dir = tempfile::tempdir().unwrap();
    bundle.save(dir.path()).unwrap();
    let loaded = Bundle::load(dir.path()).unwrap();
    assert_eq!(loaded.manifest, bundle.manifest);
    assert_eq!(loaded.head, bundle.head);
    assert_eq!(loaded.examples, bundle.examples, "the LLM's guidance examples round-trip");
    assert_eq!(std::fs::read_to_string(dir.path().join("rules.toml")).unwrap(), RULES, "rules text kept verbatim");
    let input: Vec<Record> =
        corpus().into_iter().map(|e| Record::new(e.source, e.message)).chain([Record::new("x", "Backup of y finished")]).collect();
    let a = Bundle { dir: dir.path().into(), ..bundle }.pipeline(enc.clone(), Box::new(DisabledLlm), 0).unwrap().classify(&input);
    let b = loaded.pipeline(enc, Box::new(DisabledLlm), 0).unwrap().classify(&input);
    assert_eq!(a, b);
    assert_eq!(b.last().unwrap().detail.as_str(), "backup");
}

#[test]
fn corrupt_or_mismatched_bundles_are_clear_errors() {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let (bundle, _) = train(&corpus(), enc, RulesFile::default(), None, &TrainOptions { cv_folds: 0, ..TrainOptions::default() }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bundle.save(d).unwrap();

    let e = Bundle::load(&d.join("nowhere")).unwrap_err().to_string();
    assert!(e.contains("not a logsift model bundle"), "{e}");

    let loaded = Bundle::load(d).unwrap();
    let e = loaded.pipeline(Arc::new(LexicalEncoder::new(2048)), Box::new(DisabledLlm), 0).err().unwrap().to_string();
    assert!(e.contains("trained with encoder 'lexical-v1' (dim 4096)") && e.contains("(dim 2048)"), "{e}");

    let head = std::fs::read(d.join("head.safetensors")).unwrap();
    std::fs::write(d.join("head.safetensors"), &head[..head.len() / 2]).unwrap();
    let e = Bundle::load(d).unwrap_err().to_string();
    assert!(e.contains("head.safetensors") && e.contains("not a valid safetensors"), "{e}");
    std::fs::write(d.join("head.safetensors"), &head).unwrap();

    let toml = std::fs::read_to_string(d.join("model.toml")).unwrap();
    std::fs::write(d.join("model.toml"), toml.replace("dim = 4096", "dim = 4000")).unwrap();
    let e = Bundle::load(d).unwrap_err().to_string();
    assert!(e.contains("head.safetensors") && e.contains("expected F32 [5, 4000]"), "{e}");
    std::fs::write(d.join("model.toml"), toml.replace("format = 1", "format = 99")).unwrap();
    assert!(Bundle::load(d).unwrap_err().to_string().contains("bundle format 99 is not supported"));
    std::fs::write(d.join("model.toml"), "threshold = [").unwrap();
    assert!(Bundle::load(d).unwrap_err().to_string().contains("model.toml"));
    std::fs::write(d.join("model.toml"), &toml).unwrap();
    std::fs::write(d.join("examples.jsonl"), "{\"label\": \"x\"\n").unwrap();
    let e = Bundle::load(d).unwrap_err().to_string();
    assert!(e.contains("examples.jsonl") && e.contains("line 1"), "{e}");
    std::fs::remove_file(d.join("examples.jsonl")).unwrap();
    assert!(Bundle::load(d).unwrap().examples.is_empty(), "a bundle without examples loads");

    std::fs::write(d.join("rules.toml"), "[[rule]]\nid='r'\nlabel='L'\nregex='('\n").unwrap();
    let e = Bundle::load(d).unwrap_err().to_string();
    assert!(e.contains("rules.toml") && e.contains("rule 'r'"), "{e}");
}

/// The lexical encoder under another name and a weights fingerprint, to check
/// how a bundle reacts to weights other than its own.
struct Fingerprinted(LexicalEncoder, &'static str);

impl Encoder for Fingerprinted {
    fn id(&self) -> &str {
        self.0.id()
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, logsift_core::encoder::EncodeError> {
        self.0.encode(texts)
    }
    fn weights_sha256(&self) -> Option<String> {
        Some(self.1.to_string())
    }
}

#[test]
fn bundles_record_the_weights_and_notice_others() {
    let trained: Arc<dyn Encoder> = Arc::new(Fingerprinted(LexicalEncoder::new(4096), "aaaa"));
    let (bundle, _) =
        train(&corpus(), trained.clone(), RulesFile::default(), None, &TrainOptions { cv_folds: 0, ..TrainOptions::default() }).unwrap();
    assert_eq!(bundle.manifest.encoder.weights_sha256.as_deref(), Some("aaaa"));
    assert!(bundle.weights_mismatch(trained.as_ref()).is_none());
    let other = Fingerprinted(LexicalEncoder::new(4096), "bbbb");
    let w = bundle.weights_mismatch(&other).unwrap();
    assert!(w.contains("aaaa") && w.contains("bbbb"), "{w}");
    // A mismatch warns but still loads.
    assert!(bundle.pipeline(Arc::new(other), Box::new(DisabledLlm), 0).is_ok());
}

#[test]
fn the_threshold_is_calibrated_on_the_lines_that_would_reach_the_model() {
    let enc: Arc<dyn Encoder> = Arc::new(LexicalEncoder::new(4096));
    let calibrated_rows = |rules: &str, routes: &[(&str, Route)]| {
        let opts =
            TrainOptions { routes: routes.iter().map(|(s, r)| (s.to_string(), *r)).collect(), min_samples: 5, ..TrainOptions::default() };
        let (_, report) = train(&corpus(), enc.clone(), RulesFile::parse(rules, Path::new("r.toml")).unwrap(), None, &opts).unwrap();
        report.cv_at_threshold.expect("cross-validated").rows
    };
    // 160 lines of the 4 head labels (the 2 rare-label lines never reach it).
    assert_eq!(calibrated_rows("", &[]), 160);
    // A rule over all ten "disk usage" templates meets some in every fold's
    // training part: its 40 lines are the rules tier's, not the model's.
    let broad = "[[rule]]\nid = \"disk\"\nlabel = \"Resource Usage\"\nregex = '^disk usage at'\n";
    assert_eq!(calibrated_rows(broad, &[]), 120);
    // A rule over one template only is met only where that template is held
    // out: its lines stand for an unseen template, which the model answers.
    let narrow = "[[rule]]\nid = \"disk-alpha\"\nlabel = \"Resource Usage\"\nregex = 'on volume alpha$'\n";
    assert_eq!(calibrated_rows(narrow, &[]), 160);
    // A source routed to the LLM never reaches the model.
    assert_eq!(calibrated_rows("", &[("db", Route::Llm)]), 120);
}

/// A model tier that is unsure of every template with "unsure" in it and
/// offers a guess for it (as the real model tier does below its threshold).
struct Guessing;

impl Tier for Guessing {
    fn kind(&self) -> TierKind {
        TierKind::Model
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        Ok(queries
            .iter()
            .map(|q| {
                if q.template.contains("unsure") {
                    Verdict::Guess(Decision {
                        label: Arc::from("Error"),
                        tier: TierKind::Model,
                        confidence: 0.4,
                        detail: Detail::Guess(Arc::from("model: best guess 'Error' at 0.40, below threshold 0.60")),
                    })
                } else {
                    Verdict::Decided(Decision { label: Arc::from("Error"), tier: TierKind::Model, confidence: 0.9, detail: Detail::None })
                }
            })
            .collect())
    }
}

#[test]
fn with_no_llm_an_unsure_line_keeps_the_models_guess_and_strict_drops_it() {
    let input = recs(&[("A", "sure 1"), ("A", "unsure 2"), ("A", "unsure 3")]);
    let p = Pipeline::builder().model(Guessing).build();
    let out = p.classify(&input);
    assert_eq!(out.len(), 3);
    assert!(!out[0].is_guess() && out[0].confidence == 0.9);
    for d in &out[1..] {
        assert_eq!((&*d.label, d.tier, d.confidence), ("Error", TierKind::Model, 0.4));
        assert!(d.is_guess(), "{d:?}");
        assert!(d.detail.as_str().starts_with("model: best guess 'Error' at 0.40") && d.detail.as_str().ends_with("llm disabled"), "{d:?}");
    }
    assert_eq!(p.stats().guesses, 1, "one distinct template was guessed");

    let strict = Pipeline::builder().model(Guessing).build().with_fallback(logsift_core::pipeline::Fallback::Strict);
    let out = strict.classify(&input);
    assert!(out[0].is_classified());
    for d in &out[1..] {
        assert_eq!((&*d.label, d.tier), (UNCLASSIFIED, TierKind::None));
        assert!(d.detail.as_str().contains("best guess 'Error'"), "{d:?}");
    }
}

#[test]
fn a_deciding_llm_overrules_the_guess_and_the_guess_is_reported_beside_it() {
    let llm = Recording::new(TierKind::Llm, "Critical Error");
    let p = Pipeline::builder().model(Guessing).llm(Box::new(llm.clone())).build();
    let input = recs(&[("A", "sure 1"), ("A", "unsure 2")]);
    let (out, guesses) = p.classify_explained(&input);
    assert_eq!((&*out[1].label, out[1].tier), ("Critical Error", TierKind::Llm));
    assert!(guesses[0].is_none());
    assert_eq!(guesses[1].as_ref().map(|g| &*g.label), Some("Error"));
    assert_eq!(llm.seen(), ["unsure <NUM>"]);

    // Escalation off (the LLM was measured worse than the guess): the LLM is
    // not asked and the guess is kept, saying why.
    let llm = Recording::new(TierKind::Llm, "Critical Error");
    let p = Pipeline::builder().model(Guessing).llm(Box::new(llm.clone())).build().with_escalation(false);
    let out = p.classify(&input);
    assert!(llm.seen().is_empty(), "the LLM was asked: {:?}", llm.seen());
    assert!(out[1].is_guess() && out[1].detail.as_str().contains("not escalated"), "{:?}", out[1]);
}

#[test]
fn the_bundle_records_which_llm_earns_its_lines() {
    use logsift_core::bundle::LlmMeasure;
    let (mut bundle, _) =
        train(&corpus(), Arc::new(LexicalEncoder::new(1 << 12)), RulesFile::default(), None, &TrainOptions::default()).unwrap();
    let m = &mut bundle.manifest;
    assert!(m.escalation_pays("gpt at https://x/v1"), "an LLM never measured is asked");
    m.record_llm(LlmMeasure { llm: "gpt at https://x/v1".into(), lines: 10, llm_accuracy: 0.3, guess_accuracy: 0.5 });
    m.record_llm(LlmMeasure { llm: "big at https://y/v1".into(), lines: 10, llm_accuracy: 0.9, guess_accuracy: 0.5 });
    assert!(!m.escalation_pays("gpt at https://x/v1"));
    assert!(m.escalation_pays("big at https://y/v1"));
    m.record_llm(LlmMeasure { llm: "gpt at https://x/v1".into(), lines: 20, llm_accuracy: 0.6, guess_accuracy: 0.5 });
    assert_eq!(m.llm_measured.len(), 2, "a new measurement replaces the old one");
    assert!(m.escalation_pays("gpt at https://x/v1"));
    let dir = tempfile::tempdir().unwrap();
    bundle.save(dir.path()).unwrap();
    let loaded = Bundle::load(dir.path()).unwrap();
    assert_eq!(loaded.manifest.llm_measured, bundle.manifest.llm_measured);
}

/// Labels by a word of the line: a model that tells `Failed` from `Accepted`.
#[derive(Clone)]
struct ByWord {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Tier for ByWord {
    fn kind(&self) -> TierKind {
        TierKind::Model
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let mut seen = self.seen.lock().unwrap();
        Ok(queries
            .iter()
            .map(|q| {
                seen.push(q.template.to_string());
                let label = if q.template.contains("Failed") { "Security Alert" } else { "User Action" };
                Verdict::Decided(Decision { label: Arc::from(label), tier: TierKind::Model, confidence: 0.9, detail: Detail::None })
            })
            .collect())
    }
}

#[test]
fn learned_variables_stop_fresh_names_from_reaching_the_model() {
    let model = ByWord { seen: Arc::default() };
    let p = Pipeline::builder().model(model.clone()).build();
    // 200 distinct names of letters only (digits would be masked), where
    // masking's `users` kind does not look (`of NAME`, not `for NAME from`).
    let users: Vec<String> = (0..200u8).map(|i| format!("user{}{}", (b'a' + i % 26) as char, (b'a' + i / 26) as char)).collect();
    // One record a batch, as a stream arrives: each fresh name is a new template.
    let mut out = vec![];
    for u in &users {
        out.extend(p.classify(&recs(&[("", &format!("sshd: Accepted password of {u} from 10.0.0.1 port 22"))])));
    }
    let asked = model.seen.lock().unwrap().len();
    assert!(asked <= logsift_core::learn::DEFAULT_MIN_VALUES + 2, "the model was asked about {asked} of 200 fresh names");
    assert!(out.iter().all(|d| &*d.label == "User Action"));
    let s = p.stats();
    assert_eq!(s.patterns_learned, 1);
    assert!(s.pattern_hits >= 190, "{s:?}");
    // A word that changes the label is not a variable: `Failed` still reaches the model
    // and gets its own label, and so does every fresh name after `Failed`... until the
    // `Failed` lines learn their own pattern.
    let failed: Vec<Decision> = users
        .iter()
        .take(10)
        .flat_map(|u| p.classify(&recs(&[("", &format!("sshd: Failed password of {u} from 10.0.0.1 port 22"))])))
        .collect();
    assert!(failed.iter().all(|d| &*d.label == "Security Alert"), "{failed:?}");
    // Output templates are not affected: the masked line, whatever was learned.
    assert_eq!(
        p.masker().mask("sshd: Accepted password of zed from 10.0.0.1 port 22"),
        "sshd: Accepted password of zed from <IP> port <NUM>"
    );

    // Fresh names all in one batch: its templates are decided in rounds, and
    // the pattern the first round teaches answers the rest of the batch.
    let model = ByWord { seen: Arc::default() };
    let p = Pipeline::builder().model(model.clone()).build();
    let lines: Vec<String> = users.iter().map(|u| format!("sshd: Accepted password of {u} from 10.0.0.1 port 22")).collect();
    let batch: Vec<(&str, &str)> = lines.iter().map(|l| ("", l.as_str())).collect();
    let out = p.classify(&recs(&batch));
    assert_eq!(out.len(), 200);
    assert!(out.iter().all(|d| &*d.label == "User Action"));
    let asked = model.seen.lock().unwrap().clone();
    assert!(asked.len() < 20, "one batch of 200 fresh names: the model was asked about {}", asked.len());
    // The first names were asked about, in order of appearance.
    assert_eq!(asked[0], "sshd: Accepted password of useraa from <IP> port <NUM>");
    assert_eq!(p.stats().pattern_hits, 200 - asked.len() as u64);

    // Off: every fresh name is asked about.
    let model = ByWord { seen: Arc::default() };
    let off = Pipeline::builder().model(model.clone()).learn_variables(0).build();
    for u in users.iter().take(50) {
        off.classify(&recs(&[("", &format!("sshd: Accepted password of {u} from 10.0.0.1 port 22"))]));
    }
    assert_eq!(model.seen.lock().unwrap().len(), 50);
}

/// An LLM tier that wants `hint` lines a call, counting its calls.
struct Batched {
    inner: Recording,
    hint: usize,
    calls: Arc<Mutex<usize>>,
}

impl Tier for Batched {
    fn kind(&self) -> TierKind {
        TierKind::Llm
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        *self.calls.lock().unwrap() += 1;
        self.inner.decide(queries)
    }
    fn batch_hint(&self) -> usize {
        self.hint
    }
}

#[test]
fn the_llm_is_asked_once_a_batch_however_many_learning_rounds() {
    // 100 distinct templates the model passes on, in one batch: decided in
    // rounds of 16 for the learner, but queued for the LLM.
    let words: Vec<String> = (0..100u8).map(|i| format!("w{}{}", (b'a' + i % 26) as char, (b'a' + i / 26) as char)).collect();
    let lines: Vec<String> = words.iter().map(|w| format!("unsure event {w} happened")).collect();
    let batch: Vec<(&str, &str)> = lines.iter().map(|l| ("", l.as_str())).collect();
    let run = |hint: usize| {
        let llm = Batched { inner: Recording::new(TierKind::Llm, "Critical Error"), hint, calls: Arc::default() };
        let (seen, calls) = (llm.inner.clone(), llm.calls.clone());
        let p = Pipeline::builder().model(Recording::new(TierKind::Model, "Error")).llm(Box::new(llm)).build();
        let out = p.classify(&recs(&batch));
        assert_eq!(out.len(), 100);
        assert!(out.iter().all(|d| &*d.label == "Critical Error" && d.tier == TierKind::Llm), "{out:?}");
        let n = *calls.lock().unwrap();
        (n, seen.seen())
    };
    // A remote LLM (lines per request × concurrency above the batch's
    // questions): one call with all 100, in order of first appearance.
    let (calls, seen) = run(1000);
    assert_eq!(calls, 1);
    assert_eq!(seen.len(), 100);
    assert_eq!(seen[0], "unsure event waa happened");
    assert_eq!(seen[99], lines[99]);
    // A tier that takes any number at no cost is asked every round, and what
    // it decided in the first round teaches the learner the rest.
    let (calls, seen) = run(1);
    assert_eq!((calls, seen.len()), (1, 16), "one round of 16, then the learned pattern");
}
