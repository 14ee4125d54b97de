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
pub mod conn;
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
    /// `Host` header values (names or addresses, no port) the service
    /// answers; `None` answers any. A service on a loopback address should
    /// list only loopback names: a web page whose DNS name is rebound to
    /// 127.0.0.1 then cannot reach it.
    pub allowed_hosts: Option<Vec<String>>,
    /// Origins (`https://grafana.example.com`, or `*`) whose browser pages
    /// may call the service; a request from any other origin is refused.
    pub cors_origins: Vec<String>,
    /// Most request-body bytes held at once by `/classify` and
    /// `/v1/classify` together (each request counts its `Content-Length`, or
    /// `max_body_bytes` when it has none); past it, 503 with `Retry-After`.
    /// Memory then stays near a small multiple of this plus the model.
    pub max_inflight_bytes: usize,
    /// Most CSV columns in one upload (a 63 MB header of 32,000 columns
    /// would otherwise cost gigabytes of small strings).
    pub max_columns: usize,
    /// Connection limits: header deadline, cap, shutdown grace.
    pub conn: conn::ConnLimits,
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
            allowed_hosts: None,
            cors_origins: vec![],
            max_inflight_bytes: 256 * 1024 * 1024,
            max_columns: 1024,
            conn: conn::ConnLimits::default(),
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
    /// Body bytes in flight, in KiB (see [`ServiceConfig::max_inflight_bytes`]).
    inflight: Arc<tokio::sync::Semaphore>,
}

type Shared = Arc<Service>;

/// The service's routes over `pipeline`.
pub fn router(pipeline: Pipeline, info: ModelInfo, llm: Option<Arc<LlmStats>>, cfg: ServiceConfig) -> Router {
    let batcher = Batcher::start(pipeline, cfg.max_batch_lines);
    let body_limit = cfg.max_body_bytes;
    let inflight = Arc::new(tokio::sync::Semaphore::new((cfg.max_inflight_bytes / 1024).clamp(1, u32::MAX as usize)));
    let svc = Arc::new(Service { batcher, cfg, info, metrics: Metrics::default(), llm, started: Instant::now(), inflight });
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
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", "this endpoint does not take that method; see /docs".into())
        })
        .layer(middleware::from_fn_with_state(svc.clone(), observe))
        .layer(middleware::from_fn_with_state(svc.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(svc)
}

/// Serves `router` on `listener` with the default [`conn::ConnLimits`] until
/// `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve_with(listener, router, shutdown, conn::ConnLimits::default()).await
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

/// The host of a `Host` header or of an origin's authority, without the
/// port, lower case (`[::1]:8080` → `::1`).
fn host_name(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        a.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(a, |(h, _)| h)
    };
    host.to_ascii_lowercase()
}

/// Refuses requests for a host the service does not answer (DNS
/// rebinding) and requests from a browser page of another origin (CSRF: a
/// page may POST `text/plain` or multipart cross-origin without a
/// preflight), unless `--cors-origin` allows that origin; answers the
/// allowed origins' preflights and marks their responses.
async fn guard(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if let Some(allowed) = &svc.cfg.allowed_hosts {
        let name = host_name(&host);
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "host not allowed",
                format!(
                    "this service does not answer for Host '{host}' (allowed: {}); logsift serve --allow-host adds names",
                    allowed.join(", ")
                ),
            )
            .into_response();
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null").to_string()) else {
        return next.run(req).await; // not a browser page's cross-origin call
    };
    let same_origin = origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host));
    let listed = svc.cfg.cors_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(&origin));
    if same_origin {
        return next.run(req).await;
    }
    if !listed {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "cross-origin request refused",
            format!("pages of origin '{origin}' may not call this service; logsift serve --cors-origin {origin} allows them"),
        )
        .into_response();
    }
    let allow_origin = header::HeaderValue::from_str(&origin).unwrap_or(header::HeaderValue::from_static("null"));
    if req.method() == axum::http::Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header::HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, header::HeaderValue::from_static("authorization, content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, header::HeaderValue::from_static("600"));
        h.insert(header::VARY, header::HeaderValue::from_static("origin"));
        return r;
    }
    let mut r = next.run(req).await;
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    r.headers_mut().insert(header::VARY, header::HeaderValue::from_static("origin"));
    r
}

async fn auth(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    if let Some(token) = &svc.cfg.token {
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is fine.
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t);
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

/// A share of the in-flight byte budget for a request's body, held while it
/// is answered, or 503 with `Retry-After` when the budget is spent.
fn admit_body(svc: &Service, headers: &HeaderMap) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let bytes = declared.unwrap_or(svc.cfg.max_body_bytes).min(svc.cfg.max_body_bytes);
    let kib = (bytes / 1024).max(1).min(svc.inflight_capacity()) as u32;
    svc.inflight.clone().try_acquire_many_owned(kib).map_err(|_| {
        let mut p = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "requests in flight already hold the limit of {} MiB of bodies (--max-inflight-mib); retry shortly",
                svc.cfg.max_inflight_bytes >> 20
            ),
        );
        p = p.retry_after(1);
        p
    })
}

