//! Rule mining: recurring templates of labeled lines become proposed rules.
//!
//! 1. Every line is masked ([`crate::mask`]): numbers, ids, addresses and
//!    paths become placeholders, so `User User953 logged in` and
//!    `User User12 logged in` share the template `User User<NUM> logged in`.
//! 2. A Drain-style pass merges templates that differ in a few words: among
//!    templates of the same length, first word and majority label, one whose
//!    words agree position by position with a cluster's on at least
//!    `similarity` of the positions joins it, and the positions that differ
//!    become wildcards. Clusters never mix majority labels, so a merge cannot
//!    make a rule less pure than its parts.
//! 3. A cluster with at least `min_support` lines and label purity at least
//!    `min_purity` becomes a regex: literal words escaped, each placeholder
//!    replaced by the pattern of what it masks, wildcards by `\S+`, anchored
//!    at both ends. The regex is then checked on the raw training lines —
//!    rules see raw lines, not templates — and kept only if what it matches
//!    there still has the support and the purity.
//!
//! The seeds proposed clustering MiniLM embeddings (DBSCAN) instead;
//! `scripts/compare-dbscan.py` measures both on the same folds. DBSCAN's
//! pure clusters cover more lines, held-out templates included, because
//! they group paraphrases — which is what a regex cannot match: a cluster has
//! no template, so it gives no rule to read or review, and applying it needs
//! the line's embedding, i.e. the model tier's cost. In the cascade those
//! lines are the model tier's anyway (an embedding classifier itself). The
//! rules tier is for what needs no model: the template miner gives rules a
//! person can read, that run without weights at millions of lines a second,
//! and the same ones every time.

use std::collections::{BTreeMap, HashMap};

use crate::mask::Masker;
use crate::record::Example;
use crate::rules::Rule;

/// Options of [`mine`].
#[derive(Clone, Copy, Debug)]
pub struct MineOptions {
    /// Lines a rule must match.
    pub min_support: usize,
    /// Share of its lines that must carry its label.
    pub min_purity: f64,
    /// Share of word positions that must agree for two templates to merge.
    pub similarity: f64,
}

impl Default for MineOptions {
    fn default() -> Self {
        MineOptions { min_support: 5, min_purity: 1.0, similarity: 0.7 }
    }
}

/// A proposed rule with the figures behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct MinedRule {
    /// The rule.
    pub rule: Rule,
    /// Training lines its regex matches.
    pub support: usize,
    /// Share of those with its label.
    pub purity: f64,
    /// The cluster's template (wildcards as `<*>`).
    pub template: String,
    /// A few lines it matches.
    pub examples: Vec<String>,
}

const WILDCARD: &str = "<*>";

/// A group of templates merged by the miner.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The merged template's words (differing positions are `<*>`).
    pub words: Vec<String>,
    /// The key it was grouped under (a label for `rules mine`, empty for `patterns`).
    pub label: String,
    /// Lines added to it.
    pub lines: usize,
}

impl Cluster {
    /// The merged template.
    pub fn template(&self) -> String {
        self.words.join(" ")
    }
}

/// The Drain-style template miner shared by `rules mine` and `patterns`:
/// templates of the same length, first word and key join the cluster whose
/// words agree with theirs on at least `similarity` of the positions; the
/// positions that differ become `<*>`. Each distinct template is matched
/// once and then found in a map, so repeated lines cost one lookup. At most
/// `max_clusters` clusters are made; templates that would need another go
/// to [`TemplateMiner::other`].
pub struct TemplateMiner {
    similarity: f64,
    max_clusters: usize,
    /// The clusters, in order of creation.
    pub clusters: Vec<Cluster>,
    index: HashMap<(usize, String, String), Vec<usize>>,
    /// Cluster of each template already placed, per key (looked up without allocating).
    seen: HashMap<String, HashMap<String, usize>>,
    seen_len: usize,
    /// Lines that found no cluster once the cap was reached.
    pub other: usize,
}

