//! The pipeline: a batch of records in, one decision per record out, in order.
//!
//! ```text
//! records ─▶ invalid? ─────────────────────────────▶ Unclassified(reason)
//!         ─▶ rules tier (raw line, every record) ──▶ decided
//!         ─▶ (scope, exact line) ─▶ line cache ────▶ hit
//!         ─▶ mask ─▶ (scope, template) ─▶ cache ───▶ hit
//!                      miss ─▶ learned pattern? ─▶ cache ───▶ hit
//!         ─▶ distinct templates ─▶ route
//!              model route: model tier ─▶ confident ▶ decided (cached)
//!                                       ─▶ unsure ──┐
//!              llm route: ─────────────────────────┴▶ llm tier ─▶ decided / Unclassified
//! ```
//!
//! ## When nobody decides: the model's guess
//!
//! A template the model is unsure of (below its threshold) goes to the LLM.
//! When the LLM does not decide it either (none is configured, or it says no
//! label fits), the pipeline keeps the model's best guess, tier `model`, with
//! its probability as confidence and a detail that starts `model: best guess`
//! ([`Fallback::Guess`], the default). Dropping the guess for `Unclassified`
//! threw away the answer that was right more often than not: on real logs
//! with the LLM off, 40–66 % of lines came back `Unclassified` while the guess
//! on them was mostly right. [`Fallback::Strict`] restores `Unclassified` for
//! users who route on it. A tier that *fails* (timeout, spent budget) still
//! gives `Unclassified` with the cause, not cached, so it is asked again.
//!
//! The model and LLM tiers see each distinct (scope, template) of the batch
//! once, and never a template already in the cache. The scope is the source
//! for sources that have a route of their own and `""` otherwise, so a routed
//! source never shares decisions with the others.
//!
//! ## Learned variables
//!
//! A template the cache has not seen may still match a pattern the
//! [`Learner`] found in this run (a word position that took several values
//! under one label: a user name, a group); its decision is then the
//! pattern's. The output's `template` stays the masked line; see
//! [`crate::learn`] for the guards against merging lines of different labels.
//!
//! A batch's unseen templates are decided in rounds of 16 (in order of first
//! appearance) while learning is on, and each round's decisions are observed
//! before the next round is looked up against the patterns: a batch of 1,024
//! stream lines can hold a hundred fresh user names in one position, and in
//! one pass every one of them went to the model (and to the LLM when unsure).
//! On the 1M-line real-log stream this took what reaches the model from 637
//! to 569 templates (with the default of 3 words, 502), and LLM questions
//! from 154 to 135; rounds of 16 measured faster than rounds of 64 or one
//! pass (fewer embeddings; the encoder batches no worse). With learning off,
//! a batch is one round, as before. The LLM is not asked per round: the
//! templates the model passes on are queued until they fill the LLM tier's
//! concurrent requests ([`Tier::batch_hint`]) or the batch ends, so rounds
//! cost no extra requests; a disabled LLM is "asked" every round, so the
//! model's guesses teach the learner as soon as they are made.
//!
//! Failures stay local: a tier that returns an error turns only the queries
//! it held into `Unclassified` with the error as the reason (and caches
//! nothing for them); the rest of the batch goes on.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cache::{CacheKey, DecisionCache, LineCache};
use crate::learn::{Learner, DEFAULT_MIN_VALUES};
use crate::mask::Masker;
use crate::record::{Decision, Detail, Record, TierKind};
use crate::tier::{DisabledLlm, Query, Tier, TierError, Verdict};

/// Distinct templates decided per round while variables are learned
/// ([`Pipeline::classify_explained`]).
const LEARNING_ROUND: usize = 16;

/// Where the lines of a source go after the rules tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// Model first, then the LLM for what the model is unsure of (default).
    Model,
    /// Straight to the LLM: the model knows nothing useful about this source.
    Llm,
}

/// What a line gets when the model was unsure and no later tier decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// The model's best guess, marked as such in the detail (default).
    #[default]
    Guess,
    /// `Unclassified`, with the model's guess named in the reason.
    Strict,
}

/// Default number of cached decisions.
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

/// Counters since the pipeline was built.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Records classified.
    pub records: u64,
    /// Records per deciding tier (`none` = Unclassified).
    pub tiers: BTreeMap<TierKind, u64>,
    /// Records per label.
    pub labels: BTreeMap<String, u64>,
    /// Records whose decision came from the cache.
    pub cache_hits: u64,
    /// Distinct templates the model tier was asked about.
    pub model_queries: u64,
    /// Distinct templates the LLM tier was asked about.
    pub llm_queries: u64,
    /// Records that were invalid input.
    pub invalid: u64,
    /// Distinct templates for which the model's below-threshold guess was kept.
    pub guesses: u64,
    /// Tier failures (whole-batch errors), per tier.
    pub tier_errors: BTreeMap<TierKind, u64>,
    /// Records answered through a learned pattern (counted in `cache_hits` too).
    pub pattern_hits: u64,
    /// Patterns learned ([`crate::learn`]).
    pub patterns_learned: u64,
}

