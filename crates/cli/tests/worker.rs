//! `logsift worker` against a real NATS server with JetStream: each test
//! starts its own `nats-server` (Debian's, installed by `.ci/run`) on a
//! loopback port the server picks, and stops it afterwards.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy};
use futures_util::StreamExt;
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `nats-server` binary (`$LOGSIFT_NATS_SERVER`, or Debian's on the
/// PATH or in /usr/sbin). Tests never install it: `.ci/run` does. Without it
/// the test says visibly that it skips, or fails under CI.
fn nats_server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LOGSIFT_NATS_SERVER") {
        return Some(PathBuf::from(p));
    }
    logsift_testkit::program(
        &["nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"],
        "apt-get install nats-server, or set LOGSIFT_NATS_SERVER",
    )
}

/// A NATS server with JetStream on a free loopback port, for one test.
struct Nats {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server on a port it picks itself (`listen: 127.0.0.1:-1`) and
/// reads the port from its log. (A port found free by binding and closing a
/// socket here could be handed to both tests of this file at once: the
/// second server then failed to bind and exited, its test's probe reached
/// the first test's server, and that test, done first, stopped it: refused.)
fn start_nats() -> Option<Nats> {
    let bin = nats_server_binary()?;
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nats.conf");
    std::fs::write(&conf, format!("listen: 127.0.0.1:-1\nmax_payload: 8MB\njetstream {{\n  store_dir: \"{}\"\n}}\n", dir.path().display()))
        .unwrap();
    let mut child =
        Command::new(bin).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("nats-server starts");
    // The log is read to its end on its own thread (a full pipe would stop
    // the server); its port and readiness come back through a channel.
    let (tx, rx) = std::sync::mpsc::channel::<Option<u16>>();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut port = None;
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some((_, at)) = line.split_once("Listening for client connections on ") {
                port = at.trim().rsplit(':').next().and_then(|p| p.parse().ok());
            }
            if line.contains("Server is ready") {
                let _ = tx.send(port);
            }
        }
        let _ = tx.send(None);
    });
    let port = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Some(port)) => port,
        other => {
            let _ = child.kill();
            panic!("nats-server did not start ({other:?}, exit {:?})", child.wait().ok());
        }
    };
    Some(Nats { child, url: format!("nats://127.0.0.1:{port}"), _dir: dir })
}

/// A `logsift worker` process.
struct Worker {
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Worker {
    fn start(url: &str, extra: &[&str]) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_logsift"))
            .args(["worker", "--nats", url, "--input", "logs.in", "--output", "logs.out", "--model", "models/lexical", "--ack-wait", "2"])
            .args(extra)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (err, sink) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Worker { child, log }
    }

    fn signal(&self, sig: &str) {
        assert!(Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success());
    }

    /// SIGTERM, then the exit status and the log.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn streams(js: &jetstream::Context) {
    js.create_stream(jetstream::stream::Config { name: "LOGSIFT_INPUT".into(), subjects: vec!["logs.in".into()], ..Default::default() })
        .await
        .unwrap();
    js.create_stream(jetstream::stream::Config { name: "RESULTS".into(), subjects: vec!["logs.out".into()], ..Default::default() })
        .await
        .unwrap();
    js.create_stream(jetstream::stream::Config { name: "DEAD".into(), subjects: vec!["logs.in.dead".into()], ..Default::default() })
        .await
        .unwrap();
}

