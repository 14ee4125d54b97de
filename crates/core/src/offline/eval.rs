//! An evaluation run of a bundle's pipeline on labeled lines: what `logsift
//! eval` prints and `--json` writes, and what Python's `evaluate` returns —
//! one computation, so the figures are the same everywhere.

use serde_json::{json, Value};

use crate::bundle::Bundle;
use crate::offline::scores::{evaluate, Evaluation};
use crate::pipeline::Pipeline;
use crate::record::{Decision, Record};

/// The lines the model was unsure of and the LLM decided: was asking worth it?
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Escalated {
    /// Lines the LLM decided in place of a below-threshold guess.
    pub lines: u64,
    /// Of those, the LLM's label was right.
    pub llm_correct: u64,
    /// Of those, the model's guess was right.
    pub guess_correct: u64,
}

impl Escalated {
    fn ratio(&self, a: u64) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            (a as f64 / self.lines as f64 * 10_000.0).round() / 10_000.0
        }
    }

    /// The LLM's accuracy on the escalated lines (4 decimals).
    pub fn llm_accuracy(&self) -> f64 {
        self.ratio(self.llm_correct)
    }

    /// The guess's accuracy on the escalated lines (4 decimals).
    pub fn guess_accuracy(&self) -> f64 {
        self.ratio(self.guess_correct)
    }
}

/// What one evaluation measured.
#[derive(Clone, Debug)]
pub struct EvalRun {
    /// The figures.
    pub evaluation: Evaluation,
    /// Each line's decision, in order.
    pub decisions: Vec<Decision>,
    /// The LLM against the model's guess.
    pub escalated: Escalated,
}

/// Labels the bundle can give without an LLM: its head's and its rules'.
pub fn trained_labels(bundle: &Bundle) -> Vec<String> {
    let mut v: Vec<String> = bundle.manifest.labels.iter().filter(|l| l.in_head).map(|l| l.name.clone()).collect();
    v.extend(bundle.rules.rule.iter().map(|r| r.label.clone()));
    v
}

/// Classifies `records` (true labels `truth`) with the bundle's pipeline.
pub fn run(pipeline: &Pipeline, bundle: &Bundle, records: &[Record], truth: &[String]) -> EvalRun {
    let mut decisions = Vec::with_capacity(records.len());
    let mut guesses: Vec<Option<Decision>> = Vec::with_capacity(records.len());
    for chunk in records.chunks(4096) {
        let (d, g) = pipeline.classify_explained(chunk);
        decisions.extend(d);
        guesses.extend(g);
    }
    let mut escalated = Escalated::default();
    for ((d, g), t) in decisions.iter().zip(&guesses).zip(truth) {
        if let Some(g) = g {
            escalated.lines += 1;
            escalated.llm_correct += (*d.label == **t) as u64;
            escalated.guess_correct += (*g.label == **t) as u64;
        }
    }
    let truth_ref: Vec<&str> = truth.iter().map(String::as_str).collect();
    let evaluation = evaluate(&truth_ref, &decisions, &trained_labels(bundle));
    EvalRun { evaluation, decisions, escalated }
}

impl EvalRun {
    /// `eval --json`: the figures, the templates the pipeline asked its
    /// tiers about, and with an LLM (`llm_id`) the escalation figures and
    /// the LLM's own counters (`llm`).
    pub fn json(&self, pipeline: &Pipeline, llm_id: Option<&str>, llm: Option<Value>) -> Value {
        let mut v = serde_json::to_value(&self.evaluation).expect("figures serialise");
        let s = pipeline.stats();
        v["templates_asked"] = json!({"model": s.model_queries, "llm": s.llm_queries, "cache_hits": s.cache_hits});
        if let Some(id) = llm_id {
            let e = &self.escalated;
            v["escalated"] = json!({
                "llm": id,
                "lines": e.lines,
                "llm_correct": e.llm_correct,
                "llm_accuracy": e.llm_accuracy(),
                "guess_correct": e.guess_correct,
                "guess_accuracy": e.guess_accuracy(),
            });
        }
        if let Some(l) = llm {
            v["llm"] = l;
        }
        v
    }
}