impl Service {
    fn inflight_capacity(&self) -> usize {
        (self.cfg.max_inflight_bytes / 1024).clamp(1, u32::MAX as usize)
    }
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
#[serde(deny_unknown_fields)]
struct CsvQuery {
    /// Add only `target_label` (not tier, confidence, detail).
    #[serde(default)]
    only_label: bool,
    /// `skip`: keep bad rows as Unclassified with the reason instead of failing.
    #[serde(default)]
    on_error: Option<String>,
    /// `csv` or `text`: how to read the body (see [`upload`]).
    #[serde(default)]
    format: Option<String>,
}

/// The file of a multipart upload (field `file`) or the body, and whether it
/// is a plain log file (one line a log line, as `classify --format text`)
/// rather than CSV: `?format=` says, else a `text/plain` body or a part
/// named `*.log`/`*.txt` or typed `text/plain` is text, anything else CSV.
async fn upload(svc: &Shared, req: Request, format: Option<&str>) -> Result<(Bytes, bool), Problem> {
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
                    let name = field.file_name().unwrap_or("").to_ascii_lowercase();
                    let typed_text = field.content_type().is_some_and(|t| t.starts_with("text/plain"));
                    let text = forced.unwrap_or(typed_text || name.ends_with(".log") || name.ends_with(".txt"));
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

/// The records of an upload, CSV or plain text.
type Records = Box<dyn Iterator<Item = Result<Record, InputError>> + Send>;

async fn classify_csv(
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
        let mut full = (!q.only_label).then(|| CsvOutput::new(out_buf(), headers.as_deref()));
        let mut labels_only = q.only_label.then(|| csv::Writer::from_writer(out_buf()));
        if let Some(w) = labels_only.as_mut() {
            let plain = ["source".to_string(), "log_message".to_string()];
            let mut h: Vec<String> = headers
                .as_deref()
                .unwrap_or(&plain)
                .iter()
                .map(|c| if c.trim() == "target_label" { format!("{c}_input") } else { c.clone() })
                .collect();
            h.push("target_label".into());
            w.write_record(&h).map_err(internal)?;
        }
        let chunk_rows = svc.cfg.max_batch_lines.max(1);
        let mut rows = 0usize;
        let mut input = input.peekable();
        while input.peek().is_some() {
            let mut chunk = Vec::with_capacity(chunk_rows.min(1 << 16));
            for r in input.by_ref() {
                let r = r.map_err(input_problem)?;
                if let (Some(why), false) = (&r.invalid, skip) {
                    let mut p = Problem::new(StatusCode::BAD_REQUEST, "malformed CSV", format!("row {}: {why}", r.row)).row(r.row);
                    if let Some(c) = headers.as_deref().and_then(|h| column_named(why, h)) {
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
            if let Some(w) = full.as_mut() {
                w.write_batch(&records, &decisions).map_err(internal)?;
            }
            if let Some(w) = labels_only.as_mut() {
                for (r, d) in records.iter().zip(&decisions) {
                    let mut row: Vec<&str> = match &r.passthrough {
                        logsift_core::record::Passthrough::Columns(c) => c.iter().map(String::as_str).collect(),
                        _ => vec![r.source.as_str(), r.message.as_str()],
                    };
                    row.push(&d.label);
                    w.write_record(&row).map_err(internal)?;
                }
            }
        }
        let out = match (full, labels_only) {
            (Some(mut w), _) => {
                w.finish().map_err(internal)?;
                w.into_inner().map_err(internal)?
            }
            (None, Some(w)) => w.into_inner().map_err(internal)?,
            (None, None) => unreachable!("one of the two writers is made"),
        };
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

async fn classify_json(State(svc): State<Shared>, req: Request) -> Result<Response, Problem> {
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
        let out = tokio::task::spawn_blocking(move || json_answer(&svc2, &body, &rt)).await.map_err(internal)??;
        Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
    };
    limited(&svc, work).await
}

/// `{"model", "results"}` for a `POST /v1/classify` body.
fn json_answer(svc: &Service, body: &[u8], rt: &tokio::runtime::Handle) -> Result<Vec<u8>, Problem> {
    // Grown as written: a body of skipped fields gets a small answer.
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"model\":");
    serde_json::to_writer(&mut out, &svc.info.name).map_err(internal)?;
    out.extend_from_slice(b",\"results\":[");
    let chunk_rows = svc.cfg.max_batch_lines.max(1);
    let mut chunk: Vec<Record> = Vec::with_capacity(chunk_rows.min(1 << 16));
    let mut first = true;
    let mut flush = |chunk: &mut Vec<Record>, out: &mut Vec<u8>| -> Result<(), Problem> {
        let (_, decisions) = rt.block_on(classify_records(svc, std::mem::take(chunk)))?;
        for d in &decisions {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, &ResultOut::of(d)).map_err(internal)?;
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
struct ResultOut<'a> {
    target_label: &'a str,
    tier: &'a str,
    confidence: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    guess: bool,
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
        ResultOut { target_label: &d.label, tier: d.tier.as_str(), confidence, rule, reason, guess }
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

struct LogSink<F> {
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
        if r.message.len() > self.max_line_bytes {
            r.invalid = Some(format!("line is {} bytes, over the limit of {}", r.message.len(), self.max_line_bytes));
        } else if r.message.contains('\0') {
            r.invalid = Some("NUL byte in log_message".into());
        }
        (self.each)(r)
    }
}

/// The body: a map whose `logs` goes to the sink, the rest skipped.
struct BodySeed<'s, F>(&'s mut LogSink<F>);

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
struct LogsSeed<'s, F>(&'s mut LogSink<F>);

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

/// One item of `logs`; any other field is skipped unbuilt.
#[derive(serde::Deserialize)]
struct LogItem {
    log_message: Option<Field>,
    source: Option<Field>,
}

/// A JSON value where a string belongs: kept if it is one, else only its kind.
enum Field {
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

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
                Ok(Field::Other("a boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Field, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Field, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Field, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Field, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Field::Other("an array"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Field, A::Error> {
                while a.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Field::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
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
