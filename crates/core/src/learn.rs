//! Learned variables: word positions a stream shows to vary, found online, so
//! that fresh user names, group names and the like stop making new templates.
//!
//! Masking ([`crate::mask`]) replaces what looks variable *in one line*:
//! numbers, ids, addresses, paths, times. It cannot know that `carol` in
//! `delete user 'carol'` is a value; on a real stream every new user name,
//! group or host alias made a new template, one more embedding and one more
//! LLM question, and the rate fell toward the encoder's. A learner watches the
//! decided templates instead and learns where a log *varies*:
//!
//! * a template is split into words (runs of letters, digits, `_.-` and
//!   placeholders, so `kamori<NUM>` is one word) and punctuation marks
//!   (`=`, `@`, `(`, quotes: each its own token, so `user=carol`, `'carol'`
//!   and `carol(uid=<NUM>)` all show `carol` as a word);
//! * two templates of the same length that differ in one word share a
//!   *candidate*: the template with that word replaced by `<*>` wherever it
//!   occurs (`sudo: carol : … USER=carol` varies in two places at once);
//! * once a candidate has seen [`Learner::min_values`] distinct words there
//!   (3 by default), at least three in four of them decided with **one
//!   label**, it becomes a *pattern*, and every later template that matches it
//!   (same tokens elsewhere, any word at the variable position) shares the
//!   pattern's cached decision;
//! * a candidate whose words split between labels (`Accepted`/`Failed`,
//!   `sent`/`bounced`) never becomes a pattern: the word there carries
//!   meaning. Witnesses keep their own cached decisions either way (the
//!   template's exact key is looked up before any pattern), so a minority
//!   word seen before the pattern keeps its own label; only words never seen
//!   take the pattern's. The quarter of dissent allowed is for the model's
//!   own noise: a lexical model may label `sudo: kamori17 …` differently from
//!   `sudo: alice …`, and demanding unanimity let one such flip block a
//!   pattern for good.
//!
//! This is the online template miner's idea (Drain: same length, few differing
//! tokens) with two guards Drain lacks, because here a merge decides labels:
//! a merge needs several witnesses, and three in four of them must agree on the label.
//! Templates of fewer than [`MIN_WORDS`] words, where one word is most of the
//! meaning, are never generalised.
//!
//! What it changes and what it does not:
//! * only the decision cache's key: the `template` and `template_id` output
//!   columns stay the masked template, a pure function of the line;
//! * decisions depend on the order of lines (a line that matches a pattern
//!   reuses the decision made for an earlier one), the same as the cache;
//!   for one input and batch size a run is reproducible;
//! * memory is bounded: candidates are capped at [`MAX_CANDIDATES`] (the map
//!   is emptied when full; patterns learned so far are kept), patterns at
//!   [`MAX_PATTERNS`].

use std::collections::HashMap;
use std::sync::Mutex;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::cache::CacheKey;

/// Distinct values, all under one label, that make a position variable.
pub const DEFAULT_MIN_VALUES: usize = 3;
/// Templates shorter than this (in words) are never generalised.
pub const MIN_WORDS: usize = 4;
/// Most candidates held before the candidate map is emptied.
pub const MAX_CANDIDATES: usize = 200_000;
/// Most patterns learned.
pub const MAX_PATTERNS: usize = 50_000;

/// The online learner of variable positions. Shared between threads.
pub struct Learner {
    min_values: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Patterns by (scope hash, word count).
    patterns: HashMap<(u64, usize), Vec<Pattern>>,
    npatterns: usize,
    candidates: HashMap<u128, Candidate>,
}

struct Pattern {
    /// The words, `None` at the variable position.
    words: Vec<Option<Box<str>>>,
    key: CacheKey,
}

struct Candidate {
    /// (word hash, label hash) of the distinct words seen at the position:
    /// a window of at most twice `min_values`, emptied when full.
    values: Vec<(u64, u64)>,
    learned: bool,
}

impl Learner {
    /// A learner that makes a position variable after `min_values` distinct
    /// words (at least 2).
    pub fn new(min_values: usize) -> Self {
        Learner { min_values: min_values.max(2), state: Mutex::new(State::default()) }
    }

    /// Distinct values that make a position variable.
    pub fn min_values(&self) -> usize {
        self.min_values
    }

    /// Patterns learned so far.
    pub fn patterns(&self) -> usize {
        self.state.lock().map_or(0, |s| s.npatterns)
    }

    /// The cache key of the learned pattern `template` matches, if any.
    pub fn generalize(&self, scope: &str, template: &str) -> Option<CacheKey> {
        let words = tokens(template);
        if word_count(&words) < MIN_WORDS {
            return None;
        }
        let state = self.state.lock().ok()?;
        let list = state.patterns.get(&(xxh3_64(scope.as_bytes()), words.len()))?;
        list.iter().find(|p| p.words.iter().zip(&words).all(|(pw, w)| pw.as_deref().is_none_or(|pw| pw == *w))).map(|p| p.key)
    }

