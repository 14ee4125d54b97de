//! What the tier may send and what it has sent: the budget (requests per
//! run and per minute), the circuit breaker (closed after a run of failed
//! requests, for a cool-down), the backoff between retries, and the
//! counters ([`LlmStats`]) the summary and `/metrics` read.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{CallError, LlmTier};

/// Counters of the tier, for the summary and `/metrics`.
#[derive(Debug, Default)]
pub struct LlmStats {
    /// HTTP requests sent (retries included).
    pub requests: AtomicU64,
    /// Requests that failed (any cause).
    pub failures: AtomicU64,
    /// Prompt tokens reported by the server.
    pub prompt_tokens: AtomicU64,
    /// Completion tokens reported by the server.
    pub completion_tokens: AtomicU64,
    /// Lines answered with a label.
    pub labeled: AtomicU64,
    /// Lines refused by the budget or the breaker.
    pub refused: AtomicU64,
    /// Whether the circuit breaker is open now (the endpoint is failing).
    pub circuit_open: AtomicBool,
}

impl LlmStats {
    /// The counters as metrics for `/metrics` ([`logsift_core::telemetry`]).
    pub fn metrics(&self) -> Vec<logsift_core::telemetry::Metric> {
        logsift_core::telemetry::TierReport::metrics(self)
    }
}

impl LlmStats {
    /// The counters as `eval --json` (and Python's `evaluate`) write them, key `llm`.
    pub fn counters_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "failures": self.failures.load(Ordering::Relaxed),
            "prompt_tokens": self.prompt_tokens.load(Ordering::Relaxed),
            "completion_tokens": self.completion_tokens.load(Ordering::Relaxed),
            "lines_labeled": self.labeled.load(Ordering::Relaxed),
            "refused": self.refused.load(Ordering::Relaxed),
        })
    }
}

impl logsift_core::telemetry::TierReport for LlmStats {
    fn health(&self) -> logsift_core::telemetry::TierHealth {
        logsift_core::telemetry::TierHealth::from_counts(
            self.requests.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
            self.circuit_open.load(Ordering::Relaxed),
        )
    }

    fn metrics(&self) -> Vec<logsift_core::telemetry::Metric> {
        use logsift_core::telemetry::Metric;
        vec![
            Metric::counter(
                "logsift_llm_requests_total",
                "Requests sent to the LLM (retries included).",
                self.requests.load(Ordering::Relaxed),
            ),
            Metric::counter("logsift_llm_failures_total", "LLM requests that failed.", self.failures.load(Ordering::Relaxed)),
            Metric::counter("logsift_llm_prompt_tokens_total", "Prompt tokens used.", self.prompt_tokens.load(Ordering::Relaxed)),
            Metric::counter(
                "logsift_llm_completion_tokens_total",
                "Completion tokens used.",
                self.completion_tokens.load(Ordering::Relaxed),
            ),
            Metric::counter(
                "logsift_llm_refused_lines_total",
                "Lines refused by the LLM budget or breaker.",
                self.refused.load(Ordering::Relaxed),
            ),
            Metric::gauge(
                "logsift_llm_circuit_open",
                "1 while the LLM circuit breaker is open.",
                u64::from(self.circuit_open.load(Ordering::Relaxed)),
            ),
        ]
    }
}

#[derive(Debug)]
pub(super) struct Gate {
    pub(super) requests: u64,
    pub(super) minute_start: Instant,
    pub(super) minute_requests: u64,
    pub(super) failures_in_row: u32,
    pub(super) open_until: Option<Instant>,
    /// The failure that opened the breaker (`HTTP 500`, `request timed
    /// out`, …), repeated in the detail of each line it holds back.
    pub(super) open_cause: String,
    pub(super) jitter: u64,
}

/// Why a request was not sent.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refusal {
    #[error("llm state poisoned")]
    Poisoned,
    #[error("llm circuit open: {failures} failed requests in a row, the last {cause}; not called for {cooldown:?}")]
    CircuitOpen { failures: u32, cause: String, cooldown: Duration },
    #[error("llm budget")]
    Budget,
}

impl LlmTier {
    /// Takes a request slot, or says why none is left.
    pub(super) fn admit(&self) -> Result<(), Refusal> {
        let mut g = self.gate.lock().map_err(|_| Refusal::Poisoned)?;
        let now = Instant::now();
        if let Some(t) = g.open_until {
            if now < t {
                return Err(Refusal::CircuitOpen {
                    failures: self.cfg.breaker_failures,
                    cause: g.open_cause.clone(),
                    cooldown: self.cfg.breaker_cooldown,
                });
            }
            g.open_until = None;
            self.stats.circuit_open.store(false, Ordering::Relaxed);
        }
        if self.cfg.max_requests.is_some_and(|m| g.requests >= m) {
            return Err(Refusal::Budget);
        }
        if now.duration_since(g.minute_start) >= Duration::from_secs(60) {
            g.minute_start = now;
            g.minute_requests = 0;
        }
        if self.cfg.max_per_minute.is_some_and(|m| g.minute_requests >= m) {
            return Err(Refusal::Budget);
        }
        g.requests += 1;
        g.minute_requests += 1;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Counts a request's outcome: `None` for success, else its failure.
    pub(super) fn record(&self, failure: Option<&CallError>) {
        if let Ok(mut g) = self.gate.lock() {
            match failure {
                None => g.failures_in_row = 0,
                Some(e) => {
                    g.failures_in_row += 1;
                    if g.failures_in_row >= self.cfg.breaker_failures {
                        g.open_until = Some(Instant::now() + self.cfg.breaker_cooldown);
                        g.open_cause = e.cause();
                        self.stats.circuit_open.store(true, Ordering::Relaxed);
                        g.failures_in_row = 0;
                        tracing::warn!(
                            "LLM endpoint {} failing ({}): not called for {:?}",
                            crate::redact_url(&self.cfg.base_url),
                            g.open_cause,
                            self.cfg.breaker_cooldown
                        );
                    }
                }
            }
        }
    }

    /// Exponential backoff with jitter (50–100% of the step), at least
    /// `Retry-After`, at most `max_backoff`.
    pub(super) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let step = self.cfg.backoff.saturating_mul(1u32 << attempt.min(16));
        let frac = self.gate.lock().map_or(0.75, |mut g| {
            g.jitter = g.jitter.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            0.5 + (g.jitter >> 11) as f64 / (1u64 << 53) as f64 / 2.0
        });
        let d = step.mul_f64(frac).max(retry_after.unwrap_or_default());
        d.min(self.cfg.max_backoff)
    }
}
