//! Helpers shared by the CLI's test files (one file per subcommand): run the
//! binary as a user runs it, read its CSV, find what a test needs.
#![allow(dead_code, unused_imports)]

pub use std::io::Write;
pub use std::path::{Path, PathBuf};
pub use std::process::{Command, Stdio};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn logsift(args: &[&str], stdin: Option<&[u8]>) -> Out {
    logsift_env(args, stdin, &[])
}

/// Runs the binary with extra environment (`None` removes a variable).
pub fn logsift_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, Option<&str>)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logsift"));
    cmd.args(args).current_dir(root()).env_remove("LOGSIFT_MODEL").stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("logsift runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An environment in which the only MiniLM weights are `minilm` (or none):
/// empty caches at `cache` (XDG) and `hf` (Hugging Face), no download.
pub fn weights_env<'a>(cache: &'a Path, hf: &'a Path, minilm: Option<&'a str>) -> [(&'static str, Option<&'a str>); 5] {
    [
        ("LOGSIFT_MINILM_DIR", minilm),
        ("HF_HOME", hf.to_str()),
        ("HF_HUB_CACHE", None),
        ("HF_HUB_OFFLINE", Some("1")),
        ("XDG_CACHE_HOME", cache.to_str()),
    ]
}

/// Starts the binary with stdin, stdout and stderr piped, in the repository root.
pub fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_logsift"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub use logsift_testkit::csv_rows;

/// A file of the evaluation data beside the repository. Absent on a user's
/// clone: the caller skips, saying so; under CI it must be there.
pub fn shared(rel: &str) -> Option<PathBuf> {
    logsift_testkit::shared(&root(), rel)
}

/// The MiniLM weights (`$LOGSIFT_MINILM_DIR`); CI fetches them.
pub fn minilm_dir() -> Option<String> {
    logsift_testkit::require_env("LOGSIFT_MINILM_DIR", "run scripts/fetch-minilm.sh and export it")
}

/// A fault-injecting chat server written for this test (a real server will
/// not fail on demand): each request, at random (seeded), gets a valid answer
/// or one of 500, a non-JSON body, a truncated body, a wrong label, or a
/// closed connection — half of them fail.
pub fn flaky_llm_server(seed: u64) -> String {
    use logsift_testkit::Reply;
    let rng = std::sync::Mutex::new(seed);
    logsift_testkit::chat_server(move |request| {
        let user = request["messages"][1]["content"].as_str().unwrap_or_default();
        let n = user.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).count();
        let roll = {
            let mut x = rng.lock().unwrap();
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x % 10
        };
        let ok = serde_json::json!({"labels": vec!["Workflow Error"; n]}).to_string();
        match roll {
            0..=4 => Some(Reply::completion(&ok)),
            5 => Some(Reply::raw(500, "internal error")),
            6 => Some(Reply::raw(200, "<html>not json</html>")),
            7 => Some(Reply::raw(200, Reply::completion(&ok).body[..20].to_string())),
            8 => Some(Reply::completion(&serde_json::json!({"labels": vec!["Banana"; n]}).to_string())),
            _ => None, // connection closed without an answer
        }
    })
}

/// llama.cpp's OpenAI-compatible server (`scripts/setup-llama-server.sh`) and
/// SmolLM2-135M (`scripts/fetch-smollm.sh`), as CI installs them.
pub fn llama_server() -> Option<(String, String)> {
    let python = logsift_testkit::require_env("LOGSIFT_LLAMA_PYTHON", "export the output of scripts/setup-llama-server.sh")?;
    Some((python, smollm_gguf()?))
}

/// Starts llama.cpp's server on SmolLM2 on a free port and waits until it answers.
pub fn start_llama(python: &str, gguf: &str) -> (Killer, u16) {
    use std::io::Write;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = Killer(
        Command::new(python)
            .args(["-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", &port.to_string(), "--n_ctx", "4096"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama_cpp.server starts"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    loop {
        let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
            let _ = s.write_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut buf);
            buf.starts_with("HTTP/1.1 200")
        });
        if ready {
            return (server, port);
        }
        assert!(std::time::Instant::now() < deadline, "llama_cpp.server did not come up");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Stops the server when the test ends, however it ends.
pub struct Killer(pub std::process::Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SmolLM2-135M's GGUF (`scripts/fetch-smollm.sh`), as CI fetches it.
pub fn smollm_gguf() -> Option<String> {
    logsift_testkit::require_env("LOGSIFT_SMOLLM_GGUF", "run scripts/fetch-smollm.sh and export it")
}

/// Reads one line from `r` on a helper thread, giving up after `secs`.
pub fn read_line_within(r: std::sync::Arc<std::sync::Mutex<std::io::BufReader<std::process::ChildStdout>>>, secs: u64) -> Option<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let n = r.lock().unwrap().read_line(&mut line).unwrap_or(0);
        let _ = tx.send((n > 0).then_some(line));
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok().flatten()
}

/// The codebasics messages resampled to `n` lines (seeded), as a CSV with labels.
pub fn resample(data: &Path, n: usize, seed: u64) -> String {
    let text = std::fs::read_to_string(data).unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect();
    let mut x = seed;
    let mut out = String::from("timestamp,source,log_message,target_label\n");
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(vec![]);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = &rows[(x % rows.len() as u64) as usize];
        w.write_record([&r[0], &r[1], &r[2], &r[3]]).unwrap();
    }
    out.push_str(&String::from_utf8(w.into_inner().unwrap()).unwrap());
    out
}

/// The address `logsift serve` prints on its first stderr line
/// (`logsift: serving on http://ADDR …`), read from `stderr`.
pub fn served_address(stderr: &mut impl std::io::BufRead) -> String {
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    first.split("http://").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or_else(|| panic!("{first}")).to_string()
}
