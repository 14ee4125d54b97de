//! Reading records from CSV, JSON Lines and plain text, and writing them back
//! with their decisions.
//!
//! Readers never stop on a bad row: a row that cannot be classified (ragged,
//! invalid UTF-8, a NUL byte, over the length limit, not a JSON object) comes
//! out as a [`Record`] with `invalid` set, in its place, keeping what could be
//! read of it. Only whole-input problems (unreadable file, no header, no
//! `log_message` column) are errors. Whether a bad row stops the run is the
//! caller's choice.

use std::io::{BufRead, Read, Write};

use serde_json::{Map, Value};

use std::sync::Arc;

use crate::record::{BadRow, Decision, Passthrough, Place, Problem, Record};

/// Input and output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180).
    Csv,
    /// One JSON object a line.
    Jsonl,
    /// One log line a line.
    Text,
}

impl Format {
    /// The format a file name suggests (`.csv`, `.jsonl`/`.ndjson`/`.json`, `.log`/`.txt`).
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "log" | "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Column names and limits for reading.
#[derive(Clone, Debug)]
pub struct InputOptions {
    /// Column / field of the source (`source`).
    pub source_field: String,
    /// Column / field of the line (`log_message`).
    pub message_field: String,
    /// Source for records that have none (plain text, no source column).
    pub default_source: String,
    /// Lines longer than this (bytes) are invalid.
    pub max_line_bytes: usize,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            source_field: "source".into(),
            message_field: "log_message".into(),
            default_source: String::new(),
            max_line_bytes: 64 * 1024,
        }
    }
}

/// An input that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Reading failed.
    #[error("{file}: {source}")]
    Io {
        /// The input.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No header row.
    #[error("{file}: the file is empty (a CSV input needs a header row with a '{column}' column)")]
    Empty {
        /// The input.
        file: String,
        /// The required column.
        column: String,
    },
    /// The required column is missing.
    #[error("{file}: no '{column}' column; the header has {found:?}")]
    MissingColumn {
        /// The input.
        file: String,
        /// The column looked for.
        column: String,
        /// The columns found.
        found: Vec<String>,
    },
    /// The CSV parser failed.
    #[error("{file}: row {row}: {message}")]
    Csv {
        /// The input.
        file: String,
        /// 1-based data row.
        row: u64,
        /// What failed.
        message: String,
    },
}

fn check_text(bytes: &[u8], place: Place, problems: &mut Vec<Problem>) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            if s.contains('\0') {
                problems.push(Problem::Nul { place });
            }
            s.to_string()
        }
        Err(e) => {
            problems.push(Problem::InvalidUtf8 { place, at: e.valid_up_to() });
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

/// The message's length against the limit.
pub fn check_length(message: &str, max: usize, problems: &mut Vec<Problem>) {
    if message.len() > max {
        problems.push(Problem::TooLong { bytes: message.len(), max });
    }
}

/// Records from a CSV input.
pub struct CsvInput<R: Read> {
    rdr: csv::Reader<QuoteWatch<LineCap<R>>>,
    cut: std::sync::Arc<std::sync::Mutex<Vec<(u64, usize)>>>,
    unclosed: std::sync::Arc<std::sync::Mutex<Option<Unclosed>>>,
    file: Arc<str>,
    headers: Vec<String>,
    message_idx: usize,
    source_idx: Option<usize>,
    row: u64,
    opts: InputOptions,
    record: csv::ByteRecord,
}

impl<R: Read> CsvInput<R> {
    /// Reads the header row; `file` names the input in messages.
    pub fn new(reader: R, file: &str, opts: InputOptions) -> Result<Self, InputError> {
        let cap = LineCap::new(reader, opts.max_line_bytes.saturating_mul(16).max(4 << 20));
        let cut = cap.cut.clone();
        let watch = QuoteWatch::new(cap);
        let unclosed = watch.unclosed.clone();
        let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(watch);
        let raw = rdr
            .byte_headers()
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(source) => InputError::Io { file: file.into(), source },
                other => InputError::Csv { file: file.into(), row: 0, message: format!("{other:?}") },
            })?
            .clone();
        if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
            return Err(InputError::Empty { file: file.into(), column: opts.message_field.clone() });
        }
        let mut headers: Vec<String> = raw.iter().map(|h| String::from_utf8_lossy(h).into_owned()).collect();
        if let Some(first) = headers.first_mut() {
            if let Some(stripped) = first.strip_prefix('\u{feff}') {
                *first = stripped.to_string();
            }
        }
        let find = |name: &str| headers.iter().position(|h| h.trim() == name);
        let message_idx = find(&opts.message_field).ok_or_else(|| InputError::MissingColumn {
            file: file.into(),
            column: opts.message_field.clone(),
            found: headers.clone(),
        })?;
        let source_idx = find(&opts.source_field);
        Ok(CsvInput {
            rdr,
            cut,
            unclosed,
            file: file.into(),
            headers,
            message_idx,
            source_idx,
            row: 0,
            opts,
            record: csv::ByteRecord::new(),
        })
    }

    /// The header row.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Whether the input has a source column.
    pub fn has_source(&self) -> bool {
        self.source_idx.is_some()
    }
}

