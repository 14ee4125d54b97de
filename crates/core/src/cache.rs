//! The decision cache: one decision per (source scope, template), bounded.
//!
//! The model and LLM tiers decide per template, so once a template has been
//! embedded or asked about, every later line with the same template reuses the
//! decision. Keys are 128-bit XXH3 hashes of scope and template, so a lookup
//! allocates nothing and an entry costs a few dozen bytes whatever the length
//! of the line; a collision needs about 2^64 distinct templates.
//!
//! The cache is shared between threads (`&self` everywhere) and bounded by a
//! number of entries; eviction is `quick_cache`'s S3-FIFO, which keeps the
//! templates that recur and drops one-off lines first.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};

use quick_cache::sync::Cache;
use xxhash_rust::xxh3::Xxh3;

use crate::record::Decision;

/// Key of a cache entry: hash of (scope, template).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(u128);

impl CacheKey {
    /// The key of `template` within `scope` (a source name, or `""` for the
    /// scope shared by all sources without a route of their own).
    pub fn new(scope: &str, template: &str) -> Self {
        let mut h = Xxh3::new();
        h.update(&(scope.len() as u64).to_le_bytes());
        h.update(scope.as_bytes());
        h.update(template.as_bytes());
        CacheKey(h.digest128())
    }

    /// Its low 64 bits (a hash in themselves).
    pub fn low64(self) -> u64 {
        self.0 as u64
    }

    /// The key of an exact, unmasked `line` within `scope`: apart from every
    /// template's key (a domain byte is hashed first).
    pub fn line(scope: &str, line: &str) -> Self {
        let mut h = Xxh3::new();
        h.update(b"\x01");
        h.update(&(scope.len() as u64).to_le_bytes());
        h.update(scope.as_bytes());
        h.update(line.as_bytes());
        CacheKey(h.digest128())
    }
}

/// Bounded, thread-safe map from [`CacheKey`] to [`Decision`].
pub struct DecisionCache {
    inner: Option<Cache<CacheKey, Decision>>,
}

impl DecisionCache {
    /// A cache holding at most `capacity` decisions; 0 disables caching.
    pub fn new(capacity: usize) -> Self {
        DecisionCache { inner: (capacity > 0).then(|| Cache::new(capacity)) }
    }

    /// The cached decision for `key`, if any.
    pub fn get(&self, key: &CacheKey) -> Option<Decision> {
        self.inner.as_ref()?.get(key)
    }

    /// Stores `decision` under `key`.
    pub fn insert(&self, key: CacheKey, decision: Decision) {
        if let Some(c) = &self.inner {
            c.insert(key, decision);
        }
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |c| c.len())
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The maximum number of entries (0 when disabled).
    pub fn capacity(&self) -> usize {
        self.inner.as_ref().map_or(0, |c| c.capacity() as usize)
    }
}

/// The exact-line cache: a [`DecisionCache`] by whole line that admits lines
/// only while lines repeat.
///
/// Where lines recur verbatim (health checks, a resample) it saves masking.
/// On a stream of fresh lines almost nothing repeats (1.3 % of the realistic
/// stream's lines), and every insert only evicted another line that would
/// never be seen again: about 5 % of the stream's time went to that churn.
/// So the hit rate is measured per window of [`LineCache::WINDOW`] lookups;
/// below one in [`LineCache::PAYS`], only one line in [`LineCache::SAMPLE`]
/// is admitted, which keeps the cache warm enough to notice when lines start
/// repeating again (a line that recurs is soon admitted), and full admission
/// resumes after the first window that pays.
///
/// Each entry keeps the key of the line's template beside its decision, so a
/// line answered from here still names its template (for live pattern
/// counting, [`crate::trends`]) without being masked.
pub struct LineCache {
    cache: Option<Cache<CacheKey, (Decision, CacheKey)>>,
    lookups: AtomicU64,
    hits: AtomicU64,
    sampling: AtomicBool,
    offers: AtomicU64,
}

impl LineCache {
    /// Lookups per window.
    pub const WINDOW: u64 = 4096;
    /// A window pays when more than one lookup in this many hits.
    pub const PAYS: u64 = 50;
    /// While sampling, one offered line in this many is admitted.
    pub const SAMPLE: u64 = 16;

