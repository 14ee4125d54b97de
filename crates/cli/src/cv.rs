//! `logsift eval DATA --cv K`: train and evaluate per fold, figures pooled
//! over the folds (rules mined per fold with `--mine-rules`, see
//! [`crate::rules`]).
//!
//! Two splits. **template** (the headline): every line of a masked template
//! falls in the same fold, so each fold's test lines come from templates the
//! fold's model never saw — what a new kind of line will meet. **random**:
//! lines shuffled; on log data most test lines then have a near-copy in
//! training and every method scores near 100%, which is why it is not the
//! headline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::head::FitOptions;
use logsift_core::mask::Masker;
use logsift_core::metrics::{evaluate, Evaluation};
use logsift_core::mine::mine;
use logsift_core::rules::{RulesFile, RulesTier};
use logsift_core::train::{train, Example, SplitMix64, TrainOptions};
use logsift_core::{Decision, Encoder, Record};

use crate::model::EncoderArg;
use crate::rules::MineArgs;

/// How folds are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    /// All lines of a masked template in one fold (unseen templates: the headline).
    Template,
    /// Lines shuffled.
    Random,
    /// Both, template first.
    Both,
}

/// Cross-validation options of `eval`.
#[derive(Args, Debug, Clone)]
pub struct CvArgs {
    /// Train and evaluate per fold on DATA, K folds, figures pooled (no --model needed).
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// How the folds are drawn.
    #[arg(long, value_enum, default_value_t = SplitArg::Template)]
    pub split: SplitArg,
    /// Encoder of each fold's model.
    #[arg(long, value_enum, default_value_t = EncoderArg::Lexical)]
    pub encoder: EncoderArg,
    /// Mine rules on each fold's training lines and put them in its bundle.
    #[arg(long)]
    pub mine_rules: bool,
    /// rules.toml to put in each fold's bundle (before mined rules).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Seed of the folds.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Labels with fewer training rows are left to the LLM tier.
    #[arg(long, default_value_t = 1)]
    pub min_samples: usize,
    /// Precision the model tier must reach on the lines it keeps (sets each fold's threshold).
    #[arg(long, default_value_t = 0.98)]
    pub target_precision: f64,
    /// More labeled rows (a CSV like DATA) added to every fold's training lines,
    /// never to its test lines: e.g. the corpus the bundled model learned from.
    #[arg(long, value_name = "CSV")]
    pub extra_data: Vec<PathBuf>,
    /// A fixed confidence threshold for every fold instead of the calibrated one.
    #[arg(long)]
    pub threshold: Option<f32>,
    #[command(flatten)]
    pub mine: MineArgs,
}

/// Fold of each row.
fn folds(rows: &[(Record, String)], k: usize, split: SplitArg, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed);
    match split {
        SplitArg::Random | SplitArg::Both => {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            rng.shuffle(&mut order);
            let mut fold = vec![0; rows.len()];
            for (i, &r) in order.iter().enumerate() {
                fold[r] = i % k;
            }
            fold
        }
        SplitArg::Template => {
            let masker = Masker::default();
            let templates: Vec<String> = rows.iter().map(|(r, _)| masker.mask(&r.message)).collect();
            let mut distinct: Vec<&str> = {
                let mut seen = BTreeSet::new();
                templates.iter().map(String::as_str).filter(|t| seen.insert(*t)).collect()
            };
            rng.shuffle(&mut distinct);
            let of: HashMap<&str, usize> = distinct.iter().enumerate().map(|(i, t)| (*t, i % k)).collect();
            templates.iter().map(|t| of[t.as_str()]).collect()
        }
    }
}

/// The pooled result of one cross-validation.
pub struct CvResult {
    /// Figures over all folds' test lines.
    pub evaluation: Evaluation,
    /// Each fold's threshold.
    pub thresholds: Vec<f32>,
    /// Rules mined per fold.
    pub mined: Vec<usize>,
    /// The pooled decisions, in row order.
    pub decisions: Vec<Decision>,
    /// The pooled thresholds' mean, for the report.
    pub threshold: f32,
}

