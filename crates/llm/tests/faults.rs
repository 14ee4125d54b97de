//! The LLM tier against a real HTTP server on loopback.
//!
//! The server here is written for the test: it answers each request from a
//! script, which is how the faults a real model server will not produce on
//! demand (429 with Retry-After, 500s, garbage or truncated bodies, hangs,
//! wrong labels) are produced.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logsift_core::tier::{Query, Tier, Verdict};
use logsift_llm::client::{LlmConfig, LlmTier, ResponseFormat};
use logsift_llm::prompt::{Example, LabelSpec};
use serde_json::{json, Value};

/// One scripted reply.
#[derive(Clone)]
enum Reply {
    /// 200 with a chat completion whose content is this text.
    Content(String),
    /// Content answering each request's lines with the label of the line text
    /// (lines contain "workflow" or "deprecated"; others "Unclassified").
    Echo,
    /// A status with headers and a raw body.
    Raw(u16, Vec<(&'static str, String)>, String),
    /// Sleep, then answer with Echo.
    Hang(Duration),
}

struct Server {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

fn serve(script: Vec<Reply>, then: Reply) -> Server {
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = bodies.clone();
    let script = Mutex::new(script.into_iter());
    let url = logsift_testkit::chat_server(move |request| {
        seen.lock().unwrap().push(request.clone());
        let reply = script.lock().unwrap().next().unwrap_or_else(|| then.clone());
        Some(match reply {
            Reply::Content(c) => logsift_testkit::Reply::completion(&c),
            Reply::Echo => logsift_testkit::Reply::completion(&echo(request)),
            Reply::Hang(d) => {
                std::thread::sleep(d);
                logsift_testkit::Reply::completion(&echo(request))
            }
            Reply::Raw(status, headers, body) => {
                logsift_testkit::Reply { status, headers: headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), body }
            }
        })
    });
    Server { url, bodies }
}

/// Labels for the numbered lines of a request, by keyword.
fn echo(request: &Value) -> String {
    let user = request["messages"][1]["content"].as_str().unwrap_or_default();
    let labels: Vec<&str> = user
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            if l.contains("workflow") {
                "Workflow Error"
            } else if l.contains("deprecated") {
                "deprecation warning"
            } else {
                "Unclassified"
            }
        })
        .collect();
    json!({ "labels": labels }).to_string()
}

fn labels() -> Vec<LabelSpec> {
    vec![
        LabelSpec { name: "Workflow Error".into(), description: "a business process could not proceed".into() },
        LabelSpec { name: "Deprecation Warning".into(), description: "something is going away".into() },
    ]
}

fn config(url: &str) -> LlmConfig {
    LlmConfig {
        batch_lines: 2,
        concurrency: 2,
        timeout: Duration::from_secs(5),
        max_retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
        format: ResponseFormat::JsonSchema,
        ..LlmConfig::new(url, "test-model")
    }
}

fn ask(tier: &LlmTier, lines: &[&str]) -> Vec<Verdict> {
    let queries: Vec<Query> = lines.iter().map(|l| Query { source: "LegacyCRM", message: l, template: l }).collect();
    let v = tier.decide(&queries).unwrap();
    assert_eq!(v.len(), lines.len(), "one verdict per line");
    v
}

fn label(v: &Verdict) -> Option<&str> {
    match v {
        Verdict::Decided(d) => Some(&d.label),
        _ => None,
    }
}

fn reason(v: &Verdict) -> String {
    match v {
        Verdict::Failed(r) | Verdict::Pass(r) => r.to_string(),
        Verdict::Decided(d) => format!("decided {}", d.label),
        Verdict::Guess(d) => format!("guessed {}", d.label),
    }
}

#[test]
fn batches_lines_and_maps_answers_in_order() {
    let server = serve(vec![], Reply::Echo);
    let tier = LlmTier::new(config(&server.url), labels(), vec![]).unwrap();
    let lines = ["order workflow stalled", "API v1 deprecated", "weather is nice", "approval workflow stuck", "feature deprecated"];
    let v = ask(&tier, &lines);
    assert_eq!(
        v.iter().map(label).collect::<Vec<_>>(),
        [Some("Workflow Error"), Some("Deprecation Warning"), None, Some("Workflow Error"), Some("Deprecation Warning")]
    );
    assert_eq!(reason(&v[2]), "llm: no label fits");
    let bodies = server.bodies.lock().unwrap();
    assert_eq!(bodies.len(), 3, "5 lines, 2 per request");
    let schema = &bodies[0]["response_format"]["json_schema"]["schema"]["properties"]["labels"];
    assert_eq!(schema["items"]["enum"], json!(["Workflow Error", "Deprecation Warning", "Unclassified"]));
    assert_eq!(bodies[0]["model"], "test-model");
    let stats = tier.stats();
    assert_eq!(stats.requests.load(std::sync::atomic::Ordering::Relaxed), 3);
    assert_eq!(stats.prompt_tokens.load(std::sync::atomic::Ordering::Relaxed), 300);
}

