//! `POST /v1/classify`: `{"logs": [...]}` in, `{"model", "results"}` out,
//! decoded, classified and written a chunk at a time.

use super::*;

pub(crate) async fn classify_json(
    State(svc): State<Shared>,
    q: Result<Query<TemplateQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let with_template = template_query(q)?;
    let mt = media_type(req.headers());
    if mt != "application/json" && !mt.ends_with("+json") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /v1/classify takes application/json, not '{mt}'"),
        ));
    }
    let _budget = admit_body(&svc, req.headers())?;
    let work = async {
        let body = Bytes::from_request(req, &svc).await.map_err(|e| body_problem(e.status(), e.body_text()))?;
        // Decoded, classified and written a chunk of logs at a time on a
        // blocking thread (the decoder is synchronous): the request holds its
        // body, its answer and one chunk, never a record and a result object
        // per log of the whole body (which cost 30× the body for short logs).
        let (svc2, rt) = (svc.clone(), tokio::runtime::Handle::current());
        let out = tokio::task::spawn_blocking(move || json_answer(&svc2, &body, &rt, with_template)).await.map_err(internal)??;
        Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
    };
    limited(&svc, work).await
}

/// `{"model", "results"}` for a `POST /v1/classify` body.
pub(crate) fn json_answer(svc: &Service, body: &[u8], rt: &tokio::runtime::Handle, with_template: bool) -> Result<Vec<u8>, Problem> {
    // Grown as written: a body of skipped fields gets a small answer.
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"model\":");
    serde_json::to_writer(&mut out, &svc.info.name).map_err(internal)?;
    out.extend_from_slice(b",\"results\":[");
    let chunk_rows = svc.cfg.max_batch_lines.max(1);
    let mut chunk: Vec<Record> = Vec::with_capacity(chunk_rows.min(1 << 16));
    let mut first = true;
    let mut flush = |chunk: &mut Vec<Record>, out: &mut Vec<u8>| -> Result<(), Problem> {
        let (records, decisions) = rt.block_on(classify_records(svc, std::mem::take(chunk)))?;
        for (r, d) in records.iter().zip(&decisions) {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            let mut res = ResultOut::of(d);
            let template = with_template.then(|| svc.templates.of(&r.message));
            if let Some((t, id)) = &template {
                (res.template, res.template_id) = (Some(t.as_str()), Some(id.as_str()));
            }
            serde_json::to_writer(&mut *out, &res).map_err(internal)?;
        }
        Ok(())
    };
    decode_logs_with(body, svc.cfg.max_rows, svc.cfg.max_line_bytes, |r| {
        chunk.push(r);
        if chunk.len() == chunk_rows {
            flush(&mut chunk, &mut out)?;
        }
        Ok(())
    })?;
    flush(&mut chunk, &mut out)?;
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// One result of `POST /v1/classify`, written straight to the answer.
#[derive(serde::Serialize)]
pub(crate) struct ResultOut<'a> {
    target_label: &'a str,
    tier: &'a str,
    confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    guess: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_id: Option<&'a str>,
}

impl<'a> ResultOut<'a> {
    fn of(d: &'a logsift_core::Decision) -> Self {
        let (rule, reason, guess) = match &d.detail {
            Detail::Rule(id) => (Some(&**id), None, false),
            Detail::Reason(r) => (None, Some(&**r), false),
            Detail::Guess(r) => (None, Some(&**r), true),
            Detail::None => (None, None, false),
        };
        let confidence = (d.confidence as f64 * 10_000.0).round() / 10_000.0;
        ResultOut { target_label: &d.label, tier: d.tier.as_str(), confidence, rule, reason, guess, template: None, template_id: None }
    }
}

/// The records of a `POST /v1/classify` body, `{"logs": [{"source", "log_message"}]}`,
/// or the problem with it (400 malformed JSON, 413 too many rows, 422 a
/// missing or mistyped field, with its row).
pub fn decode_logs(body: &[u8], max_rows: usize, max_line_bytes: usize) -> Result<Vec<Record>, Problem> {
    let mut records = vec![];
    decode_logs_with(body, max_rows, max_line_bytes, |r| {
        records.push(r);
        Ok(())
    })?;
    Ok(records)
}

/// [`decode_logs`], handing each record to `each` as it is parsed (an error
/// from `each` stops the parse and is returned). Typed, so that fields other
/// than `logs`, `source` and `log_message` are skipped as they are parsed,
/// never built: a 63 MB body of unknown fields costs no more than its bytes.
pub fn decode_logs_with(
    body: &[u8],
    max_rows: usize,
    max_line_bytes: usize,
    each: impl FnMut(Record) -> Result<(), Problem>,
) -> Result<(), Problem> {
    let mut sink = LogSink { each, rows: 0, max_rows, max_line_bytes, stopped: None, seen_logs: false };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde::de::DeserializeSeed::deserialize(BodySeed(&mut sink), &mut de).and_then(|()| de.end());
    if let Some(p) = sink.stopped {
        return Err(p);
    }
    parsed.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed JSON", format!("line {} column {}: {e}", e.line(), e.column())))?;
    if !sink.seen_logs {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "missing field", "the body needs a 'logs' array".into()).column("logs"));
    }
    Ok(())
}

pub(crate) struct LogSink<F> {
    each: F,
    rows: usize,
    max_rows: usize,
    max_line_bytes: usize,
    /// The problem that stopped the parse (the serde error then says only "stopped").
    stopped: Option<Problem>,
    seen_logs: bool,
}

