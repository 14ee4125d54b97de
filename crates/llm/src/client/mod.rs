//! The LLM tier over an OpenAI-compatible `/v1/chat/completions` endpoint.
//!
//! One request answers up to `batch_lines` lines; requests run on up to
//! `concurrency` threads. Every failure is local: a request that fails after
//! its retries (timeouts, 429 with `Retry-After` honoured, 5xx, refused
//! connections, bodies that are not the JSON asked for) turns only its own
//! lines into `Failed` verdicts (Unclassified, not cached), and an answer
//! that names no valid label fails only that line. A circuit breaker stops
//! calling an endpoint after `breaker_failures` failed requests in a row, for
//! `breaker_cooldown`; a budget caps requests per run and per minute, and
//! lines past it get the reason `llm budget`.
//!
//! The API key is read by the caller from an environment variable and is
//! never printed: [`LlmConfig`]'s `Debug` hides it.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logsift_core::record::{Decision, Detail, TierKind};
use logsift_core::tier::{Query, Tier, TierError, Verdict};
use serde_json::{json, Value};

mod config;
mod gate;

pub use config::{preset, LlmConfig, Preset, ResponseFormat, PRESETS};
use gate::Gate;
pub use gate::LlmStats;

use crate::answer::{parse_answer, LineAnswer};
use crate::examples::ExampleIndex;
use crate::prompt::{answer_schema, messages, Example, Item, LabelSpec};

/// Why one request failed.
#[derive(Debug)]
enum CallError {
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    Transport(String),
    Answer(String),
    /// The in-process model failed: retrying would fail the same way.
    #[cfg(feature = "local")]
    Local(crate::local::LocalError),
}

impl CallError {
    fn retryable(&self) -> bool {
        match self {
            CallError::Status { status, .. } => *status == 429 || *status == 408 || *status >= 500,
            CallError::Transport(_) | CallError::Answer(_) => true,
            #[cfg(feature = "local")]
            CallError::Local(_) => false,
        }
    }
}

impl CallError {
    /// The failure in a few words: `HTTP 429`, `request timed out`, ….
    fn cause(&self) -> String {
        match self {
            CallError::Status { status, .. } => format!("HTTP {status}"),
            CallError::Transport(e) => e.chars().take(120).collect(),
            #[cfg(feature = "local")]
            CallError::Local(e) => e.to_string().chars().take(120).collect(),
            CallError::Answer(e) => format!("bad answer: {}", e.chars().take(100).collect::<String>()),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status { status, body, .. } => write!(f, "HTTP {status}: {}", body.chars().take(200).collect::<String>()),
            CallError::Transport(e) | CallError::Answer(e) => f.write_str(e),
            #[cfg(feature = "local")]
            CallError::Local(e) => write!(f, "{e}"),
        }
    }
}

/// Where the questions go.
enum Backend {
    /// An OpenAI-compatible server.
    Http(reqwest::blocking::Client),
    /// A GGUF model in this process.
    #[cfg(feature = "local")]
    Local(Box<crate::local::LocalModel>),
}

/// Guidance examples per line asked about (the nearest ones), and at most
/// per request.
const EXAMPLES_PER_LINE: usize = 2;
const EXAMPLES_PER_REQUEST: usize = 12;
/// The in-process model sees one line per decode, with more examples each.
#[cfg(feature = "local")]
const LOCAL_EXAMPLES_PER_LINE: usize = 4;

/// The LLM tier.
pub struct LlmTier {
    cfg: LlmConfig,
    backend: Backend,
    labels: Vec<LabelSpec>,
    label_names: Vec<String>,
    examples: ExampleIndex,
    gate: Mutex<Gate>,
    stats: Arc<LlmStats>,
    review: Option<Mutex<Box<dyn std::io::Write + Send>>>,
}

/// Why an LLM tier cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No labels to choose from.
    #[error("the LLM tier needs at least one label")]
    NoLabels,
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The in-process model cannot be loaded.
    #[cfg(feature = "local")]
    #[error(transparent)]
    Local(#[from] crate::local::LocalError),
}

impl LlmTier {
    /// A tier that asks the server of `cfg` to label lines with `labels`,
    /// showing with each request the `examples` nearest to its lines (each
    /// example is matched on the text beside it, usually its masked template).
    pub fn new(cfg: LlmConfig, labels: Vec<LabelSpec>, examples: Vec<(Example, String)>) -> Result<Self, SetupError> {
        let http = reqwest::blocking::Client::builder().timeout(cfg.timeout).build().map_err(|e| SetupError::Http(e.without_url()))?;
        Self::with_backend(cfg, Backend::Http(http), labels, examples)
    }

