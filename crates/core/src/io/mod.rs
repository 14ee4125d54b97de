//! Reading records from CSV, JSON Lines and plain text, and writing them back
//! with their decisions.
//!
//! Readers never stop on a bad row: a row that cannot be classified (ragged,
//! invalid UTF-8, a NUL byte, over the length limit, not a JSON object) comes
//! out as a [`Record`](crate::Record) with `invalid` set, in its place, keeping what could be
//! read of it. Only whole-input problems (unreadable file, no header, no
//! `log_message` column) are errors. Whether a bad row stops the run is the
//! caller's choice.

use crate::record::{BadRow, Fault, Place};

mod multiline;
mod read_csv;
mod read_lines;
mod write;

pub use multiline::{Joiner, Multiline};
pub use read_csv::{CsvInput, LineCap};
pub use read_lines::{json_record, line_record, LineDecoder, LineInput};
pub use write::{
    add_template, json_object, write_json_line, CsvOutput, JsonlOutput, RecordWriter, OUTPUT_COLUMNS, SPAN_COLUMNS, TEMPLATE_COLUMNS,
};

/// A reader's records, and a way to give records back to be refilled.
///
/// [`Records::reuse`] hands over records already written: a reader may keep
/// them and fill the next ones into their strings rather than allocate new
/// ones (the CSV reader does; the others drop them). Either way they are
/// freed on the reading thread, where they were allocated.
pub trait Records: Iterator<Item = Result<crate::Record, InputError>> + Send {
    /// Takes records back for reuse (the default drops them).
    fn reuse(&mut self, records: Vec<crate::Record>) {
        drop(records);
    }
}

impl<R: std::io::Read + Send> Records for CsvInput<R> {
    fn reuse(&mut self, records: Vec<crate::Record>) {
        self.keep_spares(records);
    }
}

impl<R: std::io::BufRead + Send> Records for LineInput<R> {}

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
    /// The header row is longer than a CSV line may be: its columns would
    /// be cut, and every row then blamed for the difference.
    #[error("{file}: the header row ({bytes} bytes with its line end) is over the limit of {max} bytes for a CSV line (16 × --max-line-bytes, at least 4 MiB); is this a CSV file?")]
    HeaderTooLong {
        /// The input.
        file: String,
        /// The header row's length, with its newline when it has one.
        bytes: usize,
        /// The limit.
        max: usize,
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

pub(crate) fn check_text(bytes: &[u8], place: Place, problems: &mut Vec<Fault>) -> String {
    let mut out = String::new();
    check_text_into(bytes, place, problems, &mut out);
    out
}

/// [`check_text`], appending the text to `out`.
pub(crate) fn check_text_into(bytes: &[u8], place: Place, problems: &mut Vec<Fault>, out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            if memchr::memchr(0, bytes).is_some() {
                problems.push(Fault::Nul { place });
            }
            out.push_str(s);
        }
        Err(e) => {
            problems.push(Fault::InvalidUtf8 { place, at: e.valid_up_to() });
            out.push_str(&String::from_utf8_lossy(bytes));
        }
    }
}

/// Why a message given as a string (a JSON body's field, a Python list's
/// item) cannot be classified: a NUL byte in `place`, or over `max` bytes.
pub fn message_problems(message: &str, place: Place, max: usize) -> Option<BadRow> {
    let mut problems = vec![];
    if message.contains('\0') {
        problems.push(Fault::Nul { place });
    }
    check_length(message, max, &mut problems);
    BadRow::from_faults(None, problems)
}