impl<R: Read> Iterator for CsvInput<R> {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rdr.read_byte_record(&mut self.record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(e) => {
                self.row += 1;
                let row = self.row;
                return Some(Err(match e.into_kind() {
                    csv::ErrorKind::Io(source) => InputError::Io { file: self.file.to_string(), source },
                    other => InputError::Csv { file: self.file.to_string(), row, message: format!("{other:?}") },
                }));
            }
        }
        self.row += 1;
        let mut problems = vec![];
        // Physical lines of this row that were cut at the reader's cap.
        let (start, end) = (self.record.position().map_or(0, |p| p.byte()), self.rdr.position().byte());
        // (The reader may have read ahead: cuts past this row stay for later rows.)
        self.cut.lock().expect("cut list").retain(|&(at, len)| {
            if at > end {
                return true;
            }
            if at >= start {
                problems.push(Problem::LineCut { bytes: len });
            }
            false
        });
        // A quote still open at the end of the input swallowed every line
        // after it into this, the last row: say so rather than pass it on.
        if let Some(u) = *self.unclosed.lock().expect("quote state") {
            if end >= u.end_offset {
                problems.push(Problem::UnclosedQuote { open_line: u.open_line, last_line: u.last_line });
            }
        }
        let width = self.headers.len();
        let mut columns: Vec<String> =
            self.record.iter().enumerate().map(|(i, f)| check_text(f, Place::Column(i + 1), &mut problems)).collect();
        if columns.len() != width {
            let line = self.record.position().map_or(0, |p| p.line());
            problems.push(Problem::Ragged { fields: columns.len(), width, line });
            if columns.len() > width && width > 0 {
                // Most often an unquoted comma in the last field: keep the text.
                let extra = columns.split_off(width);
                let last = columns.last_mut().expect("width > 0");
                for e in extra {
                    last.push(',');
                    last.push_str(&e);
                }
            }
            columns.resize(width, String::new());
        }
        let message = columns[self.message_idx].clone();
        check_length(&message, self.opts.max_line_bytes, &mut problems);
        let source = self.source_idx.map_or_else(|| self.opts.default_source.clone(), |i| columns[i].clone());
        Some(Ok(Record {
            row: self.row,
            source,
            message,
            passthrough: Passthrough::Columns(columns),
            invalid: BadRow::from_problems(Some(self.file.clone()), problems),
        }))
    }
}

/// Where a CSV input ended inside a quoted field.
#[derive(Clone, Copy, Debug)]
struct Unclosed {
    /// 1-based physical line where the quote opened.
    open_line: u64,
    /// The input's last physical line.
    last_line: u64,
    /// Bytes read in all.
    end_offset: u64,
}

/// Follows the CSV quoting of the bytes read through it (RFC 4180, as the
/// `csv` crate parses it: a quote opens a field only at its start, `""`
/// inside is one quote) and records where the input ends inside a quoted
/// field. The `csv` crate takes such a field to the end of the input
/// without an error, silently merging every later line into one row.
struct QuoteWatch<R: Read> {
    inner: R,
    /// 0: at a field's start, 1: in an unquoted field, 2: in a quoted field,
    /// 3: just after a quote inside a quoted field.
    state: u8,
    line: u64,
    open_line: u64,
    pos: u64,
    last_was_newline: bool,
    unclosed: std::sync::Arc<std::sync::Mutex<Option<Unclosed>>>,
}

