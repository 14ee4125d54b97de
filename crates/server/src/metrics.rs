//! `/metrics` in the Prometheus text format, written by hand: a few counters
//! and histograms do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;
use std::time::Duration;

use logsift_core::pipeline::Stats;
use logsift_llm::client::LlmStats;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counters and latencies, per endpoint.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Counts one request of `endpoint` answered with `status` after `took`.
    pub fn observe(&self, endpoint: &'static str, status: u16, took: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((endpoint, status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(endpoint).or_default();
            let s = took.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if s <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += s;
        }
    }

    /// The whole exposition.
    pub fn render(&self, stats: &Stats, batches: u64, llm: Option<&LlmStats>) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# HELP logsift_lines_total Lines classified, by deciding tier (none = Unclassified).");
        let _ = writeln!(o, "# TYPE logsift_lines_total counter");
        for tier in ["rules", "model", "llm", "none"] {
            let n = stats.tiers.iter().find(|(k, _)| k.as_str() == tier).map_or(0, |(_, v)| *v);
            let _ = writeln!(o, "logsift_lines_total{{tier=\"{tier}\"}} {n}");
        }
        let _ = writeln!(o, "# HELP logsift_label_lines_total Lines classified, by label.");
        let _ = writeln!(o, "# TYPE logsift_label_lines_total counter");
        for (label, n) in &stats.labels {
            let _ = writeln!(o, "logsift_label_lines_total{{label=\"{}\"}} {n}", escape(label));
        }
        let counters = [
            ("logsift_cache_hits_total", "Lines answered from the decision cache.", stats.cache_hits),
            ("logsift_model_queries_total", "Distinct templates the model tier was asked about.", stats.model_queries),
            ("logsift_llm_queries_total", "Distinct templates the LLM tier was asked about.", stats.llm_queries),
            ("logsift_invalid_lines_total", "Lines that were bad input.", stats.invalid),
            ("logsift_batches_total", "Batches run by the pipeline (micro-batching joins requests).", batches),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        }
        if let Some(l) = llm {
            let llm_counters = [
                ("logsift_llm_requests_total", "Requests sent to the LLM (retries included).", l.requests.load(Relaxed)),
                ("logsift_llm_failures_total", "LLM requests that failed.", l.failures.load(Relaxed)),
                ("logsift_llm_prompt_tokens_total", "Prompt tokens used.", l.prompt_tokens.load(Relaxed)),
                ("logsift_llm_completion_tokens_total", "Completion tokens used.", l.completion_tokens.load(Relaxed)),
                ("logsift_llm_refused_lines_total", "Lines refused by the LLM budget or breaker.", l.refused.load(Relaxed)),
            ];
            for (name, help, v) in llm_counters {
                let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
            }
            let open = u8::from(l.circuit_open.load(Relaxed));
            let _ = writeln!(o, "# HELP logsift_llm_circuit_open 1 while the LLM circuit breaker is open.");
            let _ = writeln!(o, "# TYPE logsift_llm_circuit_open gauge\nlogsift_llm_circuit_open {open}");
        }
        let _ = writeln!(o, "# HELP logsift_http_requests_total HTTP requests, by endpoint and status.");
        let _ = writeln!(o, "# TYPE logsift_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((endpoint, status), n) in r.iter() {
                let _ = writeln!(o, "logsift_http_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(o, "# HELP logsift_http_request_duration_seconds Time to answer, by endpoint.");
        let _ = writeln!(o, "# TYPE logsift_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (endpoint, h) in l.iter() {
                for (b, c) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(o, "logsift_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{b}\"}} {c}");
                }
                let _ = writeln!(o, "logsift_http_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(o, "logsift_http_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {}", h.sum);
                let _ = writeln!(o, "logsift_http_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {}", h.count);
            }
        }
        o
    }
}
