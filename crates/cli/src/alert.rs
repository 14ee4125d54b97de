//! Pattern counts over time for `serve`, `worker` and `classify --follow`
//! (their shared options), and the webhook that announces new patterns.
//!
//! **The webhook** (`--alert-webhook URL`, labels `--alert-labels`): when a
//! pattern of one of those labels is first seen (after the warm-up), a JSON
//! POST in **Alertmanager's webhook shape** (`version` "4", `status`
//! "firing", `alerts` with `labels`, `annotations`, `startsAt`), so any
//! receiver written for Alertmanager (a chat bridge, an incident tool) takes
//! it as it is. Each alert's labels: `alertname="LogsiftNewPattern"`,
//! `label` (the logsift label), `source`; annotations: `template`,
//! `example`, `summary`. Events queued together go in one POST.
//!
//! It never blocks classification and never costs a line: the classifying
//! thread only puts events on a bounded queue (`--alert-queue`, 1,000;
//! when full, events are dropped and counted); one thread of its own posts
//! them, each POST retried with exponential backoff (0.5 s doubling, 5
//! tries, 10 s timeout each) on a connection error, a timeout, 429 or 5xx,
//! then given up and counted. `/metrics` has `logsift_alerts_sent_total`,
//! `logsift_alerts_failed_total` and `logsift_alerts_dropped_total`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use logsift_core::mask::Masker;
use logsift_core::telemetry::Metric;
use logsift_core::trends::{parse_duration, AlertSink, Live, NewPattern, TrendConfig};
use serde_json::{json, Value};

/// Pattern counts over time, and alerts on new patterns.
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// Length of a counting window (`30s`, `1m`, `5m`).
    #[arg(long, default_value = "1m", value_name = "DURATION")]
    pub patterns_window: String,
    /// Windows kept per pattern (60 one-minute windows: an hour of baseline).
    #[arg(long, default_value_t = 60)]
    pub patterns_history: usize,
    /// Most patterns tracked; past it the least recently seen are evicted
    /// (their lines counted in their label's `other`).
    #[arg(long, default_value_t = 10_000)]
    pub max_patterns: usize,
    /// Patterns first seen this soon after the start are not called new
    /// (default: one window).
    #[arg(long, value_name = "DURATION")]
    pub patterns_warmup: Option<String>,
    /// Fewest lines in the window for a pattern to count as spiking.
    #[arg(long, default_value_t = 20)]
    pub spike_floor: u64,
    /// POST an Alertmanager-shaped JSON event here when a new pattern of an
    /// alert label appears.
    #[arg(long, value_name = "URL")]
    pub alert_webhook: Option<String>,
    /// Labels whose new patterns are announced (comma-separated; default every label).
    #[arg(long, value_delimiter = ',', value_name = "LABELS")]
    pub alert_labels: Vec<String>,
    /// Events the webhook queue holds; past it they are dropped (and counted).
    #[arg(long, default_value_t = 1000)]
    pub alert_queue: usize,
}

impl LiveArgs {
    /// The counting's settings.
    pub fn config(&self) -> Result<TrendConfig> {
        let window = parse_duration(&self.patterns_window).map_err(|e| anyhow::anyhow!("--patterns-window {e}"))?;
        if window.as_secs() < 1 {
            bail!("--patterns-window {}: at least 1s", self.patterns_window);
        }
        let warmup = match &self.patterns_warmup {
            Some(w) => parse_duration(w).map_err(|e| anyhow::anyhow!("--patterns-warmup {e}"))?,
            None => window,
        };
        Ok(TrendConfig {
            window,
            history: self.patterns_history.max(2),
            max_patterns: self.max_patterns.max(1),
            warmup,
            spike_floor: self.spike_floor,
            alert_labels: self.alert_labels.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
            ..TrendConfig::default()
        })
    }

    /// The counting, masking as the pipeline does, with the webhook when
    /// asked; `known`: the labels the model can give (an alert label outside
    /// them would never fire: an error that lists them).
    pub fn live(&self, masker: Masker, known: &[String]) -> Result<Live> {
        let cfg = self.config()?;
        let unclassified = logsift_core::UNCLASSIFIED.to_string();
        if let Some(l) = cfg.alert_labels.iter().find(|l| !known.contains(l) && **l != unclassified) {
            bail!("--alert-labels: the model cannot give '{l}'; its labels: {}, {unclassified}", known.join(", "));
        }
        let mut live = Live::new(cfg, masker);
        if let Some(url) = &self.alert_webhook {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("--alert-webhook {url}: an http:// or https:// URL");
            }
            live.alerts = Some(Arc::new(Webhook::start(url.clone(), self.alert_queue.max(1), RetryPolicy::default())));
        }
        Ok(live)
    }
}

/// How a POST is retried.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in all.
    pub tries: u32,
    /// Wait before the second try; doubled after each.
    pub first_backoff: Duration,
    /// Time limit of one POST.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { tries: 5, first_backoff: Duration::from_millis(500), timeout: Duration::from_secs(10) }
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// The webhook: a bounded queue and the thread that posts it.
pub struct Webhook {
    tx: SyncSender<NewPattern>,
    counters: Arc<Counters>,
}

impl Webhook {
    /// Starts the posting thread.
    pub fn start(url: String, queue: usize, retry: RetryPolicy) -> Webhook {
        let (tx, rx) = sync_channel(queue);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        std::thread::Builder::new()
            .name("logsift-webhook".into())
            .spawn(move || post_loop(&url, rx, &c, retry))
            .expect("the webhook thread starts");
        Webhook { tx, counters }
    }
}

