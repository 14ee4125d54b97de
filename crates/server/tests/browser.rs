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

    /// Presses one key (`1`, `n`, `Enter`, `/`) as a person would.
    fn key(&mut self, key: &str) {
        let (code, text) = match key {
            "Enter" => (13, "\r".to_string()),
            k => (k.chars().next().unwrap().to_ascii_uppercase() as u32, k.to_string()),
        };
        self.call("Input.dispatchKeyEvent", json!({"type": "keyDown", "key": key, "text": text, "windowsVirtualKeyCode": code}));
        self.call("Input.dispatchKeyEvent", json!({"type": "keyUp", "key": key, "windowsVirtualKeyCode": code}));
    }

    /// Types text into the focused field.
    fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text}));
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
    // No warm-up: the example's patterns are new in the Patterns view.
    let trends = logsift_server::TrendConfig { warmup: std::time::Duration::ZERO, ..Default::default() };
    let live = logsift_server::Live::new(trends, *pipeline.masker());
    let router = logsift_server::router(pipeline, info, None, ServiceConfig { live: Some(live), ..ServiceConfig::default() });
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

    // The Patterns view, refreshed after the upload: the example's patterns
    // are new, each a table row and a bar.
    let patterns = page.wait_for("document.querySelectorAll('#p-table tbody tr').length", "the patterns table");
    assert!(patterns.as_u64().unwrap() >= 5, "{patterns}");
    assert_eq!(page.eval("document.querySelectorAll('#p-chart rect.bar').length"), patterns);
    assert!(page.eval("document.getElementById('p-status').textContent").as_str().unwrap().contains("new"));
    assert_eq!(page.eval("document.querySelector('#p-table tbody tr td').textContent"), json!("new"));

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

/// A log written for these tests: two sshd formats, a disk line, logins,
/// and a line carrying HTML that the page must show as text.
fn label_fixture(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "Dec  7 10:{:02}:01 web1 sshd[{}]: Failed password for invalid user admin{i} from 10.0.0.{i} port 50{i:02} ssh2\n",
            i,
            100 + i
        ));
    }
    for i in 0..20 {
        text.push_str(&format!("Dec  7 11:{:02}:00 web1 app[7]: user u{i} logged in from the web console\n", i));
    }
    for i in 0..10 {
        text.push_str(&format!("Dec  7 12:{:02}:00 web1 monitor[9]: disk /dev/sda{i} is {}% full\n", i, 90 + i));
    }
    for i in 0..5 {
        text.push_str(&format!("Dec  7 13:{:02}:00 web1 cron[3]: backup job {i} finished in {} seconds\n", i, 30 + i));
    }
    text.push_str("<script>window.injected = 1</script><b>bold</b> sent by a client\n");
    let path = dir.join("app.log");
    std::fs::write(&path, text).unwrap();
    path
}

fn label_rows(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("decisions.csv")).unwrap_or_default();
    logsift_testkit::csv_rows(&text).into_iter().skip(1).collect()
}

