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

#[cfg(test)]
mod tests {
    use super::*;

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
