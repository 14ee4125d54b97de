//! `logsift classify`.

use logsift_core::mask::Templates;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::io::{CsvOutput, Format, InputOptions, Joiner, JsonlOutput, Multiline, RecordWriter, TEMPLATE_COLUMNS};
use logsift_core::pipeline::{Stats, DEFAULT_CACHE_CAPACITY};
use logsift_core::{Record, TierKind};

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

/// Records a chunk of the reader's [`Handoff`] holds at most.
const CHUNK: usize = 256;

/// The reader thread's records on their way to the classifying loop (the
/// way back, written batches to be refilled or freed, is a channel of its
/// own that the reader thread holds).
///
/// On the 1M-line resample the kernel's wake-ups and context switches were
/// an eighth of the samples (`perf record`): the loop drained a
/// one-record-a-message channel faster than CSV is parsed and slept, so
/// nearly every record woke it; and the writer thread freed the rows the
/// reader had allocated, which in glibc's `malloc` takes the reader's arena
/// lock, so the two threads woke each other through that lock too. Records
/// now travel in chunks of up to [`CHUNK`], sent when full, when the input
/// is about to be read again ([`input::BeforeRead`]: a record never waits
/// for input that may not come, a quiet pipe or a followed file), after an
/// error, and at the end; and the writer sends each written batch back to
/// the reader, which reads the next CSV rows into their strings
/// ([`logsift_core::io::Records::reuse`]; other formats free them there).
/// The scheduler's samples fell from 13 % to 4 %, and with the reuse
/// `malloc` and `free`, a third of the reader's time, went too
/// (BENCHMARKS.md).
struct Handoff {
    pending: Mutex<Vec<Result<Record>>>,
    tx: std::sync::mpsc::SyncSender<Vec<Result<Record>>>,
}

impl Handoff {
    /// Adds a record, sending the chunk when it is full; false when the
    /// classifying loop has gone.
    fn push(&self, item: Result<Record>) -> bool {
        let full = {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.push(item);
            pending.len() >= CHUNK
        };
        !full || self.flush()
    }

    /// Sends what is pending (blocking while the queue is full); false when
    /// the classifying loop has gone.
    fn flush(&self) -> bool {
        let chunk = {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if pending.is_empty() {
                return true;
            }
            std::mem::replace(&mut *pending, Vec::with_capacity(CHUNK))
        };
        self.tx.send(chunk).is_ok()
    }
}

