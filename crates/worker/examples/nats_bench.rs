//! Load generator and timer for `scripts/bench-worker.sh` (not a test).
//!
//! `nats_bench prepare URL N`: creates the input and result streams and
//! publishes N JSON lines (our corpus, repeated) to `logs.in`.
//! `nats_bench collect URL N`: reads results from the `RESULTS` stream until
//! N have arrived; prints lines/s from the first result to the last.
//! `nats_bench latency URL RATE SECS`: publishes RATE lines/s for SECS
//! seconds, each stamped with its publish time, and prints p50/p99 of
//! publish → result.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, consumer::DeliverPolicy};
use futures_util::StreamExt;
use serde_json::{json, Value};

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

fn corpus() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("corpus/train.csv").expect("run from the repository root");
    text.lines().skip(1).filter_map(|l| l.split_once(',').map(|(s, m)| (s.to_string(), m.trim_matches('"').to_string()))).collect()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = &args[2];
    let js = jetstream::new(async_nats::connect(url).await.expect("NATS"));
    match args[1].as_str() {
        "prepare" => {
            let n: usize = args[3].parse().unwrap();
            for (name, subject) in [("LOGSIFT_INPUT", "logs.in"), ("RESULTS", "logs.out")] {
                js.get_or_create_stream(jetstream::stream::Config {
                    name: name.into(),
                    subjects: vec![subject.into()],
                    ..Default::default()
                })
                .await
                .unwrap();
            }
            let lines = corpus();
            let mut acks = vec![];
            for i in 0..n {
                let (s, m) = &lines[i % lines.len()];
                acks.push(js.publish("logs.in", json!({"id": i, "source": s, "log_message": m}).to_string().into()).await.unwrap());
                if acks.len() == 1000 {
                    for a in acks.drain(..) {
                        a.await.unwrap();
                    }
                }
            }
            for a in acks {
                a.await.unwrap();
            }
        }
        "collect" => {
            let n: usize = args[3].parse().unwrap();
            let stream = js.get_stream("RESULTS").await.unwrap();
            let c: jetstream::consumer::PullConsumer =
                stream.create_consumer(pull::Config { ack_policy: AckPolicy::None, ..Default::default() }).await.unwrap();
            let mut seen = 0usize;
            let mut first: Option<Instant> = None;
            let mut msgs = c.messages().await.unwrap();
            while seen < n {
                let m = msgs.next().await.unwrap().unwrap();
                first.get_or_insert_with(Instant::now);
                let _ = m.payload.len();
                seen += 1;
            }
            let secs = first.unwrap().elapsed().as_secs_f64();
            println!("{n} results in {secs:.2} s from the first to the last: {:.0} lines/s", n as f64 / secs);
        }
        "latency" => {
            let rate: u64 = args[3].parse().unwrap();
            let secs: u64 = args[4].parse().unwrap();
            let stream = js.get_stream("RESULTS").await.unwrap();
            let c: jetstream::consumer::PullConsumer = stream
                .create_consumer(pull::Config { ack_policy: AckPolicy::None, deliver_policy: DeliverPolicy::New, ..Default::default() })
                .await
                .unwrap();
            let total = (rate * secs) as usize;
            let reader = tokio::spawn(async move {
                let mut lat = Vec::with_capacity(total);
                let mut msgs = c.messages().await.unwrap();
                while lat.len() < total {
                    let m = msgs.next().await.unwrap().unwrap();
                    let v: Value = serde_json::from_slice(&m.payload).unwrap();
                    if let Some(t) = v["t_ns"].as_str().and_then(|t| t.parse::<u128>().ok()) {
                        lat.push((now_ns() - t) as f64 / 1e6);
                    }
                }
                lat
            });
            let lines = corpus();
            let start = Instant::now();
            for i in 0..total {
                let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
                let (s, m) = &lines[i % lines.len()];
                let body = json!({"id": i, "source": s, "log_message": m, "t_ns": now_ns().to_string()}).to_string();
                js.publish("logs.in", body.into()).await.unwrap();
            }
            let mut lat = reader.await.unwrap();
            lat.sort_by(f64::total_cmp);
            let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
            println!("{total} lines at {rate}/s: publish → result p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms", q(0.5), q(0.99), q(1.0));
        }
        other => panic!("unknown mode {other}"),
    }
}
