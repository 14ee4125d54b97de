//! CSV input: rows as records, bad rows marked in place, lines capped.

use std::io::{BufRead, Read};
use std::sync::Arc;

use super::*;
use crate::record::{BadRow, Columns, Fault, Passthrough, Place, Record};

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
    /// Records given back ([`super::Records::reuse`]), refilled by `next`.
    spares: Vec<Record>,
}

/// Spare records a CSV reader keeps at most (a batch of the CLI's; about
/// 0.4 MB of strings for rows of 150 bytes); more are dropped.
const MAX_SPARES: usize = 1024;
/// A spare whose row was longer than this is dropped, not kept: one rare
/// long row must not keep its room for the rest of the run.
const MAX_SPARE_ROW: usize = 2 << 10;

impl<R: Read> CsvInput<R> {
    /// Reads the header row; `file` names the input in messages.
    pub fn new(reader: R, file: &str, opts: InputOptions) -> Result<Self, InputError> {
        let max = opts.max_line_bytes.saturating_mul(16).max(4 << 20);
        let cap = LineCap::new(reader, max);
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
        let header_end = rdr.position().byte();
        if let Some(&(_, bytes)) = cut.lock().expect("cut list").iter().find(|&&(at, _)| at < header_end) {
            return Err(InputError::HeaderTooLong { file: file.into(), bytes, max });
        }
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
            spares: Vec::new(),
        })
    }

    /// Keeps records (written ones) whose strings the next rows are read
    /// into: no allocation a row once the stream runs, and no row freed on
    /// another thread than the one that allocated it.
    pub(super) fn keep_spares(&mut self, records: Vec<Record>) {
        let room = MAX_SPARES.saturating_sub(self.spares.len());
        let small = |r: &Record| matches!(&r.passthrough, Passthrough::Columns(c) if c.capacity() <= MAX_SPARE_ROW);
        self.spares.extend(records.into_iter().filter(small).take(room));
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
                problems.push(Fault::LineCut { bytes: len });
            }
            false
        });
        // A quote still open at the end of the input swallowed every line
        // after it into this, the last row: say so rather than pass it on.
        if let Some(u) = *self.unclosed.lock().expect("quote state") {
            if end >= u.end_offset {
                problems.push(Fault::UnclosedQuote { open_line: u.open_line, last_line: u.last_line });
            }
        }
        let width = self.headers.len();
        // A spare record's strings, emptied, or new ones.
        let (mut source, mut message, mut columns) = match self.spares.pop() {
            Some(Record { source, message, passthrough: Passthrough::Columns(columns), .. }) => (source, message, columns),
            _ => (String::new(), String::new(), Columns::with_capacity(self.record.as_slice().len(), width)),
        };
        columns.clear();
        for (i, f) in self.record.iter().enumerate() {
            if i < width {
                check_text_into(f, Place::Column(i + 1), &mut problems, columns.text_mut());
                columns.end_column();
            } else {
                // Most often an unquoted comma in the last field: keep the text.
                let mut extra = String::from(",");
                check_text_into(f, Place::Column(i + 1), &mut problems, &mut extra);
                columns.extend_last(&extra);
            }
        }
        let fields = self.record.len();
        if fields != width {
            let line = self.record.position().map_or(0, |p| p.line());
            problems.push(Fault::Ragged { fields, width, line });
            columns.resize(width);
        }
        message.clear();
        message.push_str(&columns[self.message_idx]);
        check_length(&message, self.opts.max_line_bytes, &mut problems);
        source.clear();
        source.push_str(self.source_idx.map_or(self.opts.default_source.as_str(), |i| &columns[i]));
        Some(Ok(Record {
            row: self.row,
            source,
            message,
            passthrough: Passthrough::Columns(columns),
            invalid: BadRow::from_faults(Some(self.file.clone()), problems),
            lines: 0,
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
        // Inside a quoted field only a quote matters, inside an unquoted one
        // only a separator: jump to it (memchr); decide other bytes one by one.
        let buf = &out[..n];
        let mut i = 0;
        // Newlines are counted once a buffer: up to `counted` when a quote
        // opens (from where the last count stopped, not from the buffer's
        // start: counting from the start at each quoted field scanned a
        // buffer of short rows dozens of times), the rest at the end.
        let (mut counted, mut line) = (0, self.line);
        while i < n {
            match self.state {
                2 => match memchr::memchr(b'"', &buf[i..]) {
                    Some(j) => {
                        i += j + 1;
                        self.state = 3;
                    }
                    None => i = n,
                },
                1 => match memchr::memchr3(b',', b'\n', b'\r', &buf[i..]) {
                    Some(j) => {
                        i += j + 1;
                        self.state = 0;
                    }
                    None => i = n,
                },
                state => {
                    self.state = match (state, buf[i]) {
                        (0, b'"') => {
                            line += memchr::memchr_iter(b'\n', &buf[counted..i]).count() as u64;
                            counted = i;
                            self.open_line = line;
                            2
                        }
                        (3, b'"') => 2,
                        (_, b',' | b'\n' | b'\r') => 0,
                        _ => 1,
                    };
                    i += 1;
                }
            }
        }
        self.line = line + memchr::memchr_iter(b'\n', &buf[counted..]).count() as u64;
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
    pub(super) cut: std::sync::Arc<std::sync::Mutex<Vec<(u64, usize)>>>,
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
            if !self.skipping {
                // Whole lines under the cap, as many as fit in `out`, in one
                // call (one line a call made the CSV parser call down here
                // once a row, and scanned each line byte by byte).
                let limit = avail.len().min(out.len());
                let (mut end, mut in_line) = (0, self.in_line);
                if in_line + limit <= self.cap {
                    // No line can pass the cap within `limit` bytes: up to
                    // the last newline, found from the end (the usual case:
                    // the cap is megabytes, `out` the parser's few KB).
                    end = memchr::memrchr(b'\n', &avail[..limit]).map_or(0, |i| i + 1);
                } else {
                    for i in memchr::memchr_iter(b'\n', &avail[..limit]) {
                        if in_line + (i - end) > self.cap {
                            break;
                        }
                        end = i + 1;
                        in_line = 0;
                    }
                }
                if end > 0 {
                    out[..end].copy_from_slice(&avail[..end]);
                    self.inner.consume(end);
                    self.out_pos += end as u64;
                    self.in_line = 0;
                    self.line_len = 0;
                    self.line_start = self.out_pos;
                    return Ok(end);
                }
            }
            let nl = memchr::memchr(b'\n', avail);
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
