//! `logsift classify`.

use logsift_core::mask::Templates;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::io::{CsvOutput, Format, InputOptions, Joiner, JsonlOutput, Multiline, RecordWriter, TEMPLATE_COLUMNS};
use logsift_core::pipeline::{Stats, DEFAULT_CACHE_CAPACITY};
use logsift_core::{Record, TierKind};

mod feed;

use feed::{Batches, Fill, Handoff, Reader, CHUNK};

use crate::input;
use crate::OnError;

/// Input/output format names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// CSV with a header row.
    Csv,
    /// JSON Lines.
    Jsonl,
    /// Plain text, one line per record.
    Text,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Text => Format::Text,
        }
    }
}

/// Where a record's fields are and how long a line may be: read by every
/// subcommand that reads records, and by the worker (flattened into each).
#[derive(Args, Debug, Clone)]
pub struct FieldArgs {
    /// Column (CSV) or field (JSON) holding the log line.
    #[arg(long, default_value = "log_message")]
    pub message_field: String,
    /// Column or field holding the source system.
    #[arg(long, default_value = "source")]
    pub source_field: String,
    /// Source given to records without one (plain text, or no source column or field).
    #[arg(long, default_value = "")]
    pub source: String,
    /// Lines longer than this many bytes are bad rows.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_line_bytes: usize,
}

impl Default for FieldArgs {
    fn default() -> Self {
        FieldArgs { message_field: "log_message".into(), source_field: "source".into(), source: String::new(), max_line_bytes: 64 * 1024 }
    }
}

impl FieldArgs {
    pub fn options(&self) -> InputOptions {
        InputOptions {
            source_field: self.source_field.clone(),
            message_field: self.message_field.clone(),
            default_source: self.source.clone(),
            max_line_bytes: self.max_line_bytes,
        }
    }
}

/// Reading options shared by the subcommands that read records.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    #[command(flatten)]
    pub fields: FieldArgs,
    /// What to do with a bad row (ragged, invalid UTF-8, NUL byte, too long, bad JSON).
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    pub on_error: OnError,
}

impl ReadArgs {
    pub fn options(&self) -> InputOptions {
        self.fields.options()
    }
}

#[derive(Args, Debug)]
pub struct ClassifyArgs {
    /// Input files; `-` or none reads stdin.
    pub inputs: Vec<String>,
    /// Output file; stdout when absent or `-`.
    #[arg(short, long)]
    pub output: Option<String>,
    #[command(flatten)]
    pub bundle: crate::model::ModelArgs,
    /// Input format [default: from the extension; on stdin, from the first line].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Output format [default: CSV for CSV input or a `.csv` output, else JSON Lines].
    #[arg(long, value_enum)]
    pub output_format: Option<FormatArg>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Multi-line events in text input: `auto` joins stack traces (indented
    /// lines, `at …`, `Caused by:`, `... N more`, a Python traceback through
    /// its exception line) to the line they continue; `off` keeps one record
    /// a line; anything else is a regular expression matching continuation
    /// lines. An event comes out once, with `line` (its first input line)
    /// and `lines` (how many it covers). CSV and JSON rows are never joined.
    #[arg(long, value_name = "auto|off|REGEX", default_value = "auto", value_parser = parse_multiline)]
    pub multiline: Multiline,
    /// Records per batch (1,024: measured faster than 4,096 on 2 cores, the
    /// reader thread and the cascade sharing them better, and smaller).
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Decisions kept in the template cache (0 disables it).
    #[arg(long, default_value_t = DEFAULT_CACHE_CAPACITY)]
    pub cache_size: usize,
    /// Follow FILE like `tail -F` (text or JSON Lines): classify what it has, then each
    /// line as it is appended, across rotations, until SIGINT or SIGTERM.
    #[arg(long, value_name = "FILE")]
    pub follow: Option<String>,
    /// With --follow: pattern counts over time; new patterns of the
    /// --alert-labels are said on stderr and sent to --alert-webhook.
    #[command(flatten)]
    pub live: crate::alert::LiveArgs,
    /// Write only the lines with these labels (comma-separated); the others are counted in the summary.
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub keep: Vec<String>,
    /// Leave out the lines with these labels (comma-separated), counted in the summary.
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub drop: Vec<String>,
    /// No progress bar and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Add each line's masked template and its stable template id (columns or
    /// fields `template`, `template_id`; the id is the same on every run and
    /// machine for the same template, see README "Template ids").
    #[arg(long)]
    pub with_template: bool,
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
}

fn parse_multiline(s: &str) -> Result<Multiline, String> {
    Multiline::parse(s).map_err(|e| format!("not auto, off or a valid regular expression: {e}"))
}

/// Prints the per-tier summary.
pub fn print_summary(stats: &Stats, elapsed: Duration, model: &str, llm_on: bool) {
    let rows = stats.records;
    let secs = elapsed.as_secs_f64();
    eprintln!("logsift: {rows} rows in {secs:.2} s ({:.0} rows/s), model {model}", rows as f64 / secs.max(1e-9));
    for t in TierKind::ALL {
        let n = stats.tiers.get(&t).copied().unwrap_or(0);
        let name = if t == TierKind::None { "unclassified" } else { t.as_str() };
        eprintln!("  {name:<13}{n:>10}  {:>5.1}%", 100.0 * n as f64 / rows.max(1) as f64);
    }
    // With the LLM off, the templates passed on to its place are no questions asked.
    let llm = if llm_on { format!("llm asked about {}", stats.llm_queries) } else { "llm off".to_string() };
    eprintln!(
        "  cache hits {} ({} through {} learned patterns), model asked about {} distinct templates, {llm}, bad rows {}",
        stats.cache_hits, stats.pattern_hits, stats.patterns_learned, stats.model_queries, stats.invalid
    );
    for (tier, n) in &stats.tier_errors {
        eprintln!("  {tier} tier failed on {n} batch(es): see the detail column");
    }
}

/// A flag set by SIGINT or SIGTERM: the run then stops reading, writes
/// everything read, and ends normally. A second SIGINT exits at once.
fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone()).context("cannot install a signal handler")?;
        signal_hook::flag::register(sig, stop.clone()).context("cannot install a signal handler")?;
    }
    Ok(stop)
}

