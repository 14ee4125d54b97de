//! `/metrics` in the Prometheus text format, written by hand: a few counters
//! and histograms do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use logsift_core::pipeline::Stats;
use logsift_core::telemetry::{self, Metric};

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

    /// The whole exposition: the pipeline's and the tiers' metrics
    /// ([`logsift_core::telemetry::render`]), then the HTTP ones.
    pub fn render(&self, stats: &Stats, batches: u64, tiers: &[Metric]) -> String {
        let mut o = telemetry::render(stats, batches, tiers);
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