impl AlertSink for Webhook {
    fn send(&self, events: Vec<NewPattern>) {
        for e in events {
            match self.tx.try_send(e) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.counters.dropped.fetch_add(1, Relaxed);
                }
            }
        }
    }

    fn metrics(&self) -> Vec<Metric> {
        vec![
            Metric::counter(
                "logsift_alerts_sent_total",
                "New-pattern events the webhook receiver accepted.",
                self.counters.sent.load(Relaxed),
            ),
            Metric::counter(
                "logsift_alerts_failed_total",
                "New-pattern events given up after every retry.",
                self.counters.failed.load(Relaxed),
            ),
            Metric::counter(
                "logsift_alerts_dropped_total",
                "New-pattern events dropped because the webhook queue was full.",
                self.counters.dropped.load(Relaxed),
            ),
        ]
    }
}

/// `classify --follow`'s sink: each new pattern of the alert labels said on
/// stderr, then handed to the webhook, if any.
pub struct Said {
    /// The webhook.
    pub also: Option<Arc<dyn AlertSink>>,
}

impl AlertSink for Said {
    fn send(&self, events: Vec<NewPattern>) {
        for e in &events {
            eprintln!("logsift: new {} pattern: {}  (first: {})", e.label, e.template, e.example);
        }
        if let Some(a) = &self.also {
            a.send(events);
        }
    }

    fn metrics(&self) -> Vec<Metric> {
        self.also.as_ref().map(|a| a.metrics()).unwrap_or_default()
    }
}

/// One POST's body: Alertmanager's webhook shape.
pub fn webhook_body(events: &[NewPattern]) -> Value {
    let alerts: Vec<Value> = events
        .iter()
        .map(|e| {
            let fingerprint = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(format!("{}\u{1f}{}", e.label, e.template).as_bytes()));
            json!({
                "status": "firing",
                "labels": {"alertname": "LogsiftNewPattern", "label": e.label, "source": e.source},
                "annotations": {
                    "summary": format!("new {} pattern: {}", e.label, e.template),
                    "template": e.template,
                    "example": e.example,
                },
                "startsAt": logsift_core::offline::label::rfc3339(e.first_seen),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": fingerprint,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": "logsift:new-patterns",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "logsift",
        "groupLabels": {"alertname": "LogsiftNewPattern"},
        "commonLabels": {"alertname": "LogsiftNewPattern"},
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": alerts,
    })
}

fn post_loop(url: &str, rx: Receiver<NewPattern>, counters: &Counters, retry: RetryPolicy) {
    let client = match reqwest::blocking::Client::builder().timeout(retry.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the webhook's HTTP client failed to start: {e}; new-pattern events are dropped");
            for _ in rx {
                counters.failed.fetch_add(1, Relaxed);
            }
            return;
        }
    };
    while let Ok(first) = rx.recv() {
        let mut events = vec![first];
        while events.len() < 100 {
            match rx.try_recv() {
                Ok(e) => events.push(e),
                Err(_) => break,
            }
        }
        let body = webhook_body(&events);
        let n = events.len() as u64;
        let mut wait = retry.first_backoff;
        let mut ok = false;
        for attempt in 1..=retry.tries.max(1) {
            match client.post(url).json(&body).send() {
                Ok(r) if r.status().is_success() => {
                    ok = true;
                    break;
                }
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    tracing::warn!("webhook {url}: {} (try {attempt} of {})", r.status(), retry.tries);
                }
                Ok(r) => {
                    // 4xx other than 429: the receiver refuses this body; retrying will not help.
                    tracing::warn!("webhook {url}: {}; {n} events given up", r.status());
                    break;
                }
                Err(e) => tracing::warn!("webhook {url}: {e} (try {attempt} of {})", retry.tries),
            }
            if attempt < retry.tries {
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
        if ok {
            counters.sent.fetch_add(n, Relaxed);
        } else {
            counters.failed.fetch_add(n, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_alertmanagers_webhook_shape() {
        let e = NewPattern {
            label: "Critical Error".into(),
            template: "kernel panic on cpu <NUM>".into(),
            example: "kernel panic on cpu 3".into(),
            source: "kernel".into(),
            first_seen: 86_400,
        };
        let b = webhook_body(&[e]);
        assert_eq!(b["version"], "4");
        assert_eq!(b["status"], "firing");
        let a = &b["alerts"][0];
        assert_eq!(a["labels"]["alertname"], "LogsiftNewPattern");
        assert_eq!(a["labels"]["label"], "Critical Error");
        assert_eq!(a["annotations"]["template"], "kernel panic on cpu <NUM>");
        assert_eq!(a["startsAt"], "1970-01-02T00:00:00Z");
        assert_eq!(a["fingerprint"].as_str().unwrap().len(), 16);
    }

    #[test]
    fn options_read_and_refuse() {
        let a = LiveArgs {
            patterns_window: "30s".into(),
            patterns_history: 120,
            max_patterns: 5,
            patterns_warmup: None,
            spike_floor: 3,
            alert_webhook: Some("ftp://x".into()),
            alert_labels: vec!["Critical Error".into(), " ".into()],
            alert_queue: 10,
        };
        let c = a.config().unwrap();
        assert_eq!((c.window, c.warmup, c.history, c.alert_labels.len()), (Duration::from_secs(30), Duration::from_secs(30), 120, 1));
        let known = ["Critical Error".to_string(), "Error".to_string()];
        assert!(a.live(Masker::default(), &known).unwrap_err().to_string().contains("http://"));
        let typo = LiveArgs { alert_labels: vec!["Critical error".into()], alert_webhook: None, ..a.clone() };
        let e = typo.live(Masker::default(), &known).unwrap_err().to_string();
        assert!(e.contains("'Critical error'") && e.contains("Critical Error, Error, Unclassified"), "{e}");
        let bad = LiveArgs { patterns_window: "0s".into(), ..a };
        assert!(bad.config().is_err());
    }
}