#[test]
fn labelling_by_keyboard_saves_each_decision_resumes_after_a_reload_and_shows_html_as_text() {
    use logsift_core::offline::label::{Corpus, LabelOptions, Session};
    let Some(chrome) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let log = label_fixture(work.path());
    let records: Vec<Record> = std::fs::read_to_string(&log).unwrap().lines().map(|l| Record::new("app", l)).collect();
    let enc = std::sync::Arc::new(logsift_core::lexical::LexicalEncoder::new(logsift_core::lexical::DEFAULT_DIM));
    let opts = LabelOptions::default();
    let corpus = Corpus::build(&records, None, &logsift_core::mask::Masker::default(), enc.as_ref(), &opts).unwrap();
    let templates = corpus.templates.len();
    let session = Session::new(corpus, vec!["Security Alert".into(), "User Action".into()], vec![], opts);
    let app = logsift_server::label::LabelApp::for_session(session, "app.log".into(), work.path().to_path_buf(), enc, None);
    let cfg = ServiceConfig { token: Some("t0ken".into()), allowed_hosts: Some(vec!["127.0.0.1".into()]), ..ServiceConfig::default() };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(logsift_server::serve(listener, logsift_server::label::standalone_router(app, cfg), std::future::pending()));

    let (_browser, mut page, _profile) = open(&chrome, &format!("{base}/label?token=t0ken"));
    page.wait_for(
        "!!document.getElementById('template') && document.getElementById('template').textContent.length > 0",
        "the first template",
    );
    assert_eq!(page.eval("location.search"), json!(""), "the token leaves the address bar");
    // The biggest template comes first: the 30 sshd lines.
    let first = page.eval("document.getElementById('template').textContent").as_str().unwrap().to_string();
    assert!(first.contains("Failed password"), "{first}");

    // 1: the first label, by a person.
    page.key("1");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('1 of')", "the first decision");
    let rows = label_rows(work.path());
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0][0].as_str(), rows[0][1].as_str(), rows[0][2].as_str(), rows[0][4].as_str()),
        (first.as_str(), "Security Alert", "person", "30")
    );

    // n: a new label, typed.
    let second = page.eval("document.getElementById('template').textContent").as_str().unwrap().to_string();
    assert_ne!(second, first);
    page.key("n");
    page.wait_for("document.activeElement && document.activeElement.id === 'new-label'", "the new label's field");
    page.type_text("Login");
    page.key("Enter");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('2 of')", "the second decision");
    let rows = label_rows(work.path());
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str()), (second.as_str(), "Login"));
    assert!(page
        .eval("[...document.querySelectorAll('#label-keys button')].map(b => b.dataset.label).join('|')")
        .as_str()
        .unwrap()
        .ends_with("|Login"));

    // u: undone, and the file says so at once; the card is that template again.
    page.key("u");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('1 of')", "the undo");
    assert_eq!(label_rows(work.path()).len(), 1);
    assert_eq!(page.eval("document.getElementById('template').textContent").as_str(), Some(second.as_str()));

    // s: skipped, another template comes.
    page.key("s");
    page.wait_for(&format!("document.getElementById('template').textContent !== {}", json!(second)), "the next template after a skip");

    // Enter: the suggestion accepted, recorded as the model's.
    let suggested = page.eval("document.getElementById('suggestion').textContent").as_str().unwrap().to_string();
    assert!(suggested != "none yet", "a suggestion after one decision");
    page.key("Enter");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('2 of')", "the accepted suggestion");
    let rows = label_rows(work.path());
    assert_eq!((rows[1][1].as_str(), rows[1][2].as_str()), (suggested.as_str(), "model"));

    // A reload resumes where it was.
    page.call("Page.reload", json!({}));
    page.wait_for(&format!("document.getElementById('progress-text') && document.getElementById('progress-text').textContent === '2 of {templates} templates decided'"), "the page after a reload");

    // /: search finds the line with HTML; it shows as text, nothing runs.
    page.key("/");
    page.wait_for("document.activeElement && document.activeElement.id === 'search'", "the search field");
    page.type_text("script");
    page.key("Enter");
    page.wait_for("document.querySelectorAll('#search-results li').length === 1", "one search result");
    page.eval("document.querySelector('#search-results li').click()");
    page.wait_for(
        "document.querySelector('#examples li') && document.querySelector('#examples li').textContent.includes('<script>')",
        "the HTML line as text",
    );
    assert_eq!(page.eval("document.querySelectorAll('#examples b, #examples script').length"), json!(0));
    assert_eq!(page.eval("document.scripts.length"), json!(1), "only the page's own script");
    assert_eq!(page.eval("window.injected === undefined"), json!(true));

    // 2: the shown template (the search's) gets the second label.
    page.key("2");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('3 of')", "the third decision");
    let rows = label_rows(work.path());
    let html_row = rows.iter().find(|r| r[0].contains("script")).expect("the HTML line's decision");
    assert_eq!(html_row[1], "User Action");
    let shot = page.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("label-page.png"), png).unwrap();
}

