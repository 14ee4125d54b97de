//! `logsift serve` from the CLI: a real HTTP client, SIGTERM.

mod common;
use common::*;

#[test]
fn serve_answers_over_http_and_stops_cleanly_on_sigterm() {
    use std::io::{BufReader, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_logsift"))
        .args(["serve", "--model", "models/lexical", "--addr", "127.0.0.1:0", "--token-env", "LOGSIFT_TEST_TOKEN"])
        .current_dir(root())
        .env("LOGSIFT_TEST_TOKEN", "t0ken")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let addr = served_address(&mut stderr);
    assert!(addr.starts_with("127.0.0.1:"), "binds loopback: {addr}");
    let body = r#"{"logs":[{"source":"ModernHR","log_message":"User User5 logged in."}]}"#;
    let post = |host: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /v1/classify HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer t0ken\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        reply
    };
    // On loopback, by default, only loopback names are answered (DNS rebinding).
    let reply = post("rebound.example.com");
    assert!(reply.starts_with("HTTP/1.1 403") && reply.contains("--allow-host"), "{reply}");
    let reply = post(&addr);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""target_label":"User Action""#), "{reply}");
    let reply = post(&addr.replace("127.0.0.1", "localhost"));
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "exit {status:?}: {rest}");
    assert!(rest.contains("logsift: stopped"), "{rest}");
    // A token variable that is not set is an error up front.
    let o = logsift_env(&["serve", "--model", "models/lexical", "--token-env", "NOPE_TOKEN"], None, &[("NOPE_TOKEN", None)]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("NOPE_TOKEN"), "{}", o.stderr);
}