impl<F: FnMut(Record) -> Result<(), Problem>> LogSink<F> {
    fn take(&mut self, item: LogItem) -> Result<(), Problem> {
        let i = self.rows;
        self.rows += 1;
        if self.rows > self.max_rows {
            return Err(too_many_rows(self.max_rows));
        }
        let row = i as u64 + 1;
        if let Some(kind) = item.not_object {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not an object",
                format!("logs[{i}] is {kind}, not an object with a string 'log_message'"),
            )
            .row(row));
        }
        let message = match item.log_message {
            Some(Field::Str(s)) => s,
            other => {
                let what = other.map_or("no 'log_message'", |f| f.kind());
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "missing field",
                    format!("logs[{i}] has {what} where a string 'log_message' belongs"),
                )
                .row(row)
                .column("log_message"));
            }
        };
        let source = match item.source {
            None | Some(Field::Null) => String::new(),
            Some(Field::Str(s)) => s,
            Some(other) => {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad field",
                    format!("logs[{i}].source is {}, not a string or null", other.kind()),
                )
                .row(row)
                .column("source"))
            }
        };
        let mut r = Record::new(source, message);
        r.row = row;
        r.invalid = logsift_core::io::message_problems(&r.message, Place::Field("log_message".into()), self.max_line_bytes);
        (self.each)(r)
    }
}

/// The body: a map whose `logs` goes to the sink, the rest skipped.
pub(crate) struct BodySeed<'s, F>(&'s mut LogSink<F>);

impl<'de, F: FnMut(Record) -> Result<(), Problem>> serde::de::DeserializeSeed<'de> for BodySeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Record) -> Result<(), Problem>> serde::de::Visitor<'de> for BodySeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with a 'logs' array")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "logs" && !self.0.seen_logs {
                self.0.seen_logs = true;
                map.next_value_seed(LogsSeed(&mut *self.0))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `logs` array: each item to the sink as it is parsed.
pub(crate) struct LogsSeed<'s, F>(&'s mut LogSink<F>);

impl<'de, F: FnMut(Record) -> Result<(), Problem>> serde::de::DeserializeSeed<'de> for LogsSeed<'_, F> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Record) -> Result<(), Problem>> serde::de::Visitor<'de> for LogsSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of logs")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<LogItem>()? {
            if let Err(p) = self.0.take(item) {
                self.0.stopped = Some(p);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// One item of `logs`: an object, whose other fields are skipped unbuilt,
/// or the kind of value that stood where an object belongs (a derived
/// `Deserialize` would also take `["msg", "src"]` as the object's fields).
pub(crate) struct LogItem {
    log_message: Option<Field>,
    source: Option<Field>,
    /// Not an object: what it was.
    not_object: Option<&'static str>,
}

/// The keys of a `logs` item that are read; any other is skipped.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    LogMessage,
    Source,
    #[serde(other)]
    Other,
}

impl<'de> OfKind<'de> for LogItem {
    const EXPECTING: &'static str = "a log object";
    fn kind(kind: &'static str) -> Self {
        LogItem { log_message: None, source: None, not_object: Some(kind) }
    }
    fn map<A: serde::de::MapAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        let mut item = LogItem { log_message: None, source: None, not_object: None };
        while let Some(k) = a.next_key::<Key>()? {
            let (slot, name) = match k {
                Key::LogMessage => (&mut item.log_message, "log_message"),
                Key::Source => (&mut item.source, "source"),
                Key::Other => {
                    a.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                return Err(serde::de::Error::duplicate_field(name));
            }
            *slot = Some(a.next_value()?);
        }
        Ok(item)
    }
}

/// A JSON value where a string belongs: kept if it is one, else only its kind.
pub(crate) enum Field {
    Str(String),
    Null,
    Other(&'static str),
}

impl Field {
    fn kind(&self) -> &'static str {
        match self {
            Field::Str(_) => "a string",
            Field::Null => "null",
            Field::Other(k) => k,
        }
    }
}

impl<'de> OfKind<'de> for Field {
    const EXPECTING: &'static str = "any JSON value";
    fn kind(kind: &'static str) -> Self {
        Field::Other(kind)
    }
    fn string(s: String) -> Self {
        Field::Str(s)
    }
    fn null() -> Self {
        Field::Null
    }
}

/// A value read for what it is when it is the expected kind and by its kind
/// otherwise: what a `logs` item ([`LogItem`]: an object) and a field
/// ([`Field`]: a string or null) share. Arrays and objects that are not
/// wanted are skipped unbuilt.
trait OfKind<'de>: Sized {
    /// What the value should have been, for serde's messages.
    const EXPECTING: &'static str;
    /// A value of another kind (`a number`, `an array`, …).
    fn kind(kind: &'static str) -> Self;
    /// A string.
    fn string(_: String) -> Self {
        Self::kind("a string")
    }
    /// `null`.
    fn null() -> Self {
        Self::kind("null")
    }
    /// An object.
    fn map<A: serde::de::MapAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        while a.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
        Ok(Self::kind("an object"))
    }
}

/// The one visitor of [`OfKind`] values.
struct KindVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: OfKind<'de>> serde::de::Visitor<'de> for KindVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok(T::string(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<T, E> {
        Ok(T::string(v))
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::null())
    }
    fn visit_none<E>(self) -> Result<T, E> {
        Ok(T::null())
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::kind("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok(T::kind("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok(T::kind("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok(T::kind("a number"))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<T, A::Error> {
        while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(T::kind("an array"))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        T::map(a)
    }
}

impl<'de> serde::Deserialize<'de> for LogItem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor(std::marker::PhantomData))
    }
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor(std::marker::PhantomData))
    }
}
