//! Pattern counts over time, live: what `serve`, `worker` and `classify
//! --follow` remember of the stream they classify, so that they can say
//! which patterns are **new** and which are **spiking**.
//!
//! * **Patterns.** A classified line is masked and grouped by the template
//!   miner's rule, the grouping `logsift patterns` and `rules mine` use
//!   (its functions, [`crate::offline::mine`]): same length, same first word,
//!   same label, at least `similarity` of the words alike; differing words
//!   become `<*>`. The miner itself cannot forget a cluster, so the slots
//!   here are its own, to be evicted. A pattern belongs to one label: the
//!   same words decided as two labels are two patterns.
//! * **Windows.** Each pattern keeps its line counts in fixed windows of wall
//!   time (`window`, one minute by default) for `history` windows (an hour),
//!   with its first and last time seen, its total and two examples. Counts
//!   are kept sparse (only windows that had lines), so a pattern seen once
//!   costs one pair, not an hour of zeros.
//! * **Cheap per line.** A line already seen is found by a hash of its text
//!   (no masking); only lines never seen are masked (in parallel), and only
//!   templates never seen go through the miner. On the benchmark's
//!   1M-line stream the counting costs a few per cent of throughput
//!   (BENCHMARKS.md).
//! * **Bounded memory.** At most `max_patterns` patterns are tracked. When a
//!   new one needs room, the tenth of patterns least recently seen (then the
//!   smallest) are evicted: their counts join their label's `other` bucket,
//!   and the evictions are counted. The maps from lines and templates to
//!   patterns are bounded too (emptied when full; a line then costs one
//!   masking more). Whatever the stream, memory stays near `max_patterns`
//!   patterns.
//! * **New.** A pattern is *new* when first seen after the warm-up (`warmup`
//!   from the start: what a service meets in its first minutes is not news,
//!   it is the stream). An evicted pattern that comes back is new again, as
//!   Elastic's rare categories are: it had not been seen for longer than
//!   anything still tracked.
//! * **Spiking.** A pattern's rate in the recent window against its rate in
//!   the baseline before it, the baseline's count smoothed by one line
//!   (`(b + 1) / baseline`), so a pattern absent from the baseline grows
//!   finitely; a pattern with fewer than `spike_floor` lines in the window is
//!   never a spike (1 → 3 lines is noise, not news).
//!
//! Times are seconds since the Unix epoch, passed in by the caller
//! ([`Trends::observe`], [`Trends::report`]), so tests drive the clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::cache::CacheKey;
use crate::mask::Masker;
use crate::offline::mine;
use crate::pipeline::TemplateKeys;
use crate::record::{Decision, Record};

/// Settings of [`Trends`].
#[derive(Clone, Debug)]
pub struct TrendConfig {
    /// Length of a window.
    pub window: Duration,
    /// Windows kept per pattern.
    pub history: usize,
    /// Most patterns tracked.
    pub max_patterns: usize,
    /// Patterns first seen this soon after the start are not new.
    pub warmup: Duration,
    /// Fewest lines in the window for a pattern to count as a spike.
    pub spike_floor: u64,
    /// Share of alike words for two templates to be one pattern.
    pub similarity: f64,
    /// Labels whose new patterns are announced ([`Trends::observe`]'s
    /// return value; empty: every label).
    pub alert_labels: Vec<String>,
}

impl Default for TrendConfig {
    fn default() -> Self {
        TrendConfig {
            window: Duration::from_secs(60),
            history: 60,
            max_patterns: 10_000,
            warmup: Duration::from_secs(60),
            spike_floor: 20,
            similarity: 0.5,
            alert_labels: vec![],
        }
    }
}

/// Now, in seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Sparse counts per window index, oldest first.
#[derive(Clone, Debug, Default)]
struct Windows(VecDeque<(u64, u32)>);

impl Windows {
    /// Adds `n` lines in window `w`; windows `history` or more before `w` are dropped.
    fn add(&mut self, w: u64, n: u32, history: u64) {
        match self.0.back_mut() {
            Some((last, c)) if *last == w => *c = c.saturating_add(n),
            // Lines of a batch come in the window the batch is observed in,
            // so windows only move forward; an older one (a clock stepped
            // back) joins the newest.
            Some((last, c)) if *last > w => *c = c.saturating_add(n),
            _ => {
                self.0.push_back((w, n));
                self.trim(w.saturating_sub(history - 1));
            }
        }
    }