/// Cross-validates on `rows` with `k` folds.
pub fn cross_validate(
    rows: &[(Record, String)],
    k: usize,
    split: SplitArg,
    args: &CvArgs,
    encoder: &Arc<dyn Encoder>,
    llm: &crate::llm::LlmArgs,
) -> Result<CvResult> {
    let fold = folds(rows, k, split, args.seed);
    let base_rules = match &args.rules {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read rules {}", p.display()))?;
            RulesFile::parse(&text, p)?
        }
        None => RulesFile::default(),
    };
    let mut extra: Vec<Example> = vec![];
    for p in &args.extra_data {
        let (more, _) = crate::train::read_labeled(p, "target_label", crate::OnError::Skip)?;
        extra.extend(more.into_iter().map(|(r, label)| Example { source: r.source, message: r.message, label }));
    }
    let mut decisions: Vec<Option<Decision>> = vec![None; rows.len()];
    let mut trained: BTreeSet<String> = BTreeSet::new();
    let (mut thresholds, mut mined) = (vec![], vec![]);
    for f in 0..k {
        let train_rows: Vec<Example> = rows
            .iter()
            .zip(&fold)
            .filter(|(_, &g)| g != f)
            .map(|((r, l), _)| Example { source: r.source.clone(), message: r.message.clone(), label: l.clone() })
            .collect();
        let train_rows: Vec<Example> = train_rows.into_iter().chain(extra.iter().cloned()).collect();
        let test_idx: Vec<usize> = (0..rows.len()).filter(|&i| fold[i] == f).collect();
        if test_idx.is_empty() {
            continue;
        }
        let mut rules = base_rules.clone();
        if args.mine_rules {
            let found = mine(&train_rows, &Masker::default(), &args.mine.options());
            mined.push(found.len());
            rules.rule.extend(found.into_iter().map(|m| m.rule));
        }
        RulesTier::compile(&rules, std::path::Path::new("mined rules"))?;
        let opts = TrainOptions {
            seed: args.seed,
            min_samples: args.min_samples,
            fit: FitOptions::default(),
            target_precision: args.target_precision,
            cv_folds: if args.threshold.is_some() { 0 } else { TrainOptions::default().cv_folds },
            default_threshold: args.threshold.unwrap_or(TrainOptions::default().default_threshold),
            ..TrainOptions::default()
        };
        let (bundle, report) = train(&train_rows, encoder.clone(), rules, None, &opts).with_context(|| format!("fold {}", f + 1))?;
        thresholds.push(report.threshold);
        trained.extend(bundle.manifest.labels.iter().filter(|l| l.in_head).map(|l| l.name.clone()));
        trained.extend(bundle.rules.rule.iter().map(|r| r.label.clone()));
        let (llm_tier, _) = crate::llm::tier(llm, &bundle)?;
        let fallback = if llm.strict { logsift_core::pipeline::Fallback::Strict } else { logsift_core::pipeline::Fallback::Guess };
        let pipeline = bundle.pipeline(encoder.clone(), llm_tier, logsift_core::pipeline::DEFAULT_CACHE_CAPACITY)?.with_fallback(fallback);
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

/// The JSON of one cross-validation: `eval`'s shape plus the fold figures.
pub fn cv_json(r: &CvResult, k: usize, split: SplitArg) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(&r.evaluation)?;
    let rows = r.evaluation.rows.max(1) as f64;
    let share: BTreeMap<&String, f64> =
        r.evaluation.tiers.iter().map(|(t, n)| (t, (*n as f64 / rows * 10_000.0).round() / 10_000.0)).collect();
    v["tier_share"] = serde_json::json!(share);
    v["cv"] = serde_json::json!({
        "folds": k,
        "split": format!("{split:?}").to_lowercase(),
        "thresholds": r.thresholds.iter().map(|t| (*t as f64 * 100.0).round() / 100.0).collect::<Vec<_>>(),
        "mined_rules_per_fold": r.mined,
    });
    Ok(v)
}