#[test]
fn retries_429_honouring_retry_after_then_succeeds() {
    let server = serve(vec![Reply::Raw(429, vec![("Retry-After", "1".into())], "{\"error\":\"slow down\"}".into())], Reply::Echo);
    let tier = LlmTier::new(config(&server.url), labels(), vec![]).unwrap();
    let start = Instant::now();
    let v = ask(&tier, &["a workflow failed"]);
    assert_eq!(label(&v[0]), Some("Workflow Error"));
    assert!(start.elapsed() >= Duration::from_millis(950), "waited for Retry-After: {:?}", start.elapsed());
    assert_eq!(server.bodies.lock().unwrap().len(), 2);
}

#[test]
fn server_errors_and_garbage_are_retried_then_reported_per_batch() {
    let garbage = Reply::Raw(200, vec![], "<html>oops".into());
    let truncated = Reply::Raw(200, vec![], "{\"choices\": [{\"message\": {\"content\": \"{\\\"labels\\\": [\\\"Work".into());
    let server = serve(vec![Reply::Raw(500, vec![], "boom".into()), garbage.clone(), truncated.clone()], Reply::Echo);
    let tier = LlmTier::new(config(&server.url), labels(), vec![]).unwrap();
    let v = ask(&tier, &["x workflow"]);
    // 500, garbage, truncated: three failed attempts = max_retries + 1.
    assert!(reason(&v[0]).contains("after 3 attempt(s)"), "{}", reason(&v[0]));
    assert_eq!(server.bodies.lock().unwrap().len(), 3);
    // The next request works again.
    assert_eq!(label(&ask(&tier, &["y workflow"])[0]), Some("Workflow Error"));
    // A 400 is not retried.
    let server = serve(vec![Reply::Raw(400, vec![], "bad request".into())], Reply::Echo);
    let tier = LlmTier::new(config(&server.url), labels(), vec![]).unwrap();
    let v = ask(&tier, &["z"]);
    assert!(reason(&v[0]).contains("HTTP 400") && reason(&v[0]).contains("after 1 attempt(s)"), "{}", reason(&v[0]));
}

#[test]
fn wrong_labels_fail_only_their_line() {
    let server =
        serve(vec![Reply::Content("<think>hmm</think>{\"labels\": [\"Security Alert\", \"Workflow Error\"]}".into())], Reply::Echo);
    let tier = LlmTier::new(LlmConfig { max_retries: 0, ..config(&server.url) }, labels(), vec![]).unwrap();
    let v = ask(&tier, &["a", "b"]);
    assert!(matches!(&v[0], Verdict::Failed(r) if r.contains("'Security Alert' is not one of the labels")), "{}", reason(&v[0]));
    assert_eq!(label(&v[1]), Some("Workflow Error"));
}

#[test]
fn timeouts_and_refused_connections_open_the_breaker() {
    let server = serve(vec![], Reply::Hang(Duration::from_secs(3)));
    let cfg = LlmConfig { timeout: Duration::from_millis(300), max_retries: 1, ..config(&server.url) };
    let tier = LlmTier::new(cfg, labels(), vec![]).unwrap();
    let v = ask(&tier, &["slow workflow"]);
    assert!(reason(&v[0]).contains("timed out"), "{}", reason(&v[0]));

    // Nothing listens on this port.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cfg = LlmConfig {
        max_retries: 0,
        breaker_failures: 2,
        breaker_cooldown: Duration::from_secs(60),
        concurrency: 1,
        ..config(&format!("http://{dead}/v1"))
    };
    let tier = LlmTier::new(cfg, labels(), vec![]).unwrap();
    let v = ask(&tier, &["a", "b", "c", "d", "e", "f"]);
    assert!(reason(&v[0]).contains("cannot connect"), "{}", reason(&v[0]));
    assert!(reason(&v[2]).contains("cannot connect"), "{}", reason(&v[2]));
    assert!(reason(&v[4]).contains("circuit open"), "after 2 failed requests the breaker opens: {}", reason(&v[4]));
    assert!(reason(&v[4]).contains("cannot connect"), "the held line says what opened the breaker: {}", reason(&v[4]));
    assert_eq!(tier.stats().requests.load(std::sync::atomic::Ordering::Relaxed), 2, "no request while open");
    assert!(tier.stats().circuit_open.load(std::sync::atomic::Ordering::Relaxed), "the open breaker is visible in the stats");
}

