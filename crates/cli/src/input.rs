//! Opening inputs: files or stdin, format from the flag, the extension, or a
//! look at the first line; `--follow`; labeled CSV for `train`, `eval` and
//! `rules mine` ([`read_labeled`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use logsift_core::io::{CsvInput, Format, InputOptions, LineInput, Records};
use logsift_core::record::{BadRow, Fault};
use logsift_core::Record;
use sha2::{Digest, Sha256};

use crate::OnError;

/// An opened input.
pub struct Opened {
    /// Its name in messages (`-` is `<stdin>`).
    pub name: String,
    /// Its format.
    pub format: Format,
    /// CSV header, for CSV inputs.
    pub headers: Option<Vec<String>>,
    /// The records.
    pub records: Box<dyn Records>,
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
    open_hooked(path, format, opts, None)
}

/// Called on the reading thread each time an input is about to ask the
/// operating system for more bytes: the read that may block (a pipe, a
/// terminal, a followed file). `classify` hands the records read so far to
/// the classifier here, so that records travel in chunks without a chunk
/// ever waiting on input that has not come.
pub type BeforeRead = Arc<dyn Fn() + Send + Sync>;

/// A reader that calls its [`BeforeRead`] before each read.
struct Hooked<R> {
    inner: R,
    before: Option<BeforeRead>,
}

impl<R: Read> Read for Hooked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(before) = &self.before {
            before();
        }
        self.inner.read(buf)
    }
}

/// [`open`], calling `before` before each read of the file or stdin.
pub fn open_hooked(path: &str, format: Option<Format>, opts: &InputOptions, before: Option<BeforeRead>) -> Result<Opened> {
    let (name, reader): (String, Box<dyn BufRead + Send>) = if path == "-" {
        ("<stdin>".into(), Box::new(BufReader::with_capacity(1 << 16, Hooked { inner: std::io::stdin(), before })))
    } else {
        let f = File::open(path).with_context(|| format!("cannot open input {path}"))?;
        (path.to_string(), Box::new(BufReader::with_capacity(1 << 16, Hooked { inner: f, before })))
    };
    from_reader(name, path, reader, format, opts)
}

/// Follows `path` like `tail -F`: reads it to the end, then waits for more,
/// reopening it when it is rotated (replaced, truncated, or truncated and
/// rewritten past where it was read); ends when `stop` is set. Line formats
/// only (text, JSON Lines). `before` is called before each read of the file,
/// as for [`open_hooked`].
pub fn follow(
    path: &str,
    format: Option<Format>,
    opts: &InputOptions,
    stop: Arc<AtomicBool>,
    before: Option<BeforeRead>,
) -> Result<Opened> {
    let format = format.or_else(|| Format::from_path(path)).unwrap_or(Format::Text);
    if format == Format::Csv {
        bail!("--follow reads line formats (text, JSON Lines), not CSV: a rotated CSV file would start with a header row");
    }
    let file = File::open(path).with_context(|| format!("cannot open input {path}"))?;
    let reader = Follow::new(path.into(), file, stop);
    from_reader(path.to_string(), path, Box::new(BufReader::with_capacity(1 << 16, Hooked { inner: reader, before })), Some(format), opts)
}

/// Bytes before the read position that [`Follow`] compares with the file,
/// to tell a rewrite of the same file from an append.
const FOLLOW_TAIL: usize = 64;

/// A file read like `tail -F`.
///
/// A rotation is told three ways at the end of the file: another file under
/// the name (its device and inode differ), a file shorter than the position
/// read, and — what size alone misses — a file truncated and rewritten past
/// that position between two looks: the last bytes read are no longer the
/// bytes at their place. Each restarts at the new file's start. A line the
/// old file left unfinished is ended there, so it is never joined to the
/// new file's first line.
struct Follow {
    path: std::path::PathBuf,
    file: File,
    id: (u64, u64),
    pos: u64,
    stop: Arc<AtomicBool>,
    /// The last bytes read (up to [`FOLLOW_TAIL`]), ending at `pos`.
    tail: Vec<u8>,
    /// A newline to hand out before the new file's bytes.
    end_line: bool,
}

impl Follow {
    fn new(path: std::path::PathBuf, file: File, stop: Arc<AtomicBool>) -> Self {
        Follow { path, id: file_id(&file), file, pos: 0, stop, tail: Vec::with_capacity(FOLLOW_TAIL), end_line: false }
    }

