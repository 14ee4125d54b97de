//! A batch through the cascade: invalid rows, the rules, the caches, then
//! the model and the LLM on the distinct templates left, each step a
//! function of its own ([`Pipeline::classify_explained`] calls them in
//! order). The pipeline's set-up is in [`super`].

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::{Fallback, Pipeline, Route, Stats, LEARNING_ROUND};
use crate::cache::CacheKey;
use crate::record::{Decision, Detail, Record, TierKind};
use crate::tier::{Query, Tier, TierError, Verdict};

/// What [`Pipeline::classify_keyed`] knows of a batch's templates.
#[derive(Clone, Debug, Default)]
pub struct TemplateKeys {
    /// Per record, the cache key of its masked template where the pipeline
    /// knows it (`None`: decided by a rule, or invalid).
    pub keys: Vec<Option<CacheKey>>,
    /// The templates new to the pipeline in this batch, by key: whoever
    /// meets one of these keys for the first time need not mask its line.
    pub new: HashMap<CacheKey, String>,
}

/// Records of one batch that share a (scope, template).
struct Group {
    key: CacheKey,
    /// `key` is a learned pattern's, not the template's.
    pattern: bool,
    first: usize,
    template: String,
    members: Vec<usize>,
}

/// Templates waiting for the LLM tier, with why each is there and the
/// model's guess where it made one.
#[derive(Default)]
struct LlmQueue {
    to_llm: Vec<usize>,
    reasons: HashMap<usize, Vec<Arc<str>>>,
    guesses: HashMap<usize, Decision>,
}

/// Where a batch's decisions go.
struct Sink<'a> {
    out: &'a mut [Option<Decision>],
    overruled: &'a mut [Option<Decision>],
    stats: &'a mut Stats,
}

/// The query for a group: its first record, and its template.
fn query<'a>(records: &'a [Record], groups: &'a [Group], g: usize) -> Query<'a> {
    let gr = &groups[g];
    let r = &records[gr.first];
    Query { source: &r.source, message: &r.message, template: &gr.template }
}

impl Pipeline {
    /// Classifies a batch: exactly one decision per record, in order.
    pub fn classify(&self, records: &[Record]) -> Vec<Decision> {
        self.classify_explained(records).0
    }

    /// [`Pipeline::classify`], and for each record the LLM decided after the
    /// model was unsure, the model's guess (what it would have got without
    /// the LLM): `eval` measures with it whether escalating pays.
    pub fn classify_explained(&self, records: &[Record]) -> (Vec<Decision>, Vec<Option<Decision>>) {
        let (d, overruled, _) = self.classify_inner(records, false);
        (d, overruled)
    }

    /// [`Pipeline::classify`], and for each record the cache key of its
    /// masked template where the pipeline knows it (masked, or answered from
    /// the exact-line cache, which keeps it; `None`: decided by a rule, or
    /// invalid): live pattern counting
    /// ([`crate::trends`]) finds a line's pattern by it without masking the
    /// line again.
    pub fn classify_keyed(&self, records: &[Record]) -> (Vec<Decision>, TemplateKeys) {
        let (d, _, keys) = self.classify_inner(records, true);
        (d, keys.unwrap_or_default())
    }

    /// The batch through the tiers; the template keys gathered only when
    /// `keyed` (plain classification does not pay for them).
    fn classify_inner(&self, records: &[Record], keyed: bool) -> (Vec<Decision>, Vec<Option<Decision>>, Option<TemplateKeys>) {
        let n = records.len();
        let mut out: Vec<Option<Decision>> = vec![None; n];
        let mut stats = Stats { records: n as u64, ..Stats::default() };
        for (i, r) in records.iter().enumerate() {
            if let Some(reason) = &r.invalid {
                out[i] = Some(Decision::unclassified(format!("invalid input: {reason}")));
                stats.invalid += 1;
            }
        }
        let pending: Vec<usize> = (0..n).filter(|&i| out[i].is_none()).collect();
        let pending = self.apply_rules(records, pending, &mut out, &mut stats);
        let mut keys = keyed.then(|| TemplateKeys { keys: vec![None; n], new: HashMap::new() });
        let groups = self.group_unseen(records, &pending, &mut out, keys.as_mut(), &mut stats);
        let mut overruled: Vec<Option<Decision>> = vec![None; n];
        self.decide_groups(records, &groups, &mut Sink { out: &mut out, overruled: &mut overruled, stats: &mut stats });
        if let Some(keys) = &mut keys {
            for g in groups {
                if let Some(k) = keys.keys[g.first] {
                    keys.new.entry(k).or_insert(g.template);
                }
            }
        }
        (self.finish(out, stats), overruled, keys)
    }

