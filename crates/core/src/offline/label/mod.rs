//! From raw logs to labels: one decision per template, the most useful first.
//!
//! A log of a million lines is a few hundred templates. A [`Corpus`] masks
//! the lines and groups them with the template miner `patterns` uses (one
//! [`Template`] per miner cluster, every line knowing its template) and
//! embeds each template once. A [`Session`] then holds the decisions: each
//! labels every line of its template, teaches the [`Learner`] (a warm-started
//! regression and a nearest-template vote, see [`learner`]), and the next
//! template offered is the one whose decision is expected to correct the
//! most lines: its lines times the doubt about the suggestion for it
//! ([`Session::next`]). A template unlike anything decided is doubtful
//! whatever the regression says, so the order also walks into the parts of
//! the log not yet labelled.
//!
//! The decisions are a small CSV ([`decisions`]): template, label, who
//! decided (a person, the model or the LLM accepted, an oracle), when, and
//! the lines it covered. `train --from-log` and `label --export` turn it
//! and the log back into labelled lines ([`decisions::examples`]).
//! [`oracle`] replays the loop with the true labels of a column, the
//! benchmark of the order.

pub mod decisions;
pub mod learner;
pub mod oracle;

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::encoder::{EncodeError, Encoder};
use crate::mask::Masker;
use crate::offline::mine::TemplateMiner;
use crate::patterns::{time_key, timestamp};
use crate::record::Record;

pub use decisions::{DecisionRow, Who};
pub use learner::{Learner, Prediction, Taught, Vectors};

/// How a corpus is grouped and when a suggestion counts as confident.
#[derive(Clone, Copy, Debug)]
pub struct LabelOptions {
    /// Share of word positions that must agree for two masked lines to be one template.
    pub similarity: f64,
    /// Most templates kept; lines past it are left to no template.
    pub max_templates: usize,
    /// Confidence at which a suggestion counts as labelled in the progress figure.
    pub confident: f32,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions { similarity: 0.7, max_templates: 100_000, confident: 0.8 }
    }
}

/// One template: a miner cluster of masked lines.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Template {
    /// The template (`<*>` where its lines differ).
    pub template: String,
    /// Lines.
    pub lines: u64,
    /// Earliest timestamp of its lines (when they have one).
    pub first_seen: Option<String>,
    /// Latest timestamp.
    pub last_seen: Option<String>,
    /// Up to three distinct example lines.
    pub examples: Vec<String>,
    /// Lines per source (at most 8 sources kept).
    pub sources: BTreeMap<String, u64>,
}

/// The lines' templates and the templates' vectors.
pub struct Corpus {
    /// The templates, in order of first line.
    pub templates: Vec<Template>,
    /// Each line's template (`u32::MAX`: none, past `max_templates`).
    pub of_line: Vec<u32>,
    /// One unit vector per template.
    pub vectors: Vectors,
    /// The encoder's id.
    pub encoder: String,
}

/// The text a template is embedded as: its words without the placeholders
/// (`<*>`, `<NUM>`, `<TS>`, …), which say nothing of what a line means and,
/// being in every template, make unrelated templates look alike.
pub fn embedding_text(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    for w in template.split(' ') {
        let mut kept = String::new();
        let mut rest = w;
        while let Some(open) = rest.find('<') {
            match rest[open..].find('>') {
                Some(close) if rest[open + 1..open + close].chars().all(|c| c.is_ascii_uppercase() || c == '*') => {
                    kept.push_str(&rest[..open]);
                    rest = &rest[open + close + 1..];
                }
                _ => {
                    kept.push_str(&rest[..=open]);
                    rest = &rest[open + 1..];
                }
            }
        }
        kept.push_str(rest);
        let kept = kept.trim_matches(|c: char| !c.is_alphanumeric());
        if !kept.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(kept);
        }
    }
    out
}

/// A corpus being read, a chunk of lines at a time (memory: the templates,
/// four bytes a line, and the chunk in hand).
pub struct CorpusBuilder {
    miner: TemplateMiner,
    masker: Masker,
    templates: Vec<Template>,
    of_line: Vec<u32>,
}

impl CorpusBuilder {
    /// An empty corpus, grouped as `opts` say, lines masked by `masker`.
    pub fn new(masker: Masker, opts: &LabelOptions) -> CorpusBuilder {
        CorpusBuilder { miner: TemplateMiner::new(opts.similarity, opts.max_templates.max(1)), masker, templates: vec![], of_line: vec![] }
    }

