//! `POST /classify`: a CSV or plain log file in, the CSV with the decisions
//! out, classified and written a chunk at a time.

use super::*;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CsvQuery {
    /// Add only `target_label` (not tier, confidence, detail).
    #[serde(default)]
    only_label: bool,
    /// `skip`: keep bad rows as Unclassified with the reason instead of failing.
    #[serde(default)]
    on_error: Option<String>,
    /// `csv` or `text`: how to read the body (see [`upload`]).
    #[serde(default)]
    format: Option<String>,
    /// Add the columns `template` and `template_id`.
    #[serde(default)]
    with_template: bool,
}

/// The file of a multipart upload (field `file`) or the body, and whether it
/// is a plain log file (one line a log line, as `classify --format text`)
/// rather than CSV: `?format=` says, else a `text/plain` body or a part
/// named `*.log`/`*.txt` or typed `text/plain` is text, anything else CSV.
pub(crate) async fn upload(svc: &Shared, req: Request, format: Option<&str>) -> Result<(Bytes, bool), Problem> {
    let forced = match format {
        None => None,
        Some("csv") => Some(false),
        Some("text") => Some(true),
        Some(other) => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "bad parameter", format!("format must be 'csv' or 'text', not '{other}'")))
        }
    };
    let mt = media_type(req.headers());
    match mt.as_str() {
        "multipart/form-data" => {
            let mut mp = Multipart::from_request(req, svc).await.map_err(|e| body_problem(e.status(), e.body_text()))?;
            loop {
                let field = mp.next_field().await.map_err(|e| body_problem(e.status(), e.body_text()))?;
                let Some(field) = field else {
                    return Err(Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "missing field",
                        "the multipart body has no field named 'file' (the file to classify)".into(),
                    )
                    .column("file"));
                };
                if field.name() == Some("file") {
                    let named_text = field.file_name().and_then(Format::from_path) == Some(Format::Text);
                    let typed_text = field.content_type().is_some_and(|t| t.starts_with("text/plain"));
                    let text = forced.unwrap_or(typed_text || named_text);
                    let bytes = field.bytes().await.map_err(|e| body_problem(e.status(), e.body_text()))?;
                    return Ok((bytes, text));
                }
            }
        }
        "text/csv" | "application/csv" | "text/plain" => {
            let text = forced.unwrap_or(mt == "text/plain");
            let bytes = Bytes::from_request(req, svc).await.map_err(|e| body_problem(e.status(), e.body_text()))?;
            Ok((bytes, text))
        }
        other => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /classify takes multipart/form-data (field 'file'), text/csv or text/plain, not '{other}'"),
        )),
    }
}

/// The column a bad row's problem is in, by the header's name.
pub(crate) fn column_named(bad: &BadRow, headers: Option<&[String]>) -> Option<String> {
    match bad.place()? {
        Place::Column(n) => headers?.get(n.checked_sub(1)?).cloned(),
        Place::Field(name) => Some(name),
        Place::Line => None,
    }
}

pub(crate) fn input_problem(e: InputError) -> Problem {
    match e {
        InputError::MissingColumn { column, found, .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing column",
            format!("the CSV has no '{column}' column; its header has {found:?}"),
        )
        .column(&column),
        InputError::Empty { column, .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing column",
            format!("the CSV is empty: it needs a header row with a '{column}' column"),
        )
        .column(&column),
        InputError::HeaderTooLong { bytes, max, .. } => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "header too long",
            format!("the CSV's header row ({bytes} bytes) is over the limit of {max} bytes for a line; is this a CSV file?"),
        ),
        InputError::Csv { row, message, .. } => {
            Problem::new(StatusCode::BAD_REQUEST, "malformed CSV", format!("row {row}: {message}")).row(row)
        }
        InputError::Io { source, .. } => Problem::new(StatusCode::BAD_REQUEST, "cannot read the CSV", source.to_string()),
    }
}

/// The records of an upload, CSV or plain text.
pub(crate) type Records = Box<dyn Iterator<Item = Result<Record, InputError>> + Send>;

