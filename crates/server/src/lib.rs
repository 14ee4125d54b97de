//! # logsift-server
//!
//! `logsift serve`: the cascade behind HTTP, for teams that call it from their
//! tools and pipelines.
//!
//! | endpoint | in | out |
//! |---|---|---|
//! | `POST /classify` | CSV as multipart (field `file`) or `text/csv` | the CSV with every input column, then `target_label`, `tier`, `confidence`, `detail` (`?only_label=true`: `target_label` alone) |
//! | `POST /v1/classify` | `{"logs": [{"source", "log_message"}]}` | `{"model", "results": [{"target_label", "tier", "confidence", "rule" or "reason"}]}`, in order |
//! | `POST /v1/classify/stream` | NDJSON, any length | NDJSON, each input object plus the output fields, written as lines are decided |
//! | `GET /health` | | model, labels, tiers, LLM state |
//! | `GET /metrics` | | Prometheus text |
//! | `GET /openapi.json`, `GET /docs` | | the API description and a page to read and try it (no CDN) |
//! | `GET /` | | a page to upload or paste logs, see the table and charts, download the CSV |
//!
//! **One pipeline, micro-batched.** The model is loaded once; all requests
//! feed one queue in front of the thread that owns the pipeline
//! ([`batcher`]), so concurrent requests are classified together: many small
//! requests cost about as much as one large one, and the decision cache is
//! shared by all. The async threads only parse and write.
//!
//! **Safety.** Binds where it is told (the CLI defaults to 127.0.0.1); an
//! optional bearer token, compared in constant time, guards the classify
//! endpoints and `/metrics`; limits on body size, rows per request and
//! request time; graceful shutdown finishes requests in flight. Errors are
//! `application/problem+json` with the row and column at fault: 400 malformed
//! input, 401 missing or wrong token, 413 too large, 415 wrong content type,
//! 422 missing column or field, 503 time limit or pipeline stopped.

#![deny(missing_docs)]

pub mod batcher;
pub mod metrics;
mod openapi;
pub mod problem;

use std::convert::Infallible;
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, MatchedPath, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use logsift_core::io::{json_object, CsvInput, CsvOutput, InputError, InputOptions, LineInput, RecordWriter};
use logsift_core::record::Detail;
use logsift_core::{Pipeline, Record};
use logsift_llm::client::LlmStats;
use serde_json::{json, Value};

use crate::batcher::Batcher;
use crate::metrics::Metrics;
pub use crate::problem::Problem;

/// Limits and access control.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Bearer token required on the classify endpoints and `/metrics`.
    pub token: Option<String>,
    /// Largest request body (bytes) of `/classify` and `/v1/classify`.
    pub max_body_bytes: usize,
    /// Most rows in one request (the stream endpoint has no such limit).
    pub max_rows: usize,
    /// Longest time to answer a request (not the stream endpoint).
    pub request_timeout: Duration,
    /// Most records the pipeline takes in one batch.
    pub max_batch_lines: usize,
    /// Lines longer than this (bytes) are bad input.
    pub max_line_bytes: usize,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            token: None,
            max_body_bytes: 64 * 1024 * 1024,
            max_rows: 1_000_000,
            request_timeout: Duration::from_secs(120),
            max_batch_lines: 4096,
            max_line_bytes: 64 * 1024,
        }
    }
}

/// What `/health` says about the model.
#[derive(Clone, Debug, Default)]
pub struct ModelInfo {
    /// Bundle name.
    pub name: String,
    /// Bundle directory.
    pub dir: String,
    /// Encoder id.
    pub encoder: String,
    /// Model tier threshold.
    pub threshold: f64,
    /// Labels the bundle can give.
    pub labels: Vec<String>,
    /// One line per tier.
    pub tiers: Vec<String>,
}

struct Service {
    batcher: Batcher,
    cfg: ServiceConfig,
    info: ModelInfo,
    metrics: Metrics,
    llm: Option<Arc<LlmStats>>,
    started: Instant,
}

type Shared = Arc<Service>;

