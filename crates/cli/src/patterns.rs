//! `logsift patterns INPUT`: what happened, grouped.
//!
//! One pass: lines are masked (in parallel, a chunk at a time) and fed to the
//! template miner that `rules mine` uses (`logsift_core::mine::TemplateMiner`,
//! not a second copy); each pattern keeps its count, first and last
//! timestamp, sources, labels and two example lines, in bounded memory (at
//! most `--max-patterns` patterns; later new ones are counted as "other").
//! Then patterns whose templates mean the same are merged when an encoder
//! says so (cosine ≥ `--merge-threshold`; never two patterns whose lines
//! carry different majority labels). `--compare BASELINE` groups the
//! baseline with the same miner and reports what is new or grew most.

use logsift_embed::assemble::{self, Weights};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::io::Format;
use logsift_core::mask::Masker;
use logsift_core::mine::TemplateMiner;
use logsift_core::record::Passthrough;
use logsift_core::{Encoder, Record};
use rayon::prelude::*;
use serde::Serialize;

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

/// One pattern.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Pattern {
    /// The template (`<*>` where its lines differ).
    pub template: String,
    /// Templates merged into it by meaning.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// Lines.
    pub count: u64,
    /// Share of all lines.
    pub share: f64,
    /// Earliest timestamp seen (when the input has them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Latest timestamp seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Lines per source (at most 16 sources kept).
    pub sources: BTreeMap<String, u64>,
    /// Lines per label, when the input is labeled (`target_label`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, u64>,
    /// Share of its lines with its most common label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purity: Option<f64>,
    /// Two example lines.
    pub examples: Vec<String>,
    /// Lines in the baseline (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_count: Option<u64>,
    /// new, grew, shrank, same or gone (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Share now over share in the baseline (with --compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<f64>,
}

#[derive(Default, Clone)]
struct Acc {
    count: u64,
    base: u64,
    first: Option<String>,
    last: Option<String>,
    sources: BTreeMap<String, u64>,
    labels: BTreeMap<String, u64>,
    examples: Vec<String>,
}

const TIME_FIELDS: [&str; 4] = ["timestamp", "time", "@timestamp", "ts"];

/// The timestamp of a record: a timestamp column/field, or one among the line's first words.
fn timestamp(r: &Record, headers: Option<&[String]>) -> Option<String> {
    match (&r.passthrough, headers) {
        (Passthrough::Columns(cols), Some(h)) => {
            if let Some(i) = h.iter().position(|c| TIME_FIELDS.contains(&c.trim())) {
                return cols.get(i).filter(|v| !v.is_empty()).cloned();
            }
        }
        (Passthrough::Json(map), _) => {
            for f in TIME_FIELDS {
                if let Some(v) = map.get(f) {
                    return Some(v.as_str().map_or_else(|| v.to_string(), str::to_string));
                }
            }
        }
        _ => {}
    }
    // In the line: syslog, ctime/Apache, ISO, CLF or epoch forms among its first words.
    logsift_core::timestamp::find(&r.message, 4).map(|range| r.message[range].to_string())
}

/// A key that orders timestamps in time (month names and weekdays read as
/// dates, see `logsift_core::timestamp::sort_key`); ties order as text.
fn time_key(ts: &str) -> (Vec<u64>, String) {
    (logsift_core::timestamp::sort_key(ts), ts.to_string())
}

fn label_of(r: &Record, headers: Option<&[String]>) -> Option<String> {
    match (&r.passthrough, headers) {
        (Passthrough::Columns(cols), Some(h)) => {
            h.iter().position(|c| c.trim() == "target_label").and_then(|i| cols.get(i)).filter(|v| !v.is_empty()).cloned()
        }
        (Passthrough::Json(map), _) => map.get("target_label").and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    }
}

