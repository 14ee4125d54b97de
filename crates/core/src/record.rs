//! What flows through the cascade: a [`Record`] in, a [`Decision`] out.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The label given to a record that no tier could decide.
pub const UNCLASSIFIED: &str = "Unclassified";

/// One log line to classify.
///
/// `source` and `message` are what the tiers look at; `passthrough` is what a
/// sink writes back verbatim next to the decision (the other CSV columns, the
/// original JSON object), so no input field is ever lost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// 1-based position of the record in its input (data row for CSV, line for
    /// JSON Lines and text). Used in messages about bad input.
    pub row: u64,
    /// The system that emitted the line (`source` column); may be empty.
    pub source: String,
    /// The log line itself (`log_message` column).
    pub message: String,
    /// Input fields kept verbatim for the output.
    pub passthrough: Passthrough,
    /// Why this record cannot be classified (bad input), if it cannot.
    ///
    /// An invalid record still flows through the pipeline and comes out, in its
    /// place, as `Unclassified` with this reason: output rows = input rows.
    pub invalid: Option<BadRow>,
    /// Input lines this record covers, from `row` on, when text lines were
    /// joined into events ([`crate::io::Joiner`]); 0 when they were not (a
    /// record is then one row).
    pub lines: u32,
}

/// Why a record is bad input: the problems found reading it, and the input
/// it came from. A typed value, so each edge (the CLI's message, the
/// service's problem+json with its `column`, the worker's dead-letter
/// header) formats it once and never parses text back.
///
/// `Display` gives the problems alone, joined by `; ` (what a decision's
/// detail says); [`BadRow::located`] adds the input and row.
#[derive(Clone, Debug, PartialEq)]
pub struct BadRow {
    /// The input's name (a file, `<stdin>`, `upload`), when the reader knows it.
    pub file: Option<Arc<str>>,
    /// What is wrong with the row, in the order found; never empty.
    pub faults: Vec<Fault>,
}

impl BadRow {
    /// A bad row with one problem and no input name.
    pub fn new(problem: Fault) -> Self {
        BadRow { file: None, faults: vec![problem] }
    }

    /// The row's problems as a bad row, or `None` when there are none.
    pub fn from_faults(file: Option<Arc<str>>, problems: Vec<Fault>) -> Option<Self> {
        (!problems.is_empty()).then_some(BadRow { file, faults: problems })
    }

    /// The first place a problem names, if any names one.
    pub fn place(&self) -> Option<Place> {
        self.faults.iter().find_map(Fault::place)
    }

    /// `FILE: row ROW: PROBLEMS`, for a message that stands alone.
    pub fn located(&self, row: u64) -> String {
        match &self.file {
            Some(f) => format!("{f}: row {row}: {self}"),
            None => format!("row {row}: {self}"),
        }
    }
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.faults.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl From<Fault> for BadRow {
    fn from(p: Fault) -> Self {
        BadRow::new(p)
    }
}

/// Where in a row a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The whole line (plain text, JSON Lines).
    Line,
    /// A CSV column, 1-based.
    Column(usize),
    /// A JSON field, by name.
    Field(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line => f.write_str("the line"),
            Place::Column(n) => write!(f, "column {n}"),
            Place::Field(name) => write!(f, "'{name}'"),
        }
    }
}

