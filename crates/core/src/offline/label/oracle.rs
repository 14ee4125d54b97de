//! The simulated labeller: the session's loop replayed with the true label
//! of every line known, to measure how fast an order labels a log.
//!
//! The oracle answers only the template it is asked about, with the label
//! most of that template's lines carry (what a person reading its examples
//! would choose); the order sees the answers given, never the column. After
//! each decision count asked for, every line is scored: lines of decided
//! templates carry the decision, the rest what the model suggests (nothing
//! before the first decision, which counts as wrong).
//!
//! Three orders: [`Order::Session`] (logsift's), [`Order::RandomTemplates`]
//! (templates in random order, same model), and [`Order::RandomLines`] (a
//! random line a decision, labelling that line only, as a line-by-line tool
//! does; the same model learns from the lines).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::{Corpus, LabelOptions, Session, Taught, Who};

/// Which template (or line) is decided next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// The session's order: most lines expected to be corrected first.
    Session,
    /// Undecided templates in a random order.
    RandomTemplates,
    /// Random lines, one decision each.
    RandomLines,
}

/// The figures after a number of decisions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Point {
    /// Decisions made.
    pub decisions: usize,
    /// Share of all lines with their true label.
    pub accuracy: f64,
    /// Mean F1 over the labels of the truth and of the answers.
    pub macro_f1: f64,
    /// Seconds since the simulation started.
    pub seconds: f64,
}

/// A small deterministic generator (SplitMix64) for the random orders.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Per template, lines per true label.
fn truth_by_template(corpus: &Corpus, truth: &[String]) -> Vec<BTreeMap<String, u64>> {
    let mut by = vec![BTreeMap::new(); corpus.templates.len()];
    for (t, l) in corpus.of_line.iter().zip(truth) {
        if let Some(m) = by.get_mut(*t as usize) {
            *m.entry(l.clone()).or_insert(0u64) += 1;
        }
    }
    by
}

/// Runs `order` until `max(ks)` decisions and returns a [`Point`] at each of
/// `ks` (and at 0). `truth` holds each line's label, in the corpus's line order.
/// `prior`: a starting bundle's suggestion per template (empty for none).
pub fn simulate(
    corpus: Corpus,
    prior: Vec<super::Prior>,
    truth: &[String],
    order: Order,
    ks: &[usize],
    seed: u64,
    opts: LabelOptions,
) -> Vec<Point> {
    assert_eq!(truth.len(), corpus.of_line.len(), "one true label a line");
    let start = Instant::now();
    let by_template = truth_by_template(&corpus, truth);
    let answer: Vec<String> = by_template.iter().map(|m| crate::patterns::majority(m).cloned().unwrap_or_default()).collect();
    let max_k = ks.iter().copied().max().unwrap_or(0);
    let mut rng = Rng(seed);
    let mut session = Session::new(corpus, vec![], prior, opts);
    session.refresh();
    // Lines labelled one by one (RandomLines): per template, lines per label.
    let mut line_labels: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); session.corpus.templates.len()];
    let mut lines: Vec<usize> = (0..truth.len()).collect();
    let mut templates: Vec<usize> = (0..session.corpus.templates.len()).collect();
    match order {
        Order::RandomLines => rng.shuffle(&mut lines),
        Order::RandomTemplates => rng.shuffle(&mut templates),
        Order::Session => {}
    }
    let mut points = vec![score(&session, &by_template, &line_labels, 0, start)];
    for k in 1..=max_k {
        match order {
            Order::Session => {
                let Some(i) = session.next() else { break };
                let _ = session.decide(i, &answer[i], Who::Oracle, String::new());
            }
            Order::RandomTemplates => {
                let Some(&i) = templates.get(k - 1) else { break };
                let _ = session.decide(i, &answer[i], Who::Oracle, String::new());
            }
            Order::RandomLines => {
                let Some(&line) = lines.get(k - 1) else { break };
                let t = session.corpus.of_line[line];
                if t != u32::MAX {
                    let label = session.label_index(&truth[line]).expect("a true label is not empty");
                    session.learner.teach(&session.corpus.vectors, Taught { template: t as usize, label });
                    *line_labels[t as usize].entry(truth[line].clone()).or_default() += 1;
                }
            }
        }
        session.refresh();
        if ks.contains(&k) {
            points.push(score(&session, &by_template, &line_labels, k, start));
        }
    }
    points
}

/// Scores every line: per template, its lines labelled one by one carry
/// their true label; the others the template's decision or suggestion.
fn score(
    session: &Session,
    by_template: &[BTreeMap<String, u64>],
    line_labels: &[BTreeMap<String, u64>],
    k: usize,
    start: Instant,
) -> Point {
    let (mut tp, mut predicted, mut support): (BTreeMap<String, u64>, BTreeMap<String, u64>, BTreeMap<String, u64>) = Default::default();
    let mut correct = 0u64;
    let total: u64 = session.corpus.of_line.len() as u64;
    for (i, truth) in by_template.iter().enumerate() {
        let pred = session.label_of(i);
        for (l, &n) in truth {
            *support.entry(l.clone()).or_default() += n;
            let by_line = line_labels[i].get(l).copied().unwrap_or(0).min(n);
            if by_line > 0 {
                *tp.entry(l.clone()).or_default() += by_line;
                *predicted.entry(l.clone()).or_default() += by_line;
                correct += by_line;
            }
            let rest = n - by_line;
            if let Some(p) = &pred {
                *predicted.entry(p.clone()).or_default() += rest;
                if p == l {
                    *tp.entry(l.clone()).or_default() += rest;
                    correct += rest;
                }
            }
        }
    }
    let labels: std::collections::BTreeSet<&String> = support.keys().chain(predicted.keys()).collect();
    let f1s: Vec<f64> = labels
        .iter()
        .map(|l| {
            let (t, p, s) = (
                tp.get(*l).copied().unwrap_or(0) as f64,
                predicted.get(*l).copied().unwrap_or(0) as f64,
                support.get(*l).copied().unwrap_or(0) as f64,
            );
            if t == 0.0 {
                0.0
            } else {
                2.0 * t / (p + s)
            }
        })
        .collect();
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    Point {
        decisions: k,
        accuracy: round(correct as f64 / total.max(1) as f64),
        macro_f1: round(if f1s.is_empty() { 0.0 } else { f1s.iter().sum::<f64>() / f1s.len() as f64 }),
        seconds: (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    }
}
