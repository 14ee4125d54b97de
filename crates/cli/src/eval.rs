//! `logsift eval`: a bundle on labeled lines (figures, confusion, the LLM
//! against the model's guesses, an HTML report), or `--cv K`: per-fold
//! training and evaluation of a recipe.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use logsift_core::lexical::DEFAULT_DIM;
use logsift_core::offline::scores::Evaluation;
use logsift_core::{Encoder, Record};
use logsift_llm::client::LlmStats;

use crate::input::read_labeled;
use crate::OnError;

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

/// The figures of an evaluation as text, under `title`.
pub fn print_evaluation(ev: &Evaluation, title: &str) {
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

/// The confusion matrix as text, labels abbreviated to their capitals.
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
                &format!("{k}-fold cross-validation, {name} split, encoder {}{rules}, on {}:", encoder.id(), args.data.display()),
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

pub fn run(args: EvalArgs) -> Result<()> {
    if let Some(k) = args.cv.cv {
        return run_cv_eval(&args, k);
    }
    let mut llm_args = args.llm.clone();
    llm_args.llm_always |= args.record_llm;
    let loaded = crate::model::load(&args.bundle, &llm_args, logsift_core::pipeline::DEFAULT_CACHE_CAPACITY)?;
    let (rows, _) = read_labeled(&args.data, &args.label_column, args.on_error)?;
    let (records, truth): (Vec<Record>, Vec<String>) = rows.into_iter().unzip();
    let run = logsift_core::offline::eval::run(&loaded.pipeline, &loaded.bundle, &records, &truth);
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
