//! `logsift eval DATA --cv K`: the flags of core's cross-validation
//! ([`logsift_core::offline::train::cv`], which holds the folds and the per-fold
//! cascade) and its JSON.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::head::FitOptions;
use logsift_core::offline::train::cv::{CvOptions, CvResult, Split};
use logsift_core::offline::train::{Example, TrainOptions};
use logsift_core::pipeline::Fallback;
use logsift_core::rules::RulesFile;
use logsift_core::{Encoder, Record};

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
    #[arg(long, value_enum, default_value_t = EncoderArg::Auto)]
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

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Self {
        match s {
            SplitArg::Random => Split::Random,
            SplitArg::Template | SplitArg::Both => Split::Template,
        }
    }
}

/// Cross-validates on `rows` with `k` folds: the flags made into core's
/// [`CvOptions`], the LLM tier built per fold as `classify` builds it.
pub fn cross_validate(
    rows: &[(Record, String)],
    k: usize,
    split: SplitArg,
    args: &CvArgs,
    encoder: &Arc<dyn Encoder>,
    llm: &crate::llm::LlmArgs,
) -> Result<CvResult> {
    let rules = match &args.rules {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read rules {}", p.display()))?;
            RulesFile::parse(&text, p)?
        }
        None => RulesFile::default(),
    };
    let mut extra: Vec<Example> = vec![];
    for p in &args.extra_data {
        let (more, _) = crate::input::read_labeled(p, "target_label", crate::OnError::Skip)?;
        extra.extend(more.into_iter().map(|(r, label)| Example { source: r.source, message: r.message, label }));
    }
    let opts = CvOptions {
        k,
        split: split.into(),
        seed: args.seed,
        train: TrainOptions {
            min_samples: args.min_samples,
            fit: FitOptions::default(),
            target_precision: args.target_precision,
            cv_folds: if args.threshold.is_some() { 0 } else { TrainOptions::default().cv_folds },
            default_threshold: args.threshold.unwrap_or(TrainOptions::default().default_threshold),
            ..TrainOptions::default()
        },
        rules,
        mine: args.mine_rules.then(|| args.mine.options()),
        extra,
        fallback: if llm.strict { Fallback::Strict } else { Fallback::Guess },
    };
    Ok(logsift_core::offline::train::cv::cross_validate(rows, encoder, &opts, |bundle| crate::llm::tier(llm, bundle).map(|(t, _)| t))?)
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
