//! The service over real HTTP on loopback, with a real client (reqwest): the
//! bundled lexical model, every endpoint, every error status, auth, concurrent
//! clients, streaming, graceful shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use logsift_core::record::{Decision, Detail, TierKind};
use logsift_core::tier::{DisabledLlm, Query, Tier, TierError, Verdict};
use logsift_core::{Bundle, Pipeline, Record};
use logsift_server::{ModelInfo, ServiceConfig};
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn lexical_pipeline() -> Pipeline {
    let b = Bundle::load(&root().join("models/lexical")).unwrap();
    b.pipeline(b.builtin_encoder().unwrap(), Box::new(DisabledLlm), 10_000).unwrap()
}

struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.done.await.unwrap()
    }
}

async fn start_with(pipeline: Pipeline, cfg: ServiceConfig) -> Running {
    let info = ModelInfo { name: "lexical".into(), labels: vec!["User Action".into()], tiers: pipeline.describe(), ..ModelInfo::default() };
    let limits = cfg.conn.clone();
    let router = logsift_server::router(pipeline, info, None, cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        let _ = rx.await;
    };
    let done = tokio::spawn(logsift_server::conn::serve_with(listener, router, stop, limits));
    Running { base, stop: Some(tx), done }
}

async fn start() -> Running {
    start_with(lexical_pipeline(), ServiceConfig::default()).await
}

use logsift_testkit::csv_rows;

fn example_csv() -> Vec<u8> {
    std::fs::read(root().join("examples/test.csv")).unwrap()
}

fn upload(bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name("test.csv").mime_str("text/csv").unwrap())
}

/// What the pipeline itself says about the example's rows.
fn direct(records: &[Record]) -> Vec<Decision> {
    lexical_pipeline().classify(records)
}

fn example_records() -> Vec<Record> {
    let text = String::from_utf8(example_csv()).unwrap();
    csv_rows(&text).into_iter().skip(1).map(|r| Record::new(r[0].clone(), r[1].clone())).collect()
}