    /// A line cache of at most `capacity` entries (0 disables it).
    pub fn new(capacity: usize) -> Self {
        LineCache {
            cache: (capacity > 0).then(|| Cache::new(capacity)),
            lookups: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            sampling: AtomicBool::new(false),
            offers: AtomicU64::new(0),
        }
    }

    /// The decision for `key` and its template's key, counted toward the hit rate.
    pub fn get(&self, key: &CacheKey) -> Option<(Decision, CacheKey)> {
        let got = self.cache.as_ref()?.get(key);
        let hits = if got.is_some() { self.hits.fetch_add(1, Relaxed) + 1 } else { self.hits.load(Relaxed) };
        if self.lookups.fetch_add(1, Relaxed) + 1 >= Self::WINDOW {
            // Window over (a racing lookup may land in either window).
            self.lookups.store(0, Relaxed);
            self.hits.store(0, Relaxed);
            self.sampling.store(hits * Self::PAYS < Self::WINDOW, Relaxed);
        }
        got
    }

    /// Offers a line's decision: stored unless the cache is sampling and
    /// this is not the line's turn.
    pub fn offer(&self, key: CacheKey, decision: Decision, template: CacheKey) {
        let Some(cache) = &self.cache else { return };
        if self.sampling.load(Relaxed) && !self.offers.fetch_add(1, Relaxed).is_multiple_of(Self::SAMPLE) {
            return;
        }
        cache.insert(key, (decision, template));
    }

    /// Whether lines are being sampled (the last window did not pay).
    pub fn sampling(&self) -> bool {
        self.sampling.load(Relaxed)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.len())
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_cache_admits_lines_only_while_lines_repeat() {
        let c = LineCache::new(1_000_000);
        let d = || Decision::unclassified("x");
        // Fresh lines only: after one window, one in SAMPLE is admitted.
        for i in 0..LineCache::WINDOW {
            let k = CacheKey::line("", &i.to_string());
            assert!(c.get(&k).is_none());
            c.offer(k, d(), k);
        }
        assert!(c.sampling());
        assert_eq!(c.len() as u64, LineCache::WINDOW);
        for i in 0..1600 {
            let k = CacheKey::line("", &format!("fresh {i}"));
            assert!(c.get(&k).is_none());
            c.offer(k, d(), k);
        }
        assert_eq!(c.len() as u64, LineCache::WINDOW + 1600 / LineCache::SAMPLE);
        // A few lines that recur: each is admitted within SAMPLE offers, and
        // once they are hit, the next window pays and admission is full again.
        let mut hit = 0;
        for round in 0..LineCache::WINDOW {
            let k = CacheKey::line("", &format!("health check {}", round % 8));
            match c.get(&k) {
                Some(_) => hit += 1,
                None => c.offer(k, d(), k),
            }
        }
        assert!(hit as u64 >= LineCache::WINDOW - 8 * LineCache::SAMPLE, "hits {hit}");
        assert!(!c.sampling(), "a window of repeats pays");
    }

    #[test]
    fn scope_separates_equal_templates() {
        assert_ne!(CacheKey::new("LegacyCRM", "x"), CacheKey::new("", "x"));
        // The length prefix keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(CacheKey::new("ab", "c"), CacheKey::new("a", "bc"));
        assert_eq!(CacheKey::new("s", "t"), CacheKey::new("s", "t"));
        assert_ne!(CacheKey::line("s", "t"), CacheKey::new("s", "t"));
    }

    #[test]
    fn bounded_and_can_be_disabled() {
        let c = DecisionCache::new(100);
        for i in 0..1000 {
            c.insert(CacheKey::new("", &i.to_string()), Decision::unclassified("x"));
        }
        assert!(c.len() <= 100, "len {}", c.len());
        let k = CacheKey::new("", "recent");
        c.insert(k, Decision::unclassified("r"));
        assert_eq!(c.get(&k).unwrap().detail.as_str(), "r");
        let off = DecisionCache::new(0);
        off.insert(k, Decision::unclassified("r"));
        assert!(off.get(&k).is_none() && off.is_empty());
    }
}
