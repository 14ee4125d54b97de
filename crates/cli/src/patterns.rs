//! `logsift patterns INPUT`: what happened, grouped.
//!
//! The input is read a chunk at a time into core's aggregation
//! ([`logsift_core::patterns`]: the template miner `rules mine` uses, merge
//! by meaning, `--compare`); this module reads, picks the merge encoder and
//! writes the text, JSON, CSV or HTML report.

use logsift_embed::assemble::{self, Weights};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::io::Format;
use logsift_core::patterns::{majority, Pattern, PatternReport, Patterns};
use logsift_core::{Encoder, Record};

/// Which encoder merges patterns by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MergeEncoder {
    /// all-MiniLM-L6-v2 when its weights are on this machine, else no merge.
    Auto,
    /// all-MiniLM-L6-v2 (weights needed).
    Minilm,
    /// Hashed lexical n-grams (merges near-identical wording only).
    Lexical,
    /// No merging by meaning.
    None,
}

#[derive(Args, Debug)]
pub struct PatternsArgs {
    /// Input file (CSV, JSON Lines or text; `-` for stdin).
    pub input: String,
    /// Input format [default: from the extension, else a look at the first line].
    #[arg(long, value_enum)]
    pub format: Option<crate::classify::FormatArg>,
    /// A baseline (e.g. yesterday's logs): report the patterns that are new or grew most.
    #[arg(long, value_name = "BASELINE")]
    pub compare: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print CSV.
    #[arg(long)]
    pub csv: bool,
    /// Write a self-contained HTML page (bar chart, table) to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Patterns shown in the text output.
    #[arg(long, default_value_t = 25)]
    pub top: usize,
    /// Most patterns kept (memory cap); further new templates are counted as "other".
    #[arg(long, default_value_t = 10_000)]
    pub max_patterns: usize,
    /// Share of word positions that must agree for two templates to be one pattern.
    #[arg(long, default_value_t = 0.7)]
    pub similarity: f64,
    /// Encoder that merges patterns by meaning.
    #[arg(long, value_enum, default_value_t = MergeEncoder::Auto)]
    pub encoder: MergeEncoder,
    /// Cosine similarity of two templates' embeddings at which their patterns merge.
    #[arg(long, default_value_t = 0.9)]
    pub merge_threshold: f32,
    /// Directory with the all-MiniLM-L6-v2 weights.
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
    #[command(flatten)]
    pub read: crate::classify::ReadArgs,
}

/// Reads one input a chunk at a time into `patterns` (as the baseline, or
/// not); reading and parsing run on their own thread, a chunk ahead.
fn group(path: &str, args: &PatternsArgs, patterns: &mut Patterns, baseline: bool) -> Result<u64> {
    let opts = args.read.options();
    let opened = crate::input::open(path, args.format.map(Format::from), &opts)?;
    let headers = opened.headers.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Record>, logsift_core::io::InputError>>(2);
    let mut records = opened.records;
    let reader = std::thread::spawn(move || loop {
        let chunk: Result<Vec<Record>, _> = records.by_ref().take(1 << 15).collect();
        let stop = chunk.as_ref().map_or(true, Vec::is_empty);
        if tx.send(chunk).is_err() || stop {
            break;
        }
    });
    let mut lines = 0u64;
    for chunk in rx {
        let chunk = chunk?;
        if chunk.is_empty() {
            break;
        }
        lines += chunk.len() as u64;
        if baseline {
            patterns.add_baseline(&chunk);
        } else {
            patterns.add(&chunk, headers.as_deref());
        }
    }
    let _ = reader.join();
    Ok(lines)
}

fn merge_encoder(args: &PatternsArgs) -> Result<Option<Arc<dyn Encoder>>> {
    Ok(match args.encoder {
        MergeEncoder::None => None,
        MergeEncoder::Lexical => Some(Arc::new(logsift_core::lexical::LexicalEncoder::new(logsift_core::lexical::DEFAULT_DIM))),
        MergeEncoder::Minilm => Some(assemble::minilm(args.encoder_dir.as_deref(), Weights::Anywhere)?),
        MergeEncoder::Auto => match assemble::minilm(args.encoder_dir.as_deref(), Weights::LocalOnly) {
            Ok(enc) => Some(enc),
            Err(why @ logsift_embed::EmbedError::NotFound { .. }) => {
                eprintln!("logsift: patterns are not merged by meaning: no local MiniLM weights ({})", why.one_line());
                None
            }
            Err(e) => return Err(e.into()),
        },
    })
}