    /// Records that `template` was decided with `label`. Returns the cache
    /// key of the pattern this observation completed, if it completed one:
    /// the caller stores the decision under it.
    pub fn observe(&self, scope: &str, template: &str, label: &str) -> Option<CacheKey> {
        let words = tokens(template);
        if word_count(&words) < MIN_WORDS {
            return None;
        }
        let scope_hash = xxh3_64(scope.as_bytes());
        let label = xxh3_64(label.as_bytes());
        let mut state = self.state.lock().ok()?;
        if state.candidates.len() >= MAX_CANDIDATES {
            state.candidates.clear();
        }
        let mut learned = None;
        for p in 0..words.len() {
            // Each value once: its first position stands for all of them.
            if !is_word(words[p]) || is_placeholder(words[p]) || words[..p].contains(&words[p]) {
                continue;
            }
            let c = state
                .candidates
                .entry(candidate_key(scope, &words, words[p]))
                .or_insert(Candidate { values: Vec::with_capacity(self.min_values), learned: false });
            let v = xxh3_64(words[p].as_bytes());
            if c.values.len() < 2 * self.min_values && !c.values.iter().any(|(w, _)| *w == v) {
                c.values.push((v, label));
            }
            let agree = c.values.iter().filter(|(_, l)| *l == label).count();
            if learned.is_none() && !c.learned && c.values.len() >= self.min_values && 4 * agree >= 3 * c.values.len() {
                c.learned = true;
                learned = Some(p);
            } else if c.values.len() == 2 * self.min_values {
                // A full window without agreement: start a new one, so early
                // dissent (a few odd names at the start) does not block for good.
                c.values.clear();
            }
        }
        let p = learned?;
        if state.npatterns >= MAX_PATTERNS {
            return None;
        }
        let pattern: Vec<Option<Box<str>>> = words.iter().map(|w| (*w != words[p]).then(|| Box::from(*w))).collect();
        let text: Vec<&str> = pattern.iter().map(|w| w.as_deref().unwrap_or("<*>")).collect();
        // A NUL prefix keeps a pattern's key apart from any masked template's.
        let key = CacheKey::new(scope, &format!("\0{}", text.join(" ")));
        state.patterns.entry((scope_hash, words.len())).or_default().push(Pattern { words: pattern, key });
        state.npatterns += 1;
        Some(key)
    }
}

/// Masking's placeholders (`<NUM>`, `<IP>`, …) are already variables.
fn is_placeholder(w: &str) -> bool {
    w.len() > 2 && w.starts_with('<') && w.ends_with('>') && w[1..w.len() - 1].bytes().all(|b| b.is_ascii_uppercase())
}

/// Hash of (scope, the tokens with every occurrence of `value` blanked).
fn candidate_key(scope: &str, words: &[&str], value: &str) -> u128 {
    let mut h = Xxh3::new();
    h.update(&(scope.len() as u64).to_le_bytes());
    h.update(scope.as_bytes());
    for w in words {
        if *w == value {
            h.update(b"\x01");
        } else {
            h.update(w.as_bytes());
        }
        h.update(b"\0");
    }
    h.digest128()
}

/// Word material: letters, digits, `_ . -`, anything non-ASCII (`/` separates:
/// `home=/home/carol` shows `carol`).
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') || !b.is_ascii()
}

/// Length of the placeholder (`<NUM>`) at the start of `b`, if one is there.
fn placeholder_at(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_uppercase()).count();
    (n > 0 && b.get(n + 1) == Some(&b'>')).then_some(n + 2)
}

/// Words (runs of word material and placeholders) and single punctuation
/// marks; whitespace separates and is dropped.
fn tokens(t: &str) -> Vec<&str> {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 4);
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        loop {
            if i < b.len() && word_byte(b[i]) {
                i += 1;
            } else if let Some(n) = placeholder_at(&b[i..]) {
                i += n;
            } else {
                break;
            }
        }
        if i == start {
            // One punctuation mark (ASCII, so a char boundary follows).
            i += 1;
        }
        out.push(&t[start..i]);
    }
    out
}

fn is_word(w: &str) -> bool {
    w.bytes().next().is_some_and(|b| word_byte(b) || b == b'<') && (w.len() > 1 || word_byte(w.as_bytes()[0]))
}