/// One thing wrong with a row.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 in {place} at byte {at}")]
    InvalidUtf8 {
        /// Where.
        place: Place,
        /// Offset of the first bad byte.
        at: usize,
    },
    /// A NUL byte.
    #[error("NUL byte in {place}")]
    Nul {
        /// Where.
        place: Place,
    },
    /// The message is longer than the limit.
    #[error("line is {bytes} bytes, over the limit of {max}")]
    TooLong {
        /// Its length.
        bytes: usize,
        /// The limit (`--max-line-bytes`).
        max: usize,
    },
    /// A line longer than the reading limit: only its start was kept.
    #[error("line is {bytes} bytes, over the limit of {max}; only its first {read} bytes were read")]
    Cut {
        /// Its length.
        bytes: usize,
        /// The limit (`--max-line-bytes`).
        max: usize,
        /// How much was kept.
        read: usize,
    },
    /// A physical line of a CSV row was longer than the reading limit.
    #[error("a line of this row is {bytes} bytes, over the reading limit; only its start was read")]
    LineCut {
        /// Its length.
        bytes: usize,
    },
    /// A CSV quote never closed: every later line became one field of this row.
    #[error("a quote opened on line {open_line} is never closed: lines {open_line}–{last_line} were read as one field of this row")]
    UnclosedQuote {
        /// The physical line the quote opened on.
        open_line: u64,
        /// The input's last line.
        last_line: u64,
    },
    /// A CSV row with more or fewer fields than the header.
    #[error("row has {fields} fields, the header has {width} (line {line})")]
    Ragged {
        /// Fields in the row.
        fields: usize,
        /// Fields in the header.
        width: usize,
        /// Physical line of the row.
        line: u64,
    },
    /// A JSON value that is not an object.
    #[error("not a JSON object but {0}")]
    NotObject(&'static str),
    /// Not JSON at all.
    #[error("not valid JSON: {0}")]
    BadJson(String),
    /// The message field is missing.
    #[error("no '{0}' field")]
    MissingField(String),
    /// A field that must be a string (or null, for the source) is not.
    #[error("field '{field}' is not a string{} but {kind}", if *.nullable { " or null" } else { "" })]
    NotString {
        /// The field.
        field: String,
        /// What it is instead ("a number", "an array", …).
        kind: &'static str,
        /// Whether null was allowed.
        nullable: bool,
    },
}

impl Fault {
    /// The column or field this problem is in, if it names one.
    pub fn place(&self) -> Option<Place> {
        match self {
            Fault::InvalidUtf8 { place, .. } | Fault::Nul { place } => Some(place.clone()),
            Fault::MissingField(field) | Fault::NotString { field, .. } => Some(Place::Field(field.clone())),
            _ => None,
        }
    }
}

impl Record {
    /// A record with only a source and a message.
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        Record { source: source.into(), message: message.into(), ..Record::default() }
    }
}

/// Input fields a sink writes back next to the decision.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Passthrough {
    /// Nothing beyond source and message (plain-text input).
    #[default]
    None,
    /// Every column of a CSV row, in input order (source and message included).
    Columns(Columns),
    /// The whole JSON object of a JSON Lines record.
    Json(serde_json::Map<String, serde_json::Value>),
    /// A JSON Lines line that was not a JSON object, kept as text.
    Raw(String),
}

/// The columns of one CSV row, in input order, held in one string.
///
/// One allocation for the row's text and one for where each column ends,
/// however many columns: a row of `Vec<String>` cost one allocation a column,
/// made on the reader's thread and freed on the writer's, and on a long
/// stream that was the largest part of the reader's time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    text: String,
    /// The end of each column in `text`.
    ends: Vec<usize>,
}

impl Columns {
    /// No columns, with room for `bytes` of text and `columns` columns.
    pub fn with_capacity(bytes: usize, columns: usize) -> Self {
        Columns { text: String::with_capacity(bytes), ends: Vec::with_capacity(columns) }
    }

    /// The room for text, in bytes.
    pub fn capacity(&self) -> usize {
        self.text.capacity()
    }

    /// Removes every column, keeping the room.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Appends a column.
    pub fn push(&mut self, column: &str) {
        self.text.push_str(column);
        self.ends.push(self.text.len());
    }

    /// The text of the next column, to be written into before [`Columns::end_column`].
    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Ends a column whose text was written through [`Columns::text_mut`].
    pub(crate) fn end_column(&mut self) {
        self.ends.push(self.text.len());
    }

    /// Appends `more` to the last column (a new column when there is none).
    pub fn extend_last(&mut self, more: &str) {
        self.text.push_str(more);
        match self.ends.last_mut() {
            Some(end) => *end = self.text.len(),
            None => self.ends.push(self.text.len()),
        }
    }