/// The bundle's spelling of each label named in `--keep`/`--drop` (matched
/// without regard to case or surrounding space); a name the bundle cannot
/// output is an error that lists the ones it can.
fn resolve_labels(flag: &str, given: &[String], known: &[String]) -> Result<Vec<String>> {
    let mut out = vec![];
    for name in given.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            Some(k) => out.push(k.clone()),
            None => bail!("{flag}: the model has no label '{name}'; its labels are: {}", known.join(", ")),
        }
    }
    Ok(out)
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let loaded = crate::model::load(&args.bundle, &args.llm, args.cache_size)?;
    let mut filter = LabelFilter::new(&args, &loaded.bundle.known_labels())?;
    let inputs = if args.inputs.is_empty() { vec!["-".to_string()] } else { args.inputs.clone() };
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        bail!("stdin (-) can be read only once");
    }
    if args.follow.is_some() && args.inputs.iter().any(|i| i != "-") {
        bail!("--follow FILE reads one file; give no other inputs");
    }
    let opts = args.read.options();
    let out_path = args.output.clone().filter(|o| o != "-");
    let live = match &args.follow {
        Some(_) => {
            let mut l = args.live.live(loaded.bundle.masker(), &loaded.bundle.known_labels())?;
            if !args.quiet && !args.live.alert_labels.is_empty() {
                l.alerts = Some(Arc::new(crate::alert::Said { also: l.alerts.take() }));
            }
            Some(l)
        }
        None => None,
    };
    let stop = stop_on_signals()?;

    let start = Instant::now();
    // Inputs are read on their own thread and handed over in chunks through
    // a bounded queue (constant memory on endless input); see [`Handoff`].
    let batch_size = args.batch_size.max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<Record>>>((batch_size * 2).div_ceil(CHUNK).max(2));
    let (recycle_tx, recycled) = std::sync::mpsc::sync_channel::<Vec<Record>>(2);
    let handoff = Arc::new(Handoff { pending: Mutex::new(Vec::with_capacity(CHUNK)), tx });
    let before_read: input::BeforeRead = {
        let handoff = handoff.clone();
        Arc::new(move || {
            handoff.flush();
        })
    };
    let first = match &args.follow {
        Some(path) => input::follow(path, args.format.map(Into::into), &opts, stop.clone(), Some(before_read.clone()))?,
        None => input::open_hooked(&inputs[0], args.format.map(Into::into), &opts, Some(before_read.clone()))?,
    };
    let out_format = output_format(&args, out_path.as_deref(), first.format)?;
    let csv_headers = first.headers.clone();
    // Text lines are joined into events here, not on the reader thread, so
    // that an event held for its next line can be let go when input goes quiet.
    let joiner = (first.format == Format::Text && !matches!(args.multiline, Multiline::Off))
        .then(|| Joiner::new(args.multiline.clone(), opts.max_line_bytes));
    let templates = args.with_template.then(|| Templates::new(loaded.bundle.masker()));
    let writer = open_output(out_path.as_deref(), out_format, csv_headers.as_deref(), templates, joiner.is_some())?;
    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {pos} rows ({per_sec}) {elapsed}").expect("valid template"));
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    });
    let reader = Reader { inputs, stop: stop.clone(), format: args.format.map(Format::from), opts, csv_headers, out_format }.spawn(
        first,
        handoff,
        before_read,
        recycled,
    );
    let (out_tx, writing) = spawn_writer(writer, recycle_tx, progress.clone())?;

    // A batch is classified and written when it is full or `FLUSH_EVERY`
    // after its first record, whichever comes first.
    let mut batches = Batches::new(rx, joiner, batch_size, stop.clone());
    let mut bad_shown = 0usize;
    let mut failure = None;
    loop {
        let (batch, fill) = batches.fill();
        let ended = match fill {
            Fill::More => false,
            Fill::End => true,
            Fill::Failed(e) => {
                // Write what was read before the fault, then report it.
                failure = Some(e);
                true
            }
        };
        if !batch.is_empty() {
            // A bad row under --on-error fail ends the run after what was
            // written before its batch (the writer is drained below, not left).
            if let Some(e) = refuse_bad_rows(&batch, args.read.on_error, &mut bad_shown) {
                failure = Some(e);
                break;
            }
            let decisions = match &live {
                Some(l) => {
                    let (decisions, keys) = loaded.pipeline.classify_keyed(&batch);
                    l.observe(&batch, &decisions, &keys);
                    decisions
                }
                None => loaded.pipeline.classify(&batch),
            };
            let read = batch.len();
            let (batch, decisions) = filter.apply(batch, decisions);
            if out_tx.send((batch, decisions, read)).is_err() {
                break; // the writer failed: its error is reported below
            }
        }
        if ended {
            break;
        }
    }
    drop(out_tx);
    let written = writing.join().unwrap_or_else(|_| Err(std::io::Error::other("the writer thread panicked")));
    written.with_context(|| format!("cannot write output {}", out_path.as_deref().unwrap_or("<stdout>")))?;
    drop(batches);
    if !stop.load(Ordering::Relaxed) {
        let _ = reader.join();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    report_end(&args, &loaded, stop.load(Ordering::Relaxed), start.elapsed(), &filter);
    Ok(())
}