impl<R: Read> QuoteWatch<R> {
    fn new(inner: R) -> Self {
        QuoteWatch { inner, state: 0, line: 1, open_line: 0, pos: 0, last_was_newline: true, unclosed: Default::default() }
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        if n == 0 {
            if self.state == 2 && !out.is_empty() {
                let last_line = if self.last_was_newline { self.line - 1 } else { self.line };
                *self.unclosed.lock().expect("quote state") =
                    Some(Unclosed { open_line: self.open_line, last_line: last_line.max(self.open_line), end_offset: self.pos });
            }
            return Ok(0);
        }
        for &b in &out[..n] {
            self.state = match (self.state, b) {
                (2, b'"') => 3,
                (2, _) => 2,
                (0, b'"') => {
                    self.open_line = self.line;
                    2
                }
                (3, b'"') => 2,
                (_, b',' | b'\n' | b'\r') => 0,
                _ => 1,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        self.pos += n as u64;
        self.last_was_newline = out[n - 1] == b'\n';
        Ok(n)
    }
}

/// A reader that passes through at most `cap` bytes of each physical line
/// and skips the rest (keeping the newline), noting where it cut: a 100 MB
/// line is never held in memory whole, and the row it belongs to is
/// reported.
pub struct LineCap<R: Read> {
    inner: std::io::BufReader<R>,
    cap: usize,
    /// Bytes of the current line passed through so far.
    in_line: usize,
    /// Bytes of the current line in the input, passed through or not.
    line_len: usize,
    /// Output offset of the current line's start.
    line_start: u64,
    out_pos: u64,
    skipping: bool,
    /// (output offset of the cut line's start, its length in the input).
    cut: std::sync::Arc<std::sync::Mutex<Vec<(u64, usize)>>>,
}

impl<R: Read> LineCap<R> {
    /// Caps each line of `inner` at `cap` bytes.
    pub fn new(inner: R, cap: usize) -> Self {
        LineCap {
            inner: std::io::BufReader::with_capacity(1 << 16, inner),
            cap: cap.max(1),
            in_line: 0,
            line_len: 0,
            line_start: 0,
            out_pos: 0,
            skipping: false,
            cut: Default::default(),
        }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() {
                if self.skipping {
                    self.cut.lock().expect("cut list").push((self.line_start, self.line_len));
                    self.skipping = false;
                }
                return Ok(0);
            }
            let nl = avail.iter().position(|&b| b == b'\n');
            let seg = nl.map_or(avail.len(), |i| i + 1);
            if self.skipping {
                // Drop bytes up to the newline, then pass the newline itself.
                match nl {
                    Some(i) => {
                        self.line_len += i + 1;
                        self.inner.consume(i);
                        self.skipping = false;
                        self.cut.lock().expect("cut list").push((self.line_start, self.line_len));
                        self.in_line = self.cap; // the newline below ends the line
                        continue;
                    }
                    None => {
                        let n = avail.len();
                        self.line_len += n;
                        self.inner.consume(n);
                        continue;
                    }
                }
            }
            let room = self.cap.saturating_sub(self.in_line);
            let ends_line = nl.is_some();
            let take = if ends_line && avail[seg - 1] == b'\n' && seg - 1 <= room { seg } else { seg.min(room) };
            if take == 0 && !(ends_line && seg == 1) {
                // The line is over the cap: skip to its newline.
                self.skipping = true;
                continue;
            }
            let take = if take == 0 { 1 } else { take };
            let n = take.min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            self.inner.consume(n);
            let ended = out[..n].last() == Some(&b'\n');
            self.out_pos += n as u64;
            if ended {
                self.in_line = 0;
                self.line_len = 0;
                self.line_start = self.out_pos;
            } else {
                self.in_line += n;
                self.line_len += n;
            }
            return Ok(n);
        }
    }
}

/// Lines of text or JSON Lines as records, from bytes pushed in as they
/// arrive: the one line framer of logsift. [`LineInput`] pulls a reader
/// through it (CLI files and stdin); the service's NDJSON stream pushes
/// request chunks through it. It holds at most `max_line_bytes` (and a
/// newline) of any line, however long the line is; a longer line comes out
/// as a bad record with the length it had and the start that was read.
/// Blank lines are not records, but they count as rows.
pub struct LineDecoder {
    file: Arc<str>,
    json: bool,
    opts: InputOptions,
    /// The current line, through its newline, cut at the cap.
    buf: Vec<u8>,
    /// The current line's whole length so far.
    total: usize,
    row: u64,
}

impl LineDecoder {
    /// JSON Lines (`json = true`) or plain text, from the input named `file`.
    pub fn new(file: &str, json: bool, opts: InputOptions) -> Self {
        LineDecoder { file: file.into(), json, opts, buf: vec![], total: 0, row: 0 }
    }