/// Groups one input into `miner`, adding to `accs` (current or baseline counts).
fn group(path: &str, args: &PatternsArgs, miner: &mut TemplateMiner, accs: &mut Vec<Acc>, baseline: bool) -> Result<u64> {
    let opts = args.read.options();
    let opened = crate::input::open(path, args.format.map(Format::from), &opts)?;
    let headers = opened.headers.clone();
    let masker = Masker::default();
    // Reading (and parsing) runs on its own thread, a chunk ahead of masking
    // (parallel) and grouping.
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
        let templates: Vec<String> = chunk.par_iter().map(|r| masker.mask(&r.message)).collect();
        for (r, t) in chunk.iter().zip(&templates) {
            lines += 1;
            let Some(c) = miner.add(t, "", 1) else { continue };
            if accs.len() <= c {
                accs.resize(c + 1, Acc::default());
            }
            let a = &mut accs[c];
            if baseline {
                a.base += 1;
                continue;
            }
            a.count += 1;
            if let Some(ts) = timestamp(r, headers.as_deref()) {
                let k = time_key(&ts);
                if a.first.as_ref().is_none_or(|f| k < time_key(f)) {
                    a.first = Some(ts.clone());
                }
                if a.last.as_ref().is_none_or(|l| k > time_key(l)) {
                    a.last = Some(ts);
                }
            }
            if let Some(n) = a.sources.get_mut(&r.source) {
                *n += 1;
            } else if a.sources.len() < 16 {
                a.sources.insert(r.source.clone(), 1);
            }
            if let Some(l) = label_of(r, headers.as_deref()) {
                *a.labels.entry(l).or_default() += 1;
            }
            if a.examples.len() < 2 && !a.examples.contains(&r.message) {
                a.examples.push(r.message.chars().take(500).collect());
            }
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

fn majority(labels: &BTreeMap<String, u64>) -> Option<&String> {
    labels.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(l, _)| l)
}

pub fn run(args: PatternsArgs) -> Result<()> {
    let mut miner = TemplateMiner::new(args.similarity, args.max_patterns.max(1));
    let mut accs: Vec<Acc> = vec![];
    let mut base_lines = 0;
    if let Some(b) = &args.compare {
        base_lines = group(b, &args, &mut miner, &mut accs, true).with_context(|| format!("baseline {b}"))?;
    }
    let base_other = miner.other;
    let t0 = Instant::now();
    let lines = group(&args.input, &args, &mut miner, &mut accs, false)?;
    let secs = t0.elapsed().as_secs_f64();
    let other = miner.other - base_other;
    accs.resize(miner.clusters.len(), Acc::default());
    eprintln!(
        "logsift: grouped {lines} lines into {} patterns in {secs:.3} s ({:.0} lines/s){}",
        miner.clusters.len(),
        lines as f64 / secs.max(1e-9),
        if other > 0 { format!("; {other} lines in \"other\" (--max-patterns reached)") } else { String::new() }
    );

    // Merge by meaning: each pattern joins the most similar bigger one above the threshold.
    let mut order: Vec<usize> = (0..accs.len()).filter(|&i| accs[i].count + accs[i].base > 0).collect();
    order.sort_by(|&a, &b| (accs[b].count + accs[b].base).cmp(&(accs[a].count + accs[a].base)).then(a.cmp(&b)));
    let mut root: Vec<usize> = (0..accs.len()).collect();
    let mut merged: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    if let Some(enc) = merge_encoder(&args)? {
        let texts: Vec<String> = order.iter().map(|&i| miner.clusters[i].template().replace("<*>", "").replace("  ", " ")).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut vecs = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(enc.preferred_batch().max(1)) {
            vecs.extend(enc.encode(chunk)?);
        }
        let mut roots: Vec<usize> = vec![]; // positions in `order`
        for (k, &i) in order.iter().enumerate() {
            let best = roots
                .iter()
                .map(|&r| (vecs[k].iter().zip(&vecs[r]).map(|(a, b)| a * b).sum::<f32>(), r))
                .filter(|(s, r)| {
                    let (a, b) = (majority(&accs[i].labels), majority(&accs[order[*r]].labels));
                    *s >= args.merge_threshold && (a.is_none() || b.is_none() || a == b)
                })
                .max_by(|a, b| a.0.total_cmp(&b.0));
            match best {
                Some((_, r)) => {
                    let target = order[r];
                    root[i] = target;
                    merged.entry(target).or_default().push(miner.clusters[i].template());
                }
                None => roots.push(k),
            }
        }
    }
    let mut combined: BTreeMap<usize, Acc> = BTreeMap::new();
    for &i in &order {
        let a = accs[i].clone();
        let t = combined.entry(root[i]).or_default();
        t.count += a.count;
        t.base += a.base;
        for (s, n) in a.sources {
            *t.sources.entry(s).or_default() += n;
        }
        for (l, n) in a.labels {
            *t.labels.entry(l).or_default() += n;
        }
        if let Some(f) = a.first {
            if t.first.as_ref().is_none_or(|tf| time_key(&f) < time_key(tf)) {
                t.first = Some(f);
            }
        }
        if let Some(l) = a.last {
            if t.last.as_ref().is_none_or(|tl| time_key(&l) > time_key(tl)) {
                t.last = Some(l);
            }
        }
        for e in a.examples {
            if t.examples.len() < 2 {
                t.examples.push(e);
            }
        }
    }
    let mut patterns: Vec<Pattern> = combined
        .into_iter()
        .map(|(i, a)| {
            let labelled: u64 = a.labels.values().sum();
            let purity = (labelled > 0).then(|| *a.labels.values().max().unwrap_or(&0) as f64 / labelled as f64);
            let (status, growth) = if args.compare.is_some() {
                let now = a.count as f64 / lines.max(1) as f64;
                let then = a.base as f64 / base_lines.max(1) as f64;
                let growth = if then > 0.0 { Some((now / then * 1000.0).round() / 1000.0) } else { None };
                let status = match (a.base, a.count) {
                    (0, _) => "new",
                    (_, 0) => "gone",
                    _ if now > then * 1.5 => "grew",
                    _ if now < then / 1.5 => "shrank",
                    _ => "same",
                };
                (Some(status.to_string()), growth)
            } else {
                (None, None)
            };
            Pattern {
                template: miner.clusters[i].template(),
                merged: merged.remove(&i).unwrap_or_default(),
                count: a.count,
                share: (a.count as f64 / lines.max(1) as f64 * 10_000.0).round() / 10_000.0,
                first_seen: a.first,
                last_seen: a.last,
                sources: a.sources,
                labels: a.labels,
                purity: purity.map(|p| (p * 10_000.0).round() / 10_000.0),
                examples: a.examples,
                baseline_count: args.compare.as_ref().map(|_| a.base),
                status,
                growth,
            }
        })
        .filter(|p| p.count > 0 || args.compare.is_some())
        .collect();
    if args.compare.is_some() {
        let rank = |p: &Pattern| match p.status.as_deref() {
            Some("new") => 0,
            Some("grew") => 1,
            Some("same") => 2,
            Some("shrank") => 3,
            _ => 4,
        };
        patterns.sort_by(|a, b| {
            rank(a).cmp(&rank(b)).then(b.growth.unwrap_or(0.0).total_cmp(&a.growth.unwrap_or(0.0))).then(b.count.cmp(&a.count))
        });
    } else {
        patterns.sort_by(|a, b| b.count.cmp(&a.count).then(a.template.cmp(&b.template)));
    }
    let labelled: u64 = patterns.iter().map(|p| p.labels.values().sum::<u64>()).sum();
    let pure: u64 = patterns.iter().map(|p| p.labels.values().max().copied().unwrap_or(0)).sum();
    let purity = (labelled > 0).then(|| pure as f64 / labelled as f64);

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
            let join = |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";");
            w.write_record([
                (k + 1).to_string(),
                p.count.to_string(),
                p.share.to_string(),
                p.status.clone().unwrap_or_default(),
                p.baseline_count.map(|b| b.to_string()).unwrap_or_default(),
                p.first_seen.clone().unwrap_or_default(),
                p.last_seen.clone().unwrap_or_default(),
                join(&p.sources),
                join(&p.labels),
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
        }
        if patterns.len() > args.top {
            writeln!(out, "… {} more (--top, --json, --csv)", patterns.len() - args.top)?;
        }
    }
    Ok(())
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
        let join = |m: &BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{}={v}", esc(k))).collect::<Vec<_>>().join(", ");
        let status = p.status.as_deref().unwrap_or("");
        o.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.2}%</td><td class=\"{status}\">{status}</td><td>{}<br>{}</td><td>{}</td><td>{}</td><td><code>{}</code>{}</td></tr>",
            k + 1,
            p.count,
            p.share * 100.0,
            esc(p.first_seen.as_deref().unwrap_or("")),
            esc(p.last_seen.as_deref().unwrap_or("")),
            join(&p.sources),
            join(&p.labels),
            esc(&p.template),
            p.examples.iter().map(|e| format!("<div class=\"ex\">{}</div>", esc(e))).collect::<String>()
        ));
    }
    o.push_str("</table></body></html>\n");
    o
}