    /// Masks and groups `records` (`headers`: a CSV's, to find a timestamp column).
    pub fn add(&mut self, records: &[Record], headers: Option<&[String]>) {
        let masked: Vec<String> = records.par_iter().map(|r| self.masker.mask(&r.message)).collect();
        for (r, m) in records.iter().zip(&masked) {
            let Some(c) = self.miner.add(m, "", 1) else {
                self.of_line.push(u32::MAX);
                continue;
            };
            if self.templates.len() <= c {
                self.templates.resize(c + 1, Template::default());
            }
            self.of_line.push(c as u32);
            let t = &mut self.templates[c];
            t.lines += 1;
            if t.examples.len() < 3 && !t.examples.contains(&r.message) {
                t.examples.push(r.message.chars().take(500).collect());
            }
            if let Some(n) = t.sources.get_mut(&r.source) {
                *n += 1;
            } else if t.sources.len() < 8 {
                t.sources.insert(r.source.clone(), 1);
            }
            if let Some(ts) = timestamp(r, headers) {
                let k = time_key(&ts);
                if t.first_seen.as_ref().is_none_or(|f| k < time_key(f)) {
                    t.first_seen = Some(ts.clone());
                }
                if t.last_seen.as_ref().is_none_or(|l| k > time_key(l)) {
                    t.last_seen = Some(ts);
                }
            }
        }
    }

    /// The corpus, each template embedded once with `encoder`.
    pub fn finish(mut self, encoder: &dyn Encoder) -> Result<Corpus, EncodeError> {
        for (t, c) in self.templates.iter_mut().zip(&self.miner.clusters) {
            t.template = c.template();
        }
        let texts: Vec<String> = self.templates.iter().map(|t| embedding_text(&t.template)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut vectors = Vectors::empty(encoder.dim());
        for chunk in refs.chunks(encoder.preferred_batch().max(1)) {
            vectors.extend(encoder.encode(chunk)?);
        }
        Ok(Corpus { templates: self.templates, of_line: self.of_line, vectors, encoder: encoder.id().to_string() })
    }
}

impl Corpus {
    /// Masks and groups `records` (`headers`: a CSV's, to find a timestamp
    /// column) and embeds each template with `encoder`.
    pub fn build(
        records: &[Record],
        headers: Option<&[String]>,
        masker: &Masker,
        encoder: &dyn Encoder,
        opts: &LabelOptions,
    ) -> Result<Corpus, EncodeError> {
        let mut b = CorpusBuilder::new(*masker, opts);
        b.add(records, headers);
        b.finish(encoder)
    }

    /// Lines in all.
    pub fn lines(&self) -> u64 {
        self.of_line.len() as u64
    }
}

/// A suggestion of the starting bundle for a template: label and confidence.
pub type Prior = Option<(String, f32)>;

/// A template to ask an LLM about: one of its lines, and its template.
#[derive(Clone, Debug)]
pub struct AskItem {
    /// The template's index.
    pub template: usize,
    /// The line's source.
    pub source: String,
    /// One of its lines.
    pub line: String,
    /// The template.
    pub masked: String,
}

/// An LLM that suggests labels for templates (the CLI's is the LLM tier's
/// client). Asked once per template, in batches, ahead of the person.
pub trait Asker: Send + Sync {
    /// A label among `labels` (or none) for each item, shown `examples`
    /// (line, label, template) of what was decided so far.
    fn ask(&self, labels: &[String], examples: &[(String, String, String)], items: &[AskItem]) -> Vec<Option<String>>;
    /// What the asking has cost so far, in a line.
    fn cost(&self) -> String;
}

/// A template's decision.
#[derive(Clone, Debug)]
pub struct Decided {
    /// Label index.
    pub label: usize,
    /// Who decided.
    pub who: Who,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// What the session suggests for a template.
#[derive(Clone, Debug, Serialize)]
pub struct Suggestion {
    /// The label.
    pub label: String,
    /// How far to trust it, 0–1.
    pub confidence: f32,
    /// `model` (what this session learned) or `bundle` (the starting bundle).
    pub from: &'static str,
}

/// How far the labelling has come.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Progress {
    /// Templates.
    pub templates: usize,
    /// Templates decided.
    pub decided: usize,
    /// Lines.
    pub lines: u64,
    /// Lines of decided templates.
    pub decided_lines: u64,
    /// Lines decided or suggested with confidence (≥ `LabelOptions::confident`).
    pub confident_lines: u64,
}

/// A labelling session over one corpus.
pub struct Session {
    /// The corpus.
    pub corpus: Corpus,
    opts: LabelOptions,
    labels: Vec<String>,
    decided: Vec<Option<Decided>>,
    /// Decided templates in the order decided (for undo and the file).
    order: Vec<usize>,
    skipped: HashSet<usize>,
    learner: Learner,
    preds: Vec<Prediction>,
    prior: Vec<Prior>,
    /// Per template, its nearest others and how close (reach, 0–1).
    neighbours: Vec<Vec<(u32, f32)>>,
    /// Per template, the LLM's suggestion, and whether it was asked.
    llm: Vec<Option<String>>,
    asked: Vec<bool>,
    /// Per label of the starting bundle, how far decisions bear it out (see [`Session::trust`]).
    trusted: std::collections::HashMap<String, f32>,
}

/// Weight of the neighbours' doubtful lines in a template's gain.
const DENSITY: f64 = 0.5;

/// Neighbours kept per template for the order.
const NEIGHBOURS: usize = 16;

/// A label or template that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// No template of that index.
    #[error("no template {0}")]
    NoTemplate(usize),
    /// An empty label.
    #[error("a label may not be empty or Unclassified")]
    BadLabel,
    /// A template that makes no rule (its regex misses its own lines).
    #[error("template {0} makes no rule: {1}")]
    NoRule(usize, String),
}