/// Every message of `stream` so far (waiting until `want` have arrived or `secs` pass).
async fn read_stream(js: &jetstream::Context, stream: &str, want: usize, secs: u64) -> Vec<async_nats::jetstream::Message> {
    let s = js.get_stream(stream).await.unwrap();
    let consumer: jetstream::consumer::PullConsumer =
        s.create_consumer(pull::Config { ack_policy: AckPolicy::None, ..Default::default() }).await.unwrap();
    let mut out = vec![];
    let deadline = Instant::now() + Duration::from_secs(secs);
    while out.len() < want && Instant::now() < deadline {
        let mut batch = consumer.fetch().max_messages(1000).expires(Duration::from_millis(500)).messages().await.unwrap();
        while let Some(m) = batch.next().await {
            out.push(m.unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_one_killed_mid_stream_every_message_gets_a_result() {
    let Some(nats) = start_nats() else { return };
    let client = async_nats::connect(&nats.url).await.unwrap();
    let js = jetstream::new(client.clone());
    streams(&js).await;
    let corpus = std::fs::read_to_string(root().join("corpus/train.csv")).unwrap();
    let lines: Vec<(String, String)> = csv::Reader::from_reader(corpus.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string())
        })
        .collect();
    const N: usize = 20_000;
    // The first worker's LLM is a black hole (a listener that never answers,
    // a fault written for this test): the first batch with a line for the LLM
    // hangs, so the worker surely holds unacknowledged messages when it is killed.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = format!("http://{}/v1", black_hole.local_addr().unwrap());
    let mut workers = vec![
        Worker::start(&nats.url, &["--batch", "256", "--llm-url", &hole, "--llm-timeout", "600", "--llm-retries", "0"]),
        Worker::start(&nats.url, &["--batch", "256"]),
        Worker::start(&nats.url, &["--batch", "256"]),
    ];
    let publisher = {
        let js = js.clone();
        tokio::spawn(async move {
            for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
                let mut acks = vec![];
                for &i in chunk {
                    let (source, message) = &lines[i % lines.len()];
                    let body = json!({"id": i, "source": source, "log_message": message}).to_string();
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert("Trace-Id", format!("t-{i}").as_str());
                    acks.push(js.publish_with_headers("logs.in", headers, body.into()).await.unwrap());
                }
                for a in acks {
                    a.await.unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // Mid-stream: kill one worker outright, start another.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    workers[0].signal("-KILL");
    let _ = workers[0].child.wait();
    workers.push(Worker::start(&nats.url, &["--batch", "256"]));
    publisher.await.unwrap();

    let results = read_stream(&js, "RESULTS", N, 120).await;
    let mut ids = BTreeSet::new();
    for m in &results {
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        let id = v["id"].as_u64().unwrap();
        assert!(v["target_label"].is_string() && v["tier"].is_string(), "{v}");
        let headers = m.headers.as_ref().expect("headers kept");
        assert_eq!(headers.get("Trace-Id").map(|h| h.to_string()), Some(format!("t-{id}")), "input headers are kept");
        ids.insert(id);
    }
    let missing: Vec<u64> = (0..N as u64).filter(|i| !ids.contains(i)).take(10).collect();
    assert!(missing.is_empty(), "{} of {N} inputs have no result, e.g. {missing:?}", N - ids.len());
    let duplicates = results.len() - ids.len();
    let mut redelivered = 0u64;
    for w in workers.drain(1..) {
        let (status, log) = w.stop();
        assert!(status.success(), "a worker drains and exits cleanly on SIGTERM: {status:?}\n{log}");
        let summary = log.lines().find(|l| l.contains("worker stopped")).unwrap_or_else(|| panic!("{log}"));
        redelivered += summary.split('(').nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    }
    assert!(redelivered > 0, "the killed worker's messages were redelivered to the others");
    eprintln!(
        "{N} inputs → {} results, {} distinct; {duplicates} duplicates kept by the stream; {redelivered} redeliveries after the kill",
        results.len(),
        ids.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_with_a_reason_and_do_not_block() {
    let Some(nats) = start_nats() else { return };
    let client = async_nats::connect(&nats.url).await.unwrap();
    let js = jetstream::new(client.clone());
    streams(&js).await;
    let payloads: Vec<Vec<u8>> = vec![
        br#"{"id": 1, "source": "ModernHR", "log_message": "User User1 logged in."}"#.to_vec(),
        b"\xff\xfe not UTF-8".to_vec(),
        [b"{\"id\": 2, \"log_message\": \"".to_vec(), vec![b'x'; 2 * 1024 * 1024], b"\"}".to_vec()].concat(),
        b"plain text, not JSON".to_vec(),
        br#"{"id": 3, "source": "ModernHR", "log_message": "Backup completed successfully."}"#.to_vec(),
    ];
    for p in &payloads {
        js.publish("logs.in", p.clone().into()).await.unwrap().await.unwrap();
    }
    let worker = Worker::start(&nats.url, &["--with-template"]);
    let results = read_stream(&js, "RESULTS", 2, 30).await;
    let values: Vec<Value> = results.iter().map(|m| serde_json::from_slice::<Value>(&m.payload).unwrap()).collect();
    let ids: Vec<u64> = values.iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 3], "the good messages around the poison ones are answered");
    // --with-template: each result carries its template and the template's stable id.
    assert_eq!(values[0]["template"], "User User<NUM> logged in.", "{}", values[0]);
    assert_eq!(values[0]["template_id"].as_str().map(str::len), Some(16));
    let dead = read_stream(&js, "DEAD", 3, 30).await;
    assert_eq!(dead.len(), 3);
    let reasons: Vec<String> =
        dead.iter().map(|m| m.headers.as_ref().and_then(|h| h.get("Logsift-Reason")).map(|r| r.to_string()).unwrap_or_default()).collect();
    assert!(reasons[0].contains("invalid UTF-8"), "{reasons:?}");
    assert!(reasons[1].contains("over the limit"), "{reasons:?}");
    assert!(reasons[2].contains("not valid JSON"), "{reasons:?}");
    assert_eq!(dead[0].payload.as_ref(), payloads[1].as_slice(), "the dead letter carries the original payload");
    let (status, log) = worker.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("3 dead letters"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_publishes_what_is_new_each_window() {
    let Some(nats) = start_nats() else { return };
    let client = async_nats::connect(&nats.url).await.unwrap();
    let js = jetstream::new(client.clone());
    streams(&js).await;
    // The summary goes out on plain NATS (no stream holds its subject).
    let mut summaries = client.subscribe("logs.out.patterns").await.unwrap();
    let worker = Worker::start(&nats.url, &["--patterns-window", "1s", "--patterns-warmup", "4s"]);
    // The counting starts before the worker says it is pulling: its warm-up
    // is over 4 s after that line, at the latest.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !worker.log.lock().unwrap().contains("worker pulling") {
        assert!(Instant::now() < deadline, "the worker did not start: {}", worker.log.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let publish = |i: u64, line: &str| {
        let js = js.clone();
        let p = json!({"id": i, "source": "app", "log_message": line}).to_string();
        async move { js.publish("logs.in", p.into()).await.unwrap().await.unwrap() }
    };
    for i in 0..3 {
        publish(i, &format!("User User{i} logged in.")).await;
    }
    // Past the warm-up, a kind of line not seen before.
    tokio::time::sleep(Duration::from_millis(4200).saturating_sub(started.elapsed())).await;
    publish(10, "Kernel panic - not syncing: Fatal exception in interrupt").await;
    publish(11, "User User9 logged in.").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), summaries.next()).await else { continue };
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        let new = v["new"].as_array().unwrap();
        assert!(!new.iter().any(|p| p["template"] == "User User<NUM> logged in."), "seen in the warm-up, never new: {v}");
        if new.iter().any(|p| p["template"].as_str().unwrap().starts_with("Kernel panic")) {
            found = Some(v);
        }
    }
    let v = found.expect("a summary with the new pattern");
    assert_eq!(v["bucket_seconds"], 1);
    assert!(v["labels"]["Critical Error"]["new_patterns"].as_u64() >= Some(1), "{v}");
    let (status, log) = worker.stop();
    assert!(status.success(), "{log}");
}