    /// Rules: every valid record, raw line. Returns the records left undecided.
    fn apply_rules(&self, records: &[Record], pending: Vec<usize>, out: &mut [Option<Decision>], stats: &mut Stats) -> Vec<usize> {
        let Some(rules) = &self.rules else { return pending };
        let queries: Vec<Query> =
            pending.iter().map(|&i| Query { source: &records[i].source, message: &records[i].message, template: "" }).collect();
        let mut rest = Vec::with_capacity(pending.len());
        match run_tier(rules.as_ref(), &queries) {
            Ok(v) => {
                for (&i, verdict) in pending.iter().zip(v) {
                    match verdict {
                        Verdict::Decided(d) => out[i] = Some(d),
                        Verdict::Pass(_) | Verdict::Guess(_) => rest.push(i),
                        Verdict::Failed(reason) => out[i] = Some(Decision::unclassified(reason)),
                    }
                }
            }
            Err(e) => {
                *stats.tier_errors.entry(TierKind::Rules).or_default() += 1;
                let reason: Arc<str> = Arc::from(e.to_string());
                pending.iter().for_each(|&i| out[i] = Some(Decision::unclassified(reason.clone())));
            }
        }
        rest
    }

    /// The caches: exact lines seen before skip masking (a cheap lookup, in
    /// order); the rest are masked (in parallel when there are many) and
    /// looked up by template, then by learned pattern. Returns the misses,
    /// grouped by (scope, template or pattern).
    fn group_unseen(
        &self,
        records: &[Record],
        pending: &[usize],
        out: &mut [Option<Decision>],
        mut keys: Option<&mut TemplateKeys>,
        stats: &mut Stats,
    ) -> Vec<Group> {
        let mut unseen: Vec<(usize, CacheKey)> = Vec::with_capacity(pending.len());
        for &i in pending {
            let r = &records[i];
            let line = CacheKey::line(self.scope(&r.source), &r.message);
            match self.lines.get(&line) {
                Some((d, template)) => {
                    out[i] = Some(d);
                    if let Some(keys) = keys.as_deref_mut() {
                        keys.keys[i] = Some(template);
                    }
                    stats.cache_hits += 1;
                }
                None => unseen.push((i, line)),
            }
        }
        // Masked and looked up by template on the worker that masked it
        // (the template cache is shared): a template is copied out only when
        // the cache lacks it, so a hit allocates nothing.
        let mask_one = |buf: &mut String, &(i, line): &(usize, CacheKey)| {
            let r = &records[i];
            self.masker.mask_into(&r.message, buf);
            let key = CacheKey::new(self.scope(&r.source), buf);
            let found = self.cache.get(&key).ok_or_else(|| buf.clone());
            (i, line, key, found)
        };
        let masked: Vec<(usize, CacheKey, CacheKey, Result<Decision, String>)> = if unseen.len() >= 512 {
            unseen.par_iter().map_init(String::new, mask_one).collect()
        } else {
            let mut buf = String::new();
            unseen.iter().map(|u| mask_one(&mut buf, u)).collect()
        };
        let mut groups: Vec<Group> = vec![];
        let mut group_of: HashMap<CacheKey, usize> = HashMap::new();
        for (i, line, key, found) in masked {
            if let Some(keys) = keys.as_deref_mut() {
                keys.keys[i] = Some(key);
            }
            let template = match found {
                Ok(d) => {
                    self.lines.offer(line, d.clone(), key);
                    out[i] = Some(d);
                    stats.cache_hits += 1;
                    continue;
                }
                Err(template) => template,
            };
            // A template the cache has not seen may match a learned pattern.
            let learned = self.learner.as_ref().and_then(|l| l.generalize(self.scope(&records[i].source), &template));
            let (key, pattern) = match learned {
                Some(pk) => match self.cache.get(&pk) {
                    Some(d) => {
                        self.lines.offer(line, d.clone(), key);
                        out[i] = Some(d);
                        stats.cache_hits += 1;
                        stats.pattern_hits += 1;
                        if let Some(keys) = keys.as_deref_mut() {
                            keys.new.entry(key).or_insert(template);
                        }
                        continue;
                    }
                    None => (pk, true),
                },
                None => (key, false),
            };
            match group_of.get(&key) {
                Some(&g) => groups[g].members.push(i),
                None => {
                    group_of.insert(key, groups.len());
                    groups.push(Group { key, pattern, first: i, template, members: vec![i] });
                }
            }
        }
        groups
    }

