//! `logsift train`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use logsift_core::head::FitOptions;
use logsift_core::lexical::DEFAULT_DIM;
use logsift_core::mask::MaskConfig;
use logsift_core::offline::train::{train, Example, TrainOptions};
use logsift_core::rules::{RulesFile, RulesTier};
use logsift_core::{Encoder, Route};
use sha2::{Digest, Sha256};

use crate::model::EncoderArg;
use crate::OnError;

/// `--cv-group` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CvGroupArg {
    /// Folds hold out whole templates.
    Template,
    /// Folds hold out whole sources.
    Source,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labeled CSV with columns source, log_message and target_label (several
    /// files are read as one, in order); with --from-log, the decisions files
    /// of `logsift label` (template, label, …).
    #[arg(required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Log files whose lines the decisions label (each line takes the label of
    /// the most specific decided template that covers it; lines none covers are
    /// left out, and counted).
    #[arg(long, value_name = "LOG", num_args = 1..)]
    pub from_log: Vec<String>,
    /// Directory to write the bundle to.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Encoder for the model tier.
    #[arg(long, value_enum, default_value_t = EncoderArg::Auto)]
    pub encoder: EncoderArg,
    /// Directory with the all-MiniLM-L6-v2 weights (for --encoder minilm or both)
    /// [default: $LOGSIFT_MINILM_DIR, else the Hugging Face cache, else a download].
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
    /// Width of the lexical encoder's vectors.
    #[arg(long, default_value_t = DEFAULT_DIM)]
    pub dim: usize,
    /// Seed of the cross-validation folds.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// rules.toml to put in the bundle (checked first).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Labels with fewer training rows are left to the LLM tier.
    #[arg(long, default_value_t = 1)]
    pub min_samples: usize,
    /// Cross-validation folds, split by template (0: none).
    #[arg(long, default_value_t = 5)]
    pub cv: usize,
    /// What a fold holds out: `template` (templates unseen, programs known) or
    /// `source` (whole programs unseen: for a bundle meant for other people's logs).
    #[arg(long, value_enum, default_value = "template")]
    pub cv_group: CvGroupArg,
    /// Precision the model tier must reach on the lines it keeps; sets the threshold.
    #[arg(long, default_value_t = 0.98)]
    pub target_precision: f64,
    /// Inverse regularisation strength of the logistic regression.
    #[arg(long, default_value_t = 10.0)]
    pub c: f64,
    /// Route a source past the model: SOURCE=llm (repeatable).
    #[arg(long = "route", value_parser = parse_route)]
    pub routes: Vec<(String, Route)>,
    /// TOML file of one-line label descriptions: `"Label" = "what it means"`.
    #[arg(long)]
    pub descriptions: Option<PathBuf>,
    /// Kinds of variable text to mask, comma-separated: numbers, hex, uuids,
    /// ipv4, ipv6, emails, paths, timestamps, quoted, values, users, commands,
    /// proxy (README, "How it works"); or 'default' (all of them) / 'none'.
    #[arg(long, default_value = "default")]
    pub mask: String,
    /// Column holding the label.
    #[arg(long, default_value = "target_label")]
    pub label_column: String,
    /// A name for the bundle.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Reviewed LLM decisions (the JSON Lines of `classify --llm-review`) to add
    /// to the training data; repeatable. Lines labeled Unclassified are skipped.
    #[arg(long)]
    pub feedback: Vec<PathBuf>,
    /// What to do with a bad row.
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    pub on_error: OnError,
}

fn parse_route(s: &str) -> Result<(String, Route), String> {
    let (src, route) = s.split_once('=').ok_or("expected SOURCE=llm or SOURCE=model")?;
    let route = match route.trim() {
        "llm" => Route::Llm,
        "model" => Route::Model,
        other => return Err(format!("unknown route '{other}': expected llm or model")),
    };
    Ok((src.trim().to_string(), route))
}