/// The service's routes over `pipeline`.
pub fn router(pipeline: Pipeline, info: ModelInfo, llm: Option<Arc<LlmStats>>, cfg: ServiceConfig) -> Router {
    let batcher = Batcher::start(pipeline, cfg.max_batch_lines);
    let body_limit = cfg.max_body_bytes;
    let svc = Arc::new(Service { batcher, cfg, info, metrics: Metrics::default(), llm, started: Instant::now() });
    let guarded = Router::new()
        .route("/classify", post(classify_csv))
        .route("/v1/classify", post(classify_json))
        .route("/v1/classify/stream", post(classify_stream))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(svc.clone(), auth));
    Router::new()
        .merge(guarded)
        .route("/health", get(health))
        .route("/openapi.json", get(|| async { Json(openapi::spec()) }))
        .route("/docs", get(|| async { Html(include_str!("../assets/docs.html")) }))
        .route("/", get(|| async { Html(include_str!("../assets/index.html")) }))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not found", "no such endpoint; see /docs".into()) })
        .layer(middleware::from_fn_with_state(svc.clone(), observe))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(svc)
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// A future that completes on Ctrl-C or SIGTERM. The handlers are installed
/// when this is called (inside a Tokio runtime), not when the future is
/// first polled: call it first thing, so that a signal during start-up is a
/// clean stop, not the default kill.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term.take()) => {},
                _ = wait(int.take()) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Equal strings, in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    if let Some(token) = &svc.cfg.token {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| constant_time_eq(g.trim().as_bytes(), token.as_bytes()));
        if !ok {
            let why = if given.is_some() { "wrong bearer token" } else { "this endpoint needs 'Authorization: Bearer <token>'" };
            let mut r = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", why.into()).into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    next.run(req).await
}

/// Counts and times every request, by route.
async fn observe(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    let endpoint: &'static str = match req.extensions().get::<MatchedPath>().map(MatchedPath::as_str) {
        Some("/classify") => "/classify",
        Some("/v1/classify") => "/v1/classify",
        Some("/v1/classify/stream") => "/v1/classify/stream",
        Some("/health") => "/health",
        Some("/metrics") => "/metrics",
        Some("/openapi.json") => "/openapi.json",
        Some("/docs") => "/docs",
        Some("/") => "/",
        _ => "other",
    };
    let t = Instant::now();
    let r = next.run(req).await;
    svc.metrics.observe(endpoint, r.status().as_u16(), t.elapsed());
    r
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default()
}

fn input_options(cfg: &ServiceConfig) -> InputOptions {
    InputOptions { max_line_bytes: cfg.max_line_bytes, ..InputOptions::default() }
}

/// Runs `work` under the request time limit.
async fn limited<T>(svc: &Service, work: impl std::future::Future<Output = Result<T, Problem>>) -> Result<T, Problem> {
    match tokio::time::timeout(svc.cfg.request_timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "time limit",
            format!("the request took longer than the limit of {} s", svc.cfg.request_timeout.as_secs_f64()),
        )),
    }
}

async fn classify_records(svc: &Service, records: Vec<Record>) -> Result<batcher::Classified, Problem> {
    svc.batcher
        .classify(records)
        .await
        .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "stopped", "the pipeline has stopped".into()))
}

#[derive(serde::Deserialize, Default)]
struct CsvQuery {
    /// Add only `target_label` (not tier, confidence, detail).
    #[serde(default)]
    only_label: bool,
    /// `skip`: keep bad rows as Unclassified with the reason instead of failing.
    #[serde(default)]
    on_error: Option<String>,
}

/// The CSV of a multipart upload (field `file`) or of a `text/csv` body.
async fn csv_body(svc: &Shared, req: Request) -> Result<Bytes, Problem> {
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
                        "the multipart body has no field named 'file' (the CSV to classify)".into(),
                    )
                    .column("file"));
                };
                if field.name() == Some("file") {
                    return field.bytes().await.map_err(|e| body_problem(e.status(), e.body_text()));
                }
            }
        }
        "text/csv" | "application/csv" | "text/plain" => {
            Bytes::from_request(req, svc).await.map_err(|e| body_problem(e.status(), e.body_text()))
        }
        other => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /classify takes multipart/form-data (field 'file') or text/csv, not '{other}'"),
        )),
    }
}

/// `column N` in a reader's message, as the header's name.
fn column_named(message: &str, headers: &[String]) -> Option<String> {
    let n: usize = message.split("column ").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    headers.get(n.checked_sub(1)?).cloned()
}

