//! # logsift-worker
//!
//! `logsift worker --nats URL --input SUBJECT --output SUBJECT`: classification
//! spread over machines on an existing broker, NATS JetStream, with no
//! protocol of our own.
//!
//! * **Scale-out is the consumer.** Every worker pulls from the same durable
//!   JetStream consumer (`--durable`, on the stream that holds the input
//!   subject, created if missing): the server hands each message to one
//!   worker at a time, so adding workers — on this machine or others, on a
//!   NATS cluster — adds throughput, and a worker that dies leaves its
//!   unacknowledged messages to be redelivered to the others after
//!   `--ack-wait`.
//! * **At least once, nothing lost.** A worker fetches a batch, classifies it
//!   in one pass of the cascade, publishes every result (the input object,
//!   or `{source, log_message}` for text, plus `target_label`, `tier`,
//!   `confidence`, `detail`; input headers kept) and only then acknowledges
//!   the inputs. Results published to a JetStream stream are awaited until
//!   the stream has them; each carries `Nats-Msg-Id: <stream>-<sequence>` of
//!   its input, so a stream with a duplicate window drops the copies that a
//!   redelivery produces.
//! * **Dead letters.** A message that cannot be classified — invalid UTF-8,
//!   a line over `--max-line-bytes`, not JSON when JSON is expected — goes at
//!   once to the dead-letter subject with the reason in the
//!   `Logsift-Reason` header (retrying cannot fix the input); one that fails
//!   for other reasons (publishing the result failed) is redelivered with a
//!   delay, and after `--max-deliver` deliveries it goes to the dead-letter
//!   subject too. Neither blocks the stream.
//! * **Graceful drain.** On SIGTERM or Ctrl-C the worker stops fetching,
//!   finishes (publishes and acknowledges) the batch in hand, and exits.

#![deny(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, AckKind};
use async_nats::HeaderMap;
use bytes::Bytes;
use futures_util::StreamExt;
use logsift_core::io::{json_object, InputOptions};
use logsift_core::record::{BadRow, Fault};
use logsift_core::telemetry::TierReport;
use logsift_core::trends::{now_secs, Live, TrendConfig};
use logsift_core::{Pipeline, Record};
use serde_json::Value;

/// What the input messages hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// A JSON object with the message (and source) fields.
    Json,
    /// The log line itself.
    Text,
}

/// The worker's settings.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// NATS server URL(s), comma-separated.
    pub nats_url: String,
    /// Subject of the input messages.
    pub input: String,
    /// Subject of the results.
    pub output: String,
    /// Subject of the messages that cannot be classified.
    pub dead_letter: String,
    /// JetStream stream holding the input subject (created if missing).
    pub stream: String,
    /// Durable consumer shared by all workers.
    pub durable: String,
    /// Messages per batch.
    pub batch: usize,
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliver: i64,
    /// Time a worker has to acknowledge a message before it is redelivered.
    pub ack_wait: Duration,
    /// Payload format.
    pub format: InputFormat,
    /// JSON field of the line.
    pub message_field: String,
    /// JSON field of the source.
    pub source_field: String,
    /// Source of text messages and of JSON ones without the field.
    pub default_source: String,
    /// Longer lines are dead-lettered.
    pub max_line_bytes: usize,
    /// Add `template` and `template_id` to each result (the pipeline's masking).
    pub with_template: bool,
    /// Pattern counts over time (and where new patterns are announced);
    /// `None`: counted with the default settings, announced nowhere.
    pub live: Option<Live>,
    /// Subject the patterns' summary is published to each window (empty: none).
    pub patterns_subject: String,
}

impl WorkerConfig {
    /// Defaults for the rest.
    pub fn new(nats_url: &str, input: &str, output: &str) -> Self {
        WorkerConfig {
            nats_url: nats_url.into(),
            input: input.into(),
            output: output.into(),
            dead_letter: format!("{input}.dead"),
            stream: "LOGSIFT_INPUT".into(),
            durable: "logsift".into(),
            batch: 512,
            max_deliver: 5,
            ack_wait: Duration::from_secs(30),
            format: InputFormat::Json,
            message_field: "log_message".into(),
            source_field: "source".into(),
            default_source: String::new(),
            max_line_bytes: 64 * 1024,
            with_template: false,
            live: None,
            patterns_subject: format!("{output}.patterns"),
        }
    }
}