impl Session {
    /// A session with `labels` known from the start (keys 1–9 follow their
    /// order) and, per template, the starting bundle's suggestion (`prior`,
    /// empty for none).
    pub fn new(corpus: Corpus, labels: Vec<String>, prior: Vec<Prior>, opts: LabelOptions) -> Session {
        let n = corpus.templates.len();
        let learner = Learner::new(&corpus.vectors);
        let mut labels_seen: Vec<String> = vec![];
        for l in labels {
            if !l.trim().is_empty() && !labels_seen.contains(&l) {
                labels_seen.push(l);
            }
        }
        let prior = if prior.len() == n { prior } else { vec![None; n] };
        let vectors = &corpus.vectors;
        let neighbours = (0..n)
            .map(|i| {
                let cos = vectors.cos_all(i);
                let mut near: Vec<(u32, f32)> = cos
                    .into_iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(j, c)| (j as u32, learner.reach_of(c)))
                    .filter(|&(_, r)| r > 0.0)
                    .collect();
                near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                near.truncate(NEIGHBOURS);
                near
            })
            .collect();
        Session {
            corpus,
            opts,
            labels: labels_seen,
            decided: vec![None; n],
            order: vec![],
            skipped: HashSet::new(),
            learner,
            preds: vec![Prediction::default(); n],
            prior,
            neighbours,
            llm: vec![None; n],
            asked: vec![false; n],
            trusted: Default::default(),
        }
    }

    /// The labels, in key order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The index of `label`, added when new.
    pub fn label_index(&mut self, label: &str) -> Result<usize, LabelError> {
        let label = label.trim();
        if label.is_empty() || label == crate::record::UNCLASSIFIED {
            return Err(LabelError::BadLabel);
        }
        Ok(match self.labels.iter().position(|l| l == label) {
            Some(i) => i,
            None => {
                self.labels.push(label.to_string());
                self.labels.len() - 1
            }
        })
    }

    /// Template `i`'s decision.
    pub fn decided(&self, i: usize) -> Option<&Decided> {
        self.decided.get(i).and_then(Option::as_ref)
    }

    /// Decides template `i` (again, if it was); the model learns it at once.
    /// Call [`refresh`](Self::refresh) before reading suggestions.
    pub fn decide(&mut self, i: usize, label: &str, who: Who, at: String) -> Result<(), LabelError> {
        if i >= self.decided.len() {
            return Err(LabelError::NoTemplate(i));
        }
        let l = self.label_index(label)?;
        if self.decided[i].is_some() {
            self.learner.forget(&self.corpus.vectors, i);
            self.order.retain(|&t| t != i);
        }
        self.decided[i] = Some(Decided { label: l, who, at });
        self.order.push(i);
        self.skipped.remove(&i);
        self.learner.teach(&self.corpus.vectors, Taught { template: i, label: l });
        Ok(())
    }

    /// Takes back the last decision; returns its template.
    pub fn undo(&mut self) -> Option<usize> {
        let i = self.order.pop()?;
        self.decided[i] = None;
        self.learner.forget(&self.corpus.vectors, i);
        Some(i)
    }

    /// Puts template `i` aside until every other is decided or skipped.
    pub fn skip(&mut self, i: usize) {
        self.skipped.insert(i);
    }

    /// Recomputes every suggestion from what the model has learned.
    pub fn refresh(&mut self) {
        let mut tally: std::collections::HashMap<String, (f32, f32)> = Default::default();
        for &i in &self.order {
            if let (Some((l, _)), Some(d)) = (&self.prior[i], &self.decided[i]) {
                let t = tally.entry(l.clone()).or_insert((2.0, 2.0));
                t.0 += (self.labels[d.label] == *l) as u8 as f32;
                t.1 += 1.0;
            }
        }
        self.trusted = tally.into_iter().map(|(l, (agree, seen))| (l, agree / seen)).collect();
        let (learner, vectors) = (&self.learner, &self.corpus.vectors);
        self.preds = (0..self.corpus.templates.len()).into_par_iter().map(|i| learner.predict(vectors, i)).collect();
    }

    /// The suggestion for template `i`: the session's model, or the starting
    /// bundle's where that is trusted more ([`trust`](Self::trust)).
    pub fn suggestion(&self, i: usize) -> Option<Suggestion> {
        let (label, confidence, from) = self.pick(i)?;
        Some(Suggestion { label: label.to_string(), confidence, from })
    }

    /// [`suggestion`](Self::suggestion) without the copy: label, confidence, source.
    fn pick(&self, i: usize) -> Option<(&str, f32, &'static str)> {
        let p = &self.preds[i];
        let own = p.label.map(|l| (self.labels[l].as_str(), p.confidence, "model"));
        let bundle = self.prior[i].as_ref().map(|(l, c)| (l.as_str(), c * self.trust(l), "bundle"));
        match (own, bundle) {
            (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// How far the starting bundle's `label` is borne out by the decisions:
    /// of the decided templates it suggested `label` for, the share decided
    /// so, counted from two agreements (trusted until decisions say otherwise).
    fn trust(&self, label: &str) -> f32 {
        self.trusted.get(label).copied().unwrap_or(1.0)
    }

    /// The label template `i`'s lines get now: its decision, else the suggestion.
    pub fn label_of(&self, i: usize) -> Option<String> {
        match &self.decided[i] {
            Some(d) => Some(self.labels[d.label].clone()),
            None => self.pick(i).map(|(l, _, _)| l.to_string()),
        }
    }

    /// The doubt about template `i`'s label times its lines: the lines its
    /// decision is expected to correct.
    pub fn gain(&self, i: usize) -> f64 {
        let doubt = |t: usize| 1.0 - self.pick(t).map_or(0.0, |(_, c, _)| c) as f64;
        let own = self.corpus.templates[i].lines as f64 * doubt(i);
        let near: f64 = self.neighbours[i]
            .iter()
            .filter(|(j, _)| self.decided[*j as usize].is_none())
            .map(|&(j, r)| self.corpus.templates[j as usize].lines as f64 * doubt(j as usize) * (r as f64).powi(2))
            .sum();
        own + DENSITY * near
    }

    /// The template to decide next: the undecided one of most [`gain`](Self::gain)
    /// (ties: the first), skipped ones only when nothing else is left.
    pub fn next(&self) -> Option<usize> {
        let best = |skipped: bool| {
            (0..self.decided.len())
                .filter(|&i| self.decided[i].is_none() && self.skipped.contains(&i) == skipped)
                .map(|i| (self.gain(i), i))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
                .map(|(_, i)| i)
        };
        best(false).or_else(|| best(true))
    }

    /// Undecided templates near `i` suggested the label `i` is: accepted
    /// together in one keystroke. Near: at least halfway from unrelated to the same.
    pub fn group(&self, i: usize, max: usize) -> Vec<usize> {
        let Some(want) = self.suggestion(i).map(|s| s.label) else { return vec![] };
        let vectors = &self.corpus.vectors;
        let mut near: Vec<(f32, usize)> = (0..self.decided.len())
            .filter(|&t| t != i && self.decided[t].is_none())
            .filter(|&t| self.pick(t).is_some_and(|(l, c, _)| l == want && c >= 0.5))
            .map(|t| (vectors.cos(i, t), t))
            .filter(|(c, _)| self.learner.reach_of(*c) >= 0.5)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        near.into_iter().take(max).map(|(_, t)| t).collect()
    }

    /// The LLM's suggestion for template `i`, once asked.
    pub fn llm(&self, i: usize) -> Option<&str> {
        self.llm.get(i).and_then(Option::as_deref)
    }

    /// Up to `n` undecided templates not yet asked about, most useful first
    /// (the next one first), now marked as asked.
    pub fn take_to_ask(&mut self, n: usize) -> Vec<AskItem> {
        let mut order: Vec<(f64, usize)> =
            (0..self.decided.len()).filter(|&i| self.decided[i].is_none() && !self.asked[i]).map(|i| (self.gain(i), i)).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        order
            .into_iter()
            .take(n)
            .map(|(_, i)| {
                self.asked[i] = true;
                let t = &self.corpus.templates[i];
                AskItem {
                    template: i,
                    source: t.sources.keys().next().cloned().unwrap_or_default(),
                    line: t.examples.first().cloned().unwrap_or_default(),
                    masked: t.template.clone(),
                }
            })
            .collect()
    }

    /// Records the LLM's answer for template `i` (`None`: it gave none; asked again later).
    pub fn set_llm(&mut self, i: usize, label: Option<String>) {
        if let Some(slot) = self.llm.get_mut(i) {
            self.asked[i] = label.is_some();
            *slot = label;
        }
    }

    /// What was decided, as examples for the LLM: (a line, its label, its template).
    pub fn llm_examples(&self) -> Vec<(String, String, String)> {
        self.order
            .iter()
            .filter_map(|&i| {
                let d = self.decided[i].as_ref()?;
                let t = &self.corpus.templates[i];
                Some((t.examples.first().cloned().unwrap_or_default(), self.labels[d.label].clone(), t.template.clone()))
            })
            .collect()
    }

    /// The decided templates nearest `i`: (template, label, cosine).
    pub fn nearest_decided(&self, i: usize, n: usize) -> Vec<(usize, String, f32)> {
        self.learner.nearest(&self.corpus.vectors, i, n).into_iter().map(|(r, c)| (r.template, self.labels[r.label].clone(), c)).collect()
    }

    /// Templates whose text or examples hold `query` (case-insensitive), most lines first.
    pub fn search(&self, query: &str, max: usize) -> Vec<usize> {
        let q = query.to_lowercase();
        let mut hits: Vec<usize> = (0..self.corpus.templates.len())
            .filter(|&i| {
                let t = &self.corpus.templates[i];
                t.template.to_lowercase().contains(&q) || t.examples.iter().any(|e| e.to_lowercase().contains(&q))
            })
            .collect();
        hits.sort_by(|&a, &b| self.corpus.templates[b].lines.cmp(&self.corpus.templates[a].lines).then(a.cmp(&b)));
        hits.truncate(max);
        hits
    }

    /// The progress figures.
    pub fn progress(&self) -> Progress {
        let mut p = Progress { templates: self.decided.len(), lines: self.corpus.lines(), ..Progress::default() };
        for (i, t) in self.corpus.templates.iter().enumerate() {
            if self.decided[i].is_some() {
                p.decided += 1;
                p.decided_lines += t.lines;
                p.confident_lines += t.lines;
            } else if self.pick(i).is_some_and(|(_, c, _)| c >= self.opts.confident) {
                p.confident_lines += t.lines;
            }
        }
        p
    }

    /// The decisions, in the order made.
    pub fn rows(&self) -> Vec<DecisionRow> {
        self.order
            .iter()
            .filter_map(|&i| {
                let d = self.decided[i].as_ref()?;
                let t = &self.corpus.templates[i];
                Some(DecisionRow {
                    template: t.template.clone(),
                    label: self.labels[d.label].clone(),
                    who: d.who,
                    decided_at: d.at.clone(),
                    lines: t.lines,
                })
            })
            .collect()
    }

    /// A rule for template `i` with `label`: the miner's regex of the
    /// template (`rules mine`'s), checked to compile and to match every
    /// example line; a `[[rule]]` table for `rules.toml`.
    pub fn rule(&self, i: usize, label: &str) -> Result<crate::rules::Rule, LabelError> {
        let t = self.corpus.templates.get(i).ok_or(LabelError::NoTemplate(i))?;
        if label.trim().is_empty() {
            return Err(LabelError::BadLabel);
        }
        let pattern = crate::offline::mine::template_regex(&t.template);
        let re = regex::Regex::new(&pattern).map_err(|e| LabelError::NoRule(i, e.to_string()))?;
        if let Some(miss) = t.examples.iter().find(|e| !re.is_match(e)) {
            return Err(LabelError::NoRule(i, format!("its regex {pattern} does not match its line '{miss}'")));
        }
        Ok(crate::rules::Rule {
            id: format!("{}-{}", crate::offline::mine::slug(&t.template, label), &crate::mask::template_id(&t.template)[..6]),
            label: label.trim().to_string(),
            regex: pattern,
            sources: None,
            note: Some(format!("made while labelling: {} lines", t.lines)),
        })
    }

    /// Applies saved decisions (a resumed session): each decides the
    /// templates it covers ([`decisions::covers`]) that are not decided yet.
    /// Returns how many templates were decided.
    pub fn resume(&mut self, rows: &[DecisionRow]) -> usize {
        let mut n = 0;
        for row in rows {
            let words: Vec<&str> = row.template.split(' ').collect();
            let hits: Vec<usize> = (0..self.decided.len())
                .filter(|&i| self.decided[i].is_none() && decisions::covers(&words, &self.corpus.templates[i].template))
                .collect();
            for i in hits {
                if self.decide(i, &row.label, row.who, row.decided_at.clone()).is_ok() {
                    n += 1;
                }
            }
        }
        self.refresh();
        n
    }
}

/// Now as RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 UTC (the civil calendar of days since 1970).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(labels: &[&str]) -> Session {
        let mut lines = vec![];
        for i in 0..12 {
            lines.push(Record::new("a", format!("user u{i} logged in from the console")));
        }
        for i in 0..6 {
            lines.push(Record::new("a", format!("disk /dev/sd{i} is {}% full", 90 + i)));
        }
        lines.push(Record::new("a", "backup finished"));
        let enc = crate::lexical::LexicalEncoder::new(crate::lexical::DEFAULT_DIM);
        let corpus = Corpus::build(&lines, None, &Masker::default(), &enc, &LabelOptions::default()).unwrap();
        let mut s = Session::new(corpus, labels.iter().map(|l| l.to_string()).collect(), vec![], LabelOptions::default());
        s.refresh();
        s
    }

    #[test]
    fn decisions_undo_and_a_resumed_session_agree() {
        let mut s = session(&["User Action"]);
        assert_eq!(s.corpus.templates.len(), 3);
        // Nothing known: the biggest template first, nothing suggested.
        let first = s.next().unwrap();
        assert_eq!(s.corpus.templates[first].lines, 12);
        assert!(s.suggestion(first).is_none());
        s.decide(first, "User Action", Who::Person, "t1".into()).unwrap();
        s.refresh();
        let second = s.next().unwrap();
        assert_ne!(second, first);
        s.decide(second, "Resource Usage", Who::Person, "t2".into()).unwrap();
        s.refresh();
        assert_eq!(s.labels(), ["User Action", "Resource Usage"]);
        assert_eq!(s.progress().decided_lines, 12 + s.corpus.templates[second].lines);
        assert!(s.decide(first, " ", Who::Person, "t3".into()).is_err(), "an empty label is refused");
        // Undo takes back the last; the file's rows follow.
        assert_eq!(s.undo(), Some(second));
        s.refresh();
        assert_eq!(s.rows().len(), 1);
        s.decide(second, "Resource Usage", Who::Model, "t4".into()).unwrap();
        let rows = s.rows();
        assert_eq!(
            rows.iter().map(|r| (r.label.as_str(), r.who)).collect::<Vec<_>>(),
            [("User Action", Who::Person), ("Resource Usage", Who::Model)]
        );
        // A new session over the same lines resumes every decision.
        let mut again = session(&[]);
        assert_eq!(again.resume(&rows), 2);
        assert_eq!(again.rows(), rows);
        assert_eq!(again.progress().decided, 2);
        // The rule of a decided template matches its lines.
        let rule = again.rule(first, "User Action").unwrap();
        assert!(regex::Regex::new(&rule.regex).unwrap().is_match("user u99 logged in from the console"), "{}", rule.regex);
    }

    #[test]
    fn placeholders_are_not_embedded() {
        assert_eq!(
            embedding_text("<TS> vm sshd[<NUM>]: Failed password for <USER> from <IP> port <NUM> <*>"),
            "vm sshd Failed password for from port"
        );
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_645_045), "2026-12-07T12:04:05Z");
    }
}