    fn cap(&self) -> usize {
        self.opts.max_line_bytes.saturating_add(2)
    }

    /// Takes bytes of `data` up to and including its first newline; returns
    /// how many it took, and the record when that ended a line that is one.
    pub fn push(&mut self, data: &[u8]) -> (usize, Option<Record>) {
        let (n, done) = match data.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (data.len(), false),
        };
        let room = self.cap().saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..n.min(room)]);
        self.total += n;
        (n, if done { self.end_line(true) } else { None })
    }

    /// Pushes all of `data`, adding the records of the lines it ends to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Record>) {
        while !data.is_empty() {
            let (n, rec) = self.push(data);
            out.extend(rec);
            data = &data[n..];
        }
    }

    /// The input ended: the record of a last line without a newline, if any.
    pub fn finish(&mut self) -> Option<Record> {
        if self.total == 0 {
            return None;
        }
        self.end_line(false)
    }

    /// The record of the line read; `newline`: it ended with one.
    fn end_line(&mut self, newline: bool) -> Option<Record> {
        self.row += 1;
        let total = std::mem::take(&mut self.total);
        let truncated = total > self.buf.len();
        let mut bytes = std::mem::take(&mut self.buf);
        let rec = if truncated {
            // Cut at a character boundary; say how long the line was.
            while let Err(e) = std::str::from_utf8(&bytes) {
                if e.error_len().is_some() {
                    break;
                }
                bytes.truncate(e.valid_up_to());
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut rec = Record { row: self.row, source: self.opts.default_source.clone(), ..Record::default() };
            if self.json {
                rec.passthrough = Passthrough::Raw(text);
            } else {
                rec.message = text;
            }
            let cut = Problem::Cut { bytes: total - usize::from(newline), max: self.opts.max_line_bytes, read: bytes.len() };
            rec.invalid = BadRow::from_problems(Some(self.file.clone()), vec![cut]);
            Some(rec)
        } else {
            let mut end = bytes.len();
            while end > 0 && (bytes[end - 1] == b'\n' || bytes[end - 1] == b'\r') {
                end -= 1;
            }
            (!bytes[..end].iter().all(u8::is_ascii_whitespace)).then(|| {
                let mut rec = line_record(&bytes[..end], self.json, &self.opts);
                rec.row = self.row;
                if let Some(bad) = rec.invalid.as_mut() {
                    bad.file = Some(self.file.clone());
                }
                rec
            })
        };
        bytes.clear();
        self.buf = bytes; // keep the allocation
        rec
    }
}

/// The record of one line of text or JSON Lines (without its newline), with
/// `invalid` set when it is bad input; `row` and the input's name are the
/// caller's to set.
pub fn line_record(bytes: &[u8], json: bool, opts: &InputOptions) -> Record {
    let mut problems = vec![];
    let text = check_text(bytes, Place::Line, &mut problems);
    let mut rec = Record { source: opts.default_source.clone(), ..Record::default() };
    if !json {
        check_length(&text, opts.max_line_bytes, &mut problems);
        rec.message = text;
    } else {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => {
                rec = json_record(map, opts);
                problems.extend(rec.invalid.take().into_iter().flat_map(|b| b.problems));
            }
            Ok(other) => {
                problems.push(Problem::NotObject(kind_of(&other)));
                rec.passthrough = Passthrough::Raw(text);
            }
            Err(e) => {
                problems.push(Problem::BadJson(e.to_string()));
                rec.passthrough = Passthrough::Raw(text);
            }
        }
    }
    rec.invalid = BadRow::from_problems(None, problems);
    rec
}