/// The summary at the end of a run, on stderr.
fn report_end(args: &ClassifyArgs, loaded: &crate::model::Loaded, stopped: bool, elapsed: Duration, filter: &LabelFilter) {
    let stats = loaded.pipeline.stats();
    if stopped && !args.quiet {
        eprintln!("logsift: stopped by a signal; every record read was written");
    }
    if stats.records == 0 && !stopped {
        eprintln!("logsift: warning: no data rows in the input");
    }
    if !args.quiet {
        print_summary(&stats, elapsed, &loaded.bundle.dir.display().to_string(), loaded.llm.is_some());
        if let Some(llm) = &loaded.llm {
            eprintln!("  {}", crate::llm::summary(llm));
        }
    }
    if !filter.dropped.is_empty() {
        let total: u64 = filter.dropped.values().sum();
        let each: Vec<String> = filter.dropped.iter().map(|(l, n)| format!("{l}: {n}")).collect();
        eprintln!("logsift: filtered out {total} lines ({})", each.join(", "));
    }
}

/// The output's format: `--output-format`, else the output file's
/// extension, else CSV for CSV input and JSON Lines for the rest.
fn output_format(args: &ClassifyArgs, out_path: Option<&str>, input: Format) -> Result<Format> {
    let f = match args.output_format {
        Some(f) => Format::from(f),
        None => match out_path.and_then(Format::from_path) {
            Some(Format::Csv) => Format::Csv,
            Some(_) => Format::Jsonl,
            None if input == Format::Csv => Format::Csv,
            None => Format::Jsonl,
        },
    };
    if f == Format::Text {
        bail!("--output-format text is not supported: the output carries labels (use csv or jsonl)");
    }
    Ok(f)
}

