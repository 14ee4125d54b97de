//! The decisions file: one row a decided template, rewritten whole (to a
//! temporary file, then renamed) after every decision, so a crash, a closed
//! tab or Ctrl-C leaves either the old file or the new one, never half.
//!
//! ```text
//! template,label,who,decided_at,lines
//! Accepted password for <USER> from <IP> port <NUM> ssh2,Security Alert,person,2026-12-07T10:02:11Z,5120
//! ```
//!
//! A row decides the lines whose masked template it [`covers`]: the same
//! words, `<*>` standing for any one word. That holds when the log grows or
//! the miner groups a little differently on the next run; the most specific
//! row covering a line (fewest `<*>`, then the latest) gives its label.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::mask::Masker;
use crate::record::{Example, Record};

/// Who made a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    /// A person chose the label.
    Person,
    /// A person accepted the model's suggestion.
    Model,
    /// A person accepted the LLM's suggestion.
    Llm,
    /// A simulated labeller (the true label of a column).
    Oracle,
}

/// One row of the decisions file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// The template (masked, `<*>` where its lines differ).
    pub template: String,
    /// Its label.
    pub label: String,
    /// Who decided.
    pub who: Who,
    /// When (RFC 3339, UTC).
    pub decided_at: String,
    /// Lines it covered when decided.
    pub lines: u64,
}

/// A decisions file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DecisionsError {
    /// Not readable.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A row that is not a decision.
    #[error("{file}, row {row}: {message}")]
    Row {
        /// The file.
        file: String,
        /// Row number (the header is row 1).
        row: u64,
        /// What is wrong.
        message: String,
    },
}

/// Reads a decisions file (none yet: no rows).
pub fn read(path: &Path) -> Result<Vec<DecisionRow>, DecisionsError> {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(source) => return Err(DecisionsError::Io { file, source }),
    };
    let mut rows = vec![];
    for (n, r) in csv::Reader::from_reader(text.as_bytes()).deserialize::<DecisionRow>().enumerate() {
        let row = r.map_err(|e| DecisionsError::Row { file: file.clone(), row: n as u64 + 2, message: e.to_string() })?;
        if row.label.trim().is_empty() {
            return Err(DecisionsError::Row { file: file.clone(), row: n as u64 + 2, message: "empty label".into() });
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The decisions file's text: the header, then a row a decision.
pub fn to_csv(rows: &[DecisionRow]) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    // Writing to memory cannot fail; a row is plain strings and a number.
    w.write_record(["template", "label", "who", "decided_at", "lines"]).expect("in memory");
    for r in rows {
        w.serialize(r).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8 in, UTF-8 out")
}

/// Writes `rows` to `path` whole, through a temporary file renamed over it.
pub fn write(path: &Path, rows: &[DecisionRow]) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(to_csv(rows).as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Whether a decided template (its words) covers a masked line or template:
/// as many words, each equal or `<*>`.
pub fn covers(decided: &[&str], template: &str) -> bool {
    let mut n = 0;
    for (i, w) in template.split(' ').enumerate() {
        match decided.get(i) {
            Some(&d) if d == "<*>" || d == w => n += 1,
            _ => return false,
        }
    }
    n == decided.len()
}

/// The labelled lines the decisions give: each record whose masked line a
/// row covers, with the label of the most specific covering row (fewest
/// `<*>`; ties: the later row). Records no row covers are left out; the
/// second value counts them.
pub fn examples(records: &[Record], rows: &[DecisionRow], masker: &Masker) -> (Vec<Example>, usize) {
    use rayon::prelude::*;
    // (row, its words, its wildcards) by word count.
    type Row<'a> = (usize, Vec<&'a str>, usize);
    let mut by_len: std::collections::HashMap<usize, Vec<Row>> = Default::default();
    for (n, r) in rows.iter().enumerate() {
        let words: Vec<&str> = r.template.split(' ').collect();
        let wild = words.iter().filter(|w| **w == "<*>").count();
        by_len.entry(words.len()).or_default().push((n, words, wild));
    }
    let picked: Vec<Option<usize>> = records
        .par_iter()
        .map(|rec| {
            let masked = masker.mask(&rec.message);
            let len = masked.split(' ').count();
            by_len
                .get(&len)?
                .iter()
                .filter(|(_, w, _)| covers(w, &masked))
                .min_by(|a, b| a.2.cmp(&b.2).then(b.0.cmp(&a.0)))
                .map(|(n, _, _)| *n)
        })
        .collect();
    let mut out = Vec::with_capacity(records.len());
    let mut left = 0;
    for (rec, p) in records.iter().zip(picked) {
        match p {
            Some(n) => out.push(Example { source: rec.source.clone(), message: rec.message.clone(), label: rows[n].label.clone() }),
            None => left += 1,
        }
    }
    (out, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_covers_its_template_and_the_most_specific_row_wins() {
        let w: Vec<&str> = "user <*> logged in".split(' ').collect();
        assert!(covers(&w, "user <USER> logged in"));
        assert!(!covers(&w, "user <USER> logged in twice"));
        assert!(!covers(&w, "user <USER> logged"));
        let row =
            |t: &str, l: &str| DecisionRow { template: t.into(), label: l.into(), who: Who::Person, decided_at: String::new(), lines: 0 };
        let rows = [
            row("disk <*> is <*> full", "Resource Usage"),
            row("disk <PATH> is <NUM>% full", "Critical Error"),
            row("<*> <*> <*> <*> <*>", "Other"),
        ];
        let recs = [
            Record::new("a", "disk /dev/sda1 is 97% full"),
            Record::new("a", "disk /dev/sda1 is quite full"),
            Record::new("a", "nothing like it"),
        ];
        let (ex, left) = examples(&recs, &rows, &Masker::default());
        let labels: Vec<&str> = ex.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["Critical Error", "Resource Usage"]);
        assert_eq!(left, 1);
    }

    #[test]
    fn the_file_round_trips_and_a_bad_row_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("decisions.csv");
        assert!(read(&p).unwrap().is_empty(), "no file yet: no decisions");
        let rows = vec![DecisionRow {
            template: "a, \"b\" <*>".into(),
            label: "X".into(),
            who: Who::Llm,
            decided_at: "2026-12-07T00:00:00Z".into(),
            lines: 3,
        }];
        write(&p, &rows).unwrap();
        assert_eq!(read(&p).unwrap(), rows);
        std::fs::write(&p, "template,label,who,decided_at,lines\nt,X,robot,now,1\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("row 2") && e.contains("decisions.csv"), "{e}");
    }
}