/// Records from JSON Lines or plain text (a reader pulled through a
/// [`LineDecoder`]); blank lines are not records.
pub struct LineInput<R: BufRead> {
    reader: R,
    file: String,
    decoder: LineDecoder,
}

impl<R: BufRead> LineInput<R> {
    /// JSON Lines (`json = true`) or plain text.
    pub fn new(reader: R, file: &str, json: bool, opts: InputOptions) -> Self {
        LineInput { reader, file: file.into(), decoder: LineDecoder::new(file, json, opts) }
    }
}

/// The record of one JSON object: a line of JSON Lines, of the service's
/// NDJSON stream, or a worker's message — one decoder, so all three treat a
/// field alike. The message field must be a string; the source field a
/// string, or null or absent for the default source; anything else makes
/// the record bad input (`invalid`), never a guess. The object is kept
/// whole for the output.
pub fn json_record(map: Map<String, Value>, opts: &InputOptions) -> Record {
    let mut problems = vec![];
    let mut rec = Record { source: opts.default_source.clone(), ..Record::default() };
    match map.get(&opts.message_field) {
        Some(Value::String(s)) => rec.message = s.clone(),
        Some(other) => problems.push(Problem::NotString { field: opts.message_field.clone(), kind: kind_of(other), nullable: false }),
        None => problems.push(Problem::MissingField(opts.message_field.clone())),
    }
    match map.get(&opts.source_field) {
        Some(Value::String(s)) => rec.source = s.clone(),
        Some(Value::Null) | None => {}
        Some(other) => problems.push(Problem::NotString { field: opts.source_field.clone(), kind: kind_of(other), nullable: true }),
    }
    if rec.message.contains('\0') {
        problems.push(Problem::Nul { place: Place::Field(opts.message_field.clone()) });
    }
    check_length(&rec.message, opts.max_line_bytes, &mut problems);
    rec.passthrough = Passthrough::Json(map);
    rec.invalid = BadRow::from_problems(None, problems);
    rec
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<R: BufRead> Iterator for LineInput<R> {
    type Item = Result<Record, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => return Some(Err(InputError::Io { file: self.file.clone(), source })),
            };
            if avail.is_empty() {
                return self.decoder.finish().map(Ok);
            }
            let (n, rec) = self.decoder.push(avail);
            self.reader.consume(n);
            if let Some(r) = rec {
                return Some(Ok(r));
            }
        }
    }
}

/// The columns logsift appends to each output record.
pub const OUTPUT_COLUMNS: [&str; 4] = ["target_label", "tier", "confidence", "detail"];

/// Writes records with their decisions.
pub trait RecordWriter {
    /// Writes a batch (one decision per record, same order).
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()>;
    /// Flushes everything written.
    fn finish(&mut self) -> std::io::Result<()>;
}

fn format_confidence(c: f32) -> String {
    format!("{c:.4}")
}

/// CSV output: the input's columns (an input column named like an output
/// column is renamed `<name>_input`), then [`OUTPUT_COLUMNS`].
pub struct CsvOutput<W: Write> {
    w: csv::Writer<W>,
    header: Option<Vec<String>>,
    width: usize,
}

impl<W: Write> CsvOutput<W> {
    /// `input_headers`: the CSV input's header, or `None` for inputs without
    /// columns (then `source,log_message` are written).
    pub fn new(w: W, input_headers: Option<&[String]>) -> Self {
        let mut header: Vec<String> = match input_headers {
            Some(h) => {
                h.iter().map(|c| if OUTPUT_COLUMNS.contains(&c.trim()) { format!("{}_input", c.trim()) } else { c.clone() }).collect()
            }
            None => vec!["source".into(), "log_message".into()],
        };
        let width = header.len();
        header.extend(OUTPUT_COLUMNS.iter().map(|s| s.to_string()));
        CsvOutput { w: csv::WriterBuilder::new().flexible(true).from_writer(w), header: Some(header), width }
    }

