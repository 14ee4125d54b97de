//! `logsift train` and `logsift eval`.

use logsift_llm::client::LlmStats;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use logsift_core::head::FitOptions;
use logsift_core::io::{CsvInput, InputOptions};
use logsift_core::lexical::DEFAULT_DIM;
use logsift_core::mask::MaskConfig;
use logsift_core::metrics::Evaluation;
use logsift_core::rules::{RulesFile, RulesTier};
use logsift_core::train::{train, Example, TrainOptions};
use logsift_core::{Encoder, Record, Route};
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
    /// files are read as one, in order).
    #[arg(required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Directory to write the bundle to.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Encoder for the model tier.
    #[arg(long, value_enum, default_value_t = EncoderArg::Lexical)]
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

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Labeled CSV with columns source, log_message and target_label.
    pub data: PathBuf,
    /// With an LLM: record in the bundle's model.toml how the LLM did against
    /// the model's own guess on the lines the model was unsure of, so that
    /// `classify` asks this LLM only if it did better (measured with every such
    /// line escalated).
    #[arg(long)]
    pub record_llm: bool,
    #[command(flatten)]
    pub bundle: crate::model::ModelArgs,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Column holding the true label.
    #[arg(long, default_value = "target_label")]
    pub label_column: String,
    /// What to do with a bad row.
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    pub on_error: OnError,
    /// Write a self-contained HTML report (figures, confusion heat map, tiers,
    /// confidence histogram, worst confusions) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
    #[command(flatten)]
    pub cv: crate::cv::CvArgs,
}

/// Labeled rows of a CSV: (record, label), bad rows handled per `on_error`.
pub fn read_labeled(path: &PathBuf, label_column: &str, on_error: OnError) -> Result<(Vec<(Record, String)>, String)> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    let sha = format!("{:x}", Sha256::digest(&bytes));
    let input = CsvInput::new(&bytes[..], &name, InputOptions::default())?;
    let label_idx = input.headers().iter().position(|h| h.trim() == label_column);
    let Some(label_idx) = label_idx else {
        bail!("{name}: no '{label_column}' column (the labels); the header has {:?}", input.headers());
    };
    let mut out = vec![];
    let mut skipped = 0;
    for r in input {
        let r = r?;
        let label = match &r.passthrough {
            logsift_core::record::Passthrough::Columns(c) => c[label_idx].trim().to_string(),
            _ => String::new(),
        };
        let problem = match &r.invalid {
            Some(bad) => Some(crate::input::bad_row(r.row, bad)),
            None => label.is_empty().then(|| format!("{name}: row {}: empty label", r.row)),
        };
        if let Some(p) = problem {
            match on_error {
                OnError::Fail => bail!("{p} (use --on-error skip to leave such rows out)"),
                OnError::Skip => {
                    eprintln!("logsift: {p}; left out");
                    skipped += 1;
                    continue;
                }
            }
        }
        out.push((r, label));
    }
    if skipped > 0 {
        eprintln!("logsift: {name}: {skipped} bad rows left out");
    }
    Ok((out, sha))
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

fn print_evaluation(ev: &Evaluation, title: &str) {
    outln!("{title}");
    outln!(
        "  rows {}  accuracy {:.4}  macro-F1 {:.4} (over {} trained labels)  macro-F1 all labels {:.4}",
        ev.rows,
        ev.accuracy,
        ev.macro_f1,
        ev.scored_labels.len(),
        ev.macro_f1_all_labels
    );
    outln!("  {:<24}{:>10}{:>10}{:>10}{:>9}", "label", "precision", "recall", "f1", "support");
    for (l, s) in &ev.labels {
        outln!("  {l:<24}{:>10.4}{:>10.4}{:>10.4}{:>9}", s.precision, s.recall, s.f1, s.support);
    }
    outln!("  {:<24}{:>10}{:>10}", "tier", "lines", "accuracy");
    for t in ["rules", "model", "llm", "unclassified"] {
        let s = &ev.tier_accuracy[t];
        outln!("  {t:<24}{:>10}{:>10.4}", s.lines, s.accuracy);
    }
}

fn print_confusion(ev: &Evaluation) {
    let short: Vec<String> = ev.confusion.labels.iter().map(|l| l.chars().filter(|c| c.is_uppercase()).collect::<String>()).collect();
    outln!("  confusion (rows: true, columns: predicted)");
    out!("  {:<24}", "");
    for s in &short {
        out!("{s:>6}");
    }
    outln!();
    for (l, row) in ev.confusion.labels.iter().zip(&ev.confusion.matrix) {
        if row.iter().all(|&v| v == 0) {
            continue;
        }
        out!("  {l:<24}");
        for v in row {
            out!("{v:>6}");
        }
        outln!();
    }
}