/// Adds the lines of a review file (`line`/`log_message`, `label`/`target_label`,
/// optional `source`) to `out`; returns how many.
fn read_feedback(path: &PathBuf, out: &mut Vec<Example>) -> Result<usize> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read feedback {}", path.display()))?;
    let mut added = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}: line {}: not a JSON object", path.display(), i + 1))?;
        let field = |a: &str, b: &str| v.get(a).or_else(|| v.get(b)).and_then(|x| x.as_str()).map(str::to_string);
        let (Some(message), Some(label)) = (field("line", "log_message"), field("label", "target_label")) else {
            bail!("{}: line {}: needs a 'line' and a 'label'", path.display(), i + 1);
        };
        if label.trim().is_empty() || label == logsift_core::UNCLASSIFIED {
            continue;
        }
        out.push(Example { source: field("source", "source").unwrap_or_default(), message, label: label.trim().to_string() });
        added += 1;
    }
    Ok(added)
}

/// The sha256 of one file, or of several files' sha256s in order.
fn combined_sha(mut shas: Vec<String>) -> String {
    if shas.len() == 1 {
        shas.remove(0)
    } else {
        format!("{:x}", Sha256::digest(shas.join("\n").as_bytes()))
    }
}

/// The labelled lines of decisions files over logs (`--from-log`).
fn examples_from_decisions(args: &TrainArgs) -> Result<(Vec<Example>, String)> {
    let mut rows = vec![];
    let mut shas = vec![];
    for path in &args.data {
        rows.extend(logsift_core::offline::label::decisions::read(path)?);
        shas.push(format!("{:x}", Sha256::digest(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)));
    }
    let records =
        crate::label::read_lines(&args.from_log, None, &crate::classify::ReadArgs { fields: Default::default(), on_error: args.on_error })?;
    let masker = logsift_core::mask::Masker::new(MaskConfig::from_names(&args.mask)?);
    let (examples, left) = logsift_core::offline::label::decisions::examples(&records, &rows, &masker);
    outln!(
        "{} decisions label {} of the {} lines of {}; {left} lines no decision covers are left out",
        rows.len(),
        examples.len(),
        records.len(),
        args.from_log.join(", ")
    );
    Ok((examples, combined_sha(shas)))
}

/// `label --export`: trains `rows` over `records` into `output` with train's defaults.
pub fn train_from_decisions(
    rows: &[logsift_core::offline::label::DecisionRow],
    records: &[logsift_core::Record],
    encoder: EncoderArg,
    encoder_dir: Option<PathBuf>,
    rules: Option<PathBuf>,
    output: &std::path::Path,
) -> Result<()> {
    #[derive(clap::Parser)]
    struct Wrap {
        #[command(flatten)]
        args: TrainArgs,
    }
    let mut args = <Wrap as clap::Parser>::try_parse_from(["train", "-", "-o", &output.display().to_string()])?.args;
    args.encoder = encoder;
    args.encoder_dir = encoder_dir;
    args.rules = rules;
    args.name = output.file_name().map_or_else(|| "labelled".to_string(), |n| n.to_string_lossy().into_owned());
    let masker = logsift_core::mask::Masker::new(MaskConfig::from_names(&args.mask)?);
    let (examples, left) = logsift_core::offline::label::decisions::examples(records, rows, &masker);
    outln!("{} decisions label {} of {} lines; {left} lines no decision covers are left out", rows.len(), examples.len(), records.len());
    let text = rows.iter().map(|r| format!("{}\t{}", r.template, r.label)).collect::<Vec<_>>().join("\n");
    train_examples(&args, examples, format!("{:x}", Sha256::digest(text.as_bytes())))
}

pub fn run_train(args: TrainArgs) -> Result<()> {
    let (examples, sha) = if args.from_log.is_empty() {
        let mut examples: Vec<Example> = vec![];
        let mut shas = vec![];
        for path in &args.data {
            let (rows, sha) = crate::input::read_labeled(path, &args.label_column, args.on_error)?;
            examples.extend(rows.into_iter().map(|(r, label)| Example { source: r.source, message: r.message, label }));
            shas.push(sha);
        }
        (examples, combined_sha(shas))
    } else {
        examples_from_decisions(&args)?
    };
    train_examples(&args, examples, sha)
}

