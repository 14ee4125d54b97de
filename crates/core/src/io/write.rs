//! Writers: CSV and JSON Lines output of records with their decisions.

use std::io::Write;

use serde_json::{Map, Value};

use crate::mask::Templates;
use crate::record::{Decision, Passthrough, Record};

/// The columns logsift appends to each output record.
pub const OUTPUT_COLUMNS: [&str; 4] = ["target_label", "tier", "confidence", "detail"];

/// The columns `--with-template` appends after them.
pub const TEMPLATE_COLUMNS: [&str; 2] = ["template", "template_id"];

/// Columns (and JSON fields) of a multi-line event's span: its first input
/// line and how many lines it covers.
pub const SPAN_COLUMNS: [&str; 2] = ["line", "lines"];

/// Writes records with their decisions.
pub trait RecordWriter {
    /// Writes a batch (one decision per record, same order).
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()>;
    /// Flushes everything written.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// `{c:.4}` without the general float formatter or an allocation (a tenth
/// of a CSV row's cost): the f64 product of an f32 and 10,000 is exact, and
/// ties go to even as `{:.4}` rounds them.
fn format_confidence(c: f32) -> Confidence {
    if !(0.0..=1.0).contains(&c) {
        return Confidence::Other(format!("{c:.4}"));
    }
    let n = (c as f64 * 10_000.0).round_ties_even() as u32;
    let mut text = *b"0.0000";
    text[0] += (n / 10_000) as u8;
    let mut f = n % 10_000;
    for d in text[2..].iter_mut().rev() {
        *d += (f % 10) as u8;
        f /= 10;
    }
    Confidence::Unit(text)
}

/// A confidence written as text.
enum Confidence {
    /// In [0, 1]: `d.dddd`.
    Unit([u8; 6]),
    /// Anything else, as the float formatter writes it.
    Other(String),
}

impl Confidence {
    fn as_str(&self) -> &str {
        match self {
            Confidence::Unit(b) => std::str::from_utf8(b).expect("ASCII digits"),
            Confidence::Other(s) => s,
        }
    }
}

/// CSV output: the input's columns (an input column named like an output
/// column is renamed `<name>_input`), then [`OUTPUT_COLUMNS`].
///
/// Rows are written by logsift itself, not by the `csv` crate's writer, with
/// the same bytes (RFC 4180 as that writer does it: a field is quoted when it
/// holds `,`, `"`, `\r` or `\n`, quotes inside doubled; rows end in `\n`;
/// a row of one empty field is `""`). Its field-by-field state machine,
/// which looks at each byte through a table, was most of the writer
/// thread's time; here one search a field decides (a vector search past 32
/// bytes), and unquoted fields are copied whole. The test `the_rows_are_the_csv_crates_bytes`
/// checks the bytes against that writer's.
pub struct CsvOutput<W: Write> {
    /// (Flushed when dropped, as the `csv` crate's writer was.)
    w: std::io::BufWriter<W>,
    /// The row being made.
    buf: Vec<u8>,
    header: Option<Vec<String>>,
    width: usize,
    templates: Option<Templates>,
    spans: bool,
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
        CsvOutput {
            w: std::io::BufWriter::with_capacity(CSV_BUFFER, w),
            buf: Vec::new(),
            header: Some(header),
            width,
            templates: None,
            spans: false,
        }
    }

    /// Adds the [`TEMPLATE_COLUMNS`]: each line's masked template and its
    /// stable id ([`crate::mask::template_id`]). An input column of either
    /// name is renamed `<name>_input`.
    pub fn with_templates(mut self, templates: Templates) -> Self {
        if let Some(h) = self.header.as_mut() {
            for c in h[..self.width].iter_mut() {
                if TEMPLATE_COLUMNS.contains(&c.trim()) {
                    *c = format!("{}_input", c.trim());
                }
            }
            h.extend(TEMPLATE_COLUMNS.iter().map(|s| s.to_string()));
        }
        self.templates = Some(templates);
        self
    }

