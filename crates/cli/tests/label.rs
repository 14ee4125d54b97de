//! `logsift label`: the simulated labeller's exact figures on a small log
//! written for this test, and the decisions turned into a bundle (`train
//! --from-log`, `label --export`).

mod common;
use common::*;

use std::path::Path;

/// Four formats: 40 login lines (User Action), 30 failed passwords (Security
/// Alert), 20 invalid users (Security Alert), 10 full disks (Resource Usage).
fn fixture(dir: &Path) -> String {
    let mut w = csv::Writer::from_path(dir.join("app.csv")).unwrap();
    w.write_record(["source", "log_message", "target_label"]).unwrap();
    for i in 0..40 {
        w.write_record(["web", &format!("session opened for user u{i} by login"), "User Action"]).unwrap();
    }
    for i in 0..30 {
        w.write_record(["web", &format!("Failed password for root from 10.1.2.{i} port {}", 4000 + i), "Security Alert"]).unwrap();
    }
    for i in 0..20 {
        w.write_record(["web", &format!("Invalid user guest{i} from 10.9.8.{i}"), "Security Alert"]).unwrap();
    }
    for i in 0..10 {
        w.write_record(["db", &format!("disk /dev/sd{i} is {}% full", 90 + i), "Resource Usage"]).unwrap();
    }
    w.flush().unwrap();
    dir.join("app.csv").display().to_string()
}