fn input_problem(e: InputError) -> Problem {
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
        InputError::Csv { row, message, .. } => {
            Problem::new(StatusCode::BAD_REQUEST, "malformed CSV", format!("row {row}: {message}")).row(row)
        }
        InputError::Io { source, .. } => Problem::new(StatusCode::BAD_REQUEST, "cannot read the CSV", source.to_string()),
    }
}

async fn classify_csv(State(svc): State<Shared>, Query(q): Query<CsvQuery>, req: Request) -> Result<Response, Problem> {
    let skip = match q.on_error.as_deref() {
        None | Some("fail") => false,
        Some("skip") => true,
        Some(other) => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "bad parameter", format!("on_error must be 'fail' or 'skip', not '{other}'")))
        }
    };
    let work = async {
        let body = csv_body(&svc, req).await?;
        let mut input = CsvInput::new(Cursor::new(body), "upload", input_options(&svc.cfg)).map_err(input_problem)?;
        let headers = input.headers().to_vec();
        let mut records = vec![];
        for r in input.by_ref() {
            let r = r.map_err(input_problem)?;
            if let (Some(why), false) = (&r.invalid, skip) {
                let mut p = Problem::new(StatusCode::BAD_REQUEST, "malformed CSV", format!("row {}: {why}", r.row)).row(r.row);
                if let Some(c) = column_named(why, &headers) {
                    p = p.column(&c);
                }
                return Err(p);
            }
            if records.len() == svc.cfg.max_rows {
                return Err(too_many_rows(svc.cfg.max_rows));
            }
            records.push(r);
        }
        let (records, decisions) = classify_records(&svc, records).await?;
        let mut out = Vec::with_capacity(records.len() * 64);
        if q.only_label {
            let mut w = csv::Writer::from_writer(&mut out);
            let mut h: Vec<String> =
                headers.iter().map(|c| if c.trim() == "target_label" { format!("{c}_input") } else { c.clone() }).collect();
            h.push("target_label".into());
            w.write_record(&h).map_err(internal)?;
            for (r, d) in records.iter().zip(&decisions) {
                let mut row: Vec<&str> = match &r.passthrough {
                    logsift_core::record::Passthrough::Columns(c) => c.iter().map(String::as_str).collect(),
                    _ => vec![r.source.as_str(), r.message.as_str()],
                };
                row.push(&d.label);
                w.write_record(&row).map_err(internal)?;
            }
            w.flush().map_err(internal)?;
        } else {
            let mut w = CsvOutput::new(&mut out, Some(&headers));
            w.write_batch(&records, &decisions).map_err(internal)?;
            w.finish().map_err(internal)?;
        }
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"classified.csv\"")],
            out,
        )
            .into_response())
    };
    limited(&svc, work).await
}

/// A body that could not be read: too large (413), or malformed (400).
fn body_problem(status: StatusCode, text: String) -> Problem {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(status, "too large", format!("the body is over the limit of this service ({text})"))
    } else {
        Problem::new(status, "cannot read the body", text)
    }
}

fn internal(e: impl std::fmt::Display) -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string())
}

fn too_many_rows(max: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too many rows",
        format!("a request may hold at most {max} rows; split it, or use /v1/classify/stream"),
    )
}

fn result_json(d: &logsift_core::Decision) -> Value {
    let conf = (d.confidence as f64 * 10_000.0).round() / 10_000.0;
    let mut v = json!({"target_label": &*d.label, "tier": d.tier.as_str(), "confidence": conf});
    match &d.detail {
        Detail::Rule(id) => v["rule"] = json!(&**id),
        Detail::Reason(r) => v["reason"] = json!(&**r),
        Detail::Guess(r) => {
            v["reason"] = json!(&**r);
            v["guess"] = json!(true);
        }
        Detail::None => {}
    }
    v
}