    /// The writer under it, flushed (call [`RecordWriter::finish`] first).
    pub fn into_inner(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }

    /// The names of input columns that were renamed because they collide with output columns.
    pub fn renamed(input_headers: &[String]) -> Vec<String> {
        input_headers.iter().filter(|c| OUTPUT_COLUMNS.contains(&c.trim())).cloned().collect()
    }

    fn write_header(&mut self) -> std::io::Result<()> {
        if let Some(h) = self.header.take() {
            self.w.write_record(&h).map_err(csv_io)?;
        }
        Ok(())
    }
}

/// A CSV writer's error as the I/O error under it, kind kept: a closed pipe
/// stays `BrokenPipe` (which the CLI ends on quietly), not `Other`.
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> RecordWriter for CsvOutput<W> {
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()> {
        self.write_header()?;
        for (r, d) in records.iter().zip(decisions) {
            let conf = format_confidence(d.confidence);
            let tail = [&*d.label, d.tier.as_str(), conf.as_str(), d.detail.as_str()];
            match &r.passthrough {
                Passthrough::Columns(cols) if cols.len() == self.width => {
                    self.w.write_record(cols.iter().map(String::as_str).chain(tail)).map_err(csv_io)?;
                }
                _ => {
                    let mut row: Vec<&str> = vec![&r.source, &r.message];
                    row.resize(self.width, "");
                    self.w.write_record(row.into_iter().chain(tail)).map_err(csv_io)?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.write_header()?;
        self.w.flush()
    }
}

/// JSON Lines output: the input object (or `source` and `log_message`) plus
/// the output fields.
pub struct JsonlOutput<W: Write> {
    w: std::io::BufWriter<W>,
}

impl<W: Write> JsonlOutput<W> {
    /// A writer.
    pub fn new(w: W) -> Self {
        JsonlOutput { w: std::io::BufWriter::new(w) }
    }
}

/// The JSON object for one record and its decision.
pub fn json_object(r: &Record, d: &Decision) -> Map<String, Value> {
    let mut obj = match &r.passthrough {
        Passthrough::Json(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                let key = if OUTPUT_COLUMNS.contains(&k.as_str()) { format!("{k}_input") } else { k.clone() };
                m.insert(key, v.clone());
            }
            m
        }
        Passthrough::Raw(text) => {
            let mut m = Map::new();
            m.insert("raw".into(), Value::String(text.clone()));
            m
        }
        _ => {
            let mut m = Map::new();
            m.insert("source".into(), Value::String(r.source.clone()));
            m.insert("log_message".into(), Value::String(r.message.clone()));
            m
        }
    };
    obj.insert("target_label".into(), Value::String(d.label.to_string()));
    obj.insert("tier".into(), Value::String(d.tier.as_str().into()));
    let conf = (d.confidence as f64 * 10_000.0).round() / 10_000.0;
    obj.insert("confidence".into(), serde_json::Number::from_f64(conf).map_or(Value::Null, Value::Number));
    obj.insert("detail".into(), Value::String(d.detail.as_str().into()));
    obj
}

impl<W: Write> RecordWriter for JsonlOutput<W> {
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()> {
        for (r, d) in records.iter().zip(decisions) {
            serde_json::to_writer(&mut self.w, &json_object(r, d))?;
            self.w.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(r: &Record) -> Option<String> {
        r.invalid.as_ref().map(ToString::to_string)
    }

    /// A reader of `n` bytes of 'x' (and then a newline and a short line),
    /// produced on the fly: nothing of that size is ever in the test's memory.
    struct Huge {
        left: u64,
        tail: &'static [u8],
    }

    impl Read for Huge {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.left > 0 {
                let n = (self.left as usize).min(out.len());
                out[..n].fill(b'x');
                self.left -= n as u64;
                return Ok(n);
            }
            let n = self.tail.len().min(out.len());
            out[..n].copy_from_slice(&self.tail[..n]);
            self.tail = &self.tail[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_100_mb_text_line_is_cut_reported_and_the_next_line_read() {
        let reader = std::io::BufReader::new(Huge { left: 100 << 20, tail: b"\nnext line\n" });
        let mut input = LineInput::new(reader, "big.log", false, InputOptions::default());
        let first = input.next().unwrap().unwrap();
        assert!(first.message.len() <= 64 * 1024 + 2, "only the start is kept: {}", first.message.len());
        let why = first.invalid.unwrap().to_string();
        assert!(why.contains("line is 104857600 bytes") && why.contains("over the limit of 65536"), "{why}");
        let second = input.next().unwrap().unwrap();
        assert_eq!((second.row, second.message.as_str(), second.invalid), (2, "next line", None));
        assert!(input.next().is_none());
    }

    #[test]
    fn a_100_mb_csv_line_is_cut_and_its_row_reported_in_place() {
        let head: &'static [u8] = b"source,log_message\nA,";
        let reader = std::io::Cursor::new(head).chain(Huge { left: 100 << 20, tail: b"\nB,short line\n" });
        let rows: Vec<Record> = CsvInput::new(reader, "big.csv", InputOptions::default()).unwrap().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].message.len() <= 4 << 20, "not read whole: {}", rows[0].message.len());
        assert!(why(&rows[0]).unwrap().contains("over the reading limit"), "{:?}", rows[0].invalid);
        assert_eq!((rows[1].source.as_str(), rows[1].message.as_str(), rows[1].invalid.clone()), ("B", "short line", None));
    }

    #[test]
    fn the_line_cap_passes_short_lines_untouched() {
        let text = b"a,b\n\"quoted\nfield\",x\nlast";
        let mut out = vec![];
        LineCap::new(&text[..], 1 << 20).read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        let mut out = vec![];
        let cap = LineCap::new(&b"0123456789\nab\n"[..], 4);
        let cut = cap.cut.clone();
        let mut cap = cap;
        cap.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"0123\nab\n");
        assert_eq!(*cut.lock().unwrap(), vec![(0, 11)]);
    }

    fn csv_records(text: &[u8]) -> Result<Vec<Record>, InputError> {
        CsvInput::new(text, "in.csv", InputOptions::default())?.collect()
    }

    #[test]
    fn a_quote_left_open_is_named_not_merged_silently() {
        // The quote opens on line 3 (the row of source A) and is never
        // closed: the csv parser reads lines 3-13 as one field.
        let mut text = String::from("source,log_message\nZ,first\nA,\"hello\n");
        for i in 0..10 {
            text.push_str(&format!("B{i},fine\n"));
        }
        let recs = csv_records(text.as_bytes()).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].invalid, None);
        let why = why(&recs[1]).expect("the open quote is reported");
        assert!(why.contains("quote opened on line 3 is never closed") && why.contains("lines 3–13"), "{why}");
        // Quotes inside an unquoted field, doubled quotes and quoted newlines
        // are fine, as is a last line without a newline.
        let ok = "source,log_message\nA,say \"hi\nB,\"x \"\"y\"\" \nz\"\nC,\"done\"";
        let recs = csv_records(ok.as_bytes()).unwrap();
        assert_eq!(recs.len(), 3);
        assert!(recs.iter().all(|r| r.invalid.is_none()), "{:?}", recs.iter().map(|r| &r.invalid).collect::<Vec<_>>());
    }

    #[test]
    fn csv_quoting_round_trips() {
        let input = "source,log_message,extra\nA,\"a, \"\"quoted\"\"\nmulti-line\",x\n";
        let recs = csv_records(input.as_bytes()).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].message, "a, \"quoted\"\nmulti-line");
        let mut out = vec![];
        {
            let mut w = CsvOutput::new(&mut out, Some(&["source".into(), "log_message".into(), "extra".into()]));
            w.write_batch(&recs, &[Decision::unclassified("r")]).unwrap();
            w.finish().unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "source,log_message,extra,target_label,tier,confidence,detail\nA,\"a, \"\"quoted\"\"\nmulti-line\",x,Unclassified,none,0.0000,r\n"
        );
    }

    #[test]
    fn bad_rows_are_marked_not_dropped() {
        let mut input = b"source,log_message\nA,fine\nB,bad \xff byte\nC\nD,x,y\nE,nul\0\n".to_vec();
        input.extend(b"F,");
        input.extend(vec![b'a'; 70_000]);
        input.push(b'\n');
        let recs = csv_records(&input).unwrap();
        assert_eq!(recs.len(), 6);
        assert!(recs[0].invalid.is_none());
        assert!(why(&recs[1]).unwrap().contains("invalid UTF-8 in column 2"));
        // Typed, so the service can name the column without reading the text.
        assert_eq!(recs[1].invalid.as_ref().and_then(BadRow::place), Some(Place::Column(2)));
        assert_eq!(recs[1].invalid.as_ref().and_then(|b| b.file.as_deref().map(str::to_string)).as_deref(), Some("in.csv"));
        assert!(why(&recs[2]).unwrap().contains("row has 1 fields, the header has 2"));
        assert_eq!(recs[3].message, "x,y", "extra fields are kept in the last column");
        assert!(why(&recs[4]).unwrap().contains("NUL byte"));
        assert!(why(&recs[5]).unwrap().contains("over the limit of 65536"));
        assert_eq!(recs.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn whole_input_errors() {
        let e = csv_records(b"").unwrap_err().to_string();
        assert!(e.contains("in.csv") && e.contains("empty"), "{e}");
        let e = csv_records(b"source,message\nA,x\n").unwrap_err().to_string();
        assert!(e.contains("no 'log_message' column") && e.contains("\"message\""), "{e}");
        assert!(csv_records(b"source,log_message\n").unwrap().is_empty());
        let bom = csv_records("\u{feff}log_message\nx\n".as_bytes()).unwrap();
        assert_eq!(bom[0].message, "x");
    }

    #[test]
    fn one_json_decoder_treats_fields_alike() {
        let opts = InputOptions::default();
        let obj = |t: &str| match serde_json::from_str::<Value>(t).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let r = json_record(obj(r#"{"source":"a","log_message":"b","x":1}"#), &opts);
        assert_eq!((r.source.as_str(), r.message.as_str(), why(&r).as_deref()), ("a", "b", None));
        let r = json_record(obj(r#"{"source":null,"log_message":"b"}"#), &opts);
        assert_eq!((r.source.as_str(), why(&r).as_deref()), ("", None));
        let r = json_record(obj(r#"{"source":7,"log_message":"b"}"#), &opts);
        assert_eq!(why(&r).as_deref(), Some("field 'source' is not a string or null but a number"));
        let r = json_record(obj(r#"{"log_message":["b"]}"#), &opts);
        assert_eq!(why(&r).as_deref(), Some("field 'log_message' is not a string but an array"));
        let r = json_record(obj(r#"{"log_message":"a\u0000b"}"#), &opts);
        assert_eq!(why(&r).as_deref(), Some("NUL byte in 'log_message'"));
    }

    #[test]
    fn jsonl_and_text() {
        let input = b"{\"source\":\"S\",\"log_message\":\"m1\",\"id\":7}\n\n[1]\nnot json\n{\"log_message\":3}\n";
        let recs: Vec<Record> = LineInput::new(&input[..], "in.jsonl", true, InputOptions::default()).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 4, "blank lines are not records");
        assert_eq!((recs[0].source.as_str(), recs[0].message.as_str(), recs[0].row), ("S", "m1", 1));
        assert!(why(&recs[1]).unwrap().contains("not a JSON object but an array"));
        assert!(why(&recs[2]).unwrap().contains("not valid JSON"));
        assert!(why(&recs[3]).unwrap().contains("not a string"));
        let obj = json_object(&recs[0], &Decision::unclassified("r"));
        assert_eq!(obj["id"], 7);
        assert_eq!(obj["target_label"], "Unclassified");
        let text: Vec<Record> =
            LineInput::new(&b"a\r\nb\n"[..], "in.log", false, InputOptions::default()).collect::<Result<_, _>>().unwrap();
        assert_eq!(text.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }
}