    fn trim(&mut self, oldest: u64) {
        while self.0.front().is_some_and(|(w, _)| *w < oldest) {
            self.0.pop_front();
        }
    }

    /// Lines in windows `from..=to`.
    fn sum(&self, from: u64, to: u64) -> u64 {
        self.0.iter().filter(|(w, _)| (from..=to).contains(w)).map(|(_, c)| *c as u64).sum()
    }

    /// Adds `other`'s counts (both in window order: one merging pass).
    fn merge(&mut self, other: &Windows) {
        let mut out = VecDeque::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().copied().peekable(), other.0.iter().copied().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    let (x, y) = (a.next().unwrap(), b.next().unwrap());
                    (x.0, x.1.saturating_add(y.1))
                }
                (Some(x), Some(y)) if x.0 < y.0 => a.next().unwrap(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next().unwrap(),
                (Some(_), None) => a.next().unwrap(),
                (None, None) => break,
            };
            out.push_back(next);
        }
        self.0 = out;
    }
}

struct Slot {
    generation: u32,
    live: bool,
    words: Vec<String>,
    label: Arc<str>,
    first_seen: u64,
    last_seen: u64,
    total: u64,
    windows: Windows,
    examples: Vec<String>,
}

impl Slot {
    fn template(&self) -> String {
        self.words.join(" ")
    }
}

/// A reference to a slot that goes stale when the slot is reused.
#[derive(Clone, Copy)]
struct SlotRef {
    slot: u32,
    generation: u32,
}

struct State {
    start: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Slots by (word count, first word, label).
    index: HashMap<(usize, String, Arc<str>), Vec<u32>>,
    /// Lines (label and text hashed), the pipeline's template keys (with
    /// the label) and templates seen, to their slots.
    lines: HashMap<u64, SlotRef, Prehashed>,
    keyed: HashMap<u64, SlotRef, Prehashed>,
    templates: HashMap<u64, SlotRef, Prehashed>,
    other: BTreeMap<Arc<str>, Windows>,
    evicted: u64,
    new_by_label: BTreeMap<Arc<str>, u64>,
    lines_total: u64,
}

impl State {
    /// Whether `sr` still names a live pattern (not one evicted since, nor its slot's next tenant).
    fn holds(&self, sr: SlotRef) -> bool {
        let sl = &self.slots[sr.slot as usize];
        sl.live && sl.generation == sr.generation
    }
}

/// A pattern first seen after the warm-up, of an alert label: what a
/// webhook announces.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NewPattern {
    /// The label its lines were given.
    pub label: String,
    /// The pattern's template (`<*>` where its lines differ).
    pub template: String,
    /// Its first line.
    pub example: String,
    /// The source of that line.
    pub source: String,
    /// When it was first seen (seconds since the Unix epoch).
    pub first_seen: u64,
}

/// One pattern in a [`TrendReport`].
#[derive(Clone, Debug, Serialize)]
pub struct PatternTrend {
    /// The label.
    pub label: String,
    /// The template (`<*>` where its lines differ).
    pub template: String,
    /// Up to two example lines.
    pub examples: Vec<String>,
    /// Lines in the window.
    pub window_lines: u64,
    /// Lines in the baseline.
    pub baseline_lines: u64,
    /// Rate in the window over the baseline's (its count plus one), when
    /// there is a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<f64>,
    /// Lines since first seen (while tracked).
    pub total: u64,
    /// First seen (RFC 3339, UTC).
    pub first_seen: String,
    /// Last seen (RFC 3339, UTC).
    pub last_seen: String,
}

/// Lines of a label in the window and the baseline.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LabelTrend {
    /// Lines in the window.
    pub window_lines: u64,
    /// Lines in the baseline.
    pub baseline_lines: u64,
    /// New patterns in the window.
    pub new_patterns: u64,
}