impl TemplateMiner {
    /// A miner; `max_clusters` caps its memory.
    pub fn new(similarity: f64, max_clusters: usize) -> Self {
        TemplateMiner { similarity, max_clusters, clusters: vec![], index: HashMap::new(), seen: HashMap::new(), seen_len: 0, other: 0 }
    }

    /// Adds `n` lines of `template` under `key`; returns its cluster, or
    /// `None` when it went to the "other" bucket.
    pub fn add(&mut self, template: &str, key: &str, n: usize) -> Option<usize> {
        if let Some(&c) = self.seen.get(key).and_then(|m| m.get(template)) {
            self.clusters[c].lines += n;
            return Some(c);
        }
        let words: Vec<String> = template.split(' ').map(str::to_string).collect();
        let ikey = (words.len(), words.first().cloned().unwrap_or_default(), key.to_string());
        let best = self
            .index
            .get(&ikey)
            .and_then(|candidates| most_alike(candidates.iter().map(|&c| (c, &self.clusters[c].words[..])), &words, self.similarity));
        let c = match best {
            Some(c) => {
                generalize(&mut self.clusters[c].words, &words);
                c
            }
            None if self.clusters.len() < self.max_clusters => {
                self.index.entry(ikey).or_default().push(self.clusters.len());
                self.clusters.push(Cluster { words, label: key.to_string(), lines: 0 });
                self.clusters.len() - 1
            }
            None => {
                self.other += n;
                return None;
            }
        };
        self.clusters[c].lines += n;
        if self.seen_len < self.max_clusters.saturating_mul(8).max(1 << 16) {
            self.seen.entry(key.to_string()).or_default().insert(template.to_string(), c);
            self.seen_len += 1;
        }
        Some(c)
    }
}

/// Of `candidates` (an id and its words, each as long as `words`), the one
/// whose words agree with `words` at the largest share of positions, at
/// least `similarity` (ties: the lowest id): the miner's rule, shared with
/// live pattern counting ([`crate::trends`]).
pub(crate) fn most_alike<'a, W: AsRef<str>>(
    candidates: impl Iterator<Item = (usize, &'a [String])>,
    words: &[W],
    similarity: f64,
) -> Option<usize> {
    candidates
        .map(|(c, cw)| {
            let same = cw.iter().zip(words).filter(|(a, b)| a.as_str() == b.as_ref()).count();
            (same as f64 / words.len().max(1) as f64, c)
        })
        .filter(|(s, _)| *s >= similarity)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, c)| c)
}

/// A cluster's words where `words` differ become `<*>`.
pub(crate) fn generalize<W: AsRef<str>>(cluster: &mut [String], words: &[W]) {
    for (a, b) in cluster.iter_mut().zip(words) {
        if a.as_str() != b.as_ref() {
            *a = WILDCARD.to_string();
        }
    }
}

/// The regex of a masked template, for raw lines.
pub fn template_regex(template: &str) -> String {
    let mut out = String::from("^");
    for (i, word) in template.split(' ').enumerate() {
        if i > 0 {
            out.push_str(r"\s+");
        }
        if word == WILDCARD {
            out.push_str(r"\S+");
            continue;
        }
        let mut rest = word;
        while !rest.is_empty() {
            let next = PLACEHOLDERS.iter().filter_map(|(p, re)| rest.find(p).map(|at| (at, *p, *re))).min_by_key(|(at, _, _)| *at);
            match next {
                Some((at, p, re)) => {
                    out.push_str(&regex::escape(&rest[..at]));
                    out.push_str(re);
                    rest = &rest[at + p.len()..];
                }
                None => {
                    out.push_str(&regex::escape(rest));
                    rest = "";
                }
            }
        }
    }
    out.push('$');
    out
}