async fn classify_json(State(svc): State<Shared>, req: Request) -> Result<Response, Problem> {
    let mt = media_type(req.headers());
    if mt != "application/json" && !mt.ends_with("+json") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /v1/classify takes application/json, not '{mt}'"),
        ));
    }
    let work = async {
        let body = Bytes::from_request(req, &svc).await.map_err(|e| body_problem(e.status(), e.body_text()))?;
        let records = decode_logs(&body, svc.cfg.max_rows, svc.cfg.max_line_bytes)?;
        let (_, decisions) = classify_records(&svc, records).await?;
        let results: Vec<Value> = decisions.iter().map(result_json).collect();
        Ok(Json(json!({"model": svc.info.name, "results": results})).into_response())
    };
    limited(&svc, work).await
}

/// The records of a `POST /v1/classify` body, `{"logs": [{"source", "log_message"}]}`,
/// or the problem with it (400 malformed JSON, 413 too many rows, 422 a
/// missing or mistyped field, with its row).
pub fn decode_logs(body: &[u8], max_rows: usize, max_line_bytes: usize) -> Result<Vec<Record>, Problem> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "malformed JSON", format!("line {} column {}: {e}", e.line(), e.column())))?;
    let Some(logs) = v.get("logs").and_then(Value::as_array) else {
        return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "missing field", "the body needs a 'logs' array".into()).column("logs"));
    };
    if logs.len() > max_rows {
        return Err(too_many_rows(max_rows));
    }
    let mut records = Vec::with_capacity(logs.len());
    for (i, item) in logs.iter().enumerate() {
        let row = i as u64 + 1;
        let Some(message) = item.get("log_message").and_then(Value::as_str) else {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "missing field", format!("logs[{i}] has no string 'log_message'"))
                .row(row)
                .column("log_message"));
        };
        let source = match item.get("source") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s,
            Some(_) => {
                return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "bad field", format!("logs[{i}].source is not a string"))
                    .row(row)
                    .column("source"))
            }
        };
        let mut r = Record::new(source, message);
        r.row = row;
        if message.len() > max_line_bytes {
            r.invalid = Some(format!("line is {} bytes, over the limit of {}", message.len(), max_line_bytes));
        } else if message.contains('\0') {
            r.invalid = Some("NUL byte in log_message".into());
        }
        records.push(r);
    }
    Ok(records)
}

/// NDJSON in, NDJSON out: each complete line received is classified with
/// the others of its chunk and written back at once, so results flow while
/// the body is still arriving, in constant memory.
async fn classify_stream(State(svc): State<Shared>, req: Request) -> Result<Response, Problem> {
    let mt = media_type(req.headers());
    const TYPES: [&str; 5] = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/json", "text/plain"];
    if !TYPES.contains(&mt.as_str()) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /v1/classify/stream takes application/x-ndjson (one JSON object a line), not '{mt}'"),
        ));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let mut body = req.into_body().into_data_stream();
    let max_line = svc.cfg.max_line_bytes;
    let svc2 = svc.clone();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = vec![];
        let mut row: u64 = 0;
        // Bytes of an over-long line being skipped, until its newline.
        let mut skipping: Option<usize> = None;
        let mut done = false;
        while !done {
            let mut lines: Vec<Vec<u8>> = vec![];
            let mut too_long: Vec<(u64, usize)> = vec![];
            match body.next().await {
                Some(Ok(chunk)) => {
                    let mut rest: &[u8] = &chunk;
                    while !rest.is_empty() {
                        let nl = rest.iter().position(|&b| b == b'\n');
                        let (part, more) = match nl {
                            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                            None => (rest, None),
                        };
                        if let Some(n) = skipping.as_mut() {
                            *n += part.len();
                        } else {
                            buf.extend_from_slice(part);
                            if buf.len() > max_line {
                                skipping = Some(buf.len());
                                buf.clear();
                            }
                        }
                        match more {
                            Some(m) => {
                                row += 1;
                                match skipping.take() {
                                    Some(n) => too_long.push((row, n)),
                                    None => lines.push(std::mem::take(&mut buf)),
                                }
                                rest = m;
                            }
                            None => rest = &[],
                        }
                    }
                }
                Some(Err(e)) => {
                    let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": format!("reading the request failed: {e}")})))).await;
                    return;
                }
                None => {
                    done = true;
                    if let Some(n) = skipping.take() {
                        row += 1;
                        too_long.push((row, n));
                    } else if !buf.iter().all(u8::is_ascii_whitespace) {
                        row += 1;
                        lines.push(std::mem::take(&mut buf));
                    }
                }
            }
            let first_row = row + 1 - (lines.len() + too_long.len()) as u64;
            let records = stream_records(lines, too_long, first_row, max_line);
            if records.is_empty() {
                continue;
            }
            let Ok((records, decisions)) = svc2.batcher.classify(records).await else {
                let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": "the pipeline has stopped"})))).await;
                return;
            };
            let mut out = Vec::with_capacity(records.len() * 128);
            for (r, d) in records.iter().zip(&decisions) {
                let _ = serde_json::to_writer(&mut out, &json_object(r, d));
                out.push(b'\n');
            }
            if tx.send(Bytes::from(out)).await.is_err() {
                return; // the client went away
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(stream)).into_response())
}