#[test]
fn the_label_page_refuses_another_origin_and_makes_rules() {
    let Some(chrome) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let log = label_fixture(work.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    // `serve`'s /label, with a token: upload through the page.
    let bundle = Bundle::load(&root().join("models/lexical")).unwrap();
    let pipeline = bundle.pipeline(bundle.builtin_encoder().unwrap(), Box::new(DisabledLlm), 1000).unwrap();
    let cfg = ServiceConfig {
        token: Some("s3cret".into()),
        allowed_hosts: Some(vec!["127.0.0.1".into(), "localhost".into()]),
        ..ServiceConfig::default()
    };
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(logsift_server::serve(listener, logsift_server::router(pipeline, ModelInfo::default(), None, cfg), std::future::pending()));

    let (_browser, mut page, _profile) = open(&chrome, &format!("{base}/label"));
    page.wait_for("!document.getElementById('upload-box').hidden", "the upload box");
    page.eval("document.getElementById('token').value = 's3cret'");
    let doc = page.call("DOM.getDocument", json!({}));
    let input = page.call("DOM.querySelector", json!({"nodeId": doc["root"]["nodeId"], "selector": "#file"}));
    page.call("DOM.setFileInputFiles", json!({"nodeId": input["nodeId"], "files": [log.to_str().unwrap()]}));
    page.wait_for(
        "document.getElementById('progress-text').textContent.endsWith('templates decided')",
        "the uploaded log's first template",
    );
    assert_eq!(page.eval("document.getElementById('name').textContent"), json!("app.log"));
    page.key("n");
    page.wait_for("document.activeElement && document.activeElement.id === 'new-label'", "the new label's field");
    page.type_text("Security Alert");
    page.key("Enter");
    page.wait_for("document.getElementById('progress-text').textContent.startsWith('1 of')", "the first decision");
    // r on a decided template: a rule. Show the decided template again by search.
    page.key("/");
    page.wait_for("document.activeElement && document.activeElement.id === 'search'", "the search field");
    page.type_text("Failed password");
    page.key("Enter");
    page.wait_for("document.querySelectorAll('#search-results li').length === 1", "the search result");
    page.eval("document.querySelector('#search-results li').click()");
    page.wait_for("document.getElementById('position').textContent.includes('decided: Security Alert')", "the decided template");
    page.key("r");
    page.wait_for("document.getElementById('rules').textContent === '1'", "the rule");

    // The files, with the token; a rule that parses and matches its lines.
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let rules = get("/label/api/rules.toml");
    let body = rules.split("\r\n\r\n").nth(1).unwrap();
    let parsed = logsift_core::rules::RulesFile::parse(body, Path::new("rules.toml")).unwrap();
    let tier = logsift_core::rules::RulesTier::compile(&parsed, Path::new("rules.toml")).unwrap();
    let line = std::fs::read_to_string(&log).unwrap().lines().next().unwrap().to_string();
    assert_eq!(tier.decide_one("app", &line).map(|d| d.label.to_string()).as_deref(), Some("Security Alert"));
    let decisions = get("/label/api/decisions.csv");
    assert!(decisions.contains("Failed password") && decisions.contains(",Security Alert,person,"), "{decisions}");

    // Another origin: refused before anything is decided, even with the token.
    let origin = other_origin_page();
    page.call("Page.navigate", json!({"url": format!("{origin}/")}));
    page.wait_for("document.readyState === 'complete' && document.title === 'another site'", "the other site's page");
    let tried = page.eval_async(&format!(
        "fetch('{base}/label/api/decide', {{method: 'POST', headers: {{'content-type': 'application/json', 'authorization': 'Bearer s3cret'}}, body: JSON.stringify({{template: 1, label: 'Evil'}})}})\
         .then(r => 'answered ' + r.status, e => 'failed: ' + e)"
    ));
    assert!(tried.as_str().unwrap().starts_with("failed"), "{tried}");
    let decisions = get("/label/api/decisions.csv");
    assert!(!decisions.contains("Evil"), "{decisions}");
    let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    write!(s, "POST /label/api/undo HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {origin}\r\nAuthorization: Bearer s3cret\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(get("/label/api/decisions.csv").contains(",Security Alert,person,"), "the undo from another origin did nothing");
}
