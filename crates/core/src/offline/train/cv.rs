//! Cross-validation of the whole cascade (`logsift eval --cv K`, and the
//! Python `evaluate`): per fold, mine rules on the training side if asked,
//! train a bundle, classify the held-out side with its pipeline; figures are
//! pooled over the folds.
//!
//! Two splits. [`Split::Template`] (the headline): every line of a masked
//! template falls in the same fold, so each fold's test lines come from
//! templates the fold's model never saw. [`Split::Random`]: lines shuffled;
//! on log data most test lines then have a near-copy in training and every
//! method scores near 100%, which is why it is not the headline.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::path::Path;
use std::sync::Arc;

use super::{folds, train, Example, TrainError, TrainOptions};
use crate::bundle::{Bundle, BundleError};
use crate::encoder::Encoder;
use crate::mask::Masker;
use crate::offline::mine::{mine, MineOptions};
use crate::offline::scores::{evaluate, Evaluation};
use crate::pipeline::{Fallback, DEFAULT_CACHE_CAPACITY};
use crate::record::{Decision, Record};
use crate::rules::{RulesError, RulesFile, RulesTier};
use crate::tier::Tier;

/// How folds are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// All lines of a masked template in one fold (unseen templates).
    Template,
    /// Lines shuffled.
    Random,
}

impl Split {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Template => "template",
            Split::Random => "random",
        }
    }
}

/// What a cross-validation runs.
#[derive(Clone, Debug)]
pub struct CvOptions {
    /// Folds.
    pub k: usize,
    /// How they are drawn.
    pub split: Split,
    /// Seed of the folds (and of each fold's training).
    pub seed: u64,
    /// Each fold's training options.
    pub train: TrainOptions,
    /// Rules put in every fold's bundle (before mined ones).
    pub rules: RulesFile,
    /// Mine rules on each fold's training lines, with these options.
    pub mine: Option<MineOptions>,
    /// More labeled rows added to every fold's training side, never to its test side.
    pub extra: Vec<Example>,
    /// What a below-threshold line gets when no LLM decides it.
    pub fallback: Fallback,
}

/// The pooled result of one cross-validation.
#[derive(Clone, Debug)]
pub struct CvResult {
    /// Figures over all folds' test lines.
    pub evaluation: Evaluation,
    /// Each fold's threshold.
    pub thresholds: Vec<f32>,
    /// Rules mined per fold.
    pub mined: Vec<usize>,
    /// The pooled decisions, in row order.
    pub decisions: Vec<Decision>,
    /// The thresholds' mean, for the report.
    pub threshold: f32,
}

/// A cross-validation that could not run.
#[derive(Debug, thiserror::Error)]
pub enum CvError {
    /// A fold's training failed.
    #[error("fold {fold}: {source}")]
    Train {
        /// 1-based fold.
        fold: usize,
        /// Why.
        source: TrainError,
    },
    /// The rules (given or mined) do not compile.
    #[error("{0}")]
    Rules(#[from] RulesError),
    /// A fold's pipeline could not be built.
    #[error("{0}")]
    Bundle(#[from] BundleError),
    /// A fold's LLM tier could not be built.
    #[error("fold {fold}: the LLM tier: {message}")]
    Llm {
        /// 1-based fold.
        fold: usize,
        /// Why.
        message: String,
    },
}

/// The fold of each row of `rows` (`k` folds, drawn as `split` says).
pub fn fold_rows(rows: &[(Record, String)], k: usize, split: Split, seed: u64) -> Vec<usize> {
    match split {
        Split::Random => folds::random(rows.len(), k, seed),
        Split::Template => {
            let masker = Masker::default();
            let templates: Vec<String> = rows.iter().map(|(r, _)| masker.mask(&r.message)).collect();
            let keys: Vec<&str> = templates.iter().map(String::as_str).collect();
            folds::by_key(&keys, k, seed)
        }
    }
}

/// Cross-validates the cascade on labeled `rows`; `llm` builds each fold's
/// LLM tier from its bundle.
pub fn cross_validate<E: Display>(
    rows: &[(Record, String)],
    encoder: &Arc<dyn Encoder>,
    opts: &CvOptions,
    mut llm: impl FnMut(&Bundle) -> Result<Box<dyn Tier>, E>,
) -> Result<CvResult, CvError> {
    let k = opts.k.max(1);
    let fold = fold_rows(rows, k, opts.split, opts.seed);
    let mut decisions: Vec<Option<Decision>> = vec![None; rows.len()];
    let mut trained: BTreeSet<String> = BTreeSet::new();
    let (mut thresholds, mut mined) = (vec![], vec![]);
    for f in 0..k {
        let test_idx: Vec<usize> = (0..rows.len()).filter(|&i| fold[i] == f).collect();
        if test_idx.is_empty() {
            continue;
        }
        let train_rows: Vec<Example> = rows
            .iter()
            .zip(&fold)
            .filter(|(_, &g)| g != f)
            .map(|((r, l), _)| Example { source: r.source.clone(), message: r.message.clone(), label: l.clone() })
            .chain(opts.extra.iter().cloned())
            .collect();
        let mut rules = opts.rules.clone();
        if let Some(m) = &opts.mine {
            let found = mine(&train_rows, &Masker::default(), m);
            mined.push(found.len());
            rules.rule.extend(found.into_iter().map(|m| m.rule));
        }
        RulesTier::compile(&rules, Path::new("mined rules"))?;
        let train_opts = TrainOptions { seed: opts.seed, ..opts.train.clone() };
        let (bundle, report) =
            train(&train_rows, encoder.clone(), rules, None, &train_opts).map_err(|source| CvError::Train { fold: f + 1, source })?;
        thresholds.push(report.threshold);
        trained.extend(bundle.manifest.labels.iter().filter(|l| l.in_head).map(|l| l.name.clone()));
        trained.extend(bundle.rules.rule.iter().map(|r| r.label.clone()));
        let llm_tier = llm(&bundle).map_err(|e| CvError::Llm { fold: f + 1, message: e.to_string() })?;
        let pipeline = bundle.pipeline(encoder.clone(), llm_tier, DEFAULT_CACHE_CAPACITY)?.with_fallback(opts.fallback);
        let test: Vec<Record> = test_idx.iter().map(|&i| rows[i].0.clone()).collect();
        for (&i, d) in test_idx.iter().zip(pipeline.classify(&test)) {
            decisions[i] = Some(d);
        }
    }
    let decisions: Vec<Decision> = decisions.into_iter().map(|d| d.unwrap_or_else(|| Decision::unclassified("not in any fold"))).collect();
    let truth: Vec<&str> = rows.iter().map(|(_, l)| l.as_str()).collect();
    let trained: Vec<String> = trained.into_iter().collect();
    let evaluation = evaluate(&truth, &decisions, &trained);
    let threshold = if thresholds.is_empty() { 0.0 } else { thresholds.iter().sum::<f32>() / thresholds.len() as f32 };
    Ok(CvResult { evaluation, thresholds, mined, decisions, threshold })
}