async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["status"], status);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_upload_keeps_every_column_and_adds_the_decision() {
    let s = start().await;
    let c = reqwest::Client::new();
    let resp = c.post(format!("{}/classify", s.base)).multipart(upload(example_csv())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let rows = csv_rows(&resp.text().await.unwrap());
    let input = csv_rows(&String::from_utf8(example_csv()).unwrap());
    assert_eq!(rows.len(), input.len(), "every row");
    assert_eq!(rows[0][..input[0].len()], input[0][..], "input columns first");
    assert_eq!(rows[0][input[0].len()..], ["target_label", "tier", "confidence", "detail"]);
    let want = direct(&example_records());
    for ((row, inp), d) in rows.iter().skip(1).zip(input.iter().skip(1)).zip(&want) {
        assert_eq!(row[..inp.len()], inp[..], "input kept verbatim, in order");
        assert_eq!((row[2].as_str(), row[3].as_str()), (&*d.label, d.tier.as_str()));
    }
    // Only the label, when asked; and a plain text/csv body works too.
    let resp =
        c.post(format!("{}/classify?only_label=true", s.base)).header("content-type", "text/csv").body(example_csv()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let rows = csv_rows(&resp.text().await.unwrap());
    assert_eq!(rows[0], ["source", "log_message", "target_label"]);
    assert_eq!(rows[1][2], &*want[0].label);
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_come_back_in_order_with_rule_or_reason() {
    let s = start().await;
    let recs = example_records();
    let logs: Vec<Value> = recs.iter().map(|r| json!({"source": r.source, "log_message": r.message})).collect();
    let resp = reqwest::Client::new().post(format!("{}/v1/classify", s.base)).json(&json!({ "logs": logs })).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["model"], "lexical");
    let results = v["results"].as_array().unwrap();
    let want = direct(&recs);
    assert_eq!(results.len(), want.len());
    for (r, d) in results.iter().zip(&want) {
        assert_eq!(r["target_label"], &*d.label);
        assert_eq!(r["tier"], d.tier.as_str());
        match &d.detail {
            Detail::Rule(id) => assert_eq!(r["rule"], &**id),
            Detail::Reason(why) => assert_eq!(r["reason"], &**why),
            Detail::Guess(why) => assert!(r["reason"] == **why && r["guess"] == true),
            Detail::None => assert!(r.get("rule").is_none() && r.get("reason").is_none()),
        }
    }
    assert!(results.iter().any(|r| r.get("rule").is_some()) && results.iter().any(|r| r.get("reason").is_some()));
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_and_their_ids_come_on_request_from_every_endpoint() {
    let s = start().await;
    let c = reqwest::Client::new();
    let masker = *lexical_pipeline().masker();
    let lines = ["Disk /dev/sda1 is 97% full", "Disk /dev/sdb2 is 12% full", "User User7 logged in."];
    let want: Vec<(String, String)> = lines.iter().map(|l| logsift_core::mask::Templates::new(masker).of(l)).collect();
    assert_eq!(want[0], want[1], "two lines of one template share its id");
    // CSV: two more columns, only when asked.
    let body = format!("source,log_message\n{}", lines.iter().map(|l| format!("s,{l}\n")).collect::<String>());
    let rows = csv_rows(
        &c.post(format!("{}/classify?with_template=true", s.base))
            .header("content-type", "text/csv")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(rows[0][2..], ["target_label", "tier", "confidence", "detail", "template", "template_id"]);
    for (row, (t, id)) in rows.iter().skip(1).zip(&want) {
        assert_eq!((&row[6], &row[7]), (t, id));
    }
    let plain = csv_rows(
        &c.post(format!("{}/classify", s.base)).header("content-type", "text/csv").body(body).send().await.unwrap().text().await.unwrap(),
    );
    assert_eq!(plain[0].len(), 6);
    // JSON and the stream: two more fields of each result.
    let logs: Vec<Value> = lines.iter().map(|l| json!({"log_message": l})).collect();
    let v: Value = c
        .post(format!("{}/v1/classify?with_template=true", s.base))
        .json(&json!({ "logs": logs }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (r, (t, id)) in v["results"].as_array().unwrap().iter().zip(&want) {
        assert_eq!((r["template"].as_str(), r["template_id"].as_str()), (Some(t.as_str()), Some(id.as_str())));
    }
    let v: Value = c.post(format!("{}/v1/classify", s.base)).json(&json!({ "logs": logs })).send().await.unwrap().json().await.unwrap();
    assert!(v["results"][0].get("template_id").is_none());
    let nd: String = lines.iter().map(|l| format!("{}\n", json!({"log_message": l, "template": "mine"}))).collect();
    let out = c
        .post(format!("{}/v1/classify/stream?with_template=true", s.base))
        .header("content-type", "application/x-ndjson")
        .body(nd)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let got: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (r, (t, id)) in got.iter().zip(&want) {
        assert_eq!((r["template"].as_str(), r["template_id"].as_str()), (Some(t.as_str()), Some(id.as_str())));
        assert_eq!(r["template_input"], "mine", "an input field of the same name is kept");
    }
    assert_eq!(
        problem(c.post(format!("{}/v1/classify?with_template=maybe", s.base)).json(&json!({ "logs": logs })).send().await.unwrap(), 400)
            .await["title"],
        "bad parameter"
    );
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_results_arrive_while_the_body_is_still_open() {
    let s = start_with(lexical_pipeline(), ServiceConfig { max_line_bytes: 100, ..ServiceConfig::default() }).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) }));
    let client = reqwest::Client::new();
    let url = format!("{}/v1/classify/stream", s.base);
    let req = tokio::spawn(async move { client.post(url).header("content-type", "application/x-ndjson").body(body).send().await });
    tx.send(Ok(b"{\"source\":\"ModernHR\",\"log_message\":\"User User7 logged in.\",\"id\":1}\n".to_vec())).await.unwrap();
    let mut resp = tokio::time::timeout(Duration::from_secs(10), req).await.expect("headers before the body ends").unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    let first =
        tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await.expect("first result before the body ends").unwrap().unwrap();
    let v: Value = serde_json::from_slice(first.strip_suffix(b"\n").unwrap()).unwrap();
    assert_eq!((v["id"].as_i64(), v["target_label"].as_str()), (Some(1), Some("User Action")), "{v}");
    // Then a bad line, an over-long one (split over two chunks) and a good one; then the end.
    tx.send(Ok(b"not json\n{\"log_message\":\"".to_vec())).await.unwrap();
    tx.send(Ok([b"x".repeat(300), b"\"}\n{\"log_message\":\"Backup completed\",\"id\":5}".to_vec()].concat())).await.unwrap();
    drop(tx);
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await.unwrap() {
        rest.extend_from_slice(&c);
    }
    let lines: Vec<Value> = String::from_utf8(rest).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!((lines[0]["raw"].as_str(), lines[0]["tier"].as_str()), (Some("not json"), Some("none")));
    assert!(lines[0]["detail"].as_str().unwrap().contains("not valid JSON"));
    assert!(lines[1]["detail"].as_str().unwrap().contains("over the limit of 100"), "{}", lines[1]);
    assert_eq!(lines[2]["id"], 5, "the last line needs no newline");
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_status_names_what_is_wrong() {
    let cfg = ServiceConfig { max_body_bytes: 4096, max_rows: 20, ..ServiceConfig::default() };
    let s = start_with(lexical_pipeline(), cfg).await;
    let c = reqwest::Client::new();
    let csv_url = format!("{}/classify", s.base);
    let json_url = format!("{}/v1/classify", s.base);

    // 400: a ragged row, invalid UTF-8 in a column, broken quoting; malformed JSON.
    let bad = b"source,log_message\nA,fine\nB,x,y,z\n".to_vec();
    let resp = c.post(&csv_url).multipart(upload(bad.clone())).send().await.unwrap();
    let v = problem(resp, 400).await;
    assert_eq!(v["row"], 2, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("4 fields"), "{v}");
    let resp = c.post(format!("{csv_url}?on_error=skip")).multipart(upload(bad)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "skip keeps the bad row as Unclassified");
    let rows = csv_rows(&resp.text().await.unwrap());
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[2][2].as_str(), rows[2][3].as_str()), ("Unclassified", "none"));
    let resp = c.post(&csv_url).multipart(upload(b"source,log_message\nA,caf\xe9\n".to_vec())).send().await.unwrap();
    let v = problem(resp, 400).await;
    assert_eq!((v["row"].as_u64(), v["column"].as_str()), (Some(1), Some("log_message")), "{v}");
    let resp = c.post(&json_url).header("content-type", "application/json").body("{\"logs\": [").send().await.unwrap();
    let v = problem(resp, 400).await;
    assert!(v["detail"].as_str().unwrap().contains("line 1"), "{v}");

    // 413: too large a body, too many rows.
    let big = format!("source,log_message\n{}", "A,a line of text\n".repeat(400));
    let v = problem(c.post(&csv_url).multipart(upload(big.into_bytes())).send().await.unwrap(), 413).await;
    assert!(v["title"].as_str().is_some(), "{v}");
    let many = format!("source,log_message\n{}", "A,x\n".repeat(21));
    let v = problem(c.post(&csv_url).multipart(upload(many.into_bytes())).send().await.unwrap(), 413).await;
    assert!(v["detail"].as_str().unwrap().contains("at most 20 rows"), "{v}");
    let logs: Vec<Value> = (0..21).map(|_| json!({"log_message": "x"})).collect();
    problem(c.post(&json_url).json(&json!({ "logs": logs })).send().await.unwrap(), 413).await;

    // 415: the wrong content type, on each endpoint.
    problem(c.post(&csv_url).header("content-type", "application/json").body("{}").send().await.unwrap(), 415).await;
    problem(c.post(&json_url).header("content-type", "text/csv").body("a,b").send().await.unwrap(), 415).await;
    let stream_url = format!("{}/v1/classify/stream", s.base);
    problem(c.post(&stream_url).header("content-type", "text/csv").body("a,b").send().await.unwrap(), 415).await;

    // 422: no log_message column, no 'file' field, an item without log_message.
    let v = problem(c.post(&csv_url).multipart(upload(b"source,message\nA,x\n".to_vec())).send().await.unwrap(), 422).await;
    assert_eq!(v["column"], "log_message");
    let form = reqwest::multipart::Form::new().text("other", "x");
    let v = problem(c.post(&csv_url).multipart(form).send().await.unwrap(), 422).await;
    assert_eq!(v["column"], "file");
    let body = json!({"logs": [{"log_message": "ok"}, {"source": "A"}]});
    let v = problem(c.post(&json_url).json(&body).send().await.unwrap(), 422).await;
    assert_eq!((v["row"].as_u64(), v["column"].as_str()), (Some(2), Some("log_message")), "{v}");
    problem(c.post(&json_url).json(&json!({"lines": []})).send().await.unwrap(), 422).await;

    // 404 is a problem too.
    problem(c.get(format!("{}/nowhere", s.base)).send().await.unwrap(), 404).await;
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_classification_and_metrics_but_not_health() {
    let s = start_with(lexical_pipeline(), ServiceConfig { token: Some("s3cret-token".into()), ..ServiceConfig::default() }).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/classify", s.base);
    let body = json!({"logs": [{"log_message": "User User1 logged in."}]});
    let resp = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let v = problem(resp, 401).await;
    assert!(v["detail"].as_str().unwrap().contains("Authorization: Bearer"));
    let v = problem(c.post(&url).bearer_auth("s3cret-tokeX").json(&body).send().await.unwrap(), 401).await;
    assert!(v["detail"].as_str().unwrap().contains("wrong bearer token"));
    problem(c.get(format!("{}/metrics", s.base)).send().await.unwrap(), 401).await;
    assert_eq!(c.post(&url).bearer_auth("s3cret-token").json(&body).send().await.unwrap().status(), 200);
    assert_eq!(c.get(format!("{}/metrics", s.base)).bearer_auth("s3cret-token").send().await.unwrap().status(), 200);
    assert_eq!(c.get(format!("{}/health", s.base)).send().await.unwrap().status(), 200);
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_each_get_their_own_answers() {
    let s = start().await;
    let corpus = std::fs::read_to_string(root().join("corpus/train.csv")).unwrap();
    let lines: Vec<Record> = csv_rows(&corpus).into_iter().skip(1).take(640).map(|r| Record::new(r[0].clone(), r[1].clone())).collect();
    let want = direct(&lines);
    let c = reqwest::Client::new();
    let mut tasks = vec![];
    for (i, chunk) in lines.chunks(10).enumerate() {
        let (c, url) = (c.clone(), format!("{}/v1/classify", s.base));
        let logs: Vec<Value> = chunk.iter().map(|r| json!({"source": r.source, "log_message": r.message})).collect();
        tasks.push(tokio::spawn(async move {
            let v: Value = c.post(url).json(&json!({ "logs": logs })).send().await.unwrap().json().await.unwrap();
            (i, v)
        }));
    }
    for t in tasks {
        let (i, v) = t.await.unwrap();
        let got: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["target_label"].as_str().unwrap()).collect();
        let expected: Vec<&str> = want[i * 10..(i + 1) * 10].iter().map(|d| &*d.label).collect();
        assert_eq!(got, expected, "client {i}");
    }
    let m = c.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    let metric = |name: &str| -> f64 {
        m.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(-1.0)
    };
    assert_eq!(metric("logsift_http_requests_total{endpoint=\"/v1/classify\",status=\"200\"}"), 64.0, "{m}");
    let lines_total: f64 = ["rules", "model", "llm", "none"].iter().map(|t| metric(&format!("logsift_lines_total{{tier=\"{t}\"}}"))).sum();
    assert_eq!(lines_total, 640.0);
    assert!(metric("logsift_batches_total") >= 1.0 && metric("logsift_batches_total") <= 64.0);
    assert_eq!(metric("logsift_http_request_duration_seconds_count{endpoint=\"/v1/classify\"}"), 64.0);
    s.shutdown().await.unwrap();
}

/// A tier that takes its time (to catch a request in flight at shutdown) or
/// panics on a chosen line (a bug in a tier).
struct TestTier {
    delay: Duration,
}

impl Tier for TestTier {
    fn kind(&self) -> TierKind {
        TierKind::Llm
    }
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        if queries.iter().any(|q| q.message.contains("panic")) {
            panic!("a tier bug");
        }
        std::thread::sleep(self.delay);
        Ok(queries
            .iter()
            .map(|_| Verdict::Decided(Decision { label: Arc::from("Slow"), tier: TierKind::Llm, confidence: 1.0, detail: Detail::None }))
            .collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_and_a_panicking_tier_costs_only_its_batch() {
    let pipeline = Pipeline::builder().llm(Box::new(TestTier { delay: Duration::from_millis(600) })).build();
    let s = start_with(pipeline, ServiceConfig::default()).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/classify", s.base);
    let v: Value = c.post(&url).json(&json!({"logs": [{"log_message": "please panic"}]})).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["results"][0]["target_label"], "Unclassified");
    assert!(v["results"][0]["reason"].as_str().unwrap().contains("internal error"), "{v}");
    let in_flight = tokio::spawn({
        let (c, url) = (c.clone(), url.clone());
        async move { c.post(url).json(&json!({"logs": [{"log_message": "slow one"}]})).send().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = s.base.clone();
    s.shutdown().await.unwrap();
    let resp = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["results"][0]["target_label"], "Slow");
    assert!(c.get(format!("{base}/health")).send().await.is_err(), "no new connections after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_docs_and_page_are_served_from_the_binary() {
    let s = start().await;
    let c = reqwest::Client::new();
    let h: Value = c.get(format!("{}/health", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["llm"]["state"], "disabled");
    assert!(h["tiers"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().starts_with("rules")), "{h}");
    let spec: Value = c.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    for p in ["/classify", "/v1/classify", "/v1/classify/stream", "/health", "/metrics", "/patterns"] {
        assert!(spec["paths"].get(p).is_some(), "{p} documented");
    }
    for page in ["/docs", "/"] {
        let resp = c.get(format!("{}{page}", s.base)).send().await.unwrap();
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = resp.text().await.unwrap();
        assert!(html.contains("<script>"), "{page} has its script inline");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "{page} loads nothing from another host");
    }
    s.shutdown().await.unwrap();
}

/// A raw TCP connection to the service, for what a real client library will
/// not do: send half a request, or nothing, and hold the socket.
async fn raw(base: &str) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await.unwrap()
}

/// Whether the server closed `conn` within `secs` (a read returns 0 or fails).
async fn closed_within(conn: &mut tokio::net::TcpStream, secs: f64) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // a response (e.g. 408) before the close
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_and_idle_connections_are_closed_and_shutdown_is_bounded() {
    use tokio::io::AsyncWriteExt;
    let conn = logsift_server::conn::ConnLimits {
        header_timeout: Duration::from_millis(500),
        max_connections: 8,
        reserve: 4,
        shutdown_grace: Duration::from_secs(1),
    };
    // (The tier's 4 s outlast the 1 s grace; the test's runtime then waits
    // for the blocking thread that holds it, as the CLI's does for 5 s.)
    let pipeline = Pipeline::builder().llm(Box::new(TestTier { delay: Duration::from_secs(4) })).build();
    let s = start_with(pipeline, ServiceConfig { conn, ..ServiceConfig::default() }).await;
    // Half a request's headers, then silence: closed at the header deadline.
    let mut half = raw(&s.base).await;
    half.write_all(b"POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le").await.unwrap();
    assert!(closed_within(&mut half, 3.0).await, "a half-sent request is closed at the header deadline");
    // A connection that never sends a byte is closed the same way.
    let mut silent = raw(&s.base).await;
    assert!(closed_within(&mut silent, 3.0).await, "an idle connection is closed");
    // Keep-alive: after one answered request the connection idles out too.
    let mut kept = raw(&s.base).await;
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    assert!(closed_within(&mut kept, 3.0).await, "a kept-alive connection closes once idle past the deadline");
    // The cap: 8 held connections; /health answers past it (the reserve).
    let mut held = vec![];
    for _ in 0..8 {
        held.push(raw(&s.base).await);
    }
    let c = reqwest::Client::new();
    let health = c.get(format!("{}/health", s.base)).timeout(Duration::from_secs(5)).send().await.unwrap();
    assert_eq!(health.status(), 200, "served once the held connections time out");
    // Shutdown with a request in flight that would take 4 s and a half-sent
    // one: it returns within the grace period, whatever the clients do.
    let mut stuck = raw(&s.base).await;
    stuck.write_all(b"GET /heal").await.unwrap();
    let slow = tokio::spawn({
        let url = format!("{}/v1/classify", s.base);
        async move { reqwest::Client::new().post(url).json(&json!({"logs": [{"log_message": "slow one"}]})).send().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(5), s.shutdown()).await.expect("shutdown ends within the grace period").unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    slow.abort();
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_origins_and_methods_are_checked_and_small_things_hold() {
    let cfg = ServiceConfig {
        allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into()]),
        cors_origins: vec!["https://dash.example.com".into()],
        token: Some("tok".into()),
        ..ServiceConfig::default()
    };
    let s = start_with(lexical_pipeline(), cfg).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/classify", s.base);
    let body = json!({"logs": [{"source": null, "log_message": "User User1 logged in."}]});
    // DNS rebinding: a page of evil.example whose name now points here.
    let r = c.post(&url).header("host", "evil.example:8000").bearer_auth("tok").json(&body).send().await.unwrap();
    let v = problem(r, 403).await;
    assert!(v["detail"].as_str().unwrap().contains("evil.example"), "{v}");
    // CSRF: a page of another origin posting text/plain (no preflight).
    let r = c
        .post(format!("{}/classify", s.base))
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body("User User1 logged in.\n")
        .send()
        .await
        .unwrap();
    let v = problem(r, 403).await;
    assert!(v["detail"].as_str().unwrap().contains("--cors-origin"), "{v}");
    // An allowed origin: preflight answered, response marked.
    let r = c
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://dash.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://dash.example.com");
    // `bearer` in lower case is the same scheme; `source: null` is no source.
    let r =
        c.post(&url).header("origin", "https://dash.example.com").header("authorization", "bearer tok").json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://dash.example.com");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["results"][0]["target_label"], "User Action", "{v}");
    // A source that is neither a string nor null is named.
    let r = c.post(&url).bearer_auth("tok").json(&json!({"logs": [{"source": 7, "log_message": "x"}]})).send().await.unwrap();
    let v = problem(r, 422).await;
    assert_eq!((v["row"].as_u64(), v["column"].as_str()), (Some(1), Some("source")), "{v}");
    // Unknown fields are skipped, whatever their size.
    let big = format!(
        "{{\"logs\": [{{\"log_message\": \"User User1 logged in.\", \"x\": [{}0]}}], \"y\": {{\"z\": [1, 2]}}}}",
        "0,".repeat(100_000)
    );
    let r = c.post(&url).bearer_auth("tok").header("content-type", "application/json").body(big).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A bad query parameter and a wrong method are problem+json too.
    let r = c.post(format!("{}/classify?only_label=maybe", s.base)).bearer_auth("tok").send().await.unwrap();
    let v = problem(r, 400).await;
    assert!(v["detail"].as_str().unwrap().contains("only_label"), "{v}");
    let r = c.get(&url).bearer_auth("tok").send().await.unwrap();
    problem(r, 405).await;
    // A plain log file is classified as the CLI would, line by line.
    let r = c
        .post(format!("{}/classify", s.base))
        .bearer_auth("tok")
        .header("content-type", "text/plain")
        .body("User User1 logged in.\nUser User2 logged out.\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = csv_rows(&r.text().await.unwrap());
    assert_eq!(rows[0][..3], ["source", "log_message", "target_label"]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][1], "User User1 logged in.");
    // The same file uploaded as `app.log` (the name says text, as for the CLI).
    let part = reqwest::multipart::Part::bytes(b"User User1 logged in.\n".to_vec()).file_name("app.log");
    let r = c
        .post(format!("{}/classify", s.base))
        .bearer_auth("tok")
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = csv_rows(&r.text().await.unwrap());
    assert_eq!((rows.len(), rows[1][1].as_str()), (2, "User User1 logged in."));
    // Too many columns: 422 before any row is built.
    let header: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
    let csv = format!("{},log_message\n", header.join(","));
    let r = c.post(format!("{}/classify", s.base)).bearer_auth("tok").header("content-type", "text/csv").body(csv).send().await.unwrap();
    let v = problem(r, 422).await;
    assert!(v["detail"].as_str().unwrap().contains("2001 columns"), "{v}");
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_flight_past_the_budget_get_503_with_retry_after() {
    // A budget of 64 KiB; a slow request holds 40 KiB of it.
    let pipeline = Pipeline::builder().llm(Box::new(TestTier { delay: Duration::from_millis(1500) })).build();
    let cfg = ServiceConfig { max_inflight_bytes: 64 * 1024, ..ServiceConfig::default() };
    let s = start_with(pipeline, cfg).await;
    let url = format!("{}/v1/classify", s.base);
    let pad = "p".repeat(40 * 1024);
    let slow = tokio::spawn({
        let (url, body) = (url.clone(), json!({"logs": [{"log_message": "slow one"}], "pad": pad}));
        async move { reqwest::Client::new().post(url).json(&body).send().await.unwrap().status() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = reqwest::Client::new();
    let r = c.post(&url).json(&json!({"logs": [{"log_message": "another"}], "pad": pad})).send().await.unwrap();
    assert_eq!(r.headers()["retry-after"], "1");
    let v = problem(r, 503).await;
    assert!(v["detail"].as_str().unwrap().contains("--max-inflight-mib"), "{v}");
    assert_eq!(slow.await.unwrap(), 200);
    // The budget is given back when a request is answered.
    let r = c.post(&url).json(&json!({"logs": [{"log_message": "slow one"}], "pad": pad})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_names_the_llm_without_its_credentials_or_query() {
    use logsift_llm::client::{LlmConfig, LlmTier};
    use logsift_llm::prompt::LabelSpec;
    // No request is made: the URL only has to be described.
    let url = "http://user:s3cret@127.0.0.1:9/v1?api_key=k-123";
    let tier = tokio::task::spawn_blocking(move || {
        let labels = vec![LabelSpec { name: "User Action".into(), description: String::new() }];
        LlmTier::new(LlmConfig::new(url, "some-model"), labels, vec![]).unwrap()
    })
    .await
    .unwrap();
    let stats = tier.stats();
    let pipeline = Pipeline::builder().llm(Box::new(tier)).build();
    let info = ModelInfo { name: "t".into(), tiers: pipeline.describe(), ..ModelInfo::default() };
    let router =
        logsift_server::router(pipeline, info, Some(stats), ServiceConfig { token: Some("tok".into()), ..ServiceConfig::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(logsift_server::serve(listener, router, std::future::pending()));
    let text = reqwest::get(format!("{base}/health")).await.unwrap().text().await.unwrap();
    assert!(text.contains("some-model at http://127.0.0.1:9/v1"), "{text}");
    assert!(!text.contains("s3cret") && !text.contains("k-123") && !text.contains("user:"), "{text}");
    server.abort();
}

/// Reads what the server sends on `conn` until it closes (or `secs` pass).
async fn read_until_closed(conn: &mut tokio::net::TcpStream, secs: f64) -> (String, bool) {
    use tokio::io::AsyncReadExt;
    let mut all = vec![];
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&all).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&all).into_owned(), true),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_stream_is_closed_and_health_answers_while_the_cap_is_full() {
    use tokio::io::AsyncWriteExt;
    // Before: a stream that sent its headers and then nothing stayed open
    // (300 s seen), and 1,024 of them kept /health from answering.
    let conn = logsift_server::conn::ConnLimits {
        header_timeout: Duration::from_secs(30),
        max_connections: 4,
        reserve: 8,
        shutdown_grace: Duration::from_secs(1),
    };
    let cfg = ServiceConfig { conn, stream_idle_timeout: Duration::from_millis(800), ..ServiceConfig::default() };
    let s = start_with(lexical_pipeline(), cfg).await;
    let head =
        "POST /v1/classify/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n";
    // One line, then silence: the line is answered, then an error line, then the close.
    let mut idle = raw(&s.base).await;
    let line = "{\"log_message\":\"User User1 logged in.\"}\n";
    idle.write_all(format!("{head}{:x}\r\n{line}\r\n", line.len()).as_bytes()).await.unwrap();
    let t = std::time::Instant::now();
    let (got, closed) = read_until_closed(&mut idle, 10.0).await;
    assert!(closed, "an idle stream is closed: {got}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(got.contains("User User1 logged in.") && got.contains("target_label"), "{got}");
    assert!(got.contains("no data for 0.8 s") && got.contains("--idle-timeout"), "{got}");
    // The cap held by four silent streams (each closes only after its idle timeout) …
    let mut held = vec![];
    for _ in 0..4 {
        let mut c = raw(&s.base).await;
        c.write_all(head.as_bytes()).await.unwrap();
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // … and a flood of half-sent requests past it, more than the reserve holds.
    let mut flood = vec![];
    for _ in 0..40 {
        let mut c = raw(&s.base).await;
        c.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A").await.unwrap();
        flood.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A probe still gets its answer, at once; any other request a 503.
    let c = reqwest::Client::new();
    let t = std::time::Instant::now();
    let health = c.get(format!("{}/health", s.base)).timeout(Duration::from_secs(3)).send().await.expect("health answers at a full cap");
    assert_eq!(health.status(), 200);
    assert!(t.elapsed() < Duration::from_millis(700), "{:?}", t.elapsed());
    let r = c.post(format!("{}/v1/classify", s.base)).json(&json!({"logs": []})).timeout(Duration::from_secs(3)).send().await.unwrap();
    let v = problem(r, 503).await;
    assert!(v["detail"].as_str().unwrap().contains("--max-connections"), "{v}");
    drop((held, flood));
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_hostile_client_tried_gets_the_documented_answer() {
    use tokio::io::AsyncWriteExt;
    let cfg = ServiceConfig { allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into()]), ..ServiceConfig::default() };
    let s = start_with(lexical_pipeline(), cfg).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/classify", s.base);
    // Items that are not objects: 422 naming the row (before: 400 for 5, and
    // ["msg","src"] was read as an object's fields).
    for (item, kind) in
        [("5", "a number"), ("\"str\"", "a string"), ("null", "null"), ("true", "a boolean"), ("[\"msg\",\"src\"]", "an array")]
    {
        let body = format!("{{\"logs\":[{{\"log_message\":\"ok\"}},{item}]}}");
        let r = c.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        let v = problem(r, 422).await;
        assert_eq!(v["row"], 2, "{item}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(&format!("logs[1] is {kind}, not an object")), "{item}: {v}");
    }
    // Objects still read as before; a duplicated field is malformed.
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"logs":[{"x":[1,{"y":2}],"log_message":"ok","source":null}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"logs":[{"log_message":"a","log_message":"b"}]}"#)
        .send()
        .await
        .unwrap();
    problem(r, 400).await;
    // A Content-Length far past the limit with a small body: 413 at once,
    // not a wait for bytes that never come.
    let mut conn = raw(&s.base).await;
    conn.write_all(b"POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{\"logs\":[]}")
        .await
        .unwrap();
    let t = std::time::Instant::now();
    let (got, _) = read_until_closed(&mut conn, 3.0).await;
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    assert!(got.contains("Content-Length 1000000000"), "{got}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let mut conn = raw(&s.base).await;
    conn.write_all(
        b"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: 1000000000\r\n\r\nlog_message\n",
    )
    .await
    .unwrap();
    let (got, _) = read_until_closed(&mut conn, 3.0).await;
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    // Two Host headers, one allowed and one not: refused (before: 200).
    for hosts in ["Host: 127.0.0.1\r\nHost: evil.example", "Host: evil.example\r\nHost: 127.0.0.1"] {
        let mut conn = raw(&s.base).await;
        conn.write_all(format!("GET /health HTTP/1.1\r\n{hosts}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
        let (got, _) = read_until_closed(&mut conn, 3.0).await;
        assert!(got.starts_with("HTTP/1.1 400"), "{hosts}: {got}");
        assert!(got.contains("more than one Host header"), "{got}");
    }
    // The OpenAPI document says what these endpoints answer.
    let spec: Value = c.get(format!("{}/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    let stream = &spec["paths"]["/v1/classify/stream"]["post"]["responses"];
    assert!(stream["400"]["description"].as_str().unwrap().contains("with_template"), "{stream}");
    let file = &spec["paths"]["/classify"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["file"];
    assert!(file.get("format").is_none() && file["description"].as_str().unwrap().contains("422"), "{file}");
    let r = c
        .post(format!("{}/v1/classify/stream?with_template=null", s.base))
        .header("content-type", "application/x-ndjson")
        .body("")
        .send()
        .await
        .unwrap();
    problem(r, 400).await;
    let png = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()).file_name("x.png").mime_str("image/png").unwrap(),
    );
    problem(c.post(format!("{}/classify", s.base)).multipart(png).send().await.unwrap(), 422).await;
    s.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_label_api_names_bad_uploads_and_bad_decisions() {
    let s = start().await;
    let c = reqwest::Client::new();
    let api = |p: &str| format!("{}/label/api/{p}", s.base);
    // Nothing uploaded yet: 409, saying what to do.
    let p = problem(c.get(api("state")).send().await.unwrap(), 409).await;
    assert!(p["detail"].as_str().unwrap().contains("upload"), "{p}");
    // A CSV with a ragged row: 422 naming the file and the row (the second row, on line 3).
    let ragged = "source,log_message\napp,user a logged in\napp,one,two\n";
    let r = c.post(api("upload")).header("x-file-name", "bad.csv").body(ragged).send().await.unwrap();
    let p = problem(r, 422).await;
    let d = p["detail"].as_str().unwrap();
    assert!(d.starts_with("bad.csv: row 2:") && d.contains("3 fields") && d.contains("line 3"), "{p}");
    assert_eq!(p["title"], "bad input");
    // A log file, a line each: a session, the biggest template first.
    let mut text = String::new();
    for i in 0..6 {
        text.push_str(&format!("user u{i} logged in from the console\n"));
    }
    text.push_str("disk /dev/sda1 is 97% full\n");
    let v: Value = c.post(api("upload")).header("x-file-name", "app.log").body(text).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["progress"]["lines"].as_u64(), v["progress"]["templates"].as_u64()),
        (Some("app.log"), Some(7), Some(2))
    );
    assert_eq!(v["card"]["lines"], 6);
    // Decisions on a template that is not there, or with no label: 422.
    let p = problem(c.post(api("decide")).json(&json!({"template": 99, "label": "X"})).send().await.unwrap(), 422).await;
    assert!(p["detail"].as_str().unwrap().contains("no template 99"), "{p}");
    let p = problem(c.post(api("decide")).json(&json!({"template": 0, "label": "  "})).send().await.unwrap(), 422).await;
    assert!(p["detail"].as_str().unwrap().contains("empty"), "{p}");
    // A good one: the next template comes, and the CSV has the row.
    let id = v["card"]["id"].as_u64().unwrap();
    let v: Value = c.post(api("decide")).json(&json!({"template": id, "label": "User Action"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["progress"]["decided"], 1);
    assert_ne!(v["card"]["id"].as_u64(), Some(id));
    let csv = c.get(api("decisions.csv")).send().await.unwrap().text().await.unwrap();
    let rows = csv_rows(&csv);
    assert_eq!(rows[0], ["template", "label", "who", "decided_at", "lines"]);
    assert_eq!((rows.len(), rows[1][1].as_str(), rows[1][2].as_str(), rows[1][4].as_str()), (2, "User Action", "person", "6"));
    s.shutdown().await.unwrap();
    // The upload reads with the service's own limits.
    let s = start_with(lexical_pipeline(), ServiceConfig { max_line_bytes: 100, ..ServiceConfig::default() }).await;
    let long = format!("short line\n{}\n", "x".repeat(200));
    let r = c.post(format!("{}/label/api/upload", s.base)).header("x-file-name", "long.log").body(long).send().await.unwrap();
    let p = problem(r, 422).await;
    assert!(p["detail"].as_str().unwrap().contains("row 2"), "{p}");
    s.shutdown().await.unwrap();
}

#[tokio::test]
async fn patterns_say_what_is_new_after_the_warm_up_and_metrics_count_it() {
    use logsift_server::{Live, TrendConfig};
    let pipeline = lexical_pipeline();
    let cfg = TrendConfig { warmup: Duration::from_secs(2), ..TrendConfig::default() };
    let live = Live::new(cfg, *pipeline.masker());
    let s = start_with(pipeline, ServiceConfig { live: Some(live), ..ServiceConfig::default() }).await;
    let c = reqwest::Client::new();
    let classify = |lines: &[&str]| {
        let logs: Vec<Value> = lines.iter().map(|l| json!({"source": "app", "log_message": l})).collect();
        c.post(format!("{}/v1/classify", s.base)).json(&json!({ "logs": logs })).send()
    };
    let metrics = || async { c.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap() };
    // Declared labels have their counter at 0 before any new pattern.
    assert!(metrics().await.contains("logsift_patterns_new_total{label=\"User Action\"} 0\n"));
    // In the warm-up: the stream as it is, nothing new.
    classify(&["User User1 logged in.", "User User2 logged in."]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    classify(&[
        "User User3 logged in.",
        "Kernel panic - not syncing: VFS: unable to mount root fs",
        "Kernel panic - not syncing: VFS: unable to mount root fs",
    ])
    .await
    .unwrap();
    let r: Value = c.get(format!("{}/patterns?window=5m&baseline=1h", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["warming_up"], false, "{r}");
    let new = r["new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "only the line first seen after the warm-up is new: {r}");
    assert!(new[0]["template"].as_str().unwrap().starts_with("Kernel panic"), "{r}");
    assert_eq!(new[0]["window_lines"], 2);
    assert!(new[0]["examples"][0].as_str().unwrap().contains("VFS"), "{r}");
    let label = new[0]["label"].as_str().unwrap().to_string();
    assert_eq!(r["labels"][label.as_str()]["new_patterns"], 1, "{r}");
    assert_eq!(r["lines"], 5);
    assert_eq!(r["tracked"], 2, "{r}");
    let text = metrics().await;
    let want = format!("logsift_patterns_new_total{{label=\"{label}\"}} 1\n");
    assert!(text.contains(&want), "{want} in {text}");
    assert!(text.contains("logsift_patterns_tracked 2\n") && text.contains("# TYPE logsift_pattern_growth_max gauge"), "{text}");
    // A parameter that is not a duration: 400, saying why.
    let p = problem(c.get(format!("{}/patterns?window=soon", s.base)).send().await.unwrap(), 400).await;
    assert!(p["detail"].as_str().unwrap().contains("not a duration"), "{p}");
    let p = problem(c.get(format!("{}/patterns?windw=5m", s.base)).send().await.unwrap(), 400).await;
    assert!(p["detail"].as_str().unwrap().contains("windw"), "{p}");
    s.shutdown().await.unwrap();
}