/// Trains `examples` (plus `--feedback`) as `args` say and saves the bundle.
fn train_examples(args: &TrainArgs, mut examples: Vec<Example>, sha: String) -> Result<()> {
    for path in &args.feedback {
        let added = read_feedback(path, &mut examples)?;
        outln!("feedback: {added} reviewed lines from {}", path.display());
    }
    let (rules, rules_text) = match &args.rules {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read rules {}", p.display()))?;
            let f = RulesFile::parse(&text, p)?;
            RulesTier::compile(&f, p)?;
            (f, Some(text))
        }
        None => (RulesFile::default(), None),
    };
    let descriptions: BTreeMap<String, String> = match &args.descriptions {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: expected lines of the form \"Label\" = \"description\"", p.display()))?
        }
        None => BTreeMap::new(),
    };
    let mask = MaskConfig::from_names(&args.mask)?;
    let encoder: Arc<dyn Encoder> = crate::model::new_encoder(args.encoder, args.dim, args.encoder_dir.as_deref())?;
    let opts = TrainOptions {
        seed: args.seed,
        min_samples: args.min_samples,
        fit: FitOptions { c: args.c, ..FitOptions::default() },
        cv_folds: args.cv,
        target_precision: args.target_precision,
        mask,
        routes: args.routes.iter().cloned().collect(),
        descriptions,
        name: args.name.clone(),
        data_sha256: sha,
        cv_group: match args.cv_group {
            CvGroupArg::Template => logsift_core::offline::train::CvGroup::Template,
            CvGroupArg::Source => logsift_core::offline::train::CvGroup::Source,
        },
        ..TrainOptions::default()
    };
    let start = std::time::Instant::now();
    let (bundle, report) = train(&examples, encoder, rules, rules_text, &opts)?;
    bundle.save(&args.output)?;
    let m = &bundle.manifest;
    outln!(
        "trained {} on {} rows ({} distinct templates) in {:.1} s with encoder {}",
        args.output.display(),
        examples.len(),
        report.templates,
        start.elapsed().as_secs_f64(),
        m.encoder.id
    );
    for l in &m.labels {
        if !l.in_head {
            outln!("  label '{}' has {} rows (< --min-samples {}): left to the LLM tier", l.name, l.rows, args.min_samples);
        } else if l.rows < 5 {
            outln!("  label '{}' has only {} rows: in the head, but its figures rest on few lines", l.name, l.rows);
        }
    }
    for (s, r) in &m.routes {
        outln!("  route: source '{s}' → {r:?}");
    }
    if let (Some(cv), Some(cvk)) = (&report.cv, &report.cv_at_threshold) {
        crate::eval::print_evaluation(
            cv,
            &format!(
                "cross-validation ({} folds split by {:?}: unseen templates), head alone, every prediction kept, \
                 on the {} held-out lines that would reach it (rules and routes take the rest):",
                args.cv, args.cv_group, cv.rows
            ),
        );
        let covered = cvk.rows - cvk.tiers["unclassified"];
        outln!(
            "threshold {:.2}: the model is confident on {:.1}% of those lines, at precision {:.4} (target {}); the rest go to \
             the LLM tier, or keep the model's best guess (marked as such) when no LLM decides",
            report.threshold,
            100.0 * covered as f64 / cvk.rows.max(1) as f64,
            cvk.tier_accuracy["model"].accuracy,
            args.target_precision
        );
        if let Some(fig) = m.training.as_ref().and_then(|t| t.cv.as_ref()) {
            let points: Vec<String> = fig
                .curve
                .iter()
                .filter(|p| (p[0] * 20.0).round() as i64 % 2 == 0)
                .map(|p| format!("{:.1}: {:.3}/{:.3}", p[0], p[1], p[2]))
                .collect();
            outln!("  threshold: coverage/precision  {}", points.join("  "));
        }
    } else {
        outln!("no cross-validation (--cv {} or too few templates): threshold {:.2}", args.cv, report.threshold);
    }
    Ok(())
}