    /// The model and the LLM on the distinct templates. They are decided in
    /// rounds when variables are being learned: a pattern learned from one
    /// round's decisions answers the later rounds' templates that match it,
    /// as it would in a later batch. (In one pass, a burst of fresh user
    /// names met in one batch all went to the model.)
    fn decide_groups(&self, records: &[Record], groups: &[Group], sink: &mut Sink<'_>) {
        let round_len = if self.learner.is_some() { LEARNING_ROUND } else { groups.len().max(1) };
        let mut queue = LlmQueue::default();
        // The groups were looked up against the patterns known when they were
        // formed; a round looks its groups up again only once more are known.
        let known = self.learner.as_ref().map_or(0, |l| l.patterns());
        let mut start = 0;
        while start < groups.len() {
            let end = (start + round_len).min(groups.len());
            let learner = self.learner.as_ref().filter(|l| l.patterns() != known);
            let mut round = Vec::with_capacity(end - start);
            for (g, gr) in groups.iter().enumerate().take(end).skip(start) {
                let learned = match learner {
                    Some(l) if !gr.pattern => {
                        l.generalize(self.scope(&records[gr.first].source), &gr.template).and_then(|pk| self.cache.get(&pk))
                    }
                    _ => None,
                };
                match learned {
                    Some(d) => {
                        let k = gr.members.len() as u64;
                        sink.stats.cache_hits += k;
                        sink.stats.pattern_hits += k;
                        gr.members.iter().for_each(|&i| sink.out[i] = Some(d.clone()));
                    }
                    None => round.push(g),
                }
            }
            self.model_round(records, groups, &round, &mut queue, sink);
            start = end;
            // The LLM is asked once enough is queued for its requests (a
            // disabled LLM at once), and at the end of the batch.
            if !queue.to_llm.is_empty() && (start == groups.len() || queue.to_llm.len() >= self.llm.batch_hint()) {
                self.ask_llm(records, groups, &mut queue, sink);
            }
        }
    }

    /// Every record's decision (a record no tier decided, which cannot
    /// happen, says so), counted into the pipeline's totals.
    fn finish(&self, out: Vec<Option<Decision>>, mut stats: Stats) -> Vec<Decision> {
        let out: Vec<Decision> =
            out.into_iter().map(|d| d.unwrap_or_else(|| Decision::unclassified("internal error: no tier decided this record"))).collect();
        let mut labels: HashMap<&str, u64> = HashMap::new();
        for d in &out {
            *stats.tiers.entry(d.tier).or_default() += 1;
            *labels.entry(&d.label).or_default() += 1;
        }
        for (label, n) in labels {
            *stats.labels.entry(label.to_string()).or_default() += n;
        }
        if let Ok(mut total) = self.stats.lock() {
            total.merge(&stats);
        }
        out
    }

    /// The model's round: one round of the batch's distinct templates
    /// (indices into `groups`). Its decisions are recorded at once (cached,
    /// observed by the learner); what it passes on, and what is routed to the
    /// LLM, joins `queue` for [`Pipeline::ask_llm`].
    fn model_round(&self, records: &[Record], groups: &[Group], round: &[usize], queue: &mut LlmQueue, sink: &mut Sink<'_>) {
        // Route: model first unless the source is routed to the LLM.
        let (to_model, to_llm): (Vec<usize>, Vec<usize>) = match &self.model {
            Some(_) => round.iter().partition(|&&g| self.route(&records[groups[g].first].source) == Route::Model),
            None => (vec![], round.to_vec()),
        };
        for &g in &to_llm {
            if self.model.is_some() {
                queue.reasons.entry(g).or_default().push(Arc::from("routed to llm"));
            }
        }
        queue.to_llm.extend(to_llm);
        let Some(model) = &self.model else { return };
        let mut decided: Vec<(usize, Decision, bool)> = vec![]; // (group, decision, cacheable)
        sink.stats.model_queries += to_model.len() as u64;
        let queries: Vec<Query> = to_model.iter().map(|&g| query(records, groups, g)).collect();
        match run_tier(model.as_ref(), &queries) {
            Ok(v) => {
                for (&g, verdict) in to_model.iter().zip(v) {
                    match verdict {
                        Verdict::Decided(d) => decided.push((g, d, true)),
                        Verdict::Pass(reason) => {
                            queue.reasons.entry(g).or_default().push(reason);
                            queue.to_llm.push(g);
                        }
                        Verdict::Guess(guess) if !self.escalate && self.fallback == Fallback::Guess => {
                            // The configured LLM was measured less accurate than the guess.
                            sink.stats.guesses += 1;
                            let why = format!(
                                "{}; not escalated: the llm was measured less accurate than the model's guess",
                                guess.detail.as_str()
                            );
                            decided.push((g, Decision { detail: Detail::Guess(Arc::from(why)), ..guess }, true));
                        }
                        Verdict::Guess(guess) => {
                            queue.reasons.entry(g).or_default().push(Arc::from(guess.detail.as_str()));
                            queue.guesses.insert(g, guess);
                            queue.to_llm.push(g);
                        }
                        Verdict::Failed(reason) => decided.push((g, Decision::unclassified(reason), false)),
                    }
                }
            }
            Err(e) => {
                *sink.stats.tier_errors.entry(TierKind::Model).or_default() += 1;
                let reason: Arc<str> = Arc::from(e.to_string());
                to_model.iter().for_each(|&g| decided.push((g, Decision::unclassified(reason.clone()), false)));
            }
        }
        self.record(records, groups, decided, &HashMap::new(), sink);
    }