/// Longest time a record waits in a partly filled batch.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// How long a held multi-line event waits for its next line on a quiet input
/// before it is taken as complete.
const EVENT_QUIET: Duration = Duration::from_millis(200);
/// How often an idle reader loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

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
    let known = {
        let mut k = loaded.bundle.known_labels();
        k.push(logsift_core::record::UNCLASSIFIED.to_string());
        k
    };
    let keep_names = resolve_labels("--keep", &args.keep, &known)?;
    let drop_names = resolve_labels("--drop", &args.drop, &known)?;
    let inputs = if args.inputs.is_empty() { vec!["-".to_string()] } else { args.inputs.clone() };
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        bail!("stdin (-) can be read only once");
    }
    if args.follow.is_some() && args.inputs.iter().any(|i| i != "-") {
        bail!("--follow FILE reads one file; give no other inputs");
    }
    let opts = args.read.options();
    let out_path = args.output.clone().filter(|o| o != "-");
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
    let out_format = match args.output_format {
        Some(f) => Format::from(f),
        None => match out_path.as_deref().and_then(Format::from_path) {
            Some(Format::Csv) => Format::Csv,
            Some(_) => Format::Jsonl,
            None if first.format == Format::Csv => Format::Csv,
            None => Format::Jsonl,
        },
    };
    if out_format == Format::Text {
        bail!("--output-format text is not supported: the output carries labels (use csv or jsonl)");
    }
    // (Stdout unlocked: the writer thread owns the sink, and both outputs
    // buffer, so the lock is taken once a buffer, not once a row.)
    let sink: Box<dyn Write + Send> = match &out_path {
        Some(p) => Box::new(File::create(p).with_context(|| format!("cannot create output {p}"))?),
        None => Box::new(std::io::stdout()),
    };
    let csv_headers = first.headers.clone();
    // Text lines are joined into events here, not on the reader thread, so
    // that an event held for its next line can be let go when input goes quiet.
    let mut joiner = (first.format == Format::Text && !matches!(args.multiline, Multiline::Off))
        .then(|| Joiner::new(args.multiline.clone(), opts.max_line_bytes));
    if let Some(h) = &csv_headers {
        let mut renamed = CsvOutput::<Vec<u8>>::renamed(h);
        if args.with_template {
            renamed.extend(h.iter().filter(|c| TEMPLATE_COLUMNS.contains(&c.trim())).cloned());
        }
        if !renamed.is_empty() {
            eprintln!("logsift: warning: input column(s) {renamed:?} renamed to <name>_input in the output");
        }
    }
    let templates = args.with_template.then(|| Templates::new(loaded.bundle.masker()));
    let mut writer: Box<dyn RecordWriter + Send> = match (out_format, templates) {
        (Format::Csv, t) => {
            let mut w = CsvOutput::new(sink, csv_headers.as_deref());
            if let Some(t) = t {
                w = w.with_templates(t);
            }
            if joiner.is_some() {
                w = w.with_spans();
            }
            Box::new(w)
        }
        (_, None) => Box::new(JsonlOutput::new(sink)),
        (_, Some(t)) => Box::new(JsonlOutput::new(sink).with_templates(t)),
    };

    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {pos} rows ({per_sec}) {elapsed}").expect("valid template"));
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    });

    // A batch is classified and written when it is full or `FLUSH_EVERY`
    // after its first record, whichever comes first.
    let reader = {
        let (inputs, stop, format, opts, csv_headers, out_format) =
            (inputs.clone(), stop.clone(), args.format.map(Format::from), opts.clone(), csv_headers.clone(), out_format);
        // (`recycled`: the batches the writer has written, back to be reused or freed here.)
        let (handoff, before_read, recycled) = (handoff, before_read, recycled);
        let mut opened = Some(first);
        std::thread::spawn(move || {
            for path in &inputs {
                let inp = match opened.take() {
                    Some(o) => o,
                    None => match input::open_hooked(path, format, &opts, Some(before_read.clone())) {
                        Ok(o) if o.headers != csv_headers && out_format == Format::Csv && csv_headers.is_some() => {
                            handoff.push(Err(anyhow::anyhow!(
                                "{}: its columns {:?} differ from those of {} ({:?}); classify CSV files with different columns separately",
                                o.name,
                                o.headers.unwrap_or_default(),
                                inputs[0],
                                csv_headers.clone().unwrap_or_default()
                            )));
                            handoff.flush();
                            return;
                        }
                        Ok(o) => o,
                        Err(e) => {
                            handoff.push(Err(e));
                            handoff.flush();
                            return;
                        }
                    },
                };
                let mut records = inp.records;
                let mut read = 0usize;
                while let Some(r) = records.next() {
                    // A bad row names its input itself (`BadRow::file`).
                    let item = r.map_err(anyhow::Error::from);
                    let failed = item.is_err();
                    if !handoff.push(item) || failed || stop.load(Ordering::Relaxed) {
                        handoff.flush();
                        return;
                    }
                    read += 1;
                    if read.is_multiple_of(CHUNK) {
                        recycled.try_iter().for_each(|batch| records.reuse(batch));
                    }
                }
            }
            handoff.flush();
        })
    };

    // Batches are written, in order, on a thread of their own while the next
    // is classified (the main thread was the stream's bottleneck: writing
    // CSV took a fifth of its time). Two batches wait at most; each is
    // flushed when written, so live input shows up as it is classified.
    let (out_tx, out_rx) = std::sync::mpsc::sync_channel::<(Vec<Record>, Vec<logsift_core::Decision>, usize)>(2);
    let writing = {
        let progress = progress.clone();
        std::thread::Builder::new().name("logsift-writer".into()).spawn(move || -> std::io::Result<()> {
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
        })?
    };
    let keep: std::collections::HashSet<&str> = keep_names.iter().map(String::as_str).collect();
    let drop_labels: std::collections::HashSet<&str> = drop_names.iter().map(String::as_str).collect();
    let mut dropped: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let mut bad_shown = 0usize;
    let mut ended = false;
    let mut failure = None;
    let mut last_line = Instant::now();
    // Whether the loop has found no record waiting since the last one arrived.
    let mut idle = false;
    // The records of the last chunk received not yet taken into a batch.
    let mut waiting: std::vec::IntoIter<Result<Record>> = Vec::new().into_iter();
    while !ended {
        let mut batch: Vec<Record> = Vec::with_capacity(batch_size.min(1 << 16));
        let mut deadline: Option<Instant> = None;
        loop {
            // Records waiting are taken without a clock reading; only when
            // none waits does the loop read the clock and block. The quiet
            // that releases a held event then starts (the last line arrived
            // no later than now).
            let next = match waiting.next() {
                Some(item) => Ok(item),
                None => {
                    let chunk = match rx.try_recv() {
                        Ok(chunk) => Ok(chunk),
                        Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                        Err(TryRecvError::Empty) => {
                            let now = Instant::now();
                            if !idle {
                                last_line = now;
                                idle = true;
                            }
                            rx.recv_timeout(deadline.map_or(POLL, |d| d.saturating_duration_since(now)))
                        }
                    };
                    // (Chunks are never empty; one would count as a quiet poll.)
                    chunk.and_then(|c| {
                        waiting = c.into_iter();
                        waiting.next().ok_or(RecvTimeoutError::Timeout)
                    })
                }
            };
            idle &= next.is_err();
            match next {
                Ok(Ok(r)) => {
                    match joiner.as_mut() {
                        Some(j) => j.push(r, &mut batch),
                        None => batch.push(r),
                    }
                    if !batch.is_empty() {
                        deadline.get_or_insert_with(|| Instant::now() + FLUSH_EVERY);
                    }
                    if batch.len() >= batch_size {
                        break;
                    }
                }
                Ok(Err(e)) => {
                    // Write what was read before the fault, then report it.
                    batch.extend(joiner.as_mut().and_then(Joiner::finish));
                    failure = Some(e);
                    ended = true;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(j) = joiner.as_mut().filter(|j| j.holding() && last_line.elapsed() >= EVENT_QUIET) {
                        batch.extend(j.finish());
                        deadline.get_or_insert_with(Instant::now);
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    if deadline.is_none() && stop.load(Ordering::Relaxed) {
                        // Stopped, and nothing read is waiting: the reader may be blocked on input.
                        batch.extend(joiner.as_mut().and_then(Joiner::finish));
                        ended = true;
                        break;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    batch.extend(joiner.as_mut().and_then(Joiner::finish));
                    ended = true;
                    break;
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        // A bad row under --on-error fail ends the run after what was
        // written before its batch (the writer is drained below, not left).
        let mut refused = None;
        for (row, bad) in batch.iter().filter_map(|r| r.invalid.as_ref().map(|b| (r.row, b))) {
            let bad = input::bad_row(row, bad);
            match args.read.on_error {
                OnError::Fail => {
                    refused = Some(anyhow::anyhow!("{bad} (use --on-error skip to write such rows as Unclassified and go on)"));
                    break;
                }
                OnError::Skip => {
                    if bad_shown < 20 {
                        eprintln!("logsift: {bad}; written as Unclassified");
                    } else if bad_shown == 20 {
                        eprintln!("logsift: more bad rows; the count is in the summary");
                    }
                    bad_shown += 1;
                }
            }
        }
        if let Some(e) = refused {
            failure = Some(e);
            break;
        }
        let decisions = loaded.pipeline.classify(&batch);
        let read = batch.len();
        let (batch, decisions) = if keep.is_empty() && drop_labels.is_empty() {
            (batch, decisions)
        } else {
            let (mut kept_r, mut kept_d) = (Vec::with_capacity(batch.len()), Vec::with_capacity(batch.len()));
            for (r, d) in batch.into_iter().zip(decisions) {
                let label: &str = &d.label;
                if (keep.is_empty() || keep.contains(label)) && !drop_labels.contains(label) {
                    kept_r.push(r);
                    kept_d.push(d);
                } else {
                    *dropped.entry(label.to_string()).or_default() += 1;
                }
            }
            (kept_r, kept_d)
        };
        if out_tx.send((batch, decisions, read)).is_err() {
            break; // the writer failed: its error is reported below
        }
    }
    drop(out_tx);
    let written = writing.join().unwrap_or_else(|_| Err(std::io::Error::other("the writer thread panicked")));
    written.with_context(|| format!("cannot write output {}", out_path.as_deref().unwrap_or("<stdout>")))?;
    drop(rx);
    if !stop.load(Ordering::Relaxed) {
        let _ = reader.join();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    let stats = loaded.pipeline.stats();
    if stop.load(Ordering::Relaxed) && !args.quiet {
        eprintln!("logsift: stopped by a signal; every record read was written");
    }
    if stats.records == 0 && !stop.load(Ordering::Relaxed) {
        eprintln!("logsift: warning: no data rows in the input");
    }
    if !args.quiet {
        print_summary(&stats, start.elapsed(), &loaded.bundle.dir.display().to_string(), loaded.llm.is_some());
        if let Some(llm) = &loaded.llm {
            eprintln!("  {}", crate::llm::summary(llm));
        }
    }
    if !dropped.is_empty() {
        let total: u64 = dropped.values().sum();
        let each: Vec<String> = dropped.iter().map(|(l, n)| format!("{l}: {n}")).collect();
        eprintln!("logsift: filtered out {total} lines ({})", each.join(", "));
    }
    Ok(())
}
