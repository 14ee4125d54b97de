//! What happened, grouped: the aggregation behind `logsift patterns` (and
//! Python's `Model.patterns`).
//!
//! Lines are masked (in parallel) and fed to the template miner that `rules
//! mine` uses ([`crate::offline::mine::TemplateMiner`], not a second copy); each
//! pattern keeps its count, first and last timestamp, sources, labels and
//! two example lines, in bounded memory (at most `max_patterns` patterns;
//! later new ones are counted as "other"). [`Patterns::finish`] then merges
//! patterns whose templates mean the same when an encoder says so (cosine ≥
//! the merge threshold; never two patterns whose lines carry different
//! majority labels), and, when a baseline was added, says what is new, grew,
//! shrank or is gone.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::encoder::{EncodeError, Encoder};
use crate::mask::Masker;
use crate::offline::mine::TemplateMiner;
use crate::record::{Passthrough, Record};

/// One pattern.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Pattern {
    /// The template (`<*>` where its lines differ).
    pub template: String,
    /// Templates merged into it by meaning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// Lines.
    pub count: u64,
    /// Share of all lines.
    pub share: f64,
    /// Earliest timestamp seen (when the input has them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Latest timestamp seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Lines per source (at most 16 sources kept).
    pub sources: BTreeMap<String, u64>,
    /// Lines per label, when the input is labeled (`target_label`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, u64>,
    /// Share of its lines with its most common label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purity: Option<f64>,
    /// Two example lines.
    pub examples: Vec<String>,
    /// Lines in the baseline (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_count: Option<u64>,
    /// new, grew, shrank, same or gone (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Share now over share in the baseline (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<f64>,
}

#[derive(Default, Clone)]
struct Acc {
    count: u64,
    base: u64,
    first: Option<String>,
    last: Option<String>,
    sources: BTreeMap<String, u64>,
    labels: BTreeMap<String, u64>,
    examples: Vec<String>,
}

const TIME_FIELDS: [&str; 4] = ["timestamp", "time", "@timestamp", "ts"];

/// The timestamp of a record: a timestamp column/field, or one among the line's first words.
pub(crate) fn timestamp(r: &Record, headers: Option<&[String]>) -> Option<String> {
    match (&r.passthrough, headers) {
        (Passthrough::Columns(cols), Some(h)) => {
            if let Some(i) = h.iter().position(|c| TIME_FIELDS.contains(&c.trim())) {
                return cols.get(i).filter(|v| !v.is_empty()).map(str::to_string);
            }
        }
        (Passthrough::Json(map), _) => {
            for f in TIME_FIELDS {
                if let Some(v) = map.get(f) {
                    return Some(v.as_str().map_or_else(|| v.to_string(), str::to_string));
                }
            }
        }
        _ => {}
    }
    // In the line: syslog, ctime/Apache, ISO, CLF or epoch forms among its first words.
    crate::timestamp::find(&r.message, 4).map(|range| r.message[range].to_string())
}

/// A key that orders timestamps in time (month names and weekdays read as
/// dates, see `crate::timestamp::sort_key`); ties order as text.
pub(crate) fn time_key(ts: &str) -> (Vec<u64>, String) {
    (crate::timestamp::sort_key(ts), ts.to_string())
}

fn label_of(r: &Record, headers: Option<&[String]>) -> Option<String> {
    match (&r.passthrough, headers) {
        (Passthrough::Columns(cols), Some(h)) => {
            h.iter().position(|c| c.trim() == "target_label").and_then(|i| cols.get(i)).filter(|v| !v.is_empty()).map(str::to_string)
        }
        (Passthrough::Json(map), _) => map.get("target_label").and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    }
}

/// The most common label (ties: the first by name).
pub fn majority(labels: &BTreeMap<String, u64>) -> Option<&String> {
    labels.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(l, _)| l)
}

/// Patterns being gathered.
pub struct Patterns {
    miner: TemplateMiner,
    masker: Masker,
    accs: Vec<Acc>,
    lines: u64,
    base_lines: u64,
    base_other: usize,
    compare: bool,
}

/// The patterns of what was added.
#[derive(Clone, Debug, Serialize)]
pub struct PatternReport {
    /// Lines added (not counting the baseline).
    pub lines: u64,
    /// The patterns: by count, or with a baseline by status (new, grew, same, shrank, gone) then growth.
    pub patterns: Vec<Pattern>,
    /// Lines that found no pattern once `max_patterns` was reached.
    pub other: u64,
    /// Share of labelled lines that carry their pattern's majority label.
    pub purity: Option<f64>,
}