    /// A tier that runs the GGUF chat model at `path` in this process (one
    /// request at a time; `cfg`'s URL and model name are replaced by the
    /// file's).
    #[cfg(feature = "local")]
    pub fn local(
        mut cfg: LlmConfig,
        path: &std::path::Path,
        labels: Vec<LabelSpec>,
        examples: Vec<(Example, String)>,
    ) -> Result<Self, SetupError> {
        if labels.is_empty() {
            return Err(SetupError::NoLabels);
        }
        let model = crate::local::LocalModel::load(path, &labels)?;
        cfg.base_url = format!("local:{}", path.display());
        cfg.model = model.name.clone();
        cfg.concurrency = 1;
        Self::with_backend(cfg, Backend::Local(Box::new(model)), labels, examples)
    }

    fn with_backend(
        cfg: LlmConfig,
        backend: Backend,
        labels: Vec<LabelSpec>,
        examples: Vec<(Example, String)>,
    ) -> Result<Self, SetupError> {
        if labels.is_empty() {
            return Err(SetupError::NoLabels);
        }
        let label_names = labels.iter().map(|l| l.name.clone()).collect();
        let examples = ExampleIndex::new(examples);
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        Ok(LlmTier {
            cfg,
            backend,
            labels,
            label_names,
            examples,
            gate: Mutex::new(Gate {
                requests: 0,
                minute_start: Instant::now(),
                minute_requests: 0,
                failures_in_row: 0,
                open_until: None,
                open_cause: String::new(),
                jitter: seed,
            }),
            stats: Arc::default(),
            review: None,
        })
    }

    /// Writes every LLM decision to `sink` as JSON Lines (`source`, `line`,
    /// `template`, `label`, `model`, `time` in Unix seconds), for people to
    /// review and for `logsift train --feedback`.
    pub fn with_review(mut self, sink: Box<dyn std::io::Write + Send>) -> Self {
        self.review = Some(Mutex::new(sink));
        self
    }

    fn write_review(&self, q: &Query<'_>, label: &str) {
        let Some(sink) = &self.review else { return };
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let rec =
            json!({"source": q.source, "line": q.message, "template": q.template, "label": label, "model": self.cfg.model, "time": time});
        if let Ok(mut w) = sink.lock() {
            if let Err(e) = writeln!(w, "{rec}").and_then(|_| w.flush()) {
                tracing::warn!("cannot write the LLM review file: {e}");
            }
        }
    }

    /// The tier's counters (shared; they keep counting).
    pub fn stats(&self) -> Arc<LlmStats> {
        self.stats.clone()
    }