pub(crate) async fn classify_csv(
    State(svc): State<Shared>,
    q: Result<Query<CsvQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad parameter", e.body_text()))?;
    let skip = match q.on_error.as_deref() {
        None | Some("fail") => false,
        Some("skip") => true,
        Some(other) => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "bad parameter", format!("on_error must be 'fail' or 'skip', not '{other}'")))
        }
    };
    let _budget = admit_body(&svc, req.headers())?;
    let work = async {
        let (body, text) = upload(&svc, req, q.format.as_deref()).await?;
        let body_len = body.len();
        let (input, headers): (Records, Option<Vec<String>>) = if text {
            (Box::new(LineInput::new(Cursor::new(body), "upload", false, input_options(&svc.cfg))), None)
        } else {
            let input = CsvInput::new(Cursor::new(body), "upload", input_options(&svc.cfg)).map_err(input_problem)?;
            let headers = input.headers().to_vec();
            if headers.len() > svc.cfg.max_columns {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "too many columns",
                    format!("the CSV header has {} columns; this service takes at most {}", headers.len(), svc.cfg.max_columns),
                ));
            }
            (Box::new(input), Some(headers))
        };
        // Classified a chunk at a time and written as it goes: the request
        // holds its body, its output and one chunk of records, not a record
        // per row of the whole body (some 300 bytes a row, 7× a CSV of
        // short lines).
        let out_buf = || Vec::with_capacity(body_len + body_len / 2);
        let mut writer = if q.only_label {
            let mut w = csv::Writer::from_writer(out_buf());
            let plain = ["source".to_string(), "log_message".to_string()];
            let mut h: Vec<String> = headers
                .as_deref()
                .unwrap_or(&plain)
                .iter()
                .map(|c| if c.trim() == "target_label" { format!("{c}_input") } else { c.clone() })
                .collect();
            h.push("target_label".into());
            w.write_record(&h).map_err(internal)?;
            Answer::LabelOnly(Box::new(w))
        } else {
            let w = CsvOutput::new(out_buf(), headers.as_deref());
            Answer::Full(if q.with_template { w.with_templates(svc.templates.clone()) } else { w })
        };
        let chunk_rows = svc.cfg.max_batch_lines.max(1);
        let mut rows = 0usize;
        let mut input = input.peekable();
        while input.peek().is_some() {
            let mut chunk = Vec::with_capacity(chunk_rows.min(1 << 16));
            for r in input.by_ref() {
                let r = r.map_err(input_problem)?;
                if let (Some(why), false) = (&r.invalid, skip) {
                    let mut p = Problem::new(StatusCode::BAD_REQUEST, "malformed CSV", format!("row {}: {why}", r.row)).row(r.row);
                    if let Some(c) = column_named(why, headers.as_deref()) {
                        p = p.column(&c);
                    }
                    return Err(p);
                }
                rows += 1;
                if rows > svc.cfg.max_rows {
                    return Err(too_many_rows(svc.cfg.max_rows));
                }
                chunk.push(r);
                if chunk.len() == chunk_rows {
                    break;
                }
            }
            let (records, decisions) = classify_records(&svc, chunk).await?;
            match &mut writer {
                Answer::Full(w) => w.write_batch(&records, &decisions).map_err(internal)?,
                Answer::LabelOnly(w) => {
                    for (r, d) in records.iter().zip(&decisions) {
                        let mut row: Vec<&str> = match &r.passthrough {
                            logsift_core::record::Passthrough::Columns(c) => c.iter().collect(),
                            _ => vec![r.source.as_str(), r.message.as_str()],
                        };
                        row.push(&d.label);
                        w.write_record(&row).map_err(internal)?;
                    }
                }
            }
        }
        let out = match writer {
            Answer::Full(mut w) => {
                w.finish().map_err(internal)?;
                w.into_inner().map_err(internal)?
            }
            Answer::LabelOnly(w) => (*w).into_inner().map_err(internal)?,
        };
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"classified.csv\"")],
            out,
        )
            .into_response())
    };
    limited(&svc, work).await
}

/// The CSV being written: every column with the decision, or `?only_label`.
enum Answer {
    Full(CsvOutput<Vec<u8>>),
    /// (Boxed: the `csv` crate's writer is three times `CsvOutput`'s size.)
    LabelOnly(Box<csv::Writer<Vec<u8>>>),
}
