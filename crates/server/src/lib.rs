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
//! | `GET /metrics` | | Prometheus text (with the pattern counters: new patterns and the highest growth, by label) |
//! | `GET /patterns?window=5m&baseline=1h` | | JSON: patterns new in the window, those spiking against the baseline ([`logsift_core::trends`]) |
//! | `GET /openapi.json`, `GET /docs` | | the API description and a page to read and try it (no CDN) |
//! | `GET /` | | a page to upload or paste logs, see the table and charts, download the CSV |
//! | `GET /label`, `/label/api/…` | a log file | label it a template at a time ([`label`]) |
//!
//! **One pipeline, micro-batched.** The model is loaded once; all requests
//! feed one queue in front of the thread that owns the pipeline
//! ([`batcher`]), so concurrent requests are classified together: many small
//! requests cost about as much as one large one, and the decision cache is
//! shared by all. The async threads only parse and write.
//!
//! **Safety.** Binds where it is told (the CLI defaults to 127.0.0.1); an
//! optional bearer token, compared in constant time, guards the classify
//! endpoints and `/metrics`; only the allowed `Host` names are answered and a
//! browser page of another origin is refused unless allowed (DNS rebinding,
//! CSRF: `access`); limits on body size, bodies in flight, columns, rows per
//! request and request time; a header deadline, a connection cap and a
//! bounded graceful shutdown ([`conn`]). Errors are
//! `application/problem+json` with the row and column at fault: 400 malformed
//! input, 401 missing or wrong token, 403 host or origin, 405 method, 413 too
//! large, 415 wrong content type, 422 missing column or field, 503 time limit,
//! bodies in flight or pipeline stopped.
//!
//! **Rooms.** This file holds the configuration, the router and what the
//! handlers share; `access` the Host/Origin guard and the token, `upload`
//! `POST /classify`, `json` `POST /v1/classify`, `stream` the NDJSON
//! endpoint, `health` `/health` and `/metrics`, [`conn`] the connections.
//! CSV uploads and JSON bodies are classified and written a chunk of
//! `max_batch_lines` at a time, so a request holds its body, its answer and
//! one chunk, never a record per row of the whole body.

#![deny(missing_docs)]

pub mod batcher;
pub mod conn;
pub mod label;
pub mod metrics;
mod openapi;
pub mod problem;

mod access;
mod health;
mod json;
mod stream;
mod upload;

use access::*;
use health::*;
use json::*;
pub use json::{decode_logs, decode_logs_with};
use stream::*;
use upload::*;

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
use logsift_core::io::{write_json_line, CsvInput, CsvOutput, Format, InputError, InputOptions, LineDecoder, LineInput, RecordWriter};
use logsift_core::mask::Templates;
use logsift_core::record::{BadRow, Detail, Place};
use logsift_core::telemetry::TierReport;
pub use logsift_core::trends::{Live, TrendConfig};
use logsift_core::{Pipeline, Record};
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
    /// Longest silence of a `/v1/classify/stream` body: a stream that sends
    /// nothing for this long is answered with an error line and closed, so
    /// idle streams cannot hold the connection cap.
    pub stream_idle_timeout: Duration,
    /// Connection limits: header deadline, cap, shutdown grace.
    pub conn: conn::ConnLimits,
    /// Pattern counts over time (`GET /patterns`, the pattern metrics) and
    /// where new patterns are announced; `None`: counted with the default
    /// settings, announced nowhere.
    pub live: Option<Live>,
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
            stream_idle_timeout: Duration::from_secs(60),
            conn: conn::ConnLimits::default(),
            live: None,
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
    cfg: Arc<ServiceConfig>,
    info: ModelInfo,
    metrics: Metrics,
    llm: Option<Arc<dyn TierReport>>,
    started: Instant,
    /// Body bytes in flight, in KiB (see [`ServiceConfig::max_inflight_bytes`]).
    inflight: Arc<tokio::sync::Semaphore>,
    /// Templates and ids for `?with_template=true`, with the pipeline's masking.
    templates: Templates,
    /// Pattern counts over time.
    live: Live,
}

/// `?with_template=true` on `/v1/classify` and `/v1/classify/stream`.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateQuery {
    /// Add `template` and `template_id` to each result.
    #[serde(default)]
    with_template: bool,
}

pub(crate) fn template_query(q: Result<Query<TemplateQuery>, axum::extract::rejection::QueryRejection>) -> Result<bool, Problem> {
    q.map(|Query(q)| q.with_template).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad parameter", e.body_text()))
}

type Shared = Arc<Service>;

/// The service's routes over `pipeline`; `/label` compares templates with
/// the lexical encoder (see [`router_with_label`]).
pub fn router(pipeline: Pipeline, info: ModelInfo, llm: Option<Arc<dyn TierReport>>, cfg: ServiceConfig) -> Router {
    let lexical = Arc::new(logsift_core::lexical::LexicalEncoder::new(logsift_core::lexical::DEFAULT_DIM));
    router_with_label(pipeline, info, llm, cfg, label::LabelApp::for_uploads(lexical, Default::default(), None))
}

