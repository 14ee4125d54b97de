//! Folds: the one way logsift splits labeled lines for cross-validation,
//! used by `train`'s threshold calibration and by `eval --cv` alike.
//!
//! A fold holds out whole groups (a masked template, or every line of a
//! source), so its test lines come from groups its model never saw — what a
//! new kind of line will meet. Groups are taken in first-seen order and
//! shuffled with a fixed PRNG, so folds depend only on the data and the seed.

use std::collections::{BTreeSet, HashMap};

/// A small, fixed PRNG (SplitMix64), so folds do not change with a
/// dependency's version.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// The distinct keys of `keys`, in first-seen order.
pub fn distinct<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    keys.iter().copied().filter(|t| seen.insert(*t)).collect()
}

/// The fold (`0..k`) of each row, every row with the same key in the same
/// fold: the distinct keys, shuffled by `seed`, dealt round-robin.
pub fn by_key(keys: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let mut groups = distinct(keys);
    SplitMix64::new(seed).shuffle(&mut groups);
    let of: HashMap<&str, usize> = groups.iter().enumerate().map(|(i, t)| (*t, i % k.max(1))).collect();
    keys.iter().map(|t| of[t]).collect()
}

/// The fold (`0..k`) of each of `n` rows, shuffled by `seed`.
pub fn random(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut fold = vec![0; n];
    for (i, &r) in order.iter().enumerate() {
        fold[r] = i % k.max(1);
    }
    fold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_never_spans_two_folds_and_every_fold_is_used() {
        let keys: Vec<String> = (0..100).map(|i| format!("t{}", i % 10)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let f = by_key(&keys, 5, 42);
        for (i, k) in keys.iter().enumerate() {
            assert!(keys.iter().zip(&f).all(|(k2, f2)| k2 != k || *f2 == f[i]));
        }
        assert_eq!(f.iter().collect::<BTreeSet<_>>().len(), 5);
        assert_eq!(f, by_key(&keys, 5, 42), "the same seed gives the same folds");
        assert_ne!(f, by_key(&keys, 5, 7));
        let r = random(100, 5, 42);
        assert!((0..5).all(|k| r.iter().filter(|&&x| x == k).count() == 20));
    }
}
