//! The web page in a real headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`), driven over the Chrome DevTools Protocol: upload the example
//! CSV through the file input, wait for the table, check it against the
//! pipeline, check both charts and the download link, and keep a screenshot
//! as a test artifact.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use logsift_core::tier::DisabledLlm;
use logsift_core::{Bundle, Record};
use logsift_server::{ModelInfo, ServiceConfig};
use serde_json::{json, Value};
use tungstenite::Message;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The browser, or `None` (saying why) outside CI; under CI its absence fails.
fn chromium() -> Option<String> {
    let own = std::env::var("LOGSIFT_CHROMIUM").ok();
    let mut candidates: Vec<&str> = own.iter().map(String::as_str).collect();
    candidates.extend(["chromium", "chromium-browser"]);
    let found = logsift_testkit::program(&candidates, "apt-get install chromium, or set LOGSIFT_CHROMIUM")?;
    Some(found.to_string_lossy().into_owned())
}

struct Browser(std::process::Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A DevTools connection to one page.
struct Page {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next: u64,
}

impl Page {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.ws.send(Message::Text(json!({"id": id, "method": method, "params": params}).to_string().into())).unwrap();
        loop {
            if let Message::Text(t) = self.ws.read().unwrap() {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["id"] == id {
                    assert!(v.get("error").is_none(), "{method}: {v}");
                    return v["result"].clone();
                }
            }
        }
    }

    fn eval(&mut self, js: &str) -> Value {
        self.call("Runtime.evaluate", json!({"expression": js, "returnByValue": true}))["result"]["value"].clone()
    }

    /// Evaluates `js`, a promise, and returns what it resolves to.
    fn eval_async(&mut self, js: &str) -> Value {
        self.call("Runtime.evaluate", json!({"expression": js, "returnByValue": true, "awaitPromise": true}))["result"]["value"].clone()
    }

    fn wait_for(&mut self, js: &str, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.eval(js);
            if v.as_bool() == Some(true) || (v.is_number() && v.as_f64() != Some(0.0)) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    // Read the head, then exactly Content-Length bytes: the DevTools server
    // may keep the connection open.
    let mut r = BufReader::new(s);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

/// Starts headless Chromium on `url` and connects to its page over DevTools.
fn open(chrome: &str, url: &str) -> (Browser, Page, tempfile::TempDir) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chrome)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--remote-debugging-port=0",
            "--window-size=1280,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stderr = child.stderr.take().unwrap();
    let browser = Browser(child);
    let mut port = 0u16;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("DevTools listening on ws://127.0.0.1:").nth(1) {
            port = rest.split('/').next().unwrap().parse().unwrap();
            break;
        }
    }
    assert!(port > 0, "chromium did not open its DevTools port");
    let targets: Value = serde_json::from_str(&http_get(port, "/json/list")).unwrap();
    let page = targets.as_array().unwrap().iter().find(|t| t["type"] == "page").expect("a page");
    let (ws, _) = tungstenite::connect(page["webSocketDebuggerUrl"].as_str().unwrap()).unwrap();
    (browser, Page { ws, next: 0 }, profile)
}