/// The writer of the output (a file, else stdout), saying first which input
/// columns it renames (`<name>_input`, when they clash with output columns).
fn open_output(
    out_path: Option<&str>,
    format: Format,
    csv_headers: Option<&[String]>,
    templates: Option<Templates>,
    spans: bool,
) -> Result<Box<dyn RecordWriter + Send>> {
    // (Stdout unlocked: the writer thread owns the sink, and both outputs
    // buffer, so the lock is taken once a buffer, not once a row.)
    let sink: Box<dyn Write + Send> = match out_path {
        Some(p) => Box::new(File::create(p).with_context(|| format!("cannot create output {p}"))?),
        None => Box::new(std::io::stdout()),
    };
    if let Some(h) = csv_headers {
        let mut renamed = CsvOutput::<Vec<u8>>::renamed(h);
        if templates.is_some() {
            renamed.extend(h.iter().filter(|c| TEMPLATE_COLUMNS.contains(&c.trim())).cloned());
        }
        if !renamed.is_empty() {
            eprintln!("logsift: warning: input column(s) {renamed:?} renamed to <name>_input in the output");
        }
    }
    Ok(match (format, templates) {
        (Format::Csv, t) => {
            let mut w = CsvOutput::new(sink, csv_headers);
            if let Some(t) = t {
                w = w.with_templates(t);
            }
            if spans {
                w = w.with_spans();
            }
            Box::new(w)
        }
        (_, None) => Box::new(JsonlOutput::new(sink)),
        (_, Some(t)) => Box::new(JsonlOutput::new(sink).with_templates(t)),
    })
}

/// A classified batch on its way to the writer: its records, their
/// decisions, and how many records were read for it (before `--keep`/`--drop`).
type Written = (Vec<Record>, Vec<logsift_core::Decision>, usize);

/// Batches are written, in order, on a thread of their own while the next
/// is classified (the main thread was the stream's bottleneck: writing CSV
/// took a fifth of its time). Two batches wait at most; each is flushed when
/// written, so live input shows up as it is classified.
fn spawn_writer(
    mut writer: Box<dyn RecordWriter + Send>,
    recycle_tx: std::sync::mpsc::SyncSender<Vec<Record>>,
    progress: Option<indicatif::ProgressBar>,
) -> Result<(std::sync::mpsc::SyncSender<Written>, std::thread::JoinHandle<std::io::Result<()>>)> {
    let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<Written>(2);
    let writing = std::thread::Builder::new().name("logsift-writer".into()).spawn(move || -> std::io::Result<()> {
        for (records, decisions, read) in out_rx {
            writer.write_batch(&records, &decisions)?;
            // Freed by the thread that made them (see `Handoff`).
            let _ = recycle_tx.try_send(records);
            writer.finish()?;
            if let Some(pb) = &progress {
                pb.inc(read as u64);
            }
        }
        writer.finish()
    })?;
    Ok((out_tx, writing))
}

/// Reports a batch's bad rows (`--on-error skip`: the first 20, then a
/// count), or with `--on-error fail` returns the error that ends the run.
fn refuse_bad_rows(batch: &[Record], on_error: OnError, shown: &mut usize) -> Option<anyhow::Error> {
    for (row, bad) in batch.iter().filter_map(|r| r.invalid.as_ref().map(|b| (r.row, b))) {
        let bad = input::bad_row(row, bad);
        match on_error {
            OnError::Fail => return Some(anyhow::anyhow!("{bad} (use --on-error skip to write such rows as Unclassified and go on)")),
            OnError::Skip => {
                if *shown < 20 {
                    eprintln!("logsift: {bad}; written as Unclassified");
                } else if *shown == 20 {
                    eprintln!("logsift: more bad rows; the count is in the summary");
                }
                *shown += 1;
            }
        }
    }
    None
}

/// `--keep` and `--drop`: which labels are written, and how many lines of
/// each other label were left out.
struct LabelFilter {
    keep: std::collections::HashSet<String>,
    drop: std::collections::HashSet<String>,
    dropped: std::collections::BTreeMap<String, u64>,
}

impl LabelFilter {
    fn new(args: &ClassifyArgs, labels: &[String]) -> Result<Self> {
        let mut known = labels.to_vec();
        known.push(logsift_core::record::UNCLASSIFIED.to_string());
        Ok(LabelFilter {
            keep: resolve_labels("--keep", &args.keep, &known)?.into_iter().collect(),
            drop: resolve_labels("--drop", &args.drop, &known)?.into_iter().collect(),
            dropped: Default::default(),
        })
    }

    /// The records and decisions to write.
    fn apply(&mut self, batch: Vec<Record>, decisions: Vec<logsift_core::Decision>) -> (Vec<Record>, Vec<logsift_core::Decision>) {
        if self.keep.is_empty() && self.drop.is_empty() {
            return (batch, decisions);
        }
        let (mut kept_r, mut kept_d) = (Vec::with_capacity(batch.len()), Vec::with_capacity(batch.len()));
        for (r, d) in batch.into_iter().zip(decisions) {
            let label: &str = &d.label;
            if (self.keep.is_empty() || self.keep.contains(label)) && !self.drop.contains(label) {
                kept_r.push(r);
                kept_d.push(d);
            } else {
                *self.dropped.entry(label.to_string()).or_default() += 1;
            }
        }
        (kept_r, kept_d)
    }
}