impl Patterns {
    /// Lines placed in a pattern when their masked templates are at least
    /// `similarity` alike; at most `max_patterns` patterns.
    pub fn new(similarity: f64, max_patterns: usize) -> Self {
        Patterns {
            miner: TemplateMiner::new(similarity, max_patterns.max(1)),
            masker: Masker::default(),
            accs: vec![],
            lines: 0,
            base_lines: 0,
            base_other: 0,
            compare: false,
        }
    }

    /// Adds baseline lines (`--compare`): only their counts are kept. Add
    /// the whole baseline before any line with [`add`](Self::add).
    pub fn add_baseline(&mut self, records: &[Record]) {
        self.compare = true;
        let templates: Vec<String> = records.par_iter().map(|r| self.masker.mask(&r.message)).collect();
        for t in &templates {
            self.base_lines += 1;
            if let Some(c) = self.miner.add(t, "", 1) {
                self.acc(c).base += 1;
            }
        }
        self.base_other = self.miner.other;
    }

    fn acc(&mut self, c: usize) -> &mut Acc {
        if self.accs.len() <= c {
            self.accs.resize(c + 1, Acc::default());
        }
        &mut self.accs[c]
    }

    /// Adds records; `headers` are a CSV input's, to find timestamp and label columns.
    pub fn add(&mut self, records: &[Record], headers: Option<&[String]>) {
        let templates: Vec<String> = records.par_iter().map(|r| self.masker.mask(&r.message)).collect();
        for (r, t) in records.iter().zip(&templates) {
            self.lines += 1;
            let Some(c) = self.miner.add(t, "", 1) else { continue };
            let a = self.acc(c);
            a.count += 1;
            if let Some(ts) = timestamp(r, headers) {
                let k = time_key(&ts);
                if a.first.as_ref().is_none_or(|f| k < time_key(f)) {
                    a.first = Some(ts.clone());
                }
                if a.last.as_ref().is_none_or(|l| k > time_key(l)) {
                    a.last = Some(ts);
                }
            }
            if let Some(n) = a.sources.get_mut(&r.source) {
                *n += 1;
            } else if a.sources.len() < 16 {
                a.sources.insert(r.source.clone(), 1);
            }
            if let Some(l) = label_of(r, headers) {
                *a.labels.entry(l).or_default() += 1;
            }
            if a.examples.len() < 2 && !a.examples.contains(&r.message) {
                a.examples.push(r.message.chars().take(500).collect());
            }
        }
    }

    /// Lines added so far (not counting the baseline).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Patterns so far.
    pub fn len(&self) -> usize {
        self.miner.clusters.len()
    }

    /// Whether no pattern was found yet.
    pub fn is_empty(&self) -> bool {
        self.miner.clusters.is_empty()
    }

    /// Lines added that found no pattern (`max_patterns` reached).
    pub fn other(&self) -> u64 {
        (self.miner.other - self.base_other) as u64
    }