/// What changed: [`Trends::report`].
#[derive(Clone, Debug, Serialize)]
pub struct TrendReport {
    /// The report's time (RFC 3339, UTC).
    pub at: String,
    /// Seconds the window covers (whole windows, the current one included).
    pub window_seconds: u64,
    /// Seconds the baseline covers (the windows before it that are known).
    pub baseline_seconds: u64,
    /// Length of one window.
    pub bucket_seconds: u64,
    /// True while patterns are not yet called new (the warm-up).
    pub warming_up: bool,
    /// Patterns first seen in the window, after the warm-up (most lines first).
    pub new: Vec<PatternTrend>,
    /// Patterns whose rate grew most (at least `min_growth`, at least the
    /// floor's lines in the window), the greatest growth first.
    pub spiking: Vec<PatternTrend>,
    /// Per label: lines in the window and the baseline, new patterns.
    pub labels: BTreeMap<String, LabelTrend>,
    /// Patterns tracked now.
    pub tracked: usize,
    /// The cap on tracked patterns.
    pub max_patterns: usize,
    /// Patterns evicted so far (their lines are counted in `other`).
    pub evicted: u64,
    /// Lines in the window of patterns evicted since.
    pub other_window_lines: u64,
    /// Lines counted since the start.
    pub lines: u64,
}

/// Live pattern counts (module docs). Shared between threads: the thread
/// that classifies observes, the ones that answer requests report.
pub struct Trends {
    cfg: TrendConfig,
    masker: Masker,
    state: Mutex<State>,
}

/// Most entries of the line and template maps (each emptied when full).
fn map_cap(max_patterns: usize) -> usize {
    max_patterns.saturating_mul(16).clamp(1 << 16, 1 << 20)
}

fn label_bits(label: &str) -> u64 {
    xxh3_64(label.as_bytes()).rotate_left(17)
}

fn line_key(label: &str, text: &str) -> u64 {
    xxh3_64(text.as_bytes()) ^ label_bits(label)
}

/// The maps' keys are xxh3 hashes already: hashing them again (SipHash) only costs.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxh3_64(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Prehashed = std::hash::BuildHasherDefault<KeyHasher>;

impl Trends {
    /// Tracking from `start` (seconds since the Unix epoch), masking as `masker`.
    pub fn new(cfg: TrendConfig, masker: Masker, start: u64) -> Self {
        let state = State {
            start,
            slots: vec![],
            free: vec![],
            live: 0,
            index: HashMap::new(),
            lines: HashMap::default(),
            keyed: HashMap::default(),
            templates: HashMap::default(),
            other: BTreeMap::new(),
            evicted: 0,
            new_by_label: BTreeMap::new(),
            lines_total: 0,
        };
        let cfg = TrendConfig {
            window: cfg.window.max(Duration::from_secs(1)),
            history: cfg.history.max(2),
            max_patterns: cfg.max_patterns.max(1),
            ..cfg
        };
        Trends { cfg, masker, state: Mutex::new(state) }
    }

    /// The settings.
    pub fn config(&self) -> &TrendConfig {
        &self.cfg
    }

    fn bucket(&self) -> u64 {
        self.cfg.window.as_secs().max(1)
    }