impl WorkerConfig {
    /// The reading options of its messages.
    fn input_options(&self) -> InputOptions {
        InputOptions {
            message_field: self.message_field.clone(),
            source_field: self.source_field.clone(),
            default_source: self.default_source.clone(),
            max_line_bytes: self.max_line_bytes,
        }
    }
}

/// Counters, for the summary and `/metrics`.
#[derive(Debug, Default)]
pub struct WorkerStats {
    /// Messages received (redeliveries included).
    pub received: AtomicU64,
    /// Results published.
    pub published: AtomicU64,
    /// Messages sent to the dead-letter subject.
    pub dead_lettered: AtomicU64,
    /// Messages received again after an earlier delivery.
    pub redelivered: AtomicU64,
    /// Messages handed back for redelivery (negative acknowledgements).
    pub retried: AtomicU64,
    /// Batches classified.
    pub batches: AtomicU64,
}

/// A failure that stops the worker.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The broker could not be reached or refused a setup step.
    #[error("NATS at {url}: {what}: {message}")]
    Nats {
        /// The URL.
        url: String,
        /// The step.
        what: &'static str,
        /// The error.
        message: String,
    },
}

/// A publication that did not reach the broker: the message is handed back
/// for redelivery.
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("{0}")]
    Stream(#[from] async_nats::jetstream::context::PublishError),
    #[error("{0}")]
    Plain(#[from] async_nats::client::PublishError),
    #[error("{0}")]
    Flush(#[from] async_nats::client::FlushError),
}

/// The message's record (and its JSON object, to echo), or why it is bad
/// input. Core's line decoder, as JSON Lines and the service's stream use:
/// fields are treated alike everywhere.
fn parse(payload: &[u8], json: bool, opts: &InputOptions) -> Result<(Record, Option<serde_json::Map<String, Value>>), BadRow> {
    if payload.len() > opts.max_line_bytes {
        return Err(BadRow::new(Fault::TooLong { bytes: payload.len(), max: opts.max_line_bytes }));
    }
    let mut end = payload.len();
    while end > 0 && matches!(payload[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let mut r = logsift_core::io::line_record(&payload[..end], json, opts);
    if let Some(why) = r.invalid.take() {
        return Err(why);
    }
    let map = match &r.passthrough {
        logsift_core::record::Passthrough::Json(m) => Some(m.clone()),
        _ => None,
    };
    Ok((r, map))
}

/// Where results and dead letters go: a JetStream stream (publish awaited
/// until stored) or plain NATS (flushed).
#[derive(Clone)]
struct Publisher {
    client: async_nats::Client,
    js: jetstream::Context,
    output_in_stream: bool,
    dead_in_stream: bool,
}

impl Publisher {
    async fn send(&self, subject: &str, in_stream: bool, headers: HeaderMap, payload: Bytes) -> Result<(), SendError> {
        if in_stream {
            let ack = self.js.publish_with_headers(subject.to_string(), headers, payload).await?;
            Ok(ack.await.map(|_| ())?)
        } else {
            Ok(self.client.publish_with_headers(subject.to_string(), headers, payload).await?)
        }
    }

    async fn flush(&self) -> Result<(), SendError> {
        Ok(self.client.flush().await?)
    }
}

fn nats_err<'a>(url: &'a str, what: &'static str) -> impl FnOnce(String) -> WorkerError + 'a {
    move |message| WorkerError::Nats { url: url.to_string(), what, message }
}

/// Runs the worker until `shutdown` completes; then finishes the batch in hand.
pub async fn run(
    cfg: WorkerConfig,
    pipeline: Arc<Pipeline>,
    stats: Arc<WorkerStats>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), WorkerError> {
    let url = cfg.nats_url.as_str();
    let client = async_nats::connect(url).await.map_err(|e| nats_err(url, "connect")(e.to_string()))?;
    let js = jetstream::new(client.clone());
    let stream = js
        .get_or_create_stream(jetstream::stream::Config {
            name: cfg.stream.clone(),
            subjects: vec![cfg.input.clone()],
            ..Default::default()
        })
        .await
        .map_err(|e| nats_err(url, "input stream")(e.to_string()))?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            &cfg.durable,
            pull::Config {
                durable_name: Some(cfg.durable.clone()),
                ack_policy: AckPolicy::Explicit,
                ack_wait: cfg.ack_wait,
                filter_subject: cfg.input.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| nats_err(url, "durable consumer")(e.to_string()))?;
    let publisher = Publisher {
        output_in_stream: js.stream_by_subject(cfg.output.clone()).await.is_ok(),
        dead_in_stream: js.stream_by_subject(cfg.dead_letter.clone()).await.is_ok(),
        client: client.clone(),
        js: js.clone(),
    };
    if !publisher.output_in_stream {
        tracing::warn!("no JetStream stream holds '{}': results are published on plain NATS (lost if nobody listens)", cfg.output);
    }
    tracing::info!("worker pulling '{}' (stream {}, consumer {}) → '{}'", cfg.input, cfg.stream, cfg.durable, cfg.output);

    let live = cfg.live.clone().unwrap_or_else(|| Live::new(TrendConfig::default(), *pipeline.masker()));
    let window = live.trends.config().window.as_secs().max(1);
    let mut next_summary = (now_secs() / window + 1) * window;
    tokio::pin!(shutdown);
    loop {
        if !cfg.patterns_subject.is_empty() && now_secs() >= next_summary {
            // The window just completed (its last second), not the one begun.
            publish_summary(&cfg, &live, &publisher, next_summary - 1).await;
            next_summary = (now_secs() / window + 1) * window;
        }
        let fetched = tokio::select! {
            _ = &mut shutdown => break,
            f = consumer.fetch().max_messages(cfg.batch.max(1)).expires(Duration::from_millis(500)).messages() => f,
        };
        let mut batch = match fetched {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("fetch failed: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut msgs = vec![];
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => msgs.push(m),
                Err(e) => tracing::warn!("receiving a message failed: {e}"),
            }
        }
        if msgs.is_empty() {
            continue;
        }
        handle(&cfg, &pipeline, &live, &stats, &publisher, msgs).await;
    }
    let _ = publisher.flush().await;
    Ok(())
}

/// One batch: classify, publish, then acknowledge.
async fn handle(
    cfg: &WorkerConfig,
    pipeline: &Arc<Pipeline>,
    live: &Live,
    stats: &WorkerStats,
    out: &Publisher,
    msgs: Vec<jetstream::Message>,
) {
    stats.received.fetch_add(msgs.len() as u64, Relaxed);
    let mut good: Vec<(usize, Record)> = vec![];
    let mut dead: Vec<(usize, String)> = vec![];
    let (json, opts) = (cfg.format == InputFormat::Json, cfg.input_options());
    for (i, m) in msgs.iter().enumerate() {
        let delivered = m.info().map_or(1, |info| info.delivered);
        if delivered > 1 {
            stats.redelivered.fetch_add(1, Relaxed);
        }
        if delivered > cfg.max_deliver {
            dead.push((i, format!("delivered {delivered} times without being answered")));
            continue;
        }
        match parse(&m.payload, json, &opts) {
            Ok((r, _)) => good.push((i, r)),
            Err(why) => dead.push((i, why.to_string())),
        }
    }
    let records: Vec<Record> = good.iter().map(|(_, r)| r.clone()).collect();
    let (p, l) = (pipeline.clone(), live.clone());
    let decisions = match tokio::task::spawn_blocking(move || {
        let (d, keys) = p.classify_keyed(&records);
        l.observe(&records, &d, &keys);
        d
    })
    .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("classification failed: {e}");
            for m in &msgs {
                retry(m, stats).await;
            }
            return;
        }
    };
    stats.batches.fetch_add(1, Relaxed);
    // Publish the results, all at once, then acknowledge each input whose result is stored.
    let templates = cfg.with_template.then(|| logsift_core::mask::Templates::new(*pipeline.masker()));
    let templates = &templates;
    let sends = good.iter().zip(&decisions).map(|((i, r), d)| {
        let m = &msgs[*i];
        let mut headers = m.headers.clone().unwrap_or_default();
        if let Some(id) = headers.get("Nats-Msg-Id").map(|v| v.to_string()) {
            headers.insert("Logsift-Input-Msg-Id", id.as_str());
        }
        if let Ok(info) = m.info() {
            headers.insert("Nats-Msg-Id", format!("{}-{}", info.stream, info.stream_sequence).as_str());
            headers.insert("Logsift-Input-Seq", info.stream_sequence.to_string().as_str());
        }
        headers.insert("Logsift-Input-Subject", m.subject.as_str());
        let mut obj = json_object(r, d);
        if cfg.format == InputFormat::Text {
            obj.remove("raw");
        }
        if let Some(t) = &templates {
            logsift_core::io::add_template(&mut obj, r, t);
        }
        let payload = Bytes::from(serde_json::to_vec(&obj).unwrap_or_default());
        async move { (*i, out.send(&cfg.output, out.output_in_stream, headers, payload).await) }
    });
    let results = futures_util::future::join_all(sends).await;
    let dead_sends = dead.iter().map(|(i, why)| {
        let m = &msgs[*i];
        let mut headers = m.headers.clone().unwrap_or_default();
        headers.insert("Logsift-Reason", why.as_str());
        headers.insert("Logsift-Input-Subject", m.subject.as_str());
        if let Ok(info) = m.info() {
            headers.insert("Logsift-Input-Seq", info.stream_sequence.to_string().as_str());
        }
        tracing::warn!("dead letter (subject {}): {why}", m.subject);
        async move { (*i, out.send(&cfg.dead_letter, out.dead_in_stream, headers, m.payload.clone()).await) }
    });
    let dead_results = futures_util::future::join_all(dead_sends).await;
    let flushed = out.flush().await;
    settle(&msgs, results, &flushed, &stats.published, "publishing a result", stats).await;
    settle(&msgs, dead_results, &flushed, &stats.dead_lettered, "dead-lettering", stats).await;
}

/// Acknowledges each message whose publication (and the flush) succeeded,
/// counting it in `done`; hands the others back for redelivery.
async fn settle(
    msgs: &[jetstream::Message],
    results: Vec<(usize, Result<(), SendError>)>,
    flushed: &Result<(), SendError>,
    done: &AtomicU64,
    what: &str,
    stats: &WorkerStats,
) {
    for (i, r) in results {
        match r.as_ref().and(flushed.as_ref()) {
            Ok(()) => {
                done.fetch_add(1, Relaxed);
                ack(&msgs[i]).await;
            }
            Err(e) => {
                tracing::warn!("{what} failed: {e}; the message will be redelivered");
                retry(&msgs[i], stats).await;
            }
        }
    }
}

async fn ack(m: &jetstream::Message) {
    if let Err(e) = m.ack().await {
        tracing::warn!("ack failed: {e} (the message will be redelivered; its result may be published twice)");
    }
}

/// Hands a message back for redelivery after a delay.
async fn retry(m: &jetstream::Message, stats: &WorkerStats) {
    stats.retried.fetch_add(1, Relaxed);
    if let Err(e) = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await {
        tracing::warn!("nak failed: {e}");
    }
}

/// The patterns' summary of the window that ends at `at` against the
/// history before it (the JSON of the service's `GET /patterns`), published
/// on plain NATS, or to the JetStream stream that holds the subject.
async fn publish_summary(cfg: &WorkerConfig, live: &Live, out: &Publisher, at: u64) {
    let t = live.trends.clone();
    let c = t.config().clone();
    let report = tokio::task::spawn_blocking(move || t.report(at, c.window, c.window * c.history as u32, 5.0, 50)).await;
    let Ok(report) = report else { return };
    let Ok(body) = serde_json::to_vec(&report) else { return };
    let in_stream = out.js.stream_by_subject(cfg.patterns_subject.clone()).await.is_ok();
    if let Err(e) = out.send(&cfg.patterns_subject, in_stream, HeaderMap::new(), Bytes::from(body)).await {
        tracing::warn!("publishing the patterns' summary to '{}' failed: {e}", cfg.patterns_subject);
    }
}

/// The worker's `/metrics`: the pipeline's counters as in the service, the
/// worker's own, and the pattern counts' (`live`).
pub fn render_metrics(pipeline: &Pipeline, stats: &WorkerStats, llm: Option<&dyn TierReport>, live: Option<&Live>) -> String {
    use logsift_core::telemetry::{self, Metric};
    let tiers = llm.map(TierReport::metrics).unwrap_or_default();
    let mut text = telemetry::render(&pipeline.stats(), stats.batches.load(Relaxed), &tiers);
    let own = [
        ("logsift_worker_messages_received_total", "Messages received (redeliveries included).", &stats.received),
        ("logsift_worker_results_published_total", "Results published.", &stats.published),
        ("logsift_worker_dead_letters_total", "Messages sent to the dead-letter subject.", &stats.dead_lettered),
        ("logsift_worker_redelivered_total", "Messages received again after an earlier delivery.", &stats.redelivered),
        ("logsift_worker_retried_total", "Messages handed back for redelivery.", &stats.retried),
    ];
    let own: Vec<Metric> = own.into_iter().map(|(name, help, v)| Metric::counter(name, help, v.load(Relaxed))).collect();
    telemetry::write_metrics(&mut text, &own);
    if let Some(l) = live {
        text.push_str(&l.render_metrics());
    }
    text
}

/// Serves `GET /metrics` (and `GET /health`) on `listener`.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    pipeline: Arc<Pipeline>,
    stats: Arc<WorkerStats>,
    llm: Option<Arc<dyn TierReport>>,
    live: Option<Live>,
) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let (p, s, l, v) = (pipeline.clone(), stats.clone(), llm.clone(), live.clone());
                async move { render_metrics(&p, &s, l.as_deref(), v.as_ref()) }
            }),
        )
        .route("/health", get(|| async { "ok\n" }));
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_cfg(payload: &[u8], cfg: &WorkerConfig) -> Result<(Record, Option<serde_json::Map<String, Value>>), BadRow> {
        parse(payload, cfg.format == InputFormat::Json, &cfg.input_options())
    }

    #[test]
    fn bad_payloads_say_why() {
        let cfg = WorkerConfig { max_line_bytes: 100, ..WorkerConfig::new("x", "in", "out") };
        assert!(parse_cfg(b"\xff\xfe", &cfg).unwrap_err().to_string().contains("invalid UTF-8"));
        assert!(parse_cfg(&[b'a'; 101], &cfg).unwrap_err().to_string().contains("over the limit"));
        assert!(parse_cfg(b"plain text", &cfg).unwrap_err().to_string().contains("not valid JSON"));
        assert!(parse_cfg(b"[1]", &cfg).unwrap_err().to_string().contains("not a JSON object"));
        assert!(parse_cfg(b"{\"msg\":\"x\"}", &cfg).unwrap_err().to_string().contains("no 'log_message' field"));
        // The same decoder as JSON Lines and the service's stream: a source
        // that is not a string or null is bad input, not the default source.
        let e = parse_cfg(br#"{"source":7,"log_message":"b"}"#, &cfg).unwrap_err().to_string();
        assert!(e.contains("field 'source' is not a string or null but a number"), "{e}");
        let (r, _) = parse_cfg(br#"{"source":null,"log_message":"b"}"#, &cfg).unwrap();
        assert_eq!(r.source, "");
        let (r, _) = parse_cfg(br#"{"source":"a","log_message":"b","id":7}"#, &cfg).unwrap();
        assert_eq!((r.source.as_str(), r.message.as_str()), ("a", "b"));
        let text = WorkerConfig { format: InputFormat::Text, default_source: "s".into(), ..cfg };
        let (r, _) = parse_cfg(b"a line\n", &text).unwrap();
        assert_eq!((r.source.as_str(), r.message.as_str()), ("s", "a line"));
    }
}
