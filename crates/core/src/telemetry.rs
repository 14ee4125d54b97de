//! The pipeline's counters in the Prometheus text format, written by hand (a
//! few counters do not need a metrics framework). The service's `/metrics`
//! and the worker's both start with [`render`]; each adds its own lines.
//! Tiers with counters of their own (the LLM tier: requests, tokens, the
//! breaker) hand them over as [`Metric`]s, so the renderers need not know
//! the tier's types.

use std::fmt::Write;

use crate::pipeline::Stats;

/// One counter or gauge.
#[derive(Clone, Debug)]
pub struct Metric {
    /// `logsift_…` name.
    pub name: &'static str,
    /// The `# HELP` text.
    pub help: &'static str,
    /// Its value.
    pub value: u64,
    /// A gauge (goes up and down) rather than a counter.
    pub gauge: bool,
}

impl Metric {
    /// A counter.
    pub fn counter(name: &'static str, help: &'static str, value: u64) -> Metric {
        Metric { name, help, value, gauge: false }
    }

    /// A gauge.
    pub fn gauge(name: &'static str, help: &'static str, value: u64) -> Metric {
        Metric { name, help, value, gauge: true }
    }
}

/// A tier's own counters and state, reported through core so that the
/// service and the worker need not know the tier's type (today: the LLM
/// tier's requests, failures and breaker).
pub trait TierReport: Send + Sync {
    /// Its counters and gauges, for `/metrics`.
    fn metrics(&self) -> Vec<Metric>;
    /// Its state in a word or two, for `/health`.
    fn health(&self) -> TierHealth;
}

/// What `/health` says of a tier.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TierHealth {
    /// `ok`, `not used yet`, `failing` or `broken (circuit open)`.
    pub state: &'static str,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed.
    pub failures: u64,
}

impl TierHealth {
    /// The state that counts of requests, failures and an open breaker make.
    pub fn from_counts(requests: u64, failures: u64, circuit_open: bool) -> Self {
        let state = if circuit_open {
            "broken (circuit open)"
        } else if requests > 0 && failures == requests {
            "failing"
        } else if requests == 0 {
            "not used yet"
        } else {
            "ok"
        };
        TierHealth { state, requests, failures }
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Appends `metrics` to `out`.
pub fn write_metrics(out: &mut String, metrics: &[Metric]) {
    for m in metrics {
        let kind = if m.gauge { "gauge" } else { "counter" };
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {kind}\n{} {}", m.name, m.help, m.name, m.name, m.value);
    }
}

/// Lines per tier and label, cache hits, tier queries, bad lines and
/// batches, then the tiers' own `extra` metrics.
pub fn render(stats: &Stats, batches: u64, extra: &[Metric]) -> String {
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
    write_metrics(
        &mut o,
        &[
            Metric::counter("logsift_cache_hits_total", "Lines answered from the decision cache.", stats.cache_hits),
            Metric::counter("logsift_model_queries_total", "Distinct templates the model tier was asked about.", stats.model_queries),
            Metric::counter("logsift_llm_queries_total", "Distinct templates the LLM tier was asked about.", stats.llm_queries),
            Metric::counter("logsift_invalid_lines_total", "Lines that were bad input.", stats.invalid),
            Metric::counter(
                "logsift_pattern_hits_total",
                "Lines answered through a learned variable's pattern (counted in cache hits too).",
                stats.pattern_hits,
            ),
            Metric::counter("logsift_patterns_learned_total", "Word positions learned to be variables.", stats.patterns_learned),
            Metric::counter("logsift_batches_total", "Batches run by the pipeline (micro-batching joins requests).", batches),
        ],
    );
    write_metrics(&mut o, extra);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_tier_label_and_extra_metric() {
        let mut stats = Stats { cache_hits: 3, patterns_learned: 4, ..Stats::default() };
        stats.tiers.insert(crate::record::TierKind::Model, 5);
        stats.labels.insert("Say \"hi\"\n".into(), 2);
        let text = render(&stats, 7, &[Metric::gauge("logsift_x_open", "x.", 1), Metric::counter("logsift_y_total", "y.", 9)]);
        assert!(text.contains("logsift_lines_total{tier=\"model\"} 5\n"), "{text}");
        assert!(text.contains("logsift_lines_total{tier=\"llm\"} 0\n"), "{text}");
        assert!(text.contains("logsift_label_lines_total{label=\"Say \\\"hi\\\"\\n\"} 2\n"), "{text}");
        assert!(text.contains("logsift_cache_hits_total 3\n") && text.contains("logsift_batches_total 7\n"), "{text}");
        assert!(text.contains("logsift_patterns_learned_total 4\n"), "{text}");
        assert!(text.contains("# TYPE logsift_x_open gauge\nlogsift_x_open 1\n"), "{text}");
        assert!(text.contains("# TYPE logsift_y_total counter\nlogsift_y_total 9\n"), "{text}");
    }
}
