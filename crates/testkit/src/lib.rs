//! Helpers shared by logsift's tests (a dev-dependency, never published).
//!
//! A test that needs something a user's clone may lack (the MiniLM weights,
//! `../shared`, nats-server, Chromium, SmolLM2) calls [`require_env`], [`shared`], [`program`] or
//! [`skip`]. Outside CI the test returns early and the skip is written to the
//! process's real stderr, past libtest's output capture, so a plain
//! `cargo test` shows every skipped test and why:
//!
//! ```text
//! SKIPPED worker::results_come_back_in_order: nats-server is not installed (…)
//! ```
//!
//! Under CI (`CI` set) a missing requirement fails the test instead: CI
//! installs everything, so a skip there would hide a broken setup.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Says, past the output capture, that the running test skips (part of) its
/// work and why; under CI a missing requirement panics instead.
pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why}; CI must provide it (see .ci/run)");
    }
    notice(why);
}

/// Says that the running test skips a check this machine cannot make (a CPU
/// feature, a /proc file). Never fails, under CI either: no setup provides it.
pub fn notice(why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").replace("::", " ");
    // Straight to the file descriptor: `eprintln!` would be captured.
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// The value of an environment variable the test needs; `None` (after a
/// visible skip) when unset, and a failure under CI.
pub fn require_env(var: &str, how: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            skip(&format!("{var} is not set ({how})"));
            None
        }
    }
}

/// A file of the evaluation data in `../shared` beside the repository root.
/// A user's clone has none: a visible skip; CI always has it.
pub fn shared(repo_root: &Path, rel: &str) -> Option<PathBuf> {
    let p = repo_root.join("../shared").join(rel);
    if p.exists() {
        return Some(p);
    }
    skip(&format!("{} is absent (it exists only beside the project's own checkouts)", p.display()));
    None
}

/// The first of `candidates` that runs with `--version`: a program the test
/// needs (`chromium`, `nats-server`). Tests never install one; `.ci/run` does.
pub fn program(candidates: &[&str], how: &str) -> Option<PathBuf> {
    let runs = |p: &&&str| {
        std::process::Command::new(p)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    match candidates.iter().find(runs) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            skip(&format!("{} is not installed ({how})", candidates[0]));
            None
        }
    }
}

/// A CSV text as rows of fields, the header row included.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// What a test's chat server answers to one request.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body, as sent (it may be broken on purpose).
    pub body: String,
}

impl Reply {
    /// 200 with an OpenAI-style chat completion whose message is `content`.
    pub fn completion(content: &str) -> Reply {
        let body = serde_json::json!({
            "choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10}
        });
        Reply { status: 200, headers: vec![], body: body.to_string() }
    }

    /// Any status and body.
    pub fn raw(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, headers: vec![], body: body.into() }
    }
}

/// A chat-completions server on a free loopback port, for the LLM faults a
/// real server will not produce on demand (500s, 429s, garbage, hangs,
/// dropped connections): `answer` sees each request's JSON body (`Null` if
/// it is not JSON) and returns the reply, or `None` to close the connection
/// without one. One thread per connection. Returns the base URL (`…/v1`).
pub fn chat_server(answer: impl Fn(&serde_json::Value) -> Option<Reply> + Send + Sync + 'static) -> String {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let request = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                let Some(reply) = answer(&request) else { return };
                let mut out = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    reply.status,
                    reply.body.len()
                );
                for (k, v) in &reply.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&reply.body);
                let _ = stream.write_all(out.as_bytes());
            });
        }
    });
    url
}