/// What each placeholder of the masker stands for, as a regex.
const PLACEHOLDERS: [(&str, &str); 14] = [
    // A timestamp spans up to six words (`Wed Dec 02 19:55:30 2026`).
    ("<TS>", r"\S+(?:\s+\S+){0,5}?"),
    ("<NUM>", r"-?\d+(?:[.,]\d+)*"),
    ("<HEX>", r"[0-9A-Fa-f]+"),
    ("<UUID>", r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    ("<IP>", r"[0-9A-Fa-f:.]+(?:/\d+)?"),
    ("<EMAIL>", r"[^\s@]+@[^\s@]+"),
    ("<PATH>", r"\S+"),
    ("<STR>", r#"(?:'[^']*'|"[^"]*")"#),
    ("<USER>", r"[a-z_][a-z0-9_.-]*"),
    ("<HOST>", r"[a-z][a-z0-9_-]*"),
    // A command or statement runs to the end of the line.
    ("<CMD>", r".*"),
    // HAProxy's `backend/server` is one word, its two halves any names.
    ("<BACKEND>", r"[^\s/]+"),
    ("<SERVER>", r"[^\s/]+"),
    ("<STATE>", r"[A-Za-z-]{2}(?:[A-Za-z-]{2})?"),
];

pub(crate) fn slug(template: &str, label: &str) -> String {
    let words: Vec<String> = template
        .split(' ')
        .filter(|w| !w.contains('<') && w.chars().any(char::is_alphabetic))
        .map(|w| w.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase())
        .filter(|w| w.len() > 1)
        .take(4)
        .collect();
    if words.is_empty() {
        label.to_lowercase().replace(' ', "-")
    } else {
        words.join("-")
    }
}

/// Proposes rules for `examples` (see the module docs), most lines first.
pub fn mine(examples: &[Example], masker: &Masker, opts: &MineOptions) -> Vec<MinedRule> {
    // Templates with their lines per label.
    let mut templates: HashMap<String, (usize, BTreeMap<&str, usize>, usize)> = HashMap::new();
    for (i, e) in examples.iter().enumerate() {
        let t = masker.mask(&e.message);
        let entry = templates.entry(t).or_insert((0, BTreeMap::new(), i));
        entry.0 += 1;
        *entry.1.entry(&e.label).or_default() += 1;
    }
    let mut ordered: Vec<(String, usize, String, usize)> = templates
        .into_iter()
        .map(|(t, (n, labels, first))| {
            let label = labels.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(l, _)| l.to_string()).unwrap_or_default();
            (t, n, label, first)
        })
        .collect();
    ordered.sort_by(|a, b| b.1.cmp(&a.1).then(a.3.cmp(&b.3)));

    // Drain-style merging, within each majority label.
    let mut miner = TemplateMiner::new(opts.similarity, usize::MAX);
    for (t, n, label, _) in &ordered {
        miner.add(t, label, *n);
    }
    let clusters = miner.clusters;

    // Regexes for the big clusters, checked on the raw lines.
    let mut proposals: Vec<(String, String, String)> = vec![]; // (template, label, regex)
    for c in clusters.iter().filter(|c| c.lines >= opts.min_support) {
        let template = c.words.join(" ");
        // A template of wildcards and placeholders alone would match anything of its length.
        if !c.words.iter().any(|w| w != WILDCARD && w.chars().any(char::is_alphabetic) && !w.starts_with('<')) {
            continue;
        }
        proposals.push((template.clone(), c.label.clone(), template_regex(&template)));
    }
    let Ok(set) = regex::RegexSet::new(proposals.iter().map(|p| &p.2)) else { return vec![] };
    let mut hits: Vec<(usize, usize, Vec<String>)> = vec![(0, 0, vec![]); proposals.len()];
    for e in examples {
        for i in set.matches(&e.message).iter() {
            let h = &mut hits[i];
            h.0 += 1;
            if e.label == proposals[i].1 {
                h.1 += 1;
            }
            if h.2.len() < 3 && !h.2.contains(&e.message) {
                h.2.push(e.message.clone());
            }
        }
    }
    let mut out = vec![];
    let mut ids: HashMap<String, usize> = HashMap::new();
    for ((template, label, regex), (support, right, examples)) in proposals.into_iter().zip(hits) {
        let purity = if support == 0 { 0.0 } else { right as f64 / support as f64 };
        if support < opts.min_support || purity < opts.min_purity {
            continue;
        }
        let base = slug(&template, &label);
        let n = ids.entry(base.clone()).or_default();
        *n += 1;
        let id = if *n == 1 { format!("mined-{base}") } else { format!("mined-{base}-{n}") };
        let note = format!("mined: {support} lines, purity {purity:.3}, template '{template}'");
        out.push(MinedRule { rule: Rule { id, label, regex, sources: None, note: Some(note) }, support, purity, template, examples });
    }
    out.sort_by(|a, b| b.support.cmp(&a.support).then(a.rule.id.cmp(&b.rule.id)));
    out
}

/// A `rules.toml` of the mined rules, with their support, purity and
/// examples as comments.
pub fn to_toml(rules: &[MinedRule], opts: &MineOptions) -> String {
    let mut s = format!(
        "# Rules mined by `logsift rules mine` (support >= {}, purity >= {}). Review before use:\n\
         # each rule's lines in the training data, the share with its label, and examples.\n",
        opts.min_support, opts.min_purity
    );
    for r in rules {
        s.push_str(&format!("\n# support {} lines, purity {:.3}; template: {}\n", r.support, r.purity, r.template));
        for e in &r.examples {
            s.push_str(&format!("#   e.g. {}\n", e.replace('\n', " ")));
        }
        let one = crate::rules::RulesFile { rule: vec![r.rule.clone()] };
        s.push_str(&one.to_toml());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(source: &str, message: &str, label: &str) -> Example {
        Example { source: source.into(), message: message.into(), label: label.into() }
    }

    #[test]
    fn placeholders_become_patterns_that_match_the_raw_lines() {
        let m = Masker::default();
        for line in [
            "User User953 logged in from 10.0.0.7",
            "File data_6957.csv uploaded successfully by user User265.",
            "Request a1b2c3d4-e5f6-4711-8899-aabbccddeeff took 12.5 ms",
        ] {
            let re = regex::Regex::new(&template_regex(&m.mask(line))).unwrap();
            assert!(re.is_match(line), "{line} vs {}", template_regex(&m.mask(line)));
        }
        assert_eq!(template_regex("Backup <*> done."), r"^Backup\s+\S+\s+done\.$");
    }

    #[test]
    fn recurring_pure_templates_become_rules_and_mixed_ones_do_not() {
        let mut data = vec![];
        for i in 0..6 {
            data.push(ex("a", &format!("User User{i} logged in."), "User Action"));
            data.push(ex("a", &format!("User User{i} logged out."), "User Action"));
            data.push(ex("b", &format!("Disk {i} failed"), if i % 2 == 0 { "Critical Error" } else { "Error" }));
        }
        data.push(ex("c", "Backup completed successfully.", "System Notification"));
        let rules = mine(&data, &Masker::default(), &MineOptions::default());
        assert_eq!(rules.len(), 1, "{rules:?}");
        let r = &rules[0];
        assert_eq!((r.rule.label.as_str(), r.support, r.purity), ("User Action", 12, 1.0));
        assert_eq!(r.template, "User User<NUM> logged <*>", "in/out merged into one rule");
        assert!(r.rule.id.starts_with("mined-user-logged"));
        let toml = to_toml(&rules, &MineOptions::default());
        let parsed = crate::rules::RulesFile::parse(&toml, std::path::Path::new("mined.toml")).unwrap();
        assert_eq!(parsed.rule, vec![r.rule.clone()]);
        assert!(toml.contains("# support 12 lines, purity 1.000") && toml.contains("#   e.g. User User0 logged in."));
        let lower = MineOptions { min_purity: 0.5, ..MineOptions::default() };
        assert_eq!(mine(&data, &Masker::default(), &lower).len(), 2, "a mixed template passes a lower purity bar");
    }
}