/// The cascade of rules, model and LLM tiers over a shared decision cache.
pub struct Pipeline {
    masker: Masker,
    rules: Option<Box<dyn Tier>>,
    model: Option<Box<dyn Tier>>,
    llm: Box<dyn Tier>,
    routes: HashMap<String, Route>,
    fallback: Fallback,
    escalate: bool,
    cache: DecisionCache,
    /// Decisions by exact (scope, line), for lines that repeat verbatim
    /// (health checks, messages without their timestamp in JSON or CSV):
    /// they skip masking. Filled from the template cache, so it holds only
    /// what that cache decided; it admits lines only while lines repeat
    /// ([`LineCache`]).
    lines: LineCache,
    learner: Option<Learner>,
    stats: Mutex<Stats>,
}

/// Size of the exact-line cache for a template cache of `capacity`: a
/// quarter, at most 32,768 (a line that does not repeat soon is cheap to
/// mask again).
fn lines_capacity(capacity: usize) -> usize {
    (capacity / 4).min(32_768)
}

/// Builds a [`Pipeline`].
pub struct PipelineBuilder {
    masker: Masker,
    rules: Option<Box<dyn Tier>>,
    model: Option<Box<dyn Tier>>,
    llm: Box<dyn Tier>,
    routes: HashMap<String, Route>,
    fallback: Fallback,
    cache_capacity: usize,
    learn_min_values: usize,
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            masker: Masker::default(),
            rules: None,
            model: None,
            llm: Box::new(DisabledLlm),
            routes: HashMap::new(),
            fallback: Fallback::default(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            learn_min_values: DEFAULT_MIN_VALUES,
        }
    }
}