#[test]
fn the_budget_caps_requests() {
    let server = serve(vec![], Reply::Echo);
    let tier = LlmTier::new(LlmConfig { max_requests: Some(2), concurrency: 1, ..config(&server.url) }, labels(), vec![]).unwrap();
    let v = ask(&tier, &["w workflow", "x workflow", "y workflow", "z workflow", "v workflow"]);
    assert_eq!(v.iter().filter(|v| label(v).is_some()).count(), 4);
    assert_eq!(reason(&v[4]), "llm budget");
    assert_eq!(server.bodies.lock().unwrap().len(), 2);
    let per_minute = serve(vec![], Reply::Echo);
    let tier = LlmTier::new(LlmConfig { max_per_minute: Some(1), concurrency: 1, ..config(&per_minute.url) }, labels(), vec![]).unwrap();
    let v = ask(&tier, &["a workflow", "b workflow", "c workflow"]);
    assert_eq!(reason(&v[2]), "llm budget");
}

#[test]
fn the_api_key_is_sent_but_never_shown() {
    let server = serve(vec![], Reply::Echo);
    let cfg = LlmConfig { api_key: Some("sk-secret-123".into()), ..config(&server.url) };
    assert!(!format!("{cfg:?}").contains("sk-secret-123"));
    let tier = LlmTier::new(cfg, labels(), vec![]).unwrap();
    ask(&tier, &["a workflow"]);
    assert!(!tier.describe().contains("sk-secret"));
}

#[test]
fn a_flaky_server_loses_no_line_through_the_pipeline() {
    // Every other request fails; the pipeline still returns every record, in order.
    let mut script = vec![];
    for i in 0..40 {
        script.push(if i % 2 == 0 { Reply::Raw(503, vec![], "busy".into()) } else { Reply::Echo });
    }
    let server = serve(script, Reply::Echo);
    let cfg = LlmConfig { max_retries: 0, breaker_failures: 1000, ..config(&server.url) };
    let tier = LlmTier::new(cfg, labels(), vec![]).unwrap();
    let pipeline = logsift_core::Pipeline::builder().llm(Box::new(tier)).build();
    let records: Vec<logsift_core::Record> = (0..30)
        .map(|i| {
            // Distinct templates (no digits to mask), so many requests are made.
            let tag: String = [b'a' + (i / 6) as u8, b'a' + (i % 6) as u8].iter().map(|&c| c as char).collect();
            logsift_core::Record::new("LegacyCRM", format!("workflow step {tag} stalled"))
        })
        .collect();
    let out = pipeline.classify(&records);
    assert_eq!(out.len(), 30);
    for d in &out {
        assert!(d.is_classified() || !d.detail.as_str().is_empty(), "a label or a reason: {d:?}");
    }
    assert!(out.iter().any(|d| d.is_classified()) && out.iter().any(|d| !d.is_classified()), "some batches failed, others not");
    for (r, d) in records.iter().zip(&out) {
        if d.is_classified() {
            assert!(r.message.contains("workflow") && &*d.label == "Workflow Error", "answers stay with their lines");
        }
    }
}

#[test]
fn decisions_go_to_the_review_file() {
    let server = serve(vec![], Reply::Echo);
    let dir = std::env::temp_dir().join(format!("logsift-review-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("review.jsonl");
    let file = std::fs::File::create(&path).unwrap();
    let tier = LlmTier::new(config(&server.url), labels(), vec![]).unwrap().with_review(Box::new(file));
    ask(&tier, &["refund workflow stalled", "the weather"]);
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 1, "only decided lines: {text}");
    assert_eq!(rows[0]["line"], "refund workflow stalled");
    assert_eq!(rows[0]["label"], "Workflow Error");
    assert_eq!(rows[0]["model"], "test-model");
    assert!(rows[0]["time"].as_u64().unwrap() > 1_700_000_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_request_shows_the_examples_nearest_its_own_lines() {
    let server = serve(vec![], Reply::Echo);
    let ex = |line: &str, label: &str| (Example { line: line.into(), label: label.into() }, line.to_string());
    let examples = vec![
        ex("Invoice generation workflow stalled for order 7", "Workflow Error"),
        ex("Endpoint /v1/users is deprecated, use /v2/users", "Deprecation Warning"),
        ex("Nightly backup finished", "System Notification"),
    ];
    let tier = LlmTier::new(LlmConfig { concurrency: 1, ..config(&server.url) }, labels(), examples).unwrap();
    ask(&tier, &["order workflow stalled", "invoice workflow stuck", "endpoint deprecated", "field deprecated"]);
    let bodies = server.bodies.lock().unwrap();
    let user = |i: usize| bodies[i]["messages"][1]["content"].as_str().unwrap().to_string();
    let (first, second) = (user(0), user(1));
    assert!(first.starts_with("Labeled examples:\nInvoice generation workflow stalled for order 7 => Workflow Error\n\n"), "{first}");
    assert!(!first.contains("deprecated") && !first.contains("backup"), "only the nearest examples: {first}");
    assert!(second.contains("Endpoint /v1/users is deprecated, use /v2/users => Deprecation Warning"), "{second}");
    assert!(!second.contains("Invoice") && !second.contains("backup"), "{second}");
}
