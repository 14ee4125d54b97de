//! Choosing the labeled examples shown to the model: the nearest ones to the
//! lines asked about, not a fixed list.
//!
//! A chat model labels a line far better when it sees lines like it with
//! their labels, and a long list of examples costs tokens on every request.
//! The bundle keeps a few labeled templates per label (`examples.jsonl`);
//! for each line the index picks those that share the most informative words
//! with its masked template (word bags weighted by inverse document
//! frequency, cosine similarity). Mask placeholders (`<NUM>`, `<IP>`, …)
//! count as words: they say what kind of value a line carries.

use std::collections::HashMap;

use crate::prompt::Example;

/// Labeled examples, searchable by similarity to a template.
#[derive(Clone, Debug, Default)]
pub struct ExampleIndex {
    examples: Vec<Example>,
    /// Each example's sparse vector (word id, weight), unit length.
    vectors: Vec<Vec<(u32, f32)>>,
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '<' || c == '>' || c == '_'))
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
}

impl ExampleIndex {
    /// An index over `(example, text to match on)` pairs; the text is usually
    /// the example's masked template.
    pub fn new(entries: Vec<(Example, String)>) -> Self {
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<f32> = vec![];
        let mut bags: Vec<Vec<u32>> = Vec::with_capacity(entries.len());
        for (_, text) in &entries {
            let mut ids: Vec<u32> = words(text)
                .map(|w| {
                    let next = vocab.len() as u32;
                    *vocab.entry(w).or_insert(next)
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            df.resize(vocab.len(), 0.0);
            ids.iter().for_each(|&i| df[i as usize] += 1.0);
            bags.push(ids);
        }
        let n = entries.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| (1.0 + n / d).ln()).collect();
        let vectors = bags.iter().map(|ids| unit(ids.iter().map(|&i| (i, idf[i as usize])).collect())).collect();
        ExampleIndex { examples: entries.into_iter().map(|(e, _)| e).collect(), vectors, vocab, idf }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Indices of the `k` examples nearest to `text`, nearest first (ties:
    /// index order); examples sharing no word are never returned.
    pub fn nearest(&self, text: &str, k: usize) -> Vec<usize> {
        let mut ids: Vec<u32> = words(text).filter_map(|w| self.vocab.get(&w).copied()).collect();
        ids.sort_unstable();
        ids.dedup();
        let q: HashMap<u32, f32> = unit(ids.iter().map(|&i| (i, self.idf[i as usize])).collect()).into_iter().collect();
        if q.is_empty() || k == 0 {
            return vec![];
        }
        let mut scored: Vec<(f32, usize)> = self
            .vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.iter().map(|(w, x)| q.get(w).map_or(0.0, |y| x * y)).sum::<f32>(), i))
            .filter(|(s, _)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().take(k).map(|(_, i)| i).collect()
    }

    /// The examples for a group of lines: the `per_line` nearest to each, in
    /// the order first chosen, without repeats, at most `max` in all.
    pub fn for_lines<'a>(&self, texts: impl IntoIterator<Item = &'a str>, per_line: usize, max: usize) -> Vec<Example> {
        let mut chosen: Vec<usize> = vec![];
        for t in texts {
            for i in self.nearest(t, per_line) {
                if chosen.len() < max && !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
        }
        chosen.into_iter().map(|i| self.examples[i].clone()).collect()
    }
}

fn unit(mut v: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, x)| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ExampleIndex {
        let e = |line: &str, label: &str| (Example { line: line.into(), label: label.into() }, line.into());
        ExampleIndex::new(vec![
            e("Invoice <NUM> could not be generated: template missing", "Workflow Error"),
            e("User <NUM> logged in", "User Action"),
            e("Backup completed for volume <PATH>", "System Notification"),
            e("Lead conversion failed for prospect <NUM> due to missing contact", "Workflow Error"),
            e("Feature Y is deprecated and will be removed in version <NUM>", "Deprecation Warning"),
        ])
    }

    #[test]
    fn the_nearest_example_shares_the_rarest_words() {
        let ix = index();
        assert_eq!(ix.nearest("Lead conversion failed for prospect <NUM>", 1), vec![3]);
        assert_eq!(ix.nearest("user <NUM> logged out", 2)[0], 1);
        assert_eq!(ix.nearest("The API v2 is deprecated", 1), vec![4]);
        assert!(ix.nearest("zzz qqq", 3).is_empty(), "no shared word, no example");
    }

    #[test]
    fn a_group_of_lines_gets_distinct_examples_up_to_the_cap() {
        let ix = index();
        let ex = ix.for_lines(["User <NUM> logged in", "User <NUM> logged out", "Backup completed for volume <PATH>"], 1, 10);
        let labels: Vec<&str> = ex.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["User Action", "System Notification"], "repeats are dropped");
        assert_eq!(ix.for_lines(["User <NUM> logged in", "Backup completed"], 3, 2).len(), 2, "capped");
    }
}