/// Records of complete NDJSON lines (`lines`, in order, interleaved with the
/// over-long ones by row number), numbered from `first_row`.
pub fn stream_records(lines: Vec<Vec<u8>>, too_long: Vec<(u64, usize)>, first_row: u64, max_line: usize) -> Vec<Record> {
    let mut out = Vec::with_capacity(lines.len() + too_long.len());
    let mut long = too_long.into_iter().peekable();
    let mut row = first_row;
    let opts = InputOptions { max_line_bytes: max_line, ..InputOptions::default() };
    for line in lines {
        while long.peek().is_some_and(|(r, _)| *r == row) {
            out.push(long_record(long.next().expect("peeked"), max_line));
            row += 1;
        }
        let mut parsed: Vec<Record> = LineInput::new(Cursor::new(line), "stream", true, opts.clone()).flatten().collect();
        // A blank line is not a record (as in `logsift classify`).
        if let Some(mut r) = parsed.pop() {
            r.row = row;
            out.push(r);
        }
        row += 1;
    }
    out.extend(long.map(|l| long_record(l, max_line)));
    out
}

fn long_record((row, bytes): (u64, usize), max: usize) -> Record {
    Record { row, invalid: Some(format!("line is {bytes} bytes, over the limit of {max}")), ..Record::default() }
}

async fn health(State(svc): State<Shared>) -> Json<Value> {
    let llm = match &svc.llm {
        None => json!({"state": "disabled"}),
        Some(l) => {
            use std::sync::atomic::Ordering::Relaxed;
            let (req, fail) = (l.requests.load(Relaxed), l.failures.load(Relaxed));
            let state = if l.circuit_open.load(Relaxed) {
                "broken (circuit open)"
            } else if req > 0 && fail == req {
                "failing"
            } else if req == 0 {
                "not used yet"
            } else {
                "ok"
            };
            json!({"state": state, "requests": req, "failures": fail})
        }
    };
    let stats = svc.batcher.stats();
    Json(json!({
        "status": "ok",
        "model": {
            "name": svc.info.name,
            "dir": svc.info.dir,
            "encoder": svc.info.encoder,
            "threshold": svc.info.threshold,
            "labels": svc.info.labels,
        },
        "tiers": svc.info.tiers,
        "llm": llm,
        "lines": stats.records,
        "uptime_s": svc.started.elapsed().as_secs(),
    }))
}

async fn metrics(State(svc): State<Shared>) -> Response {
    let text = svc.metrics.render(&svc.batcher.stats(), svc.batcher.batches(), svc.llm.as_deref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn reader_messages_name_their_column() {
        let h = vec!["source".to_string(), "log_message".to_string()];
        assert_eq!(column_named("invalid UTF-8 in column 2 at byte 3", &h).as_deref(), Some("log_message"));
        assert_eq!(column_named("row has 3 fields", &h), None);
    }

    #[test]
    fn over_long_stream_lines_keep_their_place() {
        let lines = vec![br#"{"log_message":"a"}"#.to_vec(), b"  ".to_vec(), br#"{"log_message":"c"}"#.to_vec()];
        let r = stream_records(lines, vec![(6, 99_999)], 5, 1000);
        assert_eq!(r.iter().map(|r| r.row).collect::<Vec<_>>(), [5, 6, 8], "the blank line 7 is not a record");
        assert_eq!((r[0].message.as_str(), r[2].message.as_str()), ("a", "c"));
        assert!(r[1].invalid.as_deref().unwrap().contains("99999 bytes"));
    }
}
