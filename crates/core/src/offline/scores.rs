//! Evaluation figures: accuracy, per-label precision/recall/F1, macro-F1,
//! per-tier coverage and accuracy, and the confusion matrix.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::record::{Decision, TierKind, UNCLASSIFIED};

/// Precision, recall, F1 and support of one label.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelScore {
    /// Of the lines given this label, the share that carry it.
    pub precision: f64,
    /// Of the lines that carry this label, the share given it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Lines that carry this label.
    pub support: u64,
}

/// Lines decided by one tier and how many of them were right.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TierScore {
    /// Lines decided by the tier.
    pub lines: u64,
    /// Of those, the ones with the true label.
    pub correct: u64,
    /// `correct / lines` (0 when no line).
    pub accuracy: f64,
}

/// The confusion matrix: `matrix[t][p]` lines of true label `labels[t]`
/// predicted as `labels[p]` (the last label is `Unclassified`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Confusion {
    /// Row and column labels.
    pub labels: Vec<String>,
    /// Counts.
    pub matrix: Vec<Vec<u64>>,
}

/// The figures of one evaluation (the JSON of `logsift eval --json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Evaluation {
    /// Lines evaluated.
    pub rows: u64,
    /// Share of lines given their true label (`Unclassified` counts as wrong).
    pub accuracy: f64,
    /// Mean F1 over the labels the bundle can give without an LLM (head and
    /// rule labels) that occur in the data or the predictions.
    pub macro_f1: f64,
    /// Mean F1 over every label that occurs in the data or the predictions.
    pub macro_f1_all_labels: f64,
    /// Labels `macro_f1` was taken over.
    pub scored_labels: Vec<String>,
    /// Lines per deciding tier: `rules`, `model`, `llm`, `unclassified`.
    pub tiers: BTreeMap<String, u64>,
    /// Accuracy of each tier on the lines it decided.
    pub tier_accuracy: BTreeMap<String, TierScore>,
    /// Lines labeled with confidence (by a rule, the LLM, or the model at or
    /// above its threshold) and how many were right: the precision of the
    /// labels one can act on.
    pub confident: TierScore,
    /// Lines given the model's below-threshold guess (counted in the `model`
    /// tier too) and how many were right.
    pub guessed: TierScore,
    /// Per-label figures (every label of the data or the predictions).
    pub labels: BTreeMap<String, LabelScore>,
    /// Confusion matrix.
    pub confusion: Confusion,
}

fn tier_key(t: TierKind) -> &'static str {
    match t {
        TierKind::None => "unclassified",
        other => other.as_str(),
    }
}