    /// Adds the columns `line` and `lines` (the first input line of each
    /// record and how many lines it covers: multi-line events of text input).
    pub fn with_spans(mut self) -> Self {
        if let Some(h) = self.header.as_mut() {
            h.extend(SPAN_COLUMNS.iter().map(|s| s.to_string()));
        }
        self.spans = true;
        self
    }

    /// The writer under it, flushed (call [`RecordWriter::finish`] first).
    pub fn into_inner(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }

    /// Writes one row.
    fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) -> std::io::Result<()> {
        self.buf.clear();
        let mut n = 0;
        for f in fields {
            if n > 0 {
                self.buf.push(b',');
            }
            csv_field(&mut self.buf, f.as_bytes());
            n += 1;
        }
        if n == 1 && self.buf.is_empty() {
            // One empty field: quoted, or the row would read as no field.
            self.buf.extend_from_slice(b"\"\"");
        }
        self.buf.push(b'\n');
        self.w.write_all(&self.buf)
    }

    /// The names of input columns that were renamed because they collide with output columns.
    pub fn renamed(input_headers: &[String]) -> Vec<String> {
        input_headers.iter().filter(|c| OUTPUT_COLUMNS.contains(&c.trim())).cloned().collect()
    }

    fn write_header(&mut self) -> std::io::Result<()> {
        if let Some(h) = self.header.take() {
            self.row(h.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

/// Bytes of rows [`CsvOutput`] buffers before a `write` (64 KB: the `csv`
/// crate's 8 KB default made eight times the calls; system time 0.36 →
/// 0.26 s on the 1M-line resample). Each batch is still flushed as it is
/// written.
const CSV_BUFFER: usize = 1 << 16;

/// Appends `field` to `out` as a CSV field: as it is, or quoted with its
/// quotes doubled where it holds a separator, a quote or a line break.
fn csv_field(out: &mut Vec<u8>, field: &[u8]) {
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
    // (Short fields, most of a row's, are looked at a byte at a time: the
    // vector search's setup costs more than it saves there.)
    let plain = if field.len() < 32 {
        !field.iter().any(special)
    } else {
        memchr::memchr3(b',', b'"', b'\n', field).is_none() && memchr::memchr(b'\r', field).is_none()
    };
    if plain {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    let mut from = 0;
    for q in memchr::memchr_iter(b'"', field) {
        out.extend_from_slice(&field[from..=q]);
        out.push(b'"');
        from = q + 1;
    }
    out.extend_from_slice(&field[from..]);
    out.push(b'"');
}

impl<W: Write> RecordWriter for CsvOutput<W> {
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()> {
        self.write_header()?;
        for (r, d) in records.iter().zip(decisions) {
            let conf = format_confidence(d.confidence);
            let (tpl, id) = self.templates.as_ref().map(|t| t.of(&r.message)).unwrap_or_default();
            let tail = [&*d.label, d.tier.as_str(), conf.as_str(), d.detail.as_str()];
            let (line, lines) = if self.spans { (r.row.to_string(), r.lines.max(1).to_string()) } else { Default::default() };
            let mut more: Vec<&str> = if self.templates.is_some() { vec![&tpl, &id] } else { vec![] };
            if self.spans {
                more.extend([line.as_str(), lines.as_str()]);
            }
            match &r.passthrough {
                Passthrough::Columns(cols) if cols.len() == self.width => {
                    self.row(cols.iter().chain(tail).chain(more.iter().copied()))?;
                }
                _ => {
                    let mut row: Vec<&str> = vec![&r.source, &r.message];
                    row.resize(self.width, "");
                    self.row(row.into_iter().chain(tail).chain(more.iter().copied()))?;
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
    templates: Option<Templates>,
}

impl<W: Write> JsonlOutput<W> {
    /// A writer.
    pub fn new(w: W) -> Self {
        JsonlOutput { w: std::io::BufWriter::new(w), templates: None }
    }

    /// Adds the fields `template` and `template_id` ([`add_template`]).
    pub fn with_templates(mut self, templates: Templates) -> Self {
        self.templates = Some(templates);
        self
    }
}

/// Adds `template` and `template_id` of the record's line to its output
/// object; an input field of either name is kept as `<name>_input`.
pub fn add_template(obj: &mut Map<String, Value>, r: &Record, templates: &Templates) {
    for k in TEMPLATE_COLUMNS {
        if let Some(v) = obj.remove(k) {
            obj.insert(format!("{k}_input"), v);
        }
    }
    let (t, id) = templates.of(&r.message);
    obj.insert("template".into(), Value::String(t));
    obj.insert("template_id".into(), Value::String(id));
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
    if r.lines > 0 {
        obj.insert("line".into(), Value::from(r.row));
        obj.insert("lines".into(), Value::from(r.lines));
    }
    obj
}

/// The object [`json_object`] (and [`add_template`]) make for a record with
/// no input fields of its own (a plain-text line), written straight to `w`:
/// the same fields in the same (sorted) order, byte for byte, with no map
/// built. Building and dropping that map was most of the writer's time, and
/// the writer the busiest thread, on plain-text input (the JSON Lines
/// output's usual input).
fn write_plain_object(w: &mut impl Write, r: &Record, d: &Decision, template: Option<(&str, &str)>) -> std::io::Result<()> {
    fn key(w: &mut impl Write, first: bool, k: &str) -> std::io::Result<()> {
        w.write_all(if first { b"{\"" } else { b",\"" })?;
        w.write_all(k.as_bytes())?;
        w.write_all(b"\":")
    }
    let conf = (d.confidence as f64 * 10_000.0).round() / 10_000.0;
    key(w, true, "confidence")?;
    serde_json::to_writer(&mut *w, &serde_json::Number::from_f64(conf).map_or(Value::Null, Value::Number))?;
    key(w, false, "detail")?;
    serde_json::to_writer(&mut *w, d.detail.as_str())?;
    if r.lines > 0 {
        key(w, false, "line")?;
        serde_json::to_writer(&mut *w, &r.row)?;
        key(w, false, "lines")?;
        serde_json::to_writer(&mut *w, &r.lines)?;
    }
    key(w, false, "log_message")?;
    serde_json::to_writer(&mut *w, &r.message)?;
    key(w, false, "source")?;
    serde_json::to_writer(&mut *w, &r.source)?;
    key(w, false, "target_label")?;
    serde_json::to_writer(&mut *w, &*d.label)?;
    if let Some((t, id)) = template {
        key(w, false, "template")?;
        serde_json::to_writer(&mut *w, t)?;
        key(w, false, "template_id")?;
        serde_json::to_writer(&mut *w, id)?;
    }
    key(w, false, "tier")?;
    serde_json::to_writer(&mut *w, d.tier.as_str())?;
    w.write_all(b"}")
}

/// One record's output object as a JSON line (with `template` and
/// `template_id` when `templates` is given): [`json_object`] and
/// [`add_template`], serialised, and a newline. A plain-text line's object
/// is written field by field ([`write_plain_object`], the same bytes).
/// `classify`'s JSON Lines output and the service's NDJSON stream both
/// write through here.
pub fn write_json_line(w: &mut impl Write, r: &Record, d: &Decision, templates: Option<&Templates>) -> std::io::Result<()> {
    if matches!(r.passthrough, Passthrough::None) {
        let template = templates.map(|t| t.of(&r.message));
        write_plain_object(w, r, d, template.as_ref().map(|(t, id)| (t.as_str(), id.as_str())))?;
    } else {
        let mut obj = json_object(r, d);
        if let Some(t) = templates {
            add_template(&mut obj, r, t);
        }
        serde_json::to_writer(&mut *w, &obj)?;
    }
    w.write_all(b"\n")
}

impl<W: Write> RecordWriter for JsonlOutput<W> {
    fn write_batch(&mut self, records: &[Record], decisions: &[Decision]) -> std::io::Result<()> {
        for (r, d) in records.iter().zip(decisions) {
            write_json_line(&mut self.w, r, d, self.templates.as_ref())?;
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
    use crate::record::{Detail, TierKind};

    #[test]
    fn a_plain_line_is_written_as_its_json_object_would_be() {
        let masker = crate::mask::Masker::default();
        let messages = ["plain", "quotes \" and \\ back\tslash\u{1}", "ünïcödé → 😀", "", "User User7 logged in at 10:00"];
        let mut n = 0;
        for (i, message) in messages.iter().enumerate() {
            for lines in [0u32, 1, 40] {
                for confidence in [0.0f32, 0.99994, 0.5, 1.0, f32::NAN, -1.0, 0.123456] {
                    for detail in [Detail::None, Detail::Guess("model: best guess \"x\"".into())] {
                        let r = Record {
                            row: 7 + i as u64,
                            source: format!("src{i}\n"),
                            message: message.to_string(),
                            lines,
                            ..Record::default()
                        };
                        let d = Decision { label: "Security \"Alert\"".into(), tier: TierKind::Model, confidence, detail };
                        for with_templates in [false, true] {
                            let templates = with_templates.then(|| Templates::new(masker));
                            let mut want = json_object(&r, &d);
                            if let Some(t) = &templates {
                                add_template(&mut want, &r, t);
                            }
                            let mut got = JsonlOutput::new(Vec::new());
                            if let Some(t) = templates {
                                got = got.with_templates(t);
                            }
                            got.write_batch(std::slice::from_ref(&r), std::slice::from_ref(&d)).unwrap();
                            got.finish().unwrap();
                            let got = String::from_utf8(got.w.into_inner().unwrap()).unwrap();
                            assert_eq!(got, serde_json::to_string(&want).unwrap() + "\n");
                            n += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(n, 5 * 3 * 7 * 2 * 2);
    }

    /// The `csv` crate's writer, as `CsvOutput` used it before writing rows
    /// itself: the reference for the bytes.
    fn csv_crate_rows(rows: &[Vec<&str>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn the_rows_are_the_csv_crates_bytes() {
        let fields = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "line\nbreak",
            "cr\rhere",
            "crlf\r\n",
            " lead and trail ",
            "ünïcödé → 😀",
            "tab\tsep",
            "'single'",
            "#comment",
            "ends,",
            ",starts",
            "x\"y,z\nw",
        ];
        // Each again past 32 bytes, where the field is searched by vector.
        let long: Vec<String> = fields.iter().map(|f| format!("{f}{}{f}", "-".repeat(40))).collect();
        let fields: Vec<&str> = fields.into_iter().chain(long.iter().map(String::as_str)).collect();
        // Rows of one field (an empty one is the special case), and rows of
        // two and three fields from every pair of the fields above.
        let mut rows: Vec<Vec<&str>> = fields.iter().map(|f| vec![*f]).collect();
        for &a in &fields {
            for &b in &fields {
                rows.push(vec![a, b]);
                rows.push(vec![b, "", a]);
            }
        }
        let mut out = CsvOutput::new(Vec::new(), Some(&["h".to_string()]));
        out.header = None;
        for r in &rows {
            out.row(r.iter().copied()).unwrap();
        }
        out.finish().unwrap();
        let got = out.into_inner().unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(csv_crate_rows(&rows)).unwrap());
        // Past the buffer's size, rows go out whole and in order.
        let long = "x".repeat(CSV_BUFFER / 3);
        let rows: Vec<Vec<&str>> = (0..10).map(|i| vec![if i % 2 == 0 { long.as_str() } else { "a,\"b\"" }, "z"]).collect();
        let mut out = CsvOutput::new(Vec::new(), Some(&["h".to_string()]));
        out.header = None;
        for r in &rows {
            out.row(r.iter().copied()).unwrap();
        }
        out.finish().unwrap();
        assert_eq!(out.into_inner().unwrap(), csv_crate_rows(&rows));
    }

    #[test]
    fn confidence_is_written_as_the_float_formatter_would() {
        let mut c = 0.0f32;
        while c <= 1.0 {
            assert_eq!(super::format_confidence(c).as_str(), format!("{c:.4}"), "{c}");
            c = f32::from_bits(c.to_bits() + 997);
        }
        for c in [0.03125f32, 0.99995, 1.0, -0.5, f32::NAN, 0.5] {
            assert_eq!(super::format_confidence(c).as_str(), format!("{c:.4}"), "{c}");
        }
    }
}