    /// Asks the LLM tier about the queued templates and records its answers;
    /// empties the queue.
    fn ask_llm(&self, records: &[Record], groups: &[Group], queue: &mut LlmQueue, sink: &mut Sink<'_>) {
        let LlmQueue { mut to_llm, mut reasons, guesses } = std::mem::take(queue);
        to_llm.sort_unstable();
        sink.stats.llm_queries += to_llm.len() as u64;
        let queries: Vec<Query> = to_llm.iter().map(|&g| query(records, groups, g)).collect();
        let mut decided: Vec<(usize, Decision, bool)> = vec![];
        // A line the LLM passes on, or fails on, keeps the model's guess when
        // there is one (and the policy is to guess): a dead LLM leaves the run
        // where no LLM would, never worse. Failures are not cached, so the
        // next batch asks again.
        let mut unsure = |g: usize, why: Arc<str>, stats: &mut Stats| -> Decision {
            let mut all = reasons.remove(&g).unwrap_or_default();
            all.push(why);
            let joined = all.join("; ");
            match guesses.get(&g).cloned() {
                Some(guess) if self.fallback == Fallback::Guess => {
                    stats.guesses += 1;
                    Decision { detail: Detail::Guess(Arc::from(joined)), ..guess }
                }
                _ => Decision::unclassified(joined),
            }
        };
        let stats = &mut *sink.stats;
        match run_tier(self.llm.as_ref(), &queries) {
            Ok(v) => {
                for (&g, verdict) in to_llm.iter().zip(v) {
                    match verdict {
                        Verdict::Decided(d) => decided.push((g, d, true)),
                        Verdict::Pass(reason) => decided.push((g, unsure(g, reason, stats), true)),
                        Verdict::Guess(other) => {
                            // An LLM tier's own unsure answer: it is the last tier, so keep it
                            // under the same policy.
                            let d = if self.fallback == Fallback::Guess { other } else { Decision::unclassified(other.detail.as_str()) };
                            decided.push((g, d, true));
                        }
                        Verdict::Failed(reason) => decided.push((g, unsure(g, reason, stats), false)),
                    }
                }
            }
            Err(e) => {
                *stats.tier_errors.entry(TierKind::Llm).or_default() += 1;
                let reason: Arc<str> = Arc::from(e.to_string());
                to_llm.iter().for_each(|&g| decided.push((g, unsure(g, reason.clone(), stats), false)));
            }
        }
        self.record(records, groups, decided, &guesses, sink);
    }

    /// Gives each decided group's records their decision, caches the
    /// cacheable ones and lets the learner observe them. `guesses`: the
    /// model's guesses for groups the LLM then decided (for `overruled`).
    fn record(
        &self,
        records: &[Record],
        groups: &[Group],
        decided: Vec<(usize, Decision, bool)>,
        guesses: &HashMap<usize, Decision>,
        sink: &mut Sink<'_>,
    ) {
        for (g, d, cacheable) in decided {
            let gr = &groups[g];
            if cacheable {
                self.cache.insert(gr.key, d.clone());
                if let Some(learner) = self.learner.as_ref().filter(|_| !gr.pattern && d.tier != TierKind::None) {
                    if let Some(pk) = learner.observe(self.scope(&records[gr.first].source), &gr.template, &d.label) {
                        self.cache.insert(pk, d.clone());
                        sink.stats.patterns_learned += 1;
                    }
                }
            }
            let guess = if d.tier == TierKind::Llm { guesses.get(&g) } else { None };
            for &i in &gr.members {
                sink.out[i] = Some(d.clone());
                if let Some(guess) = guess {
                    sink.overruled[i] = Some(guess.clone());
                }
            }
        }
    }
}

/// Runs a tier, holding it to one verdict per query.
fn run_tier(tier: &dyn Tier, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
    if queries.is_empty() {
        return Ok(vec![]);
    }
    let v = tier.decide(queries)?;
    if v.len() != queries.len() {
        return Err(TierError { tier: tier.kind(), message: format!("returned {} answers for {} queries", v.len(), queries.len()) });
    }
    Ok(v)
}