    /// Declares labels, so that their `new` counters exist (at 0) before
    /// their first new pattern: Prometheus's `increase()` cannot see a
    /// series's first sample as an increase.
    pub fn declare_labels<'a>(&self, labels: impl IntoIterator<Item = &'a str>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for l in labels {
            s.new_by_label.entry(Arc::from(l)).or_default();
        }
    }

    /// Counts a batch's classified records at time `now`; returns the new
    /// patterns of the alert labels it met.
    pub fn observe(&self, records: &[Record], decisions: &[Decision], now: u64) -> Vec<NewPattern> {
        self.observe_keyed(records, decisions, &TemplateKeys::default(), now)
    }

    /// [`Trends::observe`] with the pipeline's template keys
    /// ([`crate::Pipeline::classify_keyed`]; empty: none): a line whose
    /// template the pipeline knows is found by its key, and a template new
    /// to the pipeline comes with its text: neither is masked again.
    pub fn observe_keyed(&self, records: &[Record], decisions: &[Decision], tk: &TemplateKeys, now: u64) -> Vec<NewPattern> {
        let keys = &tk.keys[..];
        let w = now / self.bucket();
        let history = self.cfg.history as u64;
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *s;
        // Templates and lines seen before: one lookup, no masking.
        // (record, its map key, the pipeline's template key)
        let mut misses: Vec<(usize, u64, Option<CacheKey>)> = vec![];
        // (slot, lines)
        let mut hits: Vec<(u32, u32)> = vec![];
        // A batch has few labels: each one's hash is computed once.
        let mut label_hash: (*const u8, u64) = (std::ptr::null(), 0);
        for (i, (r, d)) in records.iter().zip(decisions).enumerate() {
            if d.label.as_ptr() != label_hash.0 {
                label_hash = (d.label.as_ptr(), label_bits(&d.label));
            }
            let key = keys.get(i).copied().flatten();
            let (map, k) = match key {
                Some(key) => (&s.keyed, key.low64() ^ label_hash.1),
                None => (&s.lines, xxh3_64(r.message.as_bytes()) ^ label_hash.1),
            };
            match map.get(&k) {
                Some(&sr) if s.holds(sr) => match hits.last_mut() {
                    Some((slot, n)) if *slot == sr.slot => *n += 1,
                    _ => hits.push((sr.slot, 1)),
                },
                _ => misses.push((i, k, key)),
            }
        }
        s.lines_total += records.len().min(decisions.len()) as u64;
        for (slot, n) in hits {
            let sl = &mut s.slots[slot as usize];
            sl.windows.add(w, n, history);
            sl.total += n as u64;
            sl.last_seen = now;
        }
        if misses.is_empty() {
            return vec![];
        }
        let masker = self.masker;
        let template = |&(i, _, key): &(usize, u64, Option<CacheKey>)| match key.and_then(|k| tk.new.get(&k)) {
            Some(t) => t.clone(),
            None => masker.mask(&records[i].message),
        };
        let templates: Vec<String> =
            if misses.len() >= 256 { misses.par_iter().map(template).collect() } else { misses.iter().map(template).collect() };
        let mut news = vec![];
        let cap = map_cap(self.cfg.max_patterns);
        for ((i, k, key), t) in misses.into_iter().zip(templates) {
            let (r, d) = (&records[i], &decisions[i]);
            let tkey = line_key(&d.label, &t);
            let known = s.templates.get(&tkey).copied().filter(|&sr| s.holds(sr));
            let sr = match known {
                Some(sr) => sr,
                None => {
                    let (sr, created) = self.place(s, &t, &d.label, now);
                    if s.templates.len() >= cap {
                        s.templates.clear();
                    }
                    s.templates.insert(tkey, sr);
                    if created && now >= s.start + self.cfg.warmup.as_secs() {
                        *s.new_by_label.entry(d.label.clone()).or_default() += 1;
                        if self.cfg.alert_labels.is_empty() || self.cfg.alert_labels.iter().any(|l| **l == *d.label) {
                            let sl = &s.slots[sr.slot as usize];
                            news.push(NewPattern {
                                label: d.label.to_string(),
                                template: sl.template(),
                                example: r.message.chars().take(500).collect(),
                                source: r.source.clone(),
                                first_seen: now,
                            });
                        }
                    }
                    sr
                }
            };
            let map = if key.is_some() { &mut s.keyed } else { &mut s.lines };
            if map.len() >= cap {
                map.clear();
            }
            map.insert(k, sr);
            let sl = &mut s.slots[sr.slot as usize];
            sl.windows.add(w, 1, history);
            sl.total += 1;
            sl.last_seen = now;
            if sl.examples.len() < 2 && !sl.examples.contains(&r.message) {
                sl.examples.push(r.message.chars().take(500).collect());
            }
        }
        news
    }

    /// The slot of template `t` under `label`: an alike pattern's (its
    /// words generalised), or a new one. `true` when new.
    fn place(&self, s: &mut State, t: &str, label: &Arc<str>, now: u64) -> (SlotRef, bool) {
        let words: Vec<&str> = t.split(' ').collect();
        let ikey = (words.len(), words[0].to_string(), label.clone());
        let best = s.index.get(&ikey).and_then(|cands| {
            let slots = &s.slots;
            mine::most_alike(cands.iter().map(|&c| (c as usize, &slots[c as usize].words[..])), &words, self.cfg.similarity)
        });
        if let Some(c) = best {
            let sl = &mut s.slots[c];
            mine::generalize(&mut sl.words, &words);
            return (SlotRef { slot: c as u32, generation: sl.generation }, false);
        }
        if s.live >= self.cfg.max_patterns {
            self.evict(s);
        }
        let slot = Slot {
            generation: 0,
            live: true,
            words: words.iter().map(|w| w.to_string()).collect(),
            label: label.clone(),
            first_seen: now,
            last_seen: now,
            total: 0,
            windows: Windows::default(),
            examples: vec![],
        };
        let c = match s.free.pop() {
            Some(c) => {
                let generation = s.slots[c as usize].generation.wrapping_add(1);
                s.slots[c as usize] = Slot { generation, ..slot };
                c
            }
            None => {
                s.slots.push(slot);
                (s.slots.len() - 1) as u32
            }
        };
        s.live += 1;
        s.index.entry(ikey).or_default().push(c);
        (SlotRef { slot: c, generation: s.slots[c as usize].generation }, true)
    }

    /// Evicts the tenth of the live patterns seen least recently (then the
    /// smallest); their counts join their label's `other`.
    fn evict(&self, s: &mut State) {
        let mut live: Vec<(u64, u64, u32)> =
            s.slots.iter().enumerate().filter(|(_, sl)| sl.live).map(|(i, sl)| (sl.last_seen, sl.total, i as u32)).collect();
        let n = (live.len() / 10).max(1);
        live.select_nth_unstable(n - 1);
        for &(_, _, c) in &live[..n] {
            let sl = &mut s.slots[c as usize];
            sl.live = false;
            let windows = std::mem::take(&mut sl.windows);
            let key = (sl.words.len(), sl.words[0].clone(), sl.label.clone());
            sl.words = vec![];
            sl.examples = vec![];
            s.other.entry(sl.label.clone()).or_default().merge(&windows);
            if let Some(v) = s.index.get_mut(&key) {
                v.retain(|&x| x != c);
                if v.is_empty() {
                    s.index.remove(&key);
                }
            }
            s.free.push(c);
            s.live -= 1;
            s.evicted += 1;
        }
    }

    /// New patterns counted so far, per label (after the warm-up).
    pub fn new_patterns(&self) -> BTreeMap<String, u64> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.new_by_label.iter().map(|(l, n)| (l.to_string(), *n)).collect()
    }

    /// What changed at `now`: patterns new in the last `window` and those
    /// whose rate grew most against the `baseline` before it (both rounded
    /// up to whole windows; the baseline is cut to what has been seen, and
    /// to the history). At most `limit` patterns per list; `min_growth`: the
    /// smallest growth listed as spiking.
    pub fn report(&self, now: u64, window: Duration, baseline: Duration, min_growth: f64, limit: usize) -> TrendReport {
        let b = self.bucket();
        let cur = now / b;
        let k = window.as_secs().div_ceil(b).max(1);
        let kb_asked = baseline.as_secs().div_ceil(b);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let oldest = cur.saturating_sub(self.cfg.history as u64 - 1);
        let from = cur.saturating_sub(k - 1);
        // Baseline: the windows before the window, back to the start and the history.
        let known_from = (s.start / b).max(oldest);
        let kb = kb_asked.min(from.saturating_sub(known_from));
        let (bfrom, bto) = (from.saturating_sub(kb), from.saturating_sub(1));
        let s = &mut *s;
        for sl in s.slots.iter_mut().filter(|sl| sl.live) {
            sl.windows.trim(oldest);
        }
        for o in s.other.values_mut() {
            o.trim(oldest);
        }
        let warm_from = s.start + self.cfg.warmup.as_secs();
        let mut labels: BTreeMap<String, LabelTrend> = BTreeMap::new();
        let (mut new, mut spiking) = (vec![], vec![]);
        for sl in s.slots.iter().filter(|sl| sl.live) {
            let wl = sl.windows.sum(from, cur);
            let bl = if kb > 0 { sl.windows.sum(bfrom, bto) } else { 0 };
            let lt = labels.entry(sl.label.to_string()).or_default();
            lt.window_lines += wl;
            lt.baseline_lines += bl;
            let is_new = sl.first_seen / b >= from && sl.first_seen >= warm_from;
            let growth = (kb > 0).then(|| (wl as f64 / k as f64) / ((bl + 1) as f64 / kb as f64));
            let trend = || PatternTrend {
                label: sl.label.to_string(),
                template: sl.template(),
                examples: sl.examples.clone(),
                window_lines: wl,
                baseline_lines: bl,
                growth: growth.map(|g| (g * 1000.0).round() / 1000.0),
                total: sl.total,
                first_seen: crate::offline::label::rfc3339(sl.first_seen),
                last_seen: crate::offline::label::rfc3339(sl.last_seen),
            };
            if is_new {
                lt.new_patterns += 1;
                new.push(trend());
            } else if wl >= self.cfg.spike_floor && growth.is_some_and(|g| g >= min_growth) {
                spiking.push(trend());
            }
        }
        let mut other_window_lines = 0;
        for (l, o) in &s.other {
            let (wl, bl) = (o.sum(from, cur), if kb > 0 { o.sum(bfrom, bto) } else { 0 });
            other_window_lines += wl;
            let lt = labels.entry(l.to_string()).or_default();
            lt.window_lines += wl;
            lt.baseline_lines += bl;
        }
        new.sort_by(|a, b| b.window_lines.cmp(&a.window_lines).then(a.template.cmp(&b.template)));
        spiking.sort_by(|a, b| b.growth.unwrap_or(0.0).total_cmp(&a.growth.unwrap_or(0.0)).then(a.template.cmp(&b.template)));
        new.truncate(limit);
        spiking.truncate(limit);
        TrendReport {
            at: crate::offline::label::rfc3339(now),
            window_seconds: k * b,
            baseline_seconds: kb * b,
            bucket_seconds: b,
            warming_up: now < warm_from,
            new,
            spiking,
            labels,
            tracked: s.live,
            max_patterns: self.cfg.max_patterns,
            evicted: s.evicted,
            other_window_lines,
            lines: s.lines_total,
        }
    }

    /// The highest growth per label over the last completed window against
    /// the rest of the history (patterns with at least the floor's lines in
    /// the window; 0 when none): the `logsift_pattern_growth_max` gauge. (The
    /// window begun holds a fraction of a window's lines: it would read low.)
    pub fn growth_by_label(&self, now: u64) -> BTreeMap<String, f64> {
        // As `report(now - one window, one window, the history, 0, all)`'s
        // spiking list, without building it: a scrape holds the lock for
        // the patterns' sums only (10,000 patterns: BENCHMARKS.md).
        let b = self.bucket();
        let cur = now.saturating_sub(b) / b;
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let oldest = cur.saturating_sub(self.cfg.history as u64 - 1);
        let kb = (self.cfg.history as u64).min(cur.saturating_sub((s.start / b).max(oldest)));
        let warm_from = s.start + self.cfg.warmup.as_secs();
        let mut out: BTreeMap<&str, f64> = s.new_by_label.keys().map(|l| (&**l, 0.0)).collect();
        for sl in s.slots.iter().filter(|sl| sl.live) {
            let e = out.entry(&*sl.label).or_insert(0.0);
            let is_new = sl.first_seen / b >= cur && sl.first_seen >= warm_from;
            if kb == 0 || is_new {
                continue;
            }
            let wl = sl.windows.sum(cur, cur);
            if wl >= self.cfg.spike_floor {
                let bl = sl.windows.sum(cur - kb, cur - 1);
                *e = e.max(((wl as f64 / ((bl + 1) as f64 / kb as f64)) * 1000.0).round() / 1000.0);
            }
        }
        for o in s.other.keys() {
            out.entry(&**o).or_insert(0.0);
        }
        out.into_iter().map(|(l, g)| (l.to_string(), g)).collect()
    }

    /// `/metrics` lines: tracked patterns, the cap, evictions, new patterns
    /// by label and the highest growth by label, at `now`.
    pub fn render_metrics(&self, now: u64) -> String {
        use std::fmt::Write;
        let growth = self.growth_by_label(now);
        let new = self.new_patterns();
        let (tracked, evicted) = {
            let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            (s.live, s.evicted)
        };
        let esc = crate::telemetry::escape;
        let mut o = String::new();
        let _ = writeln!(o, "# HELP logsift_patterns_new_total Patterns first seen after the warm-up, by label.");
        let _ = writeln!(o, "# TYPE logsift_patterns_new_total counter");
        for (l, n) in &new {
            let _ = writeln!(o, "logsift_patterns_new_total{{label=\"{}\"}} {n}", esc(l));
        }
        let _ = writeln!(
            o,
            "# HELP logsift_pattern_growth_max Highest rate growth of a label's patterns, last window against the history before it (patterns with at least the spike floor's lines; 0: none)."
        );
        let _ = writeln!(o, "# TYPE logsift_pattern_growth_max gauge");
        for (l, g) in &growth {
            let _ = writeln!(o, "logsift_pattern_growth_max{{label=\"{}\"}} {g}", esc(l));
        }
        crate::telemetry::write_metrics(
            &mut o,
            &[
                crate::telemetry::Metric::gauge("logsift_patterns_tracked", "Patterns tracked now.", tracked as u64),
                crate::telemetry::Metric::gauge("logsift_patterns_max", "The cap on tracked patterns.", self.cfg.max_patterns as u64),
                crate::telemetry::Metric::counter(
                    "logsift_patterns_evicted_total",
                    "Patterns evicted to stay under the cap (least recently seen, then smallest).",
                    evicted,
                ),
            ],
        );
        o
    }
}