    fn body(&self, items: &[Item], templates: &[&str]) -> Value {
        let examples = self.examples.for_lines(templates.iter().copied(), EXAMPLES_PER_LINE, EXAMPLES_PER_REQUEST);
        let mut body = json!({
            "model": self.cfg.model,
            "messages": messages(&self.labels, &examples, items),
            "temperature": 0,
        });
        match self.cfg.format {
            ResponseFormat::Prompt => {}
            ResponseFormat::JsonObject => body["response_format"] = json!({"type": "json_object"}),
            ResponseFormat::JsonSchema => {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": "labels", "strict": true, "schema": answer_schema(&self.labels, items.len())}
                })
            }
            ResponseFormat::JsonObjectSchema => {
                body["response_format"] = json!({"type": "json_object", "schema": answer_schema(&self.labels, items.len())})
            }
        }
        body
    }

    /// One request: a label (or failure) and a confidence per line.
    fn call(&self, body: &Value, items: &[Item], templates: &[&str]) -> Result<Vec<(LineAnswer, f32)>, CallError> {
        match &self.backend {
            Backend::Http(http) => {
                let _ = templates; // the examples are already in `body`
                Ok(self.call_http(http, body, items.len())?.into_iter().map(|a| (a, 1.0)).collect())
            }
            #[cfg(feature = "local")]
            Backend::Local(model) => {
                let _ = body;
                let mut out = Vec::with_capacity(items.len());
                for (item, template) in items.iter().zip(templates) {
                    let examples = self.examples.for_lines([*template], LOCAL_EXAMPLES_PER_LINE, LOCAL_EXAMPLES_PER_LINE);
                    let a = model.classify(&examples, item).map_err(CallError::Local)?;
                    self.stats.prompt_tokens.fetch_add(a.prompt_tokens as u64, Ordering::Relaxed);
                    self.stats.completion_tokens.fetch_add(a.completion_tokens as u64, Ordering::Relaxed);
                    let answer = if a.label == crate::prompt::UNCLASSIFIED { LineAnswer::Unclassified } else { LineAnswer::Label(a.label) };
                    out.push((answer, a.confidence));
                }
                Ok(out)
            }
        }
    }

    fn call_http(&self, http: &reqwest::blocking::Client, body: &Value, n: usize) -> Result<Vec<LineAnswer>, CallError> {
        let mut req = http.post(crate::chat_url(&self.cfg.base_url)).json(body);
        if let Some(key) = &self.cfg.api_key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().map_err(|e| CallError::Transport(describe_transport(e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        let text = resp.text().map_err(|e| CallError::Transport(format!("reading the body: {}", describe_transport(e))))?;
        if !(200..300).contains(&status) {
            return Err(CallError::Status { status, retry_after, body: text });
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| CallError::Answer(format!("response is not JSON: {e}")))?;
        if let Some(u) = v.get("usage") {
            self.stats.prompt_tokens.fetch_add(u["prompt_tokens"].as_u64().unwrap_or(0), Ordering::Relaxed);
            self.stats.completion_tokens.fetch_add(u["completion_tokens"].as_u64().unwrap_or(0), Ordering::Relaxed);
        }
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| CallError::Answer("response has no choices[0].message.content".into()))?;
        parse_answer(content, &self.label_names, n).map_err(|e| CallError::Answer(e.to_string()))
    }

    /// Asks about one batch of lines, with retries; one verdict per line.
    fn ask(&self, items: &[Item], templates: &[&str]) -> Vec<Verdict> {
        let fail = |reason: String| {
            let r: Arc<str> = Arc::from(reason);
            items.iter().map(|_| Verdict::Failed(r.clone())).collect()
        };
        let body = match self.backend {
            Backend::Http(_) => self.body(items, templates),
            #[cfg(feature = "local")]
            Backend::Local(_) => Value::Null,
        };
        let mut attempt = 0;
        loop {
            if let Err(reason) = self.admit() {
                self.stats.refused.fetch_add(items.len() as u64, Ordering::Relaxed);
                return fail(reason.to_string());
            }
            match self.call(&body, items, templates) {
                Ok(answers) => {
                    self.record(None);
                    return answers.into_iter().map(|(a, c)| self.verdict(a, c)).collect();
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    self.record(Some(&e));
                    if !e.retryable() || attempt >= self.cfg.max_retries {
                        return fail(format!("llm: {e} (after {} attempt(s))", attempt + 1));
                    }
                    let retry_after = match &e {
                        CallError::Status { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    std::thread::sleep(self.delay(attempt, retry_after));
                    attempt += 1;
                }
            }
        }
    }

    fn verdict(&self, a: LineAnswer, confidence: f32) -> Verdict {
        match a {
            LineAnswer::Label(label) => {
                self.stats.labeled.fetch_add(1, Ordering::Relaxed);
                Verdict::Decided(Decision {
                    label: Arc::from(label.as_str()),
                    tier: TierKind::Llm,
                    confidence,
                    detail: Detail::Reason(Arc::from(format!("llm {}", self.cfg.model))),
                })
            }
            LineAnswer::Unclassified => Verdict::Pass(Arc::from("llm: no label fits")),
            LineAnswer::Invalid(why) => Verdict::Failed(Arc::from(format!("llm answer: {why}"))),
        }
    }
}

/// A transport failure without the URL (which may carry credentials or a
/// key in its query): it ends up in each failed line's detail.
fn describe_transport(e: reqwest::Error) -> String {
    let e = e.without_url();
    if e.is_timeout() {
        "request timed out".into()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    }
}

impl Tier for LlmTier {
    fn kind(&self) -> TierKind {
        TierKind::Llm
    }

    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let items: Vec<Item> = queries.iter().map(|q| Item { source: q.source.to_string(), line: q.message.to_string() }).collect();
        let templates: Vec<&str> = queries.iter().map(|q| q.template).collect();
        let chunks: Vec<&[Item]> = items.chunks(self.cfg.batch_lines.max(1)).collect();
        let template_chunks: Vec<&[&str]> = templates.chunks(self.cfg.batch_lines.max(1)).collect();
        let results: Vec<Mutex<Option<Vec<Verdict>>>> = chunks.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.cfg.concurrency.max(1).min(chunks.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else { break };
                    let v = self.ask(chunk, template_chunks[i]);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(v);
                    }
                });
            }
        });
        let mut out = Vec::with_capacity(items.len());
        for (chunk, r) in chunks.iter().zip(results) {
            match r.into_inner().ok().flatten() {
                Some(v) => out.extend(v),
                None => out.extend(chunk.iter().map(|_| Verdict::Failed(Arc::from("llm: worker failed")))),
            }
        }
        for (q, v) in queries.iter().zip(&out) {
            if let Verdict::Decided(d) = v {
                self.write_review(q, &d.label);
            }
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        format!("llm ({} at {})", self.cfg.model, crate::redact_url(&self.cfg.base_url))
    }

    /// Enough lines to fill every concurrent request.
    fn batch_hint(&self) -> usize {
        self.cfg.batch_lines.max(1) * self.cfg.concurrency.max(1)
    }
}
