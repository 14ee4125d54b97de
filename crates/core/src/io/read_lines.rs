//! Plain text and JSON Lines input: the line framer and the decoders.

use std::io::BufRead;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::*;
use crate::record::{BadRow, Fault, Passthrough, Place, Record};

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
        let mut total = std::mem::take(&mut self.total);
        // A UTF-8 byte order mark starts the input, not its first message
        // (CSV's header drops it too).
        if self.row == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
            total -= 3;
        }
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
            let cut = Fault::Cut { bytes: total - usize::from(newline), max: self.opts.max_line_bytes, read: bytes.len() };
            rec.invalid = BadRow::from_faults(Some(self.file.clone()), vec![cut]);
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
                problems.extend(rec.invalid.take().into_iter().flat_map(|b| b.faults));
            }
            Ok(other) => {
                problems.push(Fault::NotObject(kind_of(&other)));
                rec.passthrough = Passthrough::Raw(text);
            }
            Err(e) => {
                problems.push(Fault::BadJson(e.to_string()));
                rec.passthrough = Passthrough::Raw(text);
            }
        }
    }
    rec.invalid = BadRow::from_faults(None, problems);
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
        Some(other) => problems.push(Fault::NotString { field: opts.message_field.clone(), kind: kind_of(other), nullable: false }),
        None => problems.push(Fault::MissingField(opts.message_field.clone())),
    }
    match map.get(&opts.source_field) {
        Some(Value::String(s)) => rec.source = s.clone(),
        Some(Value::Null) | None => {}
        Some(other) => problems.push(Fault::NotString { field: opts.source_field.clone(), kind: kind_of(other), nullable: true }),
    }
    if rec.message.contains('\0') {
        problems.push(Fault::Nul { place: Place::Field(opts.message_field.clone()) });
    }
    check_length(&rec.message, opts.max_line_bytes, &mut problems);
    rec.passthrough = Passthrough::Json(map);
    rec.invalid = BadRow::from_faults(None, problems);
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