/// Scores `decisions` against the true labels; `trained` lists the labels
/// the bundle can give without an LLM.
pub fn evaluate(truth: &[&str], decisions: &[Decision], trained: &[String]) -> Evaluation {
    assert_eq!(truth.len(), decisions.len(), "one decision per true label");
    let mut labels: BTreeSet<String> = truth.iter().map(|s| s.to_string()).collect();
    labels.extend(decisions.iter().filter(|d| d.is_classified()).map(|d| d.label.to_string()));
    labels.remove(UNCLASSIFIED);
    let mut ev = Evaluation { rows: truth.len() as u64, ..Default::default() };
    for t in TierKind::ALL {
        ev.tiers.insert(tier_key(t).into(), 0);
        ev.tier_accuracy.insert(tier_key(t).into(), TierScore::default());
    }
    let mut tp: BTreeMap<&str, u64> = BTreeMap::new();
    let mut pred_n: BTreeMap<&str, u64> = BTreeMap::new();
    let mut support: BTreeMap<&str, u64> = BTreeMap::new();
    let mut correct = 0u64;
    for (t, d) in truth.iter().zip(decisions) {
        let right = d.is_classified() && *t == &*d.label;
        *support.entry(t).or_default() += 1;
        if d.is_classified() {
            *pred_n.entry(&d.label).or_default() += 1;
        }
        if right {
            *tp.entry(t).or_default() += 1;
            correct += 1;
        }
        *ev.tiers.get_mut(tier_key(d.tier)).expect("all tiers present") += 1;
        let ts = ev.tier_accuracy.get_mut(tier_key(d.tier)).expect("all tiers present");
        ts.lines += 1;
        ts.correct += right as u64;
        if d.is_classified() {
            let bucket = if d.is_guess() { &mut ev.guessed } else { &mut ev.confident };
            bucket.lines += 1;
            bucket.correct += right as u64;
        }
    }
    ev.confident.accuracy = ratio(ev.confident.correct, ev.confident.lines);
    ev.guessed.accuracy = ratio(ev.guessed.correct, ev.guessed.lines);
    for ts in ev.tier_accuracy.values_mut() {
        ts.accuracy = ratio(ts.correct, ts.lines);
    }
    ev.accuracy = ratio(correct, ev.rows);
    for l in &labels {
        let (tp, p, s) = (
            tp.get(l.as_str()).copied().unwrap_or(0),
            pred_n.get(l.as_str()).copied().unwrap_or(0),
            support.get(l.as_str()).copied().unwrap_or(0),
        );
        let (precision, recall) = (ratio(tp, p), ratio(tp, s));
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        ev.labels.insert(l.clone(), LabelScore { precision, recall, f1, support: s });
    }
    ev.scored_labels = labels.iter().filter(|l| trained.contains(l)).cloned().collect();
    ev.macro_f1 = mean(ev.scored_labels.iter().map(|l| ev.labels[l].f1));
    ev.macro_f1_all_labels = mean(ev.labels.values().map(|s| s.f1));
    let mut names: Vec<String> = labels.into_iter().collect();
    names.push(UNCLASSIFIED.into());
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut matrix = vec![vec![0u64; names.len()]; names.len()];
    for (t, d) in truth.iter().zip(decisions) {
        let ti = index.get(t).copied().unwrap_or(names.len() - 1);
        let pi = if d.is_classified() { index[&*d.label] } else { names.len() - 1 };
        matrix[ti][pi] += 1;
    }
    ev.confusion = Confusion { labels: names, matrix };
    ev
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = it.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Detail;
    use std::sync::Arc;

    fn d(label: &str, tier: TierKind) -> Decision {
        Decision { label: Arc::from(label), tier, confidence: 1.0, detail: Detail::None }
    }

    #[test]
    fn figures_by_hand() {
        let truth = ["A", "A", "B", "B", "C"];
        let pred = [
            d("A", TierKind::Rules),
            d("B", TierKind::Model),
            d("B", TierKind::Model),
            Decision::unclassified("x"),
            d("A", TierKind::Model),
        ];
        let ev = evaluate(&truth, &pred, &["A".into(), "B".into()]);
        assert_eq!(ev.rows, 5);
        assert!((ev.accuracy - 0.4).abs() < 1e-12);
        // A: tp 1, predicted 2, support 2 → p .5 r .5; B: tp 1, predicted 2, support 2 → .5/.5; C: 0.
        assert!((ev.labels["A"].f1 - 0.5).abs() < 1e-12 && (ev.labels["B"].f1 - 0.5).abs() < 1e-12);
        assert_eq!(ev.labels["C"].f1, 0.0);
        assert_eq!(ev.scored_labels, ["A", "B"]);
        assert!((ev.macro_f1 - 0.5).abs() < 1e-12);
        assert!((ev.macro_f1_all_labels - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((ev.tiers["rules"], ev.tiers["model"], ev.tiers["llm"], ev.tiers["unclassified"]), (1, 3, 0, 1));
        assert!((ev.tier_accuracy["model"].accuracy - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(ev.confusion.labels, ["A", "B", "C", "Unclassified"]);
        assert_eq!(ev.confusion.matrix[1], [0, 1, 0, 1]);
        assert_eq!(ev.confusion.matrix[2], [1, 0, 0, 0]);
        assert_eq!((ev.confident.lines, ev.confident.correct, ev.guessed.lines), (4, 2, 0));
    }

    #[test]
    fn guesses_are_counted_apart_from_confident_labels() {
        let truth = ["A", "B", "B"];
        let guess = |l: &str| Decision {
            label: Arc::from(l),
            tier: TierKind::Model,
            confidence: 0.4,
            detail: Detail::Guess(Arc::from("model: best guess")),
        };
        let pred = [d("A", TierKind::Model), guess("B"), guess("A")];
        let ev = evaluate(&truth, &pred, &["A".into(), "B".into()]);
        assert_eq!(ev.tiers["model"], 3);
        assert_eq!((ev.confident.lines, ev.confident.correct), (1, 1));
        assert_eq!((ev.guessed.lines, ev.guessed.correct), (2, 1));
        assert!((ev.guessed.accuracy - 0.5).abs() < 1e-12);
    }
}