/// Where new patterns are announced (a webhook): called on the classifying
/// thread, so it must not block.
pub trait AlertSink: Send + Sync {
    /// Queues the events (never blocks; drops and counts when full).
    fn send(&self, events: Vec<NewPattern>);
    /// Its counters, for `/metrics`.
    fn metrics(&self) -> Vec<crate::telemetry::Metric>;
}

/// The live counting of a service, worker or follow: the counts, and where
/// new patterns of the alert labels are announced.
#[derive(Clone)]
pub struct Live {
    /// The counts.
    pub trends: Arc<Trends>,
    /// Where new patterns go (a webhook), if anywhere.
    pub alerts: Option<Arc<dyn AlertSink>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("trends", &self.trends.cfg).field("alerts", &self.alerts.is_some()).finish()
    }
}

impl Live {
    /// Counting with `cfg` from now, masking as `masker`, no alerts.
    pub fn new(cfg: TrendConfig, masker: Masker) -> Live {
        Live { trends: Arc::new(Trends::new(cfg, masker, now_secs())), alerts: None }
    }

    /// Counts a classified batch now (`keys`: the pipeline's template keys,
    /// [`crate::Pipeline::classify_keyed`]); hands its new patterns to the sink.
    pub fn observe(&self, records: &[Record], decisions: &[Decision], keys: &TemplateKeys) {
        let news = self.trends.observe_keyed(records, decisions, keys, now_secs());
        if let (false, Some(a)) = (news.is_empty(), &self.alerts) {
            a.send(news);
        }
    }