/// The service's routes over `pipeline`, with `label` behind `/label`.
pub fn router_with_label(
    pipeline: Pipeline,
    info: ModelInfo,
    llm: Option<Arc<dyn TierReport>>,
    cfg: ServiceConfig,
    label: Arc<label::LabelApp>,
) -> Router {
    let templates = Templates::new(*pipeline.masker());
    let live = cfg.live.clone().unwrap_or_else(|| Live::new(TrendConfig::default(), *pipeline.masker()));
    live.trends.declare_labels(info.labels.iter().map(String::as_str));
    let batcher = Batcher::start(pipeline, cfg.max_batch_lines, live.clone());
    let body_limit = cfg.max_body_bytes;
    let inflight = Arc::new(tokio::sync::Semaphore::new(inflight_kib(&cfg)));
    let cfg = Arc::new(cfg);
    let svc = Arc::new(Service {
        batcher,
        cfg: cfg.clone(),
        info,
        metrics: Metrics::default(),
        llm,
        started: Instant::now(),
        inflight,
        templates,
        live,
    });
    let guarded = Router::new()
        .route("/classify", post(classify_csv))
        .route("/v1/classify", post(classify_json))
        .route("/v1/classify/stream", post(classify_stream))
        .route("/metrics", get(metrics))
        .route("/patterns", get(patterns))
        .route_layer(middleware::from_fn_with_state(cfg.clone(), auth));
    Router::new()
        .merge(guarded)
        .merge(label::router(label, cfg.clone()))
        .route("/health", get(health))
        .route("/openapi.json", get(|| async { Json(openapi::spec()) }))
        .route("/docs", get(|| async { Html(include_str!("../assets/docs.html")) }))
        .route("/", get(|| async { Html(include_str!("../assets/index.html")) }))
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not found", "no such endpoint; see /docs".into()) })
        .method_not_allowed_fallback(|| async {
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", "this endpoint does not take that method; see /docs".into())
        })
        .layer(middleware::from_fn_with_state(svc.clone(), observe))
        .layer(middleware::from_fn_with_state(cfg.clone(), guard))
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

/// Counts and times every request, by route.
async fn observe(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    let endpoint: &'static str = match req.extensions().get::<MatchedPath>().map(MatchedPath::as_str) {
        Some("/classify") => "/classify",
        Some("/v1/classify") => "/v1/classify",
        Some("/v1/classify/stream") => "/v1/classify/stream",
        Some("/health") => "/health",
        Some("/metrics") => "/metrics",
        Some("/patterns") => "/patterns",
        Some("/openapi.json") => "/openapi.json",
        Some("/docs") => "/docs",
        Some("/") => "/",
        Some(p) if p.starts_with("/label") => "/label",
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
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // A body declared over the limit is refused before a byte of it is read
    // (otherwise the answer waited for bytes that may never come).
    if let Some(n) = declared.filter(|&n| n > svc.cfg.max_body_bytes as u64) {
        return Err(body_problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Content-Length {n} > {} bytes; --max-body-mib raises it", svc.cfg.max_body_bytes),
        ));
    }
    let declared = declared.map(|n| n as usize);
    let bytes = declared.unwrap_or(svc.cfg.max_body_bytes).min(svc.cfg.max_body_bytes);
    let kib = (bytes / 1024).clamp(1, inflight_kib(&svc.cfg)) as u32;
    svc.inflight.clone().try_acquire_many_owned(kib).map_err(|_| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "requests in flight already hold the limit of {} MiB of bodies (--max-inflight-mib); retry shortly",
                svc.cfg.max_inflight_bytes >> 20
            ),
        )
        .retry_after(1)
    })
}

/// The in-flight body budget in KiB (the semaphore's permits).
fn inflight_kib(cfg: &ServiceConfig) -> usize {
    (cfg.max_inflight_bytes / 1024).clamp(1, u32::MAX as usize)
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

#[cfg(test)]
mod tests {
    use super::*;
    use logsift_core::record::Fault;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn bad_rows_name_their_column() {
        let h = vec!["source".to_string(), "log_message".to_string()];
        let utf8 = BadRow::new(Fault::InvalidUtf8 { place: Place::Column(2), at: 3 });
        assert_eq!(column_named(&utf8, Some(&h)).as_deref(), Some("log_message"));
        let ragged = BadRow::new(Fault::Ragged { fields: 3, width: 2, line: 4 });
        assert_eq!(column_named(&ragged, Some(&h)), None);
        let field = BadRow::new(Fault::MissingField("msg".into()));
        assert_eq!(column_named(&field, None).as_deref(), Some("msg"));
    }

    #[test]
    fn over_long_stream_lines_keep_their_place() {
        let mut lines = LineDecoder::new("stream", true, InputOptions { max_line_bytes: 1000, ..InputOptions::default() });
        let mut r = vec![];
        lines.feed(br#"{"log_message":"a"}"#, &mut r);
        lines.feed(b"\n", &mut r);
        for _ in 0..100 {
            lines.feed(&[b'x'; 1000], &mut r);
        }
        lines.feed(b"\n  \n{\"log_message\":\"c\"}", &mut r);
        r.extend(lines.finish());
        assert_eq!(r.iter().map(|r| r.row).collect::<Vec<_>>(), [1, 2, 4], "the blank line 3 is not a record");
        assert_eq!((r[0].message.as_str(), r[2].message.as_str()), ("a", "c"));
        assert!(r[1].invalid.as_ref().unwrap().to_string().contains("100000 bytes"));
    }
}
