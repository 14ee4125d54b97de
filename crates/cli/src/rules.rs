//! `logsift rules mine`: regex rules proposed for the recurring templates of
//! a labeled CSV (support, purity and examples as comments), as a
//! `rules.toml` to review — and the mining options `eval --cv
//! --mine-rules` shares.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use logsift_core::mask::Masker;
use logsift_core::offline::mine::{mine, to_toml, MineOptions};
use logsift_core::offline::train::Example;
use logsift_core::rules::RulesFile;

/// Options of rule mining.
#[derive(Args, Debug, Clone)]
pub struct MineArgs {
    /// Lines a mined rule must match in the training data.
    #[arg(long, default_value_t = 5)]
    pub min_support: usize,
    /// Share of a mined rule's lines that must carry its label.
    #[arg(long, default_value_t = 1.0)]
    pub min_purity: f64,
    /// Share of word positions that must agree for two templates to merge.
    #[arg(long, default_value_t = 0.7)]
    pub similarity: f64,
}

impl MineArgs {
    /// The miner's options.
    pub fn options(&self) -> MineOptions {
        MineOptions { min_support: self.min_support.max(1), min_purity: self.min_purity, similarity: self.similarity }
    }
}

/// `logsift rules mine`'s arguments.
#[derive(Args, Debug)]
pub struct RulesMineArgs {
    /// Labeled CSV with columns source, log_message and target_label.
    pub data: PathBuf,
    /// Where to write the proposed rules.toml (stdout when absent).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Column holding the label.
    #[arg(long, default_value = "target_label")]
    pub label_column: String,
    #[command(flatten)]
    pub mine: MineArgs,
}

/// Mines the rules and writes them.
pub fn run_mine(args: RulesMineArgs) -> Result<()> {
    let (rows, _) = crate::input::read_labeled(&args.data, &args.label_column, crate::OnError::Skip)?;
    let examples: Vec<Example> = rows.into_iter().map(|(r, label)| Example { source: r.source, message: r.message, label }).collect();
    let opts = args.mine.options();
    let rules = mine(&examples, &Masker::default(), &opts);
    let covered: usize = rules.iter().map(|r| r.support).sum();
    let text = to_toml(&rules, &opts);
    RulesFile::parse(&text, std::path::Path::new("mined rules")).context("mined rules do not parse (a bug)")?;
    match &args.output {
        Some(p) => std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?,
        None => out!("{text}"),
    }
    eprintln!(
        "logsift: {} rules from {} lines; they match {covered} lines ({:.1}%)",
        rules.len(),
        examples.len(),
        100.0 * covered as f64 / examples.len().max(1) as f64
    );
    Ok(())
}