    /// The report: patterns merged by meaning with `encoder` (cosine ≥ `merge_threshold`), when given.
    pub fn finish(mut self, encoder: Option<&dyn Encoder>, merge_threshold: f32) -> Result<PatternReport, EncodeError> {
        let (lines, base_lines, other, compare) = (self.lines, self.base_lines, self.other(), self.compare);
        let miner = &self.miner;
        let accs = &mut self.accs;
        accs.resize(miner.clusters.len(), Acc::default());
        // Merge by meaning: each pattern joins the most similar bigger one above the threshold.
        let mut order: Vec<usize> = (0..accs.len()).filter(|&i| accs[i].count + accs[i].base > 0).collect();
        order.sort_by(|&a, &b| (accs[b].count + accs[b].base).cmp(&(accs[a].count + accs[a].base)).then(a.cmp(&b)));
        let mut root: Vec<usize> = (0..accs.len()).collect();
        let mut merged: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        if let Some(enc) = encoder {
            let texts: Vec<String> = order.iter().map(|&i| miner.clusters[i].template().replace("<*>", "").replace("  ", " ")).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let mut vecs = Vec::with_capacity(refs.len());
            for chunk in refs.chunks(enc.preferred_batch().max(1)) {
                vecs.extend(enc.encode(chunk)?);
            }
            let mut roots: Vec<usize> = vec![]; // positions in `order`
            for (k, &i) in order.iter().enumerate() {
                let best = roots
                    .iter()
                    .map(|&r| (vecs[k].iter().zip(&vecs[r]).map(|(a, b)| a * b).sum::<f32>(), r))
                    .filter(|(s, r)| {
                        let (a, b) = (majority(&accs[i].labels), majority(&accs[order[*r]].labels));
                        *s >= merge_threshold && (a.is_none() || b.is_none() || a == b)
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                match best {
                    Some((_, r)) => {
                        let target = order[r];
                        root[i] = target;
                        merged.entry(target).or_default().push(miner.clusters[i].template());
                    }
                    None => roots.push(k),
                }
            }
        }
        let mut combined: BTreeMap<usize, Acc> = BTreeMap::new();
        for &i in &order {
            let a = std::mem::take(&mut accs[i]);
            let t = combined.entry(root[i]).or_default();
            t.count += a.count;
            t.base += a.base;
            for (s, n) in a.sources {
                *t.sources.entry(s).or_default() += n;
            }
            for (l, n) in a.labels {
                *t.labels.entry(l).or_default() += n;
            }
            if let Some(f) = a.first {
                if t.first.as_ref().is_none_or(|tf| time_key(&f) < time_key(tf)) {
                    t.first = Some(f);
                }
            }
            if let Some(l) = a.last {
                if t.last.as_ref().is_none_or(|tl| time_key(&l) > time_key(tl)) {
                    t.last = Some(l);
                }
            }
            for e in a.examples {
                if t.examples.len() < 2 {
                    t.examples.push(e);
                }
            }
        }
        let mut patterns: Vec<Pattern> = combined
            .into_iter()
            .map(|(i, a)| {
                let labelled: u64 = a.labels.values().sum();
                let purity = (labelled > 0).then(|| *a.labels.values().max().unwrap_or(&0) as f64 / labelled as f64);
                let (status, growth) = if compare {
                    let now = a.count as f64 / lines.max(1) as f64;
                    let then = a.base as f64 / base_lines.max(1) as f64;
                    let growth = if then > 0.0 { Some((now / then * 1000.0).round() / 1000.0) } else { None };
                    let status = match (a.base, a.count) {
                        (0, _) => "new",
                        (_, 0) => "gone",
                        _ if now > then * 1.5 => "grew",
                        _ if now < then / 1.5 => "shrank",
                        _ => "same",
                    };
                    (Some(status.to_string()), growth)
                } else {
                    (None, None)
                };
                Pattern {
                    template: miner.clusters[i].template(),
                    merged: merged.remove(&i).unwrap_or_default(),
                    count: a.count,
                    share: (a.count as f64 / lines.max(1) as f64 * 10_000.0).round() / 10_000.0,
                    first_seen: a.first,
                    last_seen: a.last,
                    sources: a.sources,
                    labels: a.labels,
                    purity: purity.map(|p| (p * 10_000.0).round() / 10_000.0),
                    examples: a.examples,
                    baseline_count: compare.then_some(a.base),
                    status,
                    growth,
                }
            })
            .filter(|p| p.count > 0 || compare)
            .collect();
        if compare {
            let rank = |p: &Pattern| match p.status.as_deref() {
                Some("new") => 0,
                Some("grew") => 1,
                Some("same") => 2,
                Some("shrank") => 3,
                _ => 4,
            };
            patterns.sort_by(|a, b| {
                rank(a).cmp(&rank(b)).then(b.growth.unwrap_or(0.0).total_cmp(&a.growth.unwrap_or(0.0))).then(b.count.cmp(&a.count))
            });
        } else {
            patterns.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
        }
        let labelled: u64 = patterns.iter().map(|p| p.labels.values().sum::<u64>()).sum();
        let pure: u64 = patterns.iter().map(|p| p.labels.values().max().copied().unwrap_or(0)).sum();
        let purity = (labelled > 0).then(|| pure as f64 / labelled as f64);
        Ok(PatternReport { lines, patterns, other, purity })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_format_make_one_pattern_and_a_baseline_says_what_is_new() {
        let recs = |lines: &[&str]| lines.iter().map(|l| Record::new("app", *l)).collect::<Vec<_>>();
        let mut p = Patterns::new(0.5, 100);
        p.add_baseline(&recs(&["user alice logged in", "user bob logged in"]));
        p.add(&recs(&["user carol logged in", "disk /dev/sda1 is 97% full", "user dave logged in"]), None);
        let r = p.finish(None, 0.9).unwrap();
        assert_eq!(r.lines, 3);
        let new: Vec<&Pattern> = r.patterns.iter().filter(|p| p.status.as_deref() == Some("new")).collect();
        assert_eq!(new.len(), 1, "{:?}", r.patterns);
        assert!(new[0].examples[0].contains("disk"));
        let login = r.patterns.iter().find(|p| p.template.contains("logged in")).unwrap();
        assert_eq!((login.count, login.baseline_count), (2, Some(2)));
    }
}