pub fn run(args: PatternsArgs) -> Result<()> {
    let mut gathered = Patterns::new(args.similarity, args.max_patterns);
    if let Some(b) = &args.compare {
        group(b, &args, &mut gathered, true).with_context(|| format!("baseline {b}"))?;
    }
    let t0 = Instant::now();
    let lines = group(&args.input, &args, &mut gathered, false)?;
    let secs = t0.elapsed().as_secs_f64();
    let other = gathered.other();
    eprintln!(
        "logsift: grouped {lines} lines into {} patterns in {secs:.3} s ({:.0} lines/s){}",
        gathered.len(),
        lines as f64 / secs.max(1e-9),
        if other > 0 { format!("; {other} lines in \"other\" (--max-patterns reached)") } else { String::new() }
    );
    let encoder = merge_encoder(&args)?;
    let PatternReport { patterns, purity, .. } = gathered.finish(encoder.as_deref(), args.merge_threshold)?;

    if let Some(path) = &args.html {
        std::fs::write(path, html(&patterns, lines, purity)).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("logsift: patterns page written to {}", path.display());
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let v = serde_json::json!({
            "lines": lines,
            "patterns": patterns,
            "other": other,
            "purity": purity,
            "grouping_lines_per_s": (lines as f64 / secs.max(1e-9)).round(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if args.csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "rank",
            "count",
            "share",
            "status",
            "baseline_count",
            "first_seen",
            "last_seen",
            "sources",
            "labels",
            "purity",
            "template",
            "example_1",
            "example_2",
        ])?;
        for (k, p) in patterns.iter().enumerate() {
            w.write_record([
                (k + 1).to_string(),
                p.count.to_string(),
                p.share.to_string(),
                p.status.clone().unwrap_or_default(),
                p.baseline_count.map(|b| b.to_string()).unwrap_or_default(),
                p.first_seen.clone().unwrap_or_default(),
                p.last_seen.clone().unwrap_or_default(),
                counts(&p.sources, "=", ";"),
                counts(&p.labels, "=", ";"),
                p.purity.map(|x| x.to_string()).unwrap_or_default(),
                p.template.clone(),
                p.examples.first().cloned().unwrap_or_default(),
                p.examples.get(1).cloned().unwrap_or_default(),
            ])?;
        }
        w.flush()?;
    } else {
        writeln!(
            out,
            "{lines} lines, {} patterns{}",
            patterns.len(),
            purity.map(|p| format!(", label purity {p:.4}")).unwrap_or_default()
        )?;
        for p in patterns.iter().take(args.top) {
            let status = p.status.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
            let labels = majority(&p.labels).map(|l| format!("  ({l})")).unwrap_or_default();
            writeln!(out, "{:>8} {:>6.2}%  {status}{}{labels}", p.count, p.share * 100.0, p.template)?;
            let detail = text_detail(p);
            if !detail.is_empty() {
                writeln!(out, "{:17}{detail}", "")?;
            }
        }
        if patterns.len() > args.top {
            writeln!(out, "… {} more (--top, --json, --csv)", patterns.len() - args.top)?;
        }
    }
    Ok(())
}

/// The text output's second line of a pattern: when it was first and last
/// seen, its sources and its labels, with their line counts.
fn text_detail(p: &Pattern) -> String {
    let mut parts = vec![];
    match (&p.first_seen, &p.last_seen) {
        (Some(f), Some(l)) if f != l => parts.push(format!("seen {f} .. {l}")),
        (Some(f), _) => parts.push(format!("seen {f}")),
        _ => {}
    }
    // (Lines without a source are all under "": nothing to say.)
    if p.sources.keys().any(|k| !k.is_empty()) {
        parts.push(format!("sources: {}", counts(&p.sources, " ", ", ")));
    }
    if !p.labels.is_empty() {
        parts.push(format!("labels: {}", counts(&p.labels, " ", ", ")));
    }
    parts.join("; ")
}

/// Sources or labels with their line counts: `name{pair}count`, joined by `sep`.
fn counts(m: &BTreeMap<String, u64>, pair: &str, sep: &str) -> String {
    m.iter().map(|(k, v)| format!("{k}{pair}{v}")).collect::<Vec<_>>().join(sep)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A self-contained page: a bar chart of the top patterns and the table.
fn html(patterns: &[Pattern], lines: u64, purity: Option<f64>) -> String {
    let mut o = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>logsift patterns</title><style>
body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;margin:24px;max-width:1200px} table{border-collapse:collapse;width:100%}
td,th{padding:4px 8px;border-bottom:1px solid #e3e7ee;text-align:left;vertical-align:top} code,.ex{font:12px ui-monospace,monospace} .ex{color:#5b6475}
.new{color:#c2543f;font-weight:600}</style></head><body><h1>logsift patterns</h1>"#,
    );
    o.push_str(&format!(
        "<p>{lines} lines, {} patterns{}</p>",
        patterns.len(),
        purity.map(|p| format!(", label purity {p:.4}")).unwrap_or_default()
    ));
    let top: Vec<&Pattern> = patterns.iter().take(30).collect();
    let max = top.iter().map(|p| p.count).max().unwrap_or(1).max(1) as f64;
    o.push_str(&format!(r#"<svg id="chart" width="900" height="{}" xmlns="http://www.w3.org/2000/svg">"#, top.len() * 22 + 4));
    for (i, p) in top.iter().enumerate() {
        let w = 380.0 * p.count as f64 / max;
        let y = i * 22;
        let label: String = p.template.chars().take(60).collect();
        o.push_str(&format!(
            r##"<text x="440" y="{ty}" text-anchor="end" font-size="11">{}</text><rect x="448" y="{y}" width="{w:.1}" height="16" fill="{}"/><text x="{tx:.1}" y="{ty}" font-size="11">{}</text>"##,
            esc(&label),
            if p.status.as_deref() == Some("new") { "#c2543f" } else { "#2f6fdb" },
            p.count,
            ty = y + 13,
            tx = 452.0 + w
        ));
    }
    o.push_str("</svg><table id=\"patterns\"><tr><th>#</th><th>lines</th><th>share</th><th>status</th><th>first / last seen</th><th>sources</th><th>labels</th><th>template and examples</th></tr>");
    for (k, p) in patterns.iter().enumerate() {
        let status = p.status.as_deref().unwrap_or("");
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.2}%</td><td class=\"{status}\">{status}</td><td>{}<br>{}</td><td>{}</td><td>{}</td><td><code>{}</code>{}</td></tr>",
            k + 1,
            p.count,
            p.share * 100.0,
            esc(p.first_seen.as_deref().unwrap_or("")),
            esc(p.last_seen.as_deref().unwrap_or("")),
            esc(&counts(&p.sources, "=", ", ")),
            esc(&counts(&p.labels, "=", ", ")),
            esc(&p.template),
            p.examples.iter().map(|e| format!("<div class=\"ex\">{}</div>", esc(e))).collect::<String>()
        ));
    }
    o.push_str("</table></body></html>\n");
    o
}
