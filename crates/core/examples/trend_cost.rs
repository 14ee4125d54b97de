//! What live pattern counting ([`logsift_core::trends`]) costs: BENCHMARKS.md
//! "Pattern counts over time".
//!
//! ```sh
//! cargo run --release -p logsift-core --example trend_cost -- throughput STREAM.csv models/lexical
//! cargo run --release -p logsift-core --example trend_cost -- memory 1000000
//! ```
//!
//! * `throughput`: the stream (CSV with `source`, `log_message`) classified
//!   in batches of 1,024 by a fresh pipeline from the bundle, without and
//!   with counting (each batch observed as `serve`'s pipeline thread does),
//!   alternated nine times in one process; lines/s of each run, the time
//!   spent in counting itself, the medians' difference and the median of
//!   each round's pair (the machine's drift between rounds cancels). The lexical bundle: its pipeline is the faster one,
//!   so the counting's share is the larger.
//! * `memory`: N lines of N distinct templates (no two alike: each its own
//!   first word), observed a batch of 1,024 per second of clock, under the
//!   default cap of 10,000 patterns; peak RSS before and after, patterns
//!   tracked and evicted, nanoseconds a line; and the time to render the
//!   counts' `/metrics` lines with the cap's patterns tracked.

use std::time::{Duration, Instant};

use logsift_core::tier::DisabledLlm;
use logsift_core::trends::{TrendConfig, Trends};
use logsift_core::{Bundle, Record};

fn rss_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

fn throughput(stream: &str, model: &str) {
    let mut rdr = csv::Reader::from_path(stream).expect("the stream CSV");
    let h = rdr.headers().unwrap().clone();
    let (s, m) = (h.iter().position(|c| c == "source").unwrap(), h.iter().position(|c| c == "log_message").unwrap());
    let records: Vec<Record> = rdr.records().map(|r| r.unwrap()).map(|r| Record::new(&r[s], &r[m])).collect();
    let bundle = Bundle::load(std::path::Path::new(model)).expect("the bundle");
    println!("{} lines, bundle {model}", records.len());
    let mut runs: Vec<(bool, f64)> = vec![];
    for round in 0..9 {
        for counting in [false, true] {
            let pipeline = bundle.pipeline(bundle.builtin_encoder().unwrap(), Box::new(DisabledLlm), 10_000).unwrap();
            let trends = Trends::new(TrendConfig::default(), *pipeline.masker(), 1_000_000);
            let t = Instant::now();
            let mut in_counting = Duration::ZERO;
            for (i, batch) in records.chunks(1024).enumerate() {
                if counting {
                    // As `serve` does: the pipeline's template keys; a
                    // second of clock per 10 batches (1M lines over ~100 s).
                    let (d, keys) = pipeline.classify_keyed(batch);
                    let c = Instant::now();
                    trends.observe_keyed(batch, &d, &keys, 1_000_000 + i as u64 / 10);
                    in_counting += c.elapsed();
                } else {
                    pipeline.classify(batch);
                }
            }
            let secs = t.elapsed().as_secs_f64();
            let rate = records.len() as f64 / secs;
            if counting {
                let at = 1_000_000 + (records.len() / 10240) as u64;
                let r = trends.report(at, Duration::from_secs(60), Duration::from_secs(3600), 5.0, 5);
                println!(
                    "round {round}: counting    {rate:>10.0} lines/s ({secs:.2} s, of which counting {:.3} s = {:.1} %); {} patterns tracked",
                    in_counting.as_secs_f64(),
                    in_counting.as_secs_f64() / secs * 100.0,
                    r.tracked
                );
            } else {
                println!("round {round}: no counting {rate:>10.0} lines/s ({secs:.2} s)");
            }
            runs.push((counting, rate));
        }
    }
    let median = |c: bool| {
        let mut v: Vec<f64> = runs.iter().filter(|r| r.0 == c).map(|r| r.1).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (off, on) = (median(false), median(true));
    // Each round's pair, run back to back: the machine's drift between rounds cancels.
    let mut paired: Vec<f64> = runs.chunks(2).map(|p| 1.0 - p[1].1 / p[0].1).collect();
    paired.sort_by(f64::total_cmp);
    println!(
        "median: {off:.0} lines/s without, {on:.0} with counting: {:.1} % fewer; median of the rounds' pairs: {:.1} % fewer",
        (1.0 - on / off) * 100.0,
        paired[paired.len() / 2] * 100.0
    );
}

fn memory(n: usize) {
    let word = |mut i: usize| {
        let mut w = String::new();
        for _ in 0..5 {
            w.push((b'a' + (i % 26) as u8) as char);
            i /= 26;
        }
        w
    };
    let before = rss_kib("VmHWM:");
    let trends = Trends::new(TrendConfig::default(), logsift_core::mask::Masker::default(), 0);
    let d = logsift_core::Decision {
        label: std::sync::Arc::from("Info"),
        tier: logsift_core::TierKind::Model,
        confidence: 1.0,
        detail: logsift_core::Detail::None,
    };
    let t = Instant::now();
    let mut done = 0;
    let mut second = 120;
    while done < n {
        let k = (n - done).min(1024);
        let batch: Vec<Record> =
            (done..done + k).map(|i| Record::new("app", format!("{} job finished on the night shift", word(i)))).collect();
        let ds = vec![d.clone(); k];
        trends.observe(&batch, &ds, second);
        done += k;
        second += 1;
    }
    let took = t.elapsed();
    let t = Instant::now();
    let text = trends.render_metrics(second);
    println!("/metrics lines of the counts, {} patterns tracked: {:?} ({} bytes)", 10_000.min(n), t.elapsed(), text.len());
    let r = trends.report(second, Duration::from_secs(60), Duration::from_secs(3600), 5.0, 1);
    println!(
        "{n} distinct templates: {} tracked (cap {}), {} evicted; peak RSS {} MB before, {} MB after; {:.0} ns a line",
        r.tracked,
        r.max_patterns,
        r.evicted,
        before / 1024,
        rss_kib("VmHWM:") / 1024,
        took.as_nanos() as f64 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("throughput") => throughput(&args[2], args.get(3).map_or("models/lexical", String::as_str)),
        Some("memory") => memory(args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1_000_000)),
        _ => eprintln!("usage: trend_cost throughput STREAM.csv [MODEL] | memory [N]"),
    }
}