/// The message's length against the limit.
pub fn check_length(message: &str, max: usize, problems: &mut Vec<Fault>) {
    if message.len() > max {
        problems.push(Fault::TooLong { bytes: message.len(), max });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BadRow, Decision, Passthrough, Record};
    use serde_json::Value;
    use std::io::Read;

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

    #[test]
    fn the_line_cap_cuts_the_same_whether_lines_come_many_a_read_or_one() {
        // Short lines before, between and after long ones, a line exactly at
        // the cap, and no newline at the end; read through buffers of every
        // size from 1 byte (a line at most a read) to more than the input.
        let text = b"ab\ncd\n0123456789\nefgh\n\nijklm\nno\n0123456789abc\npq";
        let want: &[u8] = b"ab\ncd\n0123\nefgh\n\nijkl\nno\n0123\npq";
        for size in 1..=text.len() + 1 {
            let cap = LineCap::new(&text[..], 4);
            let cut = cap.cut.clone();
            let mut cap = cap;
            let (mut out, mut buf) = (vec![], vec![0u8; size]);
            loop {
                match cap.read(&mut buf).unwrap() {
                    0 => break,
                    n => out.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want), "reads of {size}");
            // (Offsets in the output of each cut line's start, and its length in the input.)
            assert_eq!(*cut.lock().unwrap(), vec![(6, 11), (17, 6), (25, 14)], "reads of {size}");
        }
    }

    #[test]
    fn csv_rows_read_into_reused_records_are_the_rows_read_fresh() {
        // Rows of every length and shape: long, short, ragged both ways, bad
        // UTF-8, empty fields; with and without a source column.
        let mut text = b"source,log_message,extra\n".to_vec();
        for i in 0..40 {
            text.extend_from_slice(match i % 6 {
                0 => b"a,\"a long message, with a comma and \"\"quotes\"\"\",x\n".as_slice(),
                1 => b"b,short,y\n",
                2 => b"c,only two\n",
                3 => b"d,too,many,fields\n",
                4 => b",bad \xff byte,\n",
                _ => b",,\n",
            });
        }
        for input in [
            text.clone(),
            text.split(|&b| b == b'\n').map(|l| l.splitn(2, |&b| b == b',').last().unwrap()).collect::<Vec<_>>().join(&b'\n'),
        ] {
            let fresh: Vec<Record> = CsvInput::new(&input[..], "in.csv", InputOptions::default()).unwrap().map(Result::unwrap).collect();
            let mut csv = CsvInput::new(&input[..], "in.csv", InputOptions::default()).unwrap();
            let mut reused = vec![];
            let mut held = vec![];
            while let Some(r) = csv.next() {
                reused.push(r.as_ref().unwrap().clone());
                held.push(r.unwrap());
                if held.len() == 5 {
                    // Given back out of order, as a writer's batch may be.
                    held.reverse();
                    csv.reuse(std::mem::take(&mut held));
                }
            }
            assert_eq!(reused.len(), 40);
            assert_eq!(reused, fresh);
        }
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
        // Closed quotes before it, one holding a newline, do not move the
        // line it names (newlines are counted from one quote to the next).
        let text = "source,log_message\nZ,\"q1\"\nY,\"two\nlines\"\nX,plain\nA,\"open\nB,fine\n";
        let recs = csv_records(text.as_bytes()).unwrap();
        let said = self::why(recs.last().unwrap()).expect("the open quote is reported");
        assert!(said.contains("quote opened on line 6 is never closed") && said.contains("lines 6–7"), "{said}");
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
        let columns = |r: &Record| match &r.passthrough {
            Passthrough::Columns(c) => c.iter().map(str::to_string).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(columns(&recs[2]), ["C", ""], "a short row is padded to the header's width");
        assert_eq!(columns(&recs[3]), ["D", "x,y"]);
        assert_eq!(columns(&recs[1]), ["B", "bad \u{fffd} byte"]);
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
        // A header over the CSV line cap is refused as such, not cut and then
        // blamed on the first row that has all its fields.
        let mut wide = (0..600_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
        wide.push_str(",log_message\n");
        wide.push_str(&",".repeat(600_000));
        wide.push_str("x\n");
        let e = csv_records(wide.as_bytes()).unwrap_err();
        assert!(matches!(e, InputError::HeaderTooLong { .. }), "{e}");
        let e = e.to_string();
        assert!(
            e.contains("in.csv")
                && e.contains("header row")
                && e.contains(&format!("({} bytes with its line end)", wide.find('\n').unwrap() + 1)),
            "{e}"
        );
    }

    #[test]
    fn a_byte_order_mark_starts_no_message() {
        // Before: kept in the first message (and the first JSON line was not valid JSON).
        let text: Vec<Record> = LineInput::new("\u{feff}Disk full\n\u{feff}b\n".as_bytes(), "in.log", false, InputOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(text.iter().map(|r| r.message.as_str()).collect::<Vec<_>>(), ["Disk full", "\u{feff}b"], "only the input's first bytes");
        let json: Vec<Record> = LineInput::new("\u{feff}{\"log_message\":\"a\"}\n".as_bytes(), "in.jsonl", true, InputOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!((json[0].message.as_str(), why(&json[0])), ("a", None));
        // Pushed a byte at a time (the service's stream), the same.
        let mut d = LineDecoder::new("stream", true, InputOptions::default());
        let mut out = vec![];
        for b in "\u{feff}{\"log_message\":\"a\"}\n".as_bytes() {
            d.feed(std::slice::from_ref(b), &mut out);
        }
        assert_eq!((out[0].message.as_str(), why(&out[0])), ("a", None));
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