fn points(out: &str) -> Vec<serde_json::Value> {
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_simulated_labeller_gives_exact_figures() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture(dir.path());
    let o = logsift(&["label", &csv, "--oracle", "target_label", "--decisions", "4", "--json", "--encoder", "lexical", "--no-model"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("100 lines, 4 templates"), "{}", o.stderr);
    let p = points(&o.stdout);
    let fig = |k: usize| (p[k]["decisions"].as_u64().unwrap(), p[k]["accuracy"].as_f64().unwrap(), p[k]["macro_f1"].as_f64().unwrap());
    assert_eq!(p.len(), 5, "decision counts 0 to 4: {}", o.stdout);
    // Nothing decided: nothing labelled.
    assert_eq!(fig(0), (0, 0.0, 0.0));
    // The biggest template first (40 User Action lines); with one label known,
    // every line is suggested it: 40 right of 100; F1 of User Action
    // 2·40/(100+40), of the other two 0: macro (0.5714)/3.
    assert_eq!(fig(1), (1, 0.4, 0.1905));
    // Every template decided: every line right.
    assert_eq!(fig(4), (4, 1.0, 1.0));
    for w in p.windows(2) {
        assert!(w[1]["accuracy"].as_f64() >= w[0]["accuracy"].as_f64(), "accuracy never falls here: {}", o.stdout);
    }

    // Random lines, one a decision: after 4 lines, at most those 4 lines'
    // templates are known; the figures are reproducible with the seed.
    let run = |seed: &str| {
        logsift(
            &[
                "label",
                &csv,
                "--oracle",
                "target_label",
                "--decisions",
                "4",
                "--json",
                "--encoder",
                "lexical",
                "--order",
                "random-lines",
                "--seed",
                seed,
            ],
            None,
        )
    };
    let (a, b) = (run("7"), run("7"));
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(
        points(&a.stdout).iter().map(|p| p["accuracy"].clone()).collect::<Vec<_>>(),
        points(&b.stdout).iter().map(|p| p["accuracy"].clone()).collect::<Vec<_>>()
    );

    // By default the built-in bundle starts the session: lines are labelled
    // before the first decision (the fixture's kinds are among its labels).
    let o = logsift(&["label", &csv, "--oracle", "target_label", "--decisions", "1", "--json", "--encoder", "lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("start from the bundle"), "{}", o.stderr);
    assert!(points(&o.stdout)[0]["accuracy"].as_f64().unwrap() > 0.5, "{}", o.stdout);

    // A column that is not there is named.
    let o = logsift(&["label", &csv, "--oracle", "truth", "--decisions", "1"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no 'truth' column") && o.stderr.contains("app.csv"), "{}", o.stderr);
}

#[test]
fn decisions_train_a_bundle_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture(dir.path());
    let work = dir.path().join("labels");
    std::fs::create_dir_all(&work).unwrap();
    // Decisions as the page writes them (templates masked, <*> where lines differ).
    std::fs::write(
        work.join("decisions.csv"),
        "template,label,who,decided_at,lines\n\
         session opened for user <*> by login,User Action,person,2026-12-07T10:00:00Z,40\n\
         Failed password for <USER> from <IP> port <NUM>,Security Alert,model,2026-12-07T10:00:05Z,30\n\
         disk <PATH> is <NUM>% full,Resource Usage,llm,2026-12-07T10:00:09Z,10\n",
    )
    .unwrap();
    std::fs::write(work.join("session.toml"), format!("inputs = [{:?}]\n", csv)).unwrap();
    let bundle = dir.path().join("bundle");
    let o = logsift(
        &["train", work.join("decisions.csv").to_str().unwrap(), "--from-log", &csv, "-o", bundle.to_str().unwrap(), "--cv", "0"],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("3 decisions label 80 of the 100 lines") && o.stdout.contains("20 lines no decision covers"), "{}", o.stdout);
    let c = logsift(
        &["classify", "--model", bundle.to_str().unwrap(), "--format", "text"],
        Some(b"disk /dev/sdz is 99% full\nFailed password for admin from 10.0.0.1 port 22\n"),
    );
    assert_eq!(c.code, 0, "{}", c.stderr);
    let labels: Vec<String> = c
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["target_label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["Resource Usage", "Security Alert"]);

    // --export from the directory alone (its session.toml names the log).
    let exported = dir.path().join("exported");
    let o = logsift(&["label", "-o", work.to_str().unwrap(), "--export", exported.to_str().unwrap(), "--encoder", "lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(exported.join("model.toml").exists() && o.stdout.contains("3 decisions label 80 of 100 lines"), "{}", o.stdout);
    let m = std::fs::read_to_string(exported.join("model.toml")).unwrap();
    assert!(m.contains("Resource Usage") && m.contains("User Action") && m.contains("lexical"), "{m}");

    // A decisions file with a bad row is named, with the row.
    std::fs::write(work.join("bad.csv"), "template,label,who,decided_at,lines\nx,Y,somebody,now,1\n").unwrap();
    let o = logsift(&["train", work.join("bad.csv").to_str().unwrap(), "--from-log", &csv, "-o", bundle.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("bad.csv, row 2"), "{}", o.stderr);
}

/// One HTTP request to the page's API, with its token: (status, body).
fn call(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    // Chunked bodies: the JSON object is the part between the first '{' and the last '}'.
    let body = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if !body.starts_with('{') => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

/// The page's address and token, as `logsift label` prints them, and the
/// lines of stderr before them.
fn page_address(child: &mut Killer) -> (String, String, String) {
    use std::io::BufRead;
    let stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut before = String::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("label at http://").nth(1) {
            let (addr, token) = rest.split_once("/label?token=").unwrap();
            return (addr.to_string(), token.to_string(), before);
        }
        before.push_str(&line);
        before.push('\n');
    }
    panic!("no page address on stderr: {before}");
}

#[test]
fn running_again_resumes_what_was_decided() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture(dir.path());
    let work = dir.path().join("labels");
    let args = ["label", &csv, "-o", work.to_str().unwrap(), "--addr", "127.0.0.1:0", "--encoder", "lexical", "--no-model"];
    let mut first = Killer(spawn(&args));
    let (addr, token, _) = page_address(&mut first);
    let (_, body) = call(&addr, "GET", "/label/api/state", &token, "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = v["card"]["id"].as_u64().unwrap();
    assert_eq!(v["card"]["lines"], 40, "the biggest template first");
    let (status, body) = call(&addr, "POST", "/label/api/decide", &token, &format!(r#"{{"template": {id}, "label": "User Action"}}"#));
    assert_eq!(status, 200, "{body}");
    drop(first); // killed, as a crash would
    let mut second = Killer(spawn(&args));
    let (addr, token, said) = page_address(&mut second);
    assert!(said.contains("resumed 1 decisions"), "{said}");
    let (_, body) = call(&addr, "GET", "/label/api/state", &token, "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((v["progress"]["decided"].as_u64(), v["progress"]["decided_lines"].as_u64()), (Some(1), Some(40)), "{v}");
    assert_ne!(v["card"]["id"].as_u64(), Some(id), "the decided template is not offered again");
    assert_eq!(v["history"][0]["label"], "User Action");
}

#[test]
fn the_page_asks_a_real_llm_once_a_template_and_saves_what_is_accepted() {
    let Some((python, gguf)) = llama_server() else { return };
    let (_llm, port) = start_llama(&python, &gguf);
    let dir = tempfile::tempdir().unwrap();
    let csv = fixture(dir.path());
    let work = dir.path().join("labels");
    let url = format!("http://127.0.0.1:{port}/v1");
    let mut child = Killer(spawn(&[
        "label",
        &csv,
        "-o",
        work.to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
        "--encoder",
        "lexical",
        "--labels",
        "Security Alert,User Action,Resource Usage",
        "--llm-preset",
        "llamacpp",
        "--llm-url",
        &url,
        "--llm-model",
        "smollm2",
        "--llm-timeout",
        "120",
    ]));
    let (addr, token, _) = page_address(&mut child);
    let (addr, token) = (addr.as_str(), token.as_str());
    let (status, _) = call(addr, "GET", "/label/api/state", "wrong", "");
    assert_eq!(status, 401, "the API needs the printed token");
    // The LLM answers in the background; the card shows it once it has.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let state = loop {
        let (status, body) = call(addr, "GET", "/label/api/state", token, "");
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["card"]["llm"].is_string() {
            break v;
        }
        assert!(std::time::Instant::now() < deadline, "no LLM suggestion came: {v}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let suggested = state["card"]["llm"].as_str().unwrap().to_string();
    assert!(["Security Alert", "User Action", "Resource Usage"].contains(&suggested.as_str()), "{suggested}");
    let cost = state["llm"].as_str().unwrap();
    assert!(cost.starts_with(|c: char| c.is_ascii_digit() && c != '0') && cost.contains("tokens"), "the cost so far: {cost}");
    // Accepted: saved at once, as the LLM's.
    let id = state["card"]["id"].as_u64().unwrap();
    let (status, body) =
        call(addr, "POST", "/label/api/decide", token, &format!(r#"{{"template": {id}, "label": "{suggested}", "who": "llm"}}"#));
    assert_eq!(status, 200, "{body}");
    drop(child); // killed: what was decided is on disk already
    let text = std::fs::read_to_string(work.join("decisions.csv")).unwrap();
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!((rows[1][1].as_str(), rows[1][2].as_str()), (suggested.as_str(), "llm"));
}