    /// Keeps the first `n` columns, adding empty ones up to `n`.
    pub fn resize(&mut self, n: usize) {
        if n < self.ends.len() {
            self.ends.truncate(n);
            self.text.truncate(self.ends.last().copied().unwrap_or(0));
        }
        while self.ends.len() < n {
            self.ends.push(self.text.len());
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Column `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// The columns in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let column = &self.text[start..end];
            start = end;
            column
        })
    }
}

impl std::ops::Index<usize> for Columns {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i).unwrap_or_else(|| panic!("column {i} of a row of {}", self.ends.len()))
    }
}

impl<S: AsRef<str>> FromIterator<S> for Columns {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut c = Columns::default();
        for s in iter {
            c.push(s.as_ref());
        }
        c
    }
}

/// Which tier of the cascade produced a decision.
///
/// `None` is the tier of an `Unclassified` decision, and only of those.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierKind {
    /// A regular expression of `rules.toml` matched.
    Rules,
    /// The embedding + logistic-regression head was confident enough.
    Model,
    /// The LLM answered.
    Llm,
    /// Nobody decided: the label is `Unclassified` and the detail says why.
    None,
}

impl TierKind {
    /// Every kind, in cascade order.
    pub const ALL: [TierKind; 4] = [TierKind::Rules, TierKind::Model, TierKind::Llm, TierKind::None];

    /// The name written in the `tier` output column.
    pub fn as_str(self) -> &'static str {
        match self {
            TierKind::Rules => "rules",
            TierKind::Model => "model",
            TierKind::Llm => "llm",
            TierKind::None => "none",
        }
    }
}

impl fmt::Display for TierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a decision rests on, beyond its label.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// The id of the rule that matched (tier `rules`).
    Rule(Arc<str>),
    /// Why the record is `Unclassified`, or a note from the deciding tier.
    Reason(Arc<str>),
    /// The model's best guess, below its threshold, kept because no later
    /// tier decided (no LLM configured, or the LLM declined): the text says
    /// why it was not trusted (tier `model`, its probability as confidence).
    Guess(Arc<str>),
    /// Nothing to add (e.g. a confident model prediction).
    None,
}

impl Detail {
    /// The detail as text (rule id, reason, or empty).
    pub fn as_str(&self) -> &str {
        match self {
            Detail::Rule(s) | Detail::Reason(s) | Detail::Guess(s) => s,
            Detail::None => "",
        }
    }
}

/// The outcome for one record: exactly one per record, in input order.
///
/// Invariant: `tier == TierKind::None` if and only if `label` is
/// [`UNCLASSIFIED`]; such a decision carries a [`Detail::Reason`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The label, one of the bundle's labels or [`UNCLASSIFIED`].
    pub label: Arc<str>,
    /// The tier that decided.
    pub tier: TierKind,
    /// In `[0, 1]`: 1 for a rule, the head's probability for the model, the
    /// LLM's stated confidence (or 1) for the LLM, 0 when unclassified.
    pub confidence: f32,
    /// Rule id or reason.
    pub detail: Detail,
}

impl Decision {
    /// An `Unclassified` decision with its reason.
    pub fn unclassified(reason: impl Into<Arc<str>>) -> Self {
        Decision { label: Arc::from(UNCLASSIFIED), tier: TierKind::None, confidence: 0.0, detail: Detail::Reason(reason.into()) }
    }

    /// Whether a tier gave this record a real label.
    pub fn is_classified(&self) -> bool {
        self.tier != TierKind::None
    }

    /// Whether this is a below-threshold guess of the model ([`Detail::Guess`]).
    pub fn is_guess(&self) -> bool {
        matches!(self.detail, Detail::Guess(_))
    }
}

/// One labeled line: what training, cross-validation and rule mining read.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// Source.
    pub source: String,
    /// The line.
    pub message: String,
    /// Its label.
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_one_string() {
        let mut c: Columns = ["a", "", "ccc"].into_iter().collect();
        assert_eq!((c.len(), &c[0], &c[1], &c[2]), (3, "a", "", "ccc"));
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "", "ccc"]);
        assert_eq!(c.iter().len(), 3);
        assert_eq!(c.get(3), None);
        c.extend_last(",d");
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "", "ccc,d"]);
        c.resize(5);
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "", "ccc,d", "", ""]);
        c.resize(2);
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", ""]);
        c.push("é");
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "", "é"]);
        let mut e = Columns::default();
        e.extend_last("x");
        assert_eq!((e.len(), &e[0]), (1, "x"));
        assert!(Columns::default().is_empty());
    }

    #[test]
    fn unclassified_keeps_the_invariant() {
        let d = Decision::unclassified("llm disabled");
        assert_eq!(&*d.label, UNCLASSIFIED);
        assert_eq!(d.tier, TierKind::None);
        assert_eq!(d.detail.as_str(), "llm disabled");
        assert!(!d.is_classified());
    }

    #[test]
    fn tier_names_are_the_output_column_values() {
        let names: Vec<_> = TierKind::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["rules", "model", "llm", "none"]);
    }
}