pub fn run_train(args: TrainArgs) -> Result<()> {
    let mut examples: Vec<Example> = vec![];
    let mut shas = vec![];
    for path in &args.data {
        let (rows, sha) = read_labeled(path, &args.label_column, args.on_error)?;
        examples.extend(rows.into_iter().map(|(r, label)| Example { source: r.source, message: r.message, label }));
        shas.push(sha);
    }
    // One file: its sha256; several: the sha256 of their sha256s, in order.
    let sha = if shas.len() == 1 { shas.remove(0) } else { format!("{:x}", Sha256::digest(shas.join("\n").as_bytes())) };
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
            CvGroupArg::Template => logsift_core::train::CvGroup::Template,
            CvGroupArg::Source => logsift_core::train::CvGroup::Source,
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
        print_evaluation(
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

/// `eval --cv K`: per-fold training and evaluation, pooled.
fn run_cv_eval(args: &EvalArgs, k: usize) -> Result<()> {
    use crate::cv::{cross_validate, cv_json, SplitArg};
    if k < 2 {
        bail!("--cv needs at least 2 folds");
    }
    let (rows, _) = read_labeled(&args.data, &args.label_column, args.on_error)?;
    let encoder: Arc<dyn Encoder> = crate::model::new_encoder(args.cv.encoder, DEFAULT_DIM, args.bundle.encoder_dir.as_deref())?;
    let splits = match args.cv.split {
        SplitArg::Both => vec![SplitArg::Template, SplitArg::Random],
        s => vec![s],
    };
    let mut json = serde_json::Map::new();
    let mut first = None;
    for split in &splits {
        let r = cross_validate(&rows, k, *split, &args.cv, &encoder, &args.llm)?;
        let name = format!("{split:?}").to_lowercase();
        if args.json {
            json.insert(name.clone(), cv_json(&r, k, *split)?);
        } else {
            let rules = if args.cv.mine_rules { ", mined rules" } else { "" };
            print_evaluation(
                &r.evaluation,
                &format!("{k}-fold cross-validation, {name} split, encoder {:?}{rules}, on {}:", args.cv.encoder, args.data.display()),
            );
            let n = r.evaluation.rows.max(1) as f64;
            let share = |t: &str| 100.0 * r.evaluation.tiers[t] as f64 / n;
            outln!(
                "  share of lines: rules {:.1}%, model {:.1}%, llm {:.1}%, unclassified {:.1}% ({} lines); thresholds {:?}{}",
                share("rules"),
                share("model"),
                share("llm"),
                share("unclassified"),
                r.evaluation.tiers["unclassified"],
                r.thresholds.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>(),
                if args.cv.mine_rules { format!("; mined rules per fold {:?}", r.mined) } else { String::new() }
            );
        }
        first.get_or_insert((r, name));
    }
    if args.json {
        let v =
            if splits.len() == 1 { json.into_iter().next().map(|(_, v)| v).unwrap_or_default() } else { serde_json::Value::Object(json) };
        outln!("{}", serde_json::to_string_pretty(&v)?);
    }
    if let (Some(path), Some((r, name))) = (&args.report, first) {
        let title = format!("logsift: {k}-fold cross-validation ({name} split) on {}", args.data.display());
        std::fs::write(path, crate::report::html(&title, &r.evaluation, &rows, &r.decisions, Some(r.threshold)))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("logsift: report written to {}", path.display());
    }
    Ok(())
}

pub fn run_eval(args: EvalArgs) -> Result<()> {
    if let Some(k) = args.cv.cv {
        return run_cv_eval(&args, k);
    }
    let mut llm_args = args.llm.clone();
    llm_args.llm_always |= args.record_llm;
    let loaded = crate::model::load(&args.bundle, &llm_args, logsift_core::pipeline::DEFAULT_CACHE_CAPACITY)?;
    let (rows, _) = read_labeled(&args.data, &args.label_column, args.on_error)?;
    let (records, truth): (Vec<Record>, Vec<String>) = rows.into_iter().unzip();
    let run = logsift_core::eval::run(&loaded.pipeline, &loaded.bundle, &records, &truth);
    let (esc, decisions, ev) = (run.escalated, &run.decisions, &run.evaluation);
    let llm_id = crate::llm::identity(&args.llm, &loaded.bundle)?;
    if args.record_llm {
        let Some(id) = &llm_id else { bail!("--record-llm needs an LLM (--llm-preset or --llm-url)") };
        if esc.lines == 0 {
            bail!("--record-llm: the LLM decided none of the lines the model was unsure of; nothing to record");
        }
        let mut bundle = loaded.bundle.clone();
        bundle.manifest.record_llm(logsift_core::bundle::LlmMeasure {
            llm: id.clone(),
            lines: esc.lines,
            llm_accuracy: esc.llm_accuracy(),
            guess_accuracy: esc.guess_accuracy(),
        });
        let dir = bundle.dir.clone();
        bundle.save(&dir)?;
        eprintln!("logsift: recorded in {}: {id} on {} escalated lines", dir.join("model.toml").display(), esc.lines);
    }
    if let Some(path) = &args.report {
        let labeled: Vec<(Record, String)> = records.iter().cloned().zip(truth.iter().cloned()).collect();
        let title = format!("logsift: {} on {}", loaded.bundle.dir.display(), args.data.display());
        let html = crate::report::html(&title, ev, &labeled, decisions, Some(loaded.bundle.manifest.threshold as f32));
        std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("logsift: report written to {}", path.display());
    }
    if args.json {
        let v = run.json(&loaded.pipeline, llm_id.as_deref(), loaded.llm.as_deref().map(LlmStats::counters_json));
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_evaluation(ev, &format!("{} on {}:", loaded.bundle.dir.display(), args.data.display()));
        print_confusion(ev);
        if let Some(id) = &llm_id {
            outln!(
                "escalated to {id}: {} lines the model was unsure of; the LLM got {:.1}% right, the model's guess {:.1}%",
                esc.lines,
                100.0 * esc.llm_accuracy(),
                100.0 * esc.guess_accuracy()
            );
        }
        let s = loaded.pipeline.stats();
        outln!("  distinct templates asked: model {}, llm {}; cache hits {}", s.model_queries, s.llm_queries, s.cache_hits);
        if let Some(llm) = &loaded.llm {
            outln!("  {}", crate::llm::summary(llm));
        }
    }
    Ok(())
}