#[test]
fn the_page_uploads_the_example_and_shows_table_and_charts() {
    let Some(chrome) = chromium() else { return };
    // The service, on a runtime of its own.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bundle = Bundle::load(&root().join("models/lexical")).unwrap();
    let pipeline = bundle.pipeline(bundle.builtin_encoder().unwrap(), Box::new(DisabledLlm), 1000).unwrap();
    let info = ModelInfo { name: "lexical".into(), labels: bundle.known_labels(), ..ModelInfo::default() };
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = logsift_server::router(pipeline, info, None, ServiceConfig::default());
    rt.spawn(logsift_server::serve(listener, router, std::future::pending()));

    let (_browser, mut page, _profile) = open(&chrome, &format!("{base}/"));
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('file')", "the page");
    page.wait_for("document.getElementById('model').textContent.includes('labels')", "the health line");

    // Upload the example through the file input; the page classifies on change.
    let doc = page.call("DOM.getDocument", json!({}));
    let input = page.call("DOM.querySelector", json!({"nodeId": doc["root"]["nodeId"], "selector": "#file"}));
    let csv = root().join("examples/test.csv");
    page.call("DOM.setFileInputFiles", json!({"nodeId": input["nodeId"], "files": [csv.to_str().unwrap()]}));
    let rows = page.wait_for("document.querySelectorAll('#results tbody tr').length", "the result table");
    let text = std::fs::read_to_string(&csv).unwrap();
    let records: Vec<Record> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            Record::new(&r[0], &r[1])
        })
        .collect();
    assert_eq!(rows.as_u64(), Some(records.len() as u64), "one table row per CSV row");
    let want = bundle.pipeline(bundle.builtin_encoder().unwrap(), Box::new(DisabledLlm), 0).unwrap().classify(&records);
    let shown = page
        .eval("JSON.stringify([...document.querySelectorAll('#results tbody tr')].map(tr => [...tr.children].map(td => td.textContent)))");
    let shown: Vec<Vec<String>> = serde_json::from_str(shown.as_str().unwrap()).unwrap();
    for ((row, r), d) in shown.iter().zip(&records).zip(&want) {
        assert_eq!((row[1].as_str(), row[2].as_str()), (r.source.as_str(), r.message.as_str()), "in order");
        assert_eq!((row[3].as_str(), row[4].as_str()), (&*d.label, d.tier.as_str()));
    }
    // Both charts, one bar per tier / label seen; the download link is live.
    let tiers: std::collections::BTreeSet<&str> = want.iter().map(|d| d.tier.as_str()).collect();
    let labels: std::collections::BTreeSet<&str> = want.iter().map(|d| &*d.label).collect();
    assert_eq!(page.eval("document.querySelectorAll('#tier-chart rect.bar').length").as_u64(), Some(tiers.len() as u64));
    assert_eq!(page.eval("document.querySelectorAll('#label-chart rect.bar').length").as_u64(), Some(labels.len() as u64));
    assert_eq!(page.eval("document.getElementById('download').href.startsWith('blob:')"), json!(true));
    assert!(page.eval("document.getElementById('status').textContent").as_str().unwrap().starts_with(&format!("{} lines", records.len())));

    // Keep a screenshot.
    let shot = page.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("web-page.png");
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// A web page of another origin, served for this test (one fixed page, for
/// any path): what a site the user happens to visit would be.
fn other_origin_page() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = String::new();
            let mut r = BufReader::new(conn.try_clone().unwrap());
            while r.read_line(&mut head).is_ok_and(|n| n > 2) {
                head.clear();
            }
            let page = "<!doctype html><title>another site</title><p>another site</p>";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    origin
}

#[test]
fn a_page_of_another_origin_cannot_use_the_service() {
    let Some(chrome) = chromium() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let origin = other_origin_page();
    // Two services: one as configured by default (loopback hosts, no CORS),
    // one that allows the page's origin with --cors-origin.
    let start = |cors: Vec<String>| {
        let bundle = Bundle::load(&root().join("models/lexical")).unwrap();
        let pipeline = bundle.pipeline(bundle.builtin_encoder().unwrap(), Box::new(DisabledLlm), 1000).unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let cfg = ServiceConfig {
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]),
            cors_origins: cors,
            ..ServiceConfig::default()
        };
        let router = logsift_server::router(pipeline, ModelInfo::default(), None, cfg);
        rt.spawn(logsift_server::serve(listener, router, std::future::pending()));
        base
    };
    let closed = start(vec![]);
    let allowing = start(vec![origin.clone()]);
    let (_browser, mut page, _profile) = open(&chrome, &format!("{origin}/"));
    page.wait_for("document.readyState === 'complete' && document.title === 'another site'", "the other site's page");
    // The CSRF form of the call: text/plain, no-cors, no preflight. The
    // browser sends it; the service refuses it before classifying a line.
    let post = |base: &str, mode: &str| {
        format!(
            "fetch('{base}/classify', {{method: 'POST', mode: '{mode}', headers: {{'content-type': 'text/plain'}}, body: 'User User1 logged in.\\n'}})\
             .then(r => r.type === 'opaque' ? 'sent (opaque)' : r.text().then(t => r.status + ' ' + t), e => 'failed: ' + e)"
        )
    };
    let sent = page.eval_async(&post(&closed, "no-cors"));
    assert_eq!(sent, json!("sent (opaque)"), "the browser sends a simple cross-origin POST");
    let read = page.eval_async(&post(&closed, "cors"));
    assert!(read.as_str().unwrap().starts_with("failed"), "the page cannot read an answer: {read}");
    let health: Value = serde_json::from_str(&http_get(closed.rsplit(':').next().unwrap().parse().unwrap(), "/health")).unwrap();
    assert_eq!(health["lines"], 0, "no line of the other site was classified: {health}");
    // The same page, allowed by --cors-origin, reads the CSV.
    let read = page.eval_async(&post(&allowing, "cors"));
    let text = read.as_str().unwrap();
    assert!(text.starts_with("200 ") && text.contains("target_label") && text.contains("User User1 logged in."), "{text}");
}