    /// Whether the file read was rotated since the last look, and if so
    /// the file to read from its start.
    fn rotated(&self) -> Option<File> {
        let f = File::open(&self.path).ok()?;
        let len = f.metadata().map_or(self.pos, |m| m.len());
        if file_id(&f) != self.id || len < self.pos {
            return Some(f);
        }
        // Same file, as long or longer: do the bytes before `pos` still read as they did?
        if !self.tail.is_empty() && len > self.pos {
            let mut now = vec![0; self.tail.len()];
            if read_at(&self.file, &mut now, self.pos - self.tail.len() as u64).is_ok() && now != self.tail {
                return Some(f);
            }
        }
        None
    }

    fn restart(&mut self, f: File) {
        tracing::info!("{}: rotated; reading the new file from its start", self.path.display());
        self.end_line = self.tail.last().is_some_and(|&b| b != b'\n');
        self.id = file_id(&f);
        self.file = f;
        self.pos = 0;
        self.tail.clear();
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(not(unix))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(unix)]
fn file_id(f: &File) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    f.metadata().map_or((0, 0), |m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &File) -> (u64, u64) {
    (0, 0)
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if std::mem::take(&mut self.end_line) && !buf.is_empty() {
                buf[0] = b'\n';
                return Ok(1);
            }
            let n = self.file.read(buf)?;
            if n > 0 {
                self.pos += n as u64;
                let keep = n.min(FOLLOW_TAIL);
                let drop = (self.tail.len() + keep).saturating_sub(FOLLOW_TAIL);
                self.tail.drain(..drop);
                self.tail.extend_from_slice(&buf[n - keep..n]);
                return Ok(n);
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            // At the end: wait, then look for a rotation before reading on
            // (a rewrite between two looks must not be read from `pos`).
            std::thread::sleep(std::time::Duration::from_millis(100));
            if let Some(f) = self.rotated() {
                self.restart(f);
            }
        }
    }
}

fn from_reader(name: String, path: &str, reader: Box<dyn BufRead + Send>, format: Option<Format>, opts: &InputOptions) -> Result<Opened> {
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
            let csv = CsvInput::new(Box::new(reader) as Box<dyn Read + Send>, &name, opts.clone())?;
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

/// A bad row's message at the CLI's edge: `FILE: row N: PROBLEMS`, with the
/// flag that raises a length limit when that is what the row is over.
pub fn bad_row(row: u64, bad: &BadRow) -> String {
    let over = bad.faults.iter().any(|p| matches!(p, Fault::TooLong { .. } | Fault::Cut { .. } | Fault::LineCut { .. }));
    format!("{}{}", bad.located(row), if over { " (--max-line-bytes)" } else { "" })
}

/// Labeled rows of a CSV: (record, label), bad rows handled per `on_error`.
pub fn read_labeled(path: &PathBuf, label_column: &str, on_error: OnError) -> Result<(Vec<(Record, String)>, String)> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    let sha = format!("{:x}", Sha256::digest(&bytes));
    let input = CsvInput::new(&bytes[..], &name, InputOptions::default())?;
    let label_idx = input.headers().iter().position(|h| h.trim() == label_column);
    let Some(label_idx) = label_idx else {
        bail!("{name}: no '{label_column}' column (the labels); the header has {:?}", input.headers());
    };
    let mut out = vec![];
    let mut skipped = 0;
    for r in input {
        let r = r?;
        let label = match &r.passthrough {
            logsift_core::record::Passthrough::Columns(c) => c[label_idx].trim().to_string(),
            _ => String::new(),
        };
        let problem = match &r.invalid {
            Some(bad) => Some(bad_row(r.row, bad)),
            None => label.is_empty().then(|| format!("{name}: row {}: empty label", r.row)),
        };
        if let Some(p) = problem {
            match on_error {
                OnError::Fail => bail!("{p} (use --on-error skip to leave such rows out)"),
                OnError::Skip => {
                    eprintln!("logsift: {p}; left out");
                    skipped += 1;
                    continue;
                }
            }
        }
        out.push((r, label));
    }
    if skipped > 0 {
        eprintln!("logsift: {name}: {skipped} bad rows left out");
    }
    Ok((out, sha))
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