impl PipelineBuilder {
    /// The masker that makes templates.
    pub fn masker(mut self, masker: Masker) -> Self {
        self.masker = masker;
        self
    }
    /// The rules tier (none by default).
    pub fn rules(mut self, tier: impl Tier + 'static) -> Self {
        self.rules = Some(Box::new(tier));
        self
    }
    /// The model tier (none by default: everything goes to the LLM).
    pub fn model(mut self, tier: impl Tier + 'static) -> Self {
        self.model = Some(Box::new(tier));
        self
    }
    /// The LLM tier ([`DisabledLlm`] by default).
    pub fn llm(mut self, tier: Box<dyn Tier>) -> Self {
        self.llm = tier;
        self
    }
    /// Per-source routes.
    pub fn routes(mut self, routes: impl IntoIterator<Item = (String, Route)>) -> Self {
        self.routes = routes.into_iter().collect();
        self
    }
    /// What an unsure line gets when no later tier decides ([`Fallback::Guess`] by default).
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.fallback = fallback;
        self
    }
    /// Cache size in decisions; 0 turns the cache off.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }
    /// Learned variables ([`crate::learn`]): a word position becomes a
    /// variable after this many distinct words under one label
    /// ([`DEFAULT_MIN_VALUES`] by default); 0 turns learning off.
    pub fn learn_variables(mut self, min_values: usize) -> Self {
        self.learn_min_values = min_values;
        self
    }
    /// The pipeline.
    pub fn build(self) -> Pipeline {
        Pipeline {
            masker: self.masker,
            rules: self.rules,
            model: self.model,
            llm: self.llm,
            routes: self.routes,
            fallback: self.fallback,
            escalate: true,
            cache: DecisionCache::new(self.cache_capacity),
            lines: LineCache::new(lines_capacity(self.cache_capacity)),
            learner: (self.learn_min_values > 0 && self.cache_capacity > 0).then(|| Learner::new(self.learn_min_values)),
            stats: Mutex::new(Stats::default()),
        }
    }
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
    /// A builder with no tiers but a disabled LLM.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// The masker.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The same pipeline, sending (`true`, the default) or not sending the
    /// templates the model is unsure of to the LLM tier. Not sending keeps
    /// the model's guess for them (sources routed to the LLM still go):
    /// `classify` turns it off when `eval` measured the configured LLM less
    /// accurate than the guess on such lines.
    pub fn with_escalation(mut self, escalate: bool) -> Self {
        if self.escalate != escalate {
            self.escalate = escalate;
            self.forget();
        }
        self
    }

    /// The same pipeline with another [`Fallback`] (the cache is emptied, as
    /// its decisions were made under the old policy).
    pub fn with_fallback(mut self, fallback: Fallback) -> Self {
        if self.fallback != fallback {
            self.fallback = fallback;
            self.forget();
        }
        self
    }

    /// The same pipeline learning variables after `min_values` distinct
    /// words (0: not learning); see [`PipelineBuilder::learn_variables`].
    pub fn with_learning(mut self, min_values: usize) -> Self {
        self.learner = (min_values > 0 && self.cache.capacity() > 0).then(|| Learner::new(min_values));
        self
    }

    /// Empties the cache and what was learned: decisions made under another policy.
    fn forget(&mut self) {
        self.cache = DecisionCache::new(self.cache.capacity());
        self.lines = LineCache::new(lines_capacity(self.cache.capacity()));
        self.learner = self.learner.as_ref().map(|l| Learner::new(l.min_values()));
    }

    /// What an unsure line gets when no later tier decides.
    pub fn fallback(&self) -> Fallback {
        self.fallback
    }

    /// The decision cache.
    pub fn cache(&self) -> &DecisionCache {
        &self.cache
    }

    /// The route of a source.
    pub fn route(&self, source: &str) -> Route {
        self.routes.get(source).copied().unwrap_or(Route::Model)
    }

    /// One line per tier, for summaries.
    pub fn describe(&self) -> Vec<String> {
        vec![
            self.rules.as_ref().map_or("rules (none)".into(), |t| t.describe()),
            self.model.as_ref().map_or("model (none)".into(), |t| t.describe()),
            self.llm.describe(),
        ]
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn scope<'a>(&self, source: &'a str) -> &'a str {
        if self.routes.contains_key(source) {
            source
        } else {
            ""
        }
    }

    /// Classifies a batch: exactly one decision per record, in order.
    pub fn classify(&self, records: &[Record]) -> Vec<Decision> {
        self.classify_explained(records).0
    }

    /// [`Pipeline::classify`], and for each record the LLM decided after the
    /// model was unsure, the model's guess (what it would have got without
    /// the LLM): `eval` measures with it whether escalating pays.
    pub fn classify_explained(&self, records: &[Record]) -> (Vec<Decision>, Vec<Option<Decision>>) {
        let n = records.len();
        let mut out: Vec<Option<Decision>> = vec![None; n];
        let mut stats = Stats { records: n as u64, ..Stats::default() };

        for (i, r) in records.iter().enumerate() {
            if let Some(reason) = &r.invalid {
                out[i] = Some(Decision::unclassified(format!("invalid input: {reason}")));
                stats.invalid += 1;
            }
        }

        // Rules: every valid record, raw line.
        let pending: Vec<usize> = (0..n).filter(|&i| out[i].is_none()).collect();
        let pending = match &self.rules {
            Some(rules) => {
                let queries: Vec<Query> =
                    pending.iter().map(|&i| Query { source: &records[i].source, message: &records[i].message, template: "" }).collect();
                let verdicts = run_tier(rules.as_ref(), &queries);
                let mut rest = Vec::with_capacity(pending.len());
                match verdicts {
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
            None => pending,
        };

        // Exact lines seen before skip masking (a cheap lookup, in order);
        // the rest are masked (in parallel when there are many) and looked
        // up by template, then by learned pattern; the misses are grouped.
        let mut unseen: Vec<(usize, CacheKey)> = Vec::with_capacity(pending.len());
        for &i in &pending {
            let r = &records[i];
            let line = CacheKey::line(self.scope(&r.source), &r.message);
            match self.lines.get(&line) {
                Some(d) => {
                    out[i] = Some(d);
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
            let template = match found {
                Ok(d) => {
                    self.lines.offer(line, d.clone());
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
                        self.lines.offer(line, d.clone());
                        out[i] = Some(d);
                        stats.cache_hits += 1;
                        stats.pattern_hits += 1;
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

        // Distinct templates are decided in rounds when variables are being
        // learned: a pattern learned from one round's decisions answers the
        // later rounds' templates that match it, as it would in a later
        // batch. (In one pass, a burst of fresh user names met in one batch
        // all went to the model.)
        let mut overruled: Vec<Option<Decision>> = vec![None; n];
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
                        stats.cache_hits += k;
                        stats.pattern_hits += k;
                        gr.members.iter().for_each(|&i| out[i] = Some(d.clone()));
                    }
                    None => round.push(g),
                }
            }
            let mut sink = Sink { out: &mut out, overruled: &mut overruled, stats: &mut stats };
            self.model_round(records, &groups, &round, &mut queue, &mut sink);
            start = end;
            // The LLM is asked once enough is queued for its requests (a
            // disabled LLM at once), and at the end of the batch.
            if !queue.to_llm.is_empty() && (start == groups.len() || queue.to_llm.len() >= self.llm.batch_hint()) {
                self.ask_llm(records, &groups, &mut queue, &mut sink);
            }
        }

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
        (out, overruled)
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

impl Stats {
    /// Adds another set of counters to this one.
    pub fn merge(&mut self, o: &Stats) {
        self.records += o.records;
        self.cache_hits += o.cache_hits;
        self.model_queries += o.model_queries;
        self.llm_queries += o.llm_queries;
        self.invalid += o.invalid;
        self.guesses += o.guesses;
        self.pattern_hits += o.pattern_hits;
        self.patterns_learned += o.patterns_learned;
        for (k, v) in &o.tiers {
            *self.tiers.entry(*k).or_default() += v;
        }
        for (k, v) in &o.labels {
            *self.labels.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.tier_errors {
            *self.tier_errors.entry(*k).or_default() += v;
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