    /// The `/metrics` lines of the counts and of the sink.
    pub fn render_metrics(&self) -> String {
        let mut o = self.trends.render_metrics(now_secs());
        if let Some(a) = &self.alerts {
            crate::telemetry::write_metrics(&mut o, &a.metrics());
        }
        o
    }
}

/// A duration as the service's and the CLI's options take it: `90`, `90s`,
/// `5m`, `1h`, `1d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a duration (like 90s, 5m, 1h)"))?;
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (s, m, h or d)")),
    };
    let secs = n * mult;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::TierKind;

    fn batch(lines: &[(&str, &str)]) -> (Vec<Record>, Vec<Decision>) {
        let r = lines.iter().map(|(_, m)| Record::new("app", *m)).collect();
        let d = lines
            .iter()
            .map(|(l, _)| Decision { label: Arc::from(*l), tier: TierKind::Model, confidence: 1.0, detail: crate::record::Detail::None })
            .collect();
        (r, d)
    }

    fn cfg() -> TrendConfig {
        TrendConfig { window: Duration::from_secs(60), history: 60, warmup: Duration::from_secs(60), spike_floor: 5, ..Default::default() }
    }

    #[test]
    fn a_pattern_after_the_warm_up_is_new_and_announced_once() {
        let t = Trends::new(cfg(), Masker::default(), 1_000_000 * 60);
        let start = 1_000_000 * 60;
        let (r, d) = batch(&[("Info", "user alice logged in"), ("Info", "user bob logged in")]);
        assert!(t.observe(&r, &d, start + 1).is_empty(), "nothing is new in the warm-up");
        let (r, d) = batch(&[
            ("Info", "user carol logged in"),
            ("Critical Error", "kernel panic on cpu 3"),
            ("Critical Error", "kernel panic on cpu 4"),
        ]);
        let news = t.observe(&r, &d, start + 61);
        assert_eq!(news.len(), 1, "{news:?}");
        assert_eq!(news[0].label, "Critical Error");
        assert_eq!(news[0].template, "kernel panic on cpu <NUM>");
        let rep = t.report(start + 62, Duration::from_secs(60), Duration::from_secs(3600), 5.0, 10);
        assert_eq!(rep.new.len(), 1);
        assert_eq!(rep.new[0].window_lines, 2);
        assert_eq!(rep.labels["Info"].window_lines, 1);
        assert_eq!(rep.labels["Info"].baseline_lines, 2);
        assert_eq!(t.new_patterns()["Critical Error"], 1);
        assert!(t.observe(&r, &d, start + 63).is_empty(), "seen lines are not new again");
    }

    #[test]
    fn a_spike_needs_growth_and_the_floor() {
        let start = 6_000_000;
        let t = Trends::new(cfg(), Masker::default(), start);
        // An hour of 2 lines a minute of each pattern.
        for m in 0..30 {
            let (r, d) =
                batch(&[("Error", "disk sda failed"), ("Error", "disk sda failed"), ("Info", "job 1 done"), ("Info", "job 2 done")]);
            t.observe(&r, &d, start + m * 60);
        }
        // Then 40 disk failures in a minute, and 3 jobs.
        let many: Vec<(&str, &str)> =
            std::iter::repeat_n(("Error", "disk sda failed"), 40).chain(std::iter::repeat_n(("Info", "job 3 done"), 3)).collect();
        let (r, d) = batch(&many);
        t.observe(&r, &d, start + 30 * 60);
        let rep = t.report(start + 30 * 60 + 5, Duration::from_secs(60), Duration::from_secs(3600), 5.0, 10);
        assert_eq!(rep.spiking.len(), 1, "{:?}", rep.spiking);
        assert_eq!(rep.spiking[0].template, "disk sda failed");
        assert_eq!(rep.baseline_seconds, 30 * 60);
        // 40 / (61 / 30) = 19.67
        assert!((rep.spiking[0].growth.unwrap() - 19.672).abs() < 0.01, "{:?}", rep.spiking[0]);
        let g = t.growth_by_label(start + 31 * 60 + 5);
        assert!(g["Error"] > 19.0 && g["Info"] == 0.0, "{g:?}");
    }

    #[test]
    fn the_pipelines_keys_find_patterns_without_masking() {
        use crate::cache::CacheKey;
        let t = Trends::new(cfg(), Masker::default(), 0);
        let key = CacheKey::new("", "User User<NUM> logged in.");
        let mut tk = TemplateKeys { keys: vec![Some(key)], new: Default::default() };
        tk.new.insert(key, "User User<NUM> logged in.".into());
        // The text given with the key is the template, whatever the line says.
        let (r, d) = batch(&[("User Action", "raw line the key stands for")]);
        t.observe_keyed(&r, &d, &tk, 100);
        tk.new.clear();
        let (r, d) = batch(&[("User Action", "another raw line, same template")]);
        t.observe_keyed(&r, &d, &tk, 101);
        let rep = t.report(101, Duration::from_secs(3600), Duration::ZERO, 5.0, 10);
        assert_eq!(rep.tracked, 1);
        assert_eq!(rep.new[0].template, "User User<NUM> logged in.");
        assert_eq!(rep.new[0].window_lines, 2);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5 weeks").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn memory_stays_under_the_cap_and_evictions_are_counted() {
        let c = TrendConfig { max_patterns: 100, ..cfg() };
        let t = Trends::new(c, Masker::default(), 0);
        for i in 0..1000u64 {
            // Distinct first words: never one pattern (digits would be masked alike).
            let word: String = [i / 676, (i / 26) % 26, i % 26].iter().map(|&c| (b'a' + c as u8) as char).collect();
            let line = format!("{word} event happened");
            let (r, d) = batch(&[("Info", line.as_str())]);
            t.observe(&r, &d, 120 + i);
        }
        let rep = t.report(120 + 1000, Duration::from_secs(3600), Duration::from_secs(0), 5.0, 1000);
        assert!(rep.tracked <= 100, "{}", rep.tracked);
        assert!(rep.evicted >= 900, "{}", rep.evicted);
        // No line is lost: tracked and evicted lines add up.
        assert_eq!(rep.labels["Info"].window_lines, 1000);
        assert!(rep.other_window_lines >= 900);
        // The newest are kept.
        assert!(rep.new.iter().any(|p| p.template == "bml event happened"));
    }
}
