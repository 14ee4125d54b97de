//! Opening inputs: files or stdin, format from the flag, the extension, or a
//! look at the first line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use anyhow::{Context, Result};
use logsift_core::io::{CsvInput, Format, InputError, InputOptions, LineInput};
use logsift_core::Record;

/// An opened input.
pub struct Opened {
    /// Its name in messages (`-` is `<stdin>`).
    pub name: String,
    /// Its format.
    pub format: Format,
    /// CSV header, for CSV inputs.
    pub headers: Option<Vec<String>>,
    /// The records.
    pub records: Box<dyn Iterator<Item = Result<Record, InputError>>>,
}

/// Guesses the format of a stream from its first line.
fn sniff(first: &[u8], opts: &InputOptions) -> Format {
    let line = first.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        Format::Jsonl
    } else if t.split(',').any(|c| c.trim().trim_matches('"') == opts.message_field) {
        Format::Csv
    } else {
        Format::Text
    }
}

/// Opens `path` (`-` = stdin) in `format` (or the guessed one).
pub fn open(path: &str, format: Option<Format>, opts: &InputOptions) -> Result<Opened> {
    let (name, reader): (String, Box<dyn BufRead>) = if path == "-" {
        ("<stdin>".into(), Box::new(BufReader::with_capacity(1 << 16, std::io::stdin())))
    } else {
        let f = File::open(path).with_context(|| format!("cannot open input {path}"))?;
        (path.to_string(), Box::new(BufReader::with_capacity(1 << 16, f)))
    };
    let mut reader = reader;
    let format = match format.or_else(|| if path == "-" { None } else { Format::from_path(path) }) {
        Some(f) => f,
        None => {
            let head = reader.fill_buf().with_context(|| format!("cannot read {name}"))?;
            sniff(head, opts)
        }
    };
    Ok(match format {
        Format::Csv => {
            let csv = CsvInput::new(Box::new(reader) as Box<dyn Read>, &name, opts.clone())?;
            let headers = Some(csv.headers().to_vec());
            if !csv.has_source() {
                tracing::warn!("{name}: no '{}' column; every line gets source '{}'", opts.source_field, opts.default_source);
            }
            Opened { name, format, headers, records: Box::new(csv) }
        }
        Format::Jsonl | Format::Text => {
            let lines = LineInput::new(reader, &name, format == Format::Jsonl, opts.clone());
            Opened { name, format, headers: None, records: Box::new(lines) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats() {
        let o = InputOptions::default();
        assert_eq!(sniff(b"{\"log_message\":\"x\"}\n", &o), Format::Jsonl);
        assert_eq!(sniff(b"source,log_message\nA,b\n", &o), Format::Csv);
        assert_eq!(sniff(b"Jan 1 kernel: oops\n", &o), Format::Text);
    }
}