fn word_count(words: &[&str]) -> usize {
    words.iter().filter(|w| is_word(w) && w.bytes().any(|b| b.is_ascii_alphabetic())).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learn(l: &Learner, lines: &[(&str, &str)]) -> usize {
        lines.iter().filter(|(t, label)| l.observe("", t, label).is_some()).count()
    }

    #[test]
    fn a_word_with_enough_values_under_one_label_becomes_a_variable() {
        let l = Learner::new(3);
        let users = ["carol", "dave", "erin"];
        let seen: Vec<String> = users.iter().map(|u| format!("vm userdel[<NUM>]: delete user '{u}'")).collect();
        assert!(l.generalize("", &seen[0]).is_none());
        assert_eq!(learn(&l, &[(&seen[0], "User Action"), (&seen[1], "User Action")]), 0, "two values are not enough");
        let key = l.observe("", &seen[2], "User Action").expect("the third value completes the pattern");
        assert_eq!(l.generalize("", "vm userdel[<NUM>]: delete user 'mallory'"), Some(key));
        assert_eq!(l.generalize("", &seen[0]), Some(key), "the witnesses match it too");
        // Another word elsewhere, another length, another scope: no match.
        assert!(l.generalize("", "vm userdel[<NUM>]: delete group 'mallory'").is_none());
        assert!(l.generalize("", "vm userdel[<NUM>]: delete user 'mallory' now").is_none());
        assert!(l.generalize("LegacyCRM", "vm userdel[<NUM>]: delete user 'mallory'").is_none());
        assert_eq!(l.patterns(), 1);
        // The key is not any masked template's key.
        assert_ne!(key, CacheKey::new("", "vm userdel[<NUM>]: delete user <*>"));
    }

    #[test]
    fn words_that_change_the_label_never_become_variables() {
        let l = Learner::new(2);
        let lines = [
            ("sshd[<NUM>]: Accepted password for alice", "User Action"),
            ("sshd[<NUM>]: Failed password for alice", "Security Alert"),
            ("sshd[<NUM>]: Invalid password for alice", "Security Alert"),
        ];
        assert_eq!(learn(&l, &lines), 0);
        assert!(l.generalize("", "sshd[<NUM>]: Rejected password for alice").is_none());
        // The user position still generalises: its witnesses agree.
        assert!(l.observe("", "sshd[<NUM>]: Failed password for bob", "Security Alert").is_some());
        assert!(l.generalize("", "sshd[<NUM>]: Failed password for zed").is_some());
        assert!(l.generalize("", "sshd[<NUM>]: Accepted password for zed").is_none());
    }

    #[test]
    fn one_dissenting_witness_in_four_is_model_noise() {
        let l = Learner::new(4);
        let line = |u: &str| format!("vm sudo: {u} : PWD=/srv ; USER=root ; COMMAND=/usr/bin/id");
        let seen = [("alice", "User Action"), ("bob", "User Action"), ("kamori<NUM>", "Security Alert")];
        assert_eq!(learn(&l, &seen.map(|(u, lab)| (line(u), lab)).iter().map(|(a, b)| (a.as_str(), *b)).collect::<Vec<_>>()), 0);
        // Four distinct words, but the one completing them is the dissenter: not yet.
        assert!(l.observe("", &line("ritaso<NUM>"), "Security Alert").is_none());
        // Two of four dissent: 3 of 5, 4 of 6, 5 of 7 agree, short of three in four.
        for u in ["carol", "dave", "erin"] {
            assert!(l.observe("", &line(u), "User Action").is_none(), "{u}");
        }
        // 6 of 8 is three in four.
        assert!(l.observe("", &line("frank"), "User Action").is_some());
        // A window that fills without agreement starts over.
        let l = Learner::new(2);
        let other = |u: &str| format!("vm su: FAILED SU (to {u}) on none");
        for (u, lab) in [("a", "X"), ("b", "Y"), ("c", "X"), ("d", "Y")] {
            assert!(l.observe("", &other(u), lab).is_none(), "{u}");
        }
        assert!(l.observe("", &other("e"), "X").is_none());
        assert!(l.observe("", &other("f"), "X").is_some(), "a fresh window of two agreeing words");
    }

    #[test]
    fn short_templates_and_placeholders_stay_as_they_are() {
        let l = Learner::new(2);
        assert_eq!(learn(&l, &[("Backup completed now", "System Notification"), ("Backup started now", "System Notification")]), 0);
        assert!(l.generalize("", "Backup failed now").is_none());
        // A placeholder is never the variable: the same placeholder is one value.
        assert_eq!(learn(&l, &[("disk <NUM> at <NUM>%", "Resource Usage"), ("disk <NUM> at <NUM>%", "Resource Usage")]), 0);
    }

    #[test]
    fn words_are_split_from_punctuation_and_a_value_may_repeat() {
        assert_eq!(
            tokens("to=<kamori<NUM>@lab.example>, (uid=<NUM>)"),
            ["to", "=", "<", "kamori<NUM>", "@", "lab.example", ">", ",", "(", "uid", "=", "<NUM>", ")"]
        );
        assert_eq!(tokens("é 'x' a<b"), ["é", "'", "x", "'", "a", "<", "b"]);
        let l = Learner::new(3);
        let line = |u: &str| format!("sudo: {u} : user NOT in sudoers ; USER={u} ; COMMAND=/bin/ls");
        assert_eq!(learn(&l, &[(&line("carol"), "Security Alert"), (&line("dave"), "Security Alert")]), 0);
        assert!(l.observe("", &line("erin<NUM>"), "Security Alert").is_some());
        assert!(l.generalize("", &line("zed")).is_some());
        assert!(l.generalize("", &format!("{}x", line("zed"))).is_none());
    }

    #[test]
    fn repeated_values_are_one_witness() {
        let l = Learner::new(3);
        let t = "session opened for user alice by root";
        assert_eq!(learn(&l, &[(t, "User Action"), (t, "User Action"), (t, "User Action")]), 0);
        assert!(l.observe("", "session opened for user bob by root", "User Action").is_none());
        assert!(l.observe("", "session opened for user carol by root", "User Action").is_some());
    }
}
