//! `logsift classify`: files, stdin, formats, bad input, exit codes, pipes, streams, filters.

mod common;
use common::*;

#[test]
fn without_minilm_weights_the_default_falls_back_loudly() {
    let empty = tempfile::tempdir().unwrap();
    let o = logsift_env(
        &["classify", "examples/test.csv"],
        None,
        &[
            ("LOGSIFT_MINILM_DIR", None),
            ("HF_HOME", Some(empty.path().to_str().unwrap())),
            ("HF_HUB_CACHE", None),
            ("XDG_CACHE_HOME", Some(empty.path().to_str().unwrap())),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("warning") && o.stderr.contains("all-MiniLM-L6-v2") && o.stderr.contains("models/lexical"), "{}", o.stderr);
    assert!(o.stderr.contains("model <built-in>/models/lexical"), "the summary names the model used: {}", o.stderr);
    assert_eq!(o.stderr.lines().filter(|l| l.contains("warning")).count(), 1, "one line: {}", o.stderr);
    assert_eq!(csv_rows(&o.stdout).len(), 14);
    // An explicit bundle that needs the weights is an error, not a fallback.
    let o = logsift_env(
        &["classify", "examples/test.csv", "--model", "models/default", "--encoder-dir", "/nonexistent"],
        None,
        &[("LOGSIFT_MINILM_DIR", None)],
    );
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("/nonexistent") && o.stderr.contains("--encoder-dir"), "{}", o.stderr);
}

#[test]
fn weights_where_the_fetch_script_puts_them_are_found_with_no_variable() {
    // Before: found only through LOGSIFT_MINILM_DIR, which the README set only under *Development*.
    let Some(weights) = minilm_dir() else { return };
    let cache = tempfile::tempdir().unwrap();
    let script = root().join("scripts/fetch-minilm.sh");
    let hf = tempfile::tempdir().unwrap();
    let env = weights_env(cache.path(), hf.path(), None);
    let dir = cache.path().join("logsift/all-MiniLM-L6-v2");
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(&weights).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::os::unix::fs::symlink(&f, dir.join(f.file_name().unwrap())).unwrap();
        }
    }
    let head = std::fs::read_to_string(&script).unwrap();
    assert!(head.contains("${XDG_CACHE_HOME:-$HOME/.cache}/logsift/all-MiniLM-L6-v2"), "the script unpacks where logsift looks");
    let o = logsift_env(&["classify", "examples/test.csv"], None, &env);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("warning"), "no fallback: {}", o.stderr);
    assert!(o.stderr.contains("model <built-in>/models/default"), "{}", o.stderr);
}

#[test]
fn an_installed_binary_needs_no_checkout_beside_it() {
    // Before: the default bundles were found through the clone's absolute
    // path, so a moved or deleted clone broke `logsift classify`.
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("logsift");
    std::fs::copy(env!("CARGO_BIN_EXE_logsift"), &exe).unwrap();
    std::fs::copy(root().join("examples/test.csv"), dir.path().join("in.csv")).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(&exe)
        .args(["classify", "in.csv"])
        .current_dir(dir.path())
        .env_remove("LOGSIFT_MODEL")
        .env_remove("LOGSIFT_MINILM_DIR")
        .env("HF_HOME", empty.path())
        .env("XDG_CACHE_HOME", empty.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(csv_rows(&String::from_utf8_lossy(&out.stdout)).len(), 14, "{stderr}");
    assert!(stderr.contains("model <built-in>/models/lexical"), "{stderr}");
}

#[test]
fn classifies_the_example_with_the_default_bundle() {
    let o = logsift(&["classify", "examples/test.csv"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    let input = csv_rows(&std::fs::read_to_string(root().join("examples/test.csv")).unwrap());
    assert_eq!(rows.len(), input.len());
    assert_eq!(rows[0], ["source", "log_message", "target_label", "tier", "confidence", "detail"]);
    for (out, inp) in rows.iter().zip(&input).skip(1) {
        assert_eq!(&out[..2], &inp[..], "input columns kept, in order");
        assert!(["rules", "model", "llm", "none"].contains(&out[3].as_str()));
        let conf: f32 = out[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&conf));
    }
    // The cascade at work: rules with their ids, the model, and for an unknown line the model's guess, marked as one.
    let signed_in = rows.iter().find(|r| r[1].starts_with("User priya signed in")).unwrap();
    assert_eq!((signed_in[2].as_str(), signed_in[3].as_str(), signed_in[5].as_str()), ("User Action", "rules", "user-signed-in"));
    let oom = rows.iter().find(|r| r[1].contains("Out of memory")).unwrap();
    assert_eq!((oom[2].as_str(), oom[3].as_str()), ("Critical Error", "model"));
    let odd = rows.iter().find(|r| r[1].contains("flux capacitor")).unwrap();
    assert!(odd[2] != "Unclassified" && odd[3] == "model", "{odd:?}");
    assert!(odd[5].starts_with("model: best guess") && odd[5].contains("llm disabled"), "{odd:?}");
    assert!(o.stderr.contains("rules") && o.stderr.contains("model"), "summary on stderr: {}", o.stderr);
    // --strict: the unsure line is Unclassified, its reason names the guess.
    let o = logsift(&["classify", "examples/test.csv", "--strict"], None);
    let rows = csv_rows(&o.stdout);
    let odd = rows.iter().find(|r| r[1].contains("flux capacitor")).unwrap();
    assert_eq!((odd[2].as_str(), odd[3].as_str()), ("Unclassified", "none"));
    assert!(odd[5].contains("best guess") && odd[5].contains("llm disabled"), "{odd:?}");
}

#[test]
fn jsonl_text_and_stdin() {
    let jsonl = b"{\"source\":\"ModernHR\",\"log_message\":\"User bob changed their password.\",\"id\":1}\n{\"log_message\":\"kernel: Out of memory: Killed process 9 (java)\",\"id\":2}\n";
    let o = logsift(&["classify", "-"], Some(jsonl));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> = o.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[0]["target_label"], "User Action");
    assert_eq!(lines[0]["detail"], "password-changed");
    assert_eq!(lines[1]["tier"], "model");

    let text = b"User bob changed their password.\n\nsshd[1]: Failed password for root from 10.1.1.1 port 22 ssh2\n";
    let o = logsift(&["classify", "--format", "text", "--source", "host1"], Some(text));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> = o.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "blank lines are not records");
    assert_eq!(lines[1]["source"], "host1");
    assert_eq!(lines[1]["target_label"], "Security Alert");

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, text).unwrap();
    let out = dir.path().join("out.csv");
    // (--model: the default bundle's fallback warning is shown even with -q.)
    let o = logsift(&["classify", log.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q", "--model", "models/lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.is_empty(), "quiet: {}", o.stderr);
    let rows = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows[0][..3], ["source", "log_message", "target_label"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn with_template_adds_the_template_and_its_stable_id() {
    let csv =
        b"source,log_message,template\nweb,Disk /dev/sda1 is 97% full,mine\nweb,Disk /dev/sdb2 is 12% full,x\nweb,User bob logged in,y\n";
    let o = logsift(&["classify", "-", "--model", "models/lexical", "--with-template", "-q"], Some(csv));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(
        rows[0],
        ["source", "log_message", "template_input", "target_label", "tier", "confidence", "detail", "template", "template_id"]
    );
    assert_eq!(rows[1][2], "mine", "an input column of the same name is kept as <name>_input");
    assert_eq!((&rows[1][7], &rows[1][8]), (&rows[2][7], &rows[2][8]), "one template, one id");
    assert_ne!(rows[1][8], rows[3][8]);
    assert!(rows[1][7].contains("<PATH>") && rows[1][8].len() == 16, "{:?}", rows[1]);
    // The id is the template's: the same in another run, from another format.
    let o2 = logsift(
        &["classify", "--format", "text", "--model", "models/lexical", "--with-template", "-q"],
        Some(b"Disk /dev/sdc9 is 50% full\n"),
    );
    let v: serde_json::Value = serde_json::from_str(o2.stdout.lines().next().unwrap()).unwrap();
    assert_eq!((v["template"].as_str(), v["template_id"].as_str()), (Some(rows[1][7].as_str()), Some(rows[1][8].as_str())));
    // Not asked for: not there.
    let o3 = logsift(&["classify", "-", "--model", "models/lexical", "-q"], Some(csv));
    assert_eq!(csv_rows(&o3.stdout)[0].len(), 7);
}

#[test]
fn quoted_fields_round_trip_exactly() {
    let input = "id,source,log_message,note\n1,ModernCRM,\"Timeout after 500ms calling order-api, then \"\"retry\"\"\nsecond line\",\"a,b\"\n2,ModernHR,plain,\"\"\n";
    let o = logsift(&["classify", "--format", "csv"], Some(input.as_bytes()));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    let inp = csv_rows(input);
    assert_eq!(rows.len(), 3);
    for (a, b) in rows.iter().zip(&inp) {
        assert_eq!(&a[..4], &b[..]);
    }
}

#[test]
fn missing_column_and_empty_inputs() {
    let o = logsift(&["classify", "--format", "csv"], Some(b"source,message\nA,x\n"));
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no 'log_message' column") && o.stderr.contains("\"source\", \"message\""), "{}", o.stderr);

    let o = logsift(&["classify", "--format", "csv"], Some(b""));
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("empty"), "{}", o.stderr);

    let o = logsift(&["classify", "--format", "csv"], Some(b"source,log_message\n"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "source,log_message,target_label,tier,confidence,detail\n");
    assert!(o.stderr.contains("no data rows"), "{}", o.stderr);

    // Empty text or JSON Lines input is an empty stream, not an error (a
    // quiet `journalctl | logsift classify` must not fail the pipeline).
    for format in ["text", "jsonl"] {
        let o = logsift(&["classify", "--format", format, "--model", "models/lexical"], Some(b""));
        assert_eq!(o.code, 0, "{format}: {}", o.stderr);
        assert!(o.stderr.contains("no data rows"), "{format}: {}", o.stderr);
    }
}

#[test]
fn bad_rows_fail_with_their_row_number_or_are_kept_with_skip() {
    let mut input = b"source,log_message\nA,User bob changed their password.\nB,bad \xff utf8\nC\nD,nul\0byte\nE,".to_vec();
    input.extend(vec![b'x'; 1 << 20]);
    input.extend(b"\nF,\"quoted, fine\"\n");

    let o = logsift(&["classify", "--format", "csv"], Some(&input));
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("row 2: invalid UTF-8") && o.stderr.contains("--on-error skip"), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"));

    // Batches before the bad row's are written before the run ends (they
    // are written on a thread of their own, which is drained first).
    let mut long = b"source,log_message\n".to_vec();
    for i in 0..2500 {
        long.extend(format!("A,User user{i} logged in.\n").as_bytes());
    }
    long.extend(b"B,bad \xff utf8\nC,after\n");
    let o = logsift(&["classify", "--format", "csv", "--model", "models/lexical", "--batch-size", "1000"], Some(&long));
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("row 2501: invalid UTF-8"), "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    // Two whole batches at least (a slow reader may cut batches shorter).
    assert!((1 + 2000..=1 + 2500).contains(&rows.len()), "{} rows", rows.len());
    for (i, r) in rows.iter().skip(1).enumerate() {
        assert_eq!(r[1], format!("User user{i} logged in."), "in order, none lost");
    }

    let o = logsift(&["classify", "--format", "csv", "--on-error", "skip"], Some(&input));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 7, "header + every input row");
    let firsts: Vec<&str> = rows.iter().skip(1).map(|r| r[0].as_str()).collect();
    assert_eq!(firsts, ["A", "B", "C", "D", "E", "F"], "order kept");
    assert_eq!(rows[1][2], "User Action");
    for (r, why) in [(2, "invalid UTF-8"), (3, "row has 1 fields"), (4, "NUL byte"), (5, "over the limit of 65536")] {
        assert_eq!(rows[r][2], "Unclassified");
        assert_eq!(rows[r][3], "none");
        assert!(rows[r][5].contains(why), "row {r}: {:?}", rows[r][5]);
        assert!(o.stderr.contains(&format!("row {}: ", r)), "reported: {}", o.stderr);
    }
    assert_eq!(rows[5][1].len(), 1 << 20, "the long line is written back whole");
    assert!(o.stderr.contains("bad rows 4"), "{}", o.stderr);
}

#[test]
fn exit_codes() {
    assert_eq!(logsift(&["classify", "--no-such-flag"], None).code, 2);
    assert_eq!(logsift(&["frobnicate"], None).code, 2);
    let o = logsift(&["classify", "does-not-exist.csv"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("does-not-exist.csv"), "{}", o.stderr);
    let o = logsift(&["classify", "examples/test.csv", "--model", "no/such/bundle"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no/such/bundle") && o.stderr.contains("not a logsift model bundle"), "{}", o.stderr);
}

#[test]
fn several_inputs_are_one_output_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a.csv"), dir.path().join("b.csv"), dir.path().join("c.csv"));
    std::fs::write(&a, "source,log_message\nS,User bob changed their password.\n").unwrap();
    std::fs::write(&b, "source,log_message\nS,kernel: Out of memory: Killed process 1 (java)\nS,Service order-api stopped gracefully.\n")
        .unwrap();
    std::fs::write(&c, "log_message,other\nx,y\n").unwrap();
    let o = logsift(&["classify", a.to_str().unwrap(), b.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 4, "one header, then the rows of a and b in order");
    assert_eq!((rows[1][2].as_str(), rows[3][5].as_str()), ("User Action", "service-stopped"));
    let o = logsift(&["classify", a.to_str().unwrap(), c.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("c.csv") && o.stderr.contains("differ"), "{}", o.stderr);
}

#[test]
fn a_slow_pipe_gets_each_result_before_the_next_line_and_sigterm_ends_cleanly() {
    let mut child = spawn(&["classify", "-", "--format", "text", "--source", "ModernHR", "--model", "models/lexical", "-q"]);
    let mut stdin = child.stdin.take().unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::BufReader::new(child.stdout.take().unwrap())));
    let lines = ["User User1 logged in.", "User User2 logged out.", "Backup completed successfully.", "Disk usage at 91% on /var"];
    for (i, l) in lines.iter().enumerate() {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        // The pipe stays open: the result must come within the flush interval, not at EOF.
        let got = read_line_within(out.clone(), 10).unwrap_or_else(|| panic!("no result for line {i} while the pipe is open"));
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["log_message"], *l, "results in order");
        assert!(v["target_label"].is_string());
    }
    // Two more lines then SIGTERM with stdin still open: both are written, exit 0.
    writeln!(stdin, "User User3 logged in.\nUser User4 logged in.").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut *out.lock().unwrap(), &mut rest).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert_eq!(rest.lines().count(), 2, "everything read is written: {rest}");
    assert!(rest.contains("User3") && rest.contains("User4"));
    drop(stdin);
}

#[test]
fn follow_reads_appended_lines_across_a_rotation_until_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "User User1 logged in.\n").unwrap();
    let mut child = spawn(&["classify", "--follow", log.to_str().unwrap(), "--source", "ModernHR", "--model", "models/lexical", "-q"]);
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::BufReader::new(child.stdout.take().unwrap())));
    let first = read_line_within(out.clone(), 10).expect("the existing line");
    assert!(first.contains("User1"), "{first}");
    // Appended.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "User User2 logged out.").unwrap();
    drop(f);
    assert!(read_line_within(out.clone(), 10).expect("the appended line").contains("User2"));
    // Rotated: renamed away, a new file in its place.
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, "Backup completed successfully.\n").unwrap();
    assert!(read_line_within(out.clone(), 10).expect("the rotated file's line").contains("Backup"));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let o = logsift(&["classify", "--follow", "examples/test.csv"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("line formats"), "{}", o.stderr);
}

#[test]
fn follow_restarts_a_file_truncated_and_rewritten_past_where_it_was_read() {
    // Before: the rewrite went unnoticed (the file was not shorter than the
    // position read), lines 10-19 of the new file were lost and a fragment of
    // one came out as a record.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let lines = |from: usize, n: usize, what: &str| (from..from + n).map(|i| format!("User User{i} {what}.\n")).collect::<String>();
    std::fs::write(&log, lines(0, 10, "logged in")).unwrap();
    let mut child = spawn(&["classify", "--follow", log.to_str().unwrap(), "--model", "models/lexical", "-q"]);
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::BufReader::new(child.stdout.take().unwrap())));
    let message = |line: String| serde_json::from_str::<serde_json::Value>(&line).unwrap()["log_message"].as_str().unwrap().to_string();
    for i in 0..10 {
        assert_eq!(message(read_line_within(out.clone(), 10).expect("an existing line")), format!("User User{i} logged in."));
    }
    // Truncated and rewritten, larger, in one write between two looks of the follower.
    std::fs::write(&log, lines(100, 40, "logged out")).unwrap();
    for i in 100..140 {
        assert_eq!(message(read_line_within(out.clone(), 10).expect("a line of the rewrite")), format!("User User{i} logged out."));
    }
    // An unfinished last line, then a rotation: the line ends where the old file did.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    write!(f, "User User7 half").unwrap();
    drop(f);
    std::thread::sleep(std::time::Duration::from_millis(400));
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, "Backup completed successfully.\n").unwrap();
    assert_eq!(message(read_line_within(out.clone(), 10).unwrap()), "User User7 half");
    assert_eq!(message(read_line_within(out.clone(), 10).unwrap()), "Backup completed successfully.");
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_full_disk_is_an_error_naming_the_output_and_a_closed_pipe_is_a_quiet_stop() {
    // Disk full: /dev/full refuses every write with ENOSPC.
    if Path::new("/dev/full").exists() {
        let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "-o", "/dev/full"], None);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(o.stderr.contains("cannot write output /dev/full") && o.stderr.contains("No space left"), "{}", o.stderr);
    }
    // Broken pipe: the reader goes away after one line (like `| head -1`).
    let mut child = spawn(&["classify", "-", "--format", "text", "--model", "models/lexical", "-q"]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..200_000 {
            if writeln!(stdin, "User User{i} logged in.").is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first).unwrap();
    assert!(first.contains("User"), "{first}");
    // stdout is now closed.
    let status = child.wait().unwrap();
    writer.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "a closed pipe ends the run quietly: {status:?} {err}");
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn an_endless_stream_is_classified_in_constant_memory() {
    let mut child = spawn(&["classify", "-", "--format", "text", "--model", "models/lexical", "-q", "-o", "/dev/null"]);
    let pid = child.id();
    let hwm = || -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut written = 0usize;
    let mut peak_early = 0;
    let line = |i: usize| {
        format!(
            "GET /api/v2/orders/{i} HTTP/1.1 status: {} len: {} time: 0.{i:06} host=web-{} user=user{}\n",
            200 + i % 5,
            i % 9000,
            i % 17,
            i % 1000
        )
    };
    for i in 0..2_000_000 {
        let l = line(i);
        stdin.write_all(l.as_bytes()).unwrap();
        written += l.len();
        if i == 200_000 {
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            peak_early = hwm();
        }
    }
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let peak = hwm();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    if peak == 0 {
        logsift_testkit::notice(&format!("the memory check: /proc/{pid}/status is not readable here"));
        return;
    }
    eprintln!("{} MB streamed; peak RSS {} MB after 10%, {} MB at the end", written >> 20, peak_early >> 10, peak >> 10);
    assert!(written > 150 << 20);
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB for {} MB streamed", written >> 20);
    assert!(peak < peak_early + 32 * 1024, "memory does not grow with the input: {peak_early} KiB after 10%, {peak} KiB at the end");
}

#[test]
fn a_bundle_whose_rules_exceed_the_limits_is_refused_by_serve_and_classify() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let o = logsift(&["train", "corpus/train.csv", "-o", model.to_str().unwrap(), "--cv", "0"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    std::fs::write(model.join("rules.toml"), "[[rule]]\nid = \"huge\"\nlabel = \"X\"\nregex = '(\\w{100}){1000}'\n").unwrap();
    for cmd in [&["serve", "--addr", "127.0.0.1:0", "--model"][..], &["classify", "examples/test.csv", "--model"][..]] {
        let mut args = cmd.to_vec();
        args.push(model.to_str().unwrap());
        let o = logsift(&args, None);
        assert_eq!(o.code, 1, "{}", o.stderr);
        assert!(
            o.stderr.contains("rules.toml") && o.stderr.contains("'huge'") && o.stderr.to_lowercase().contains("size limit"),
            "{}",
            o.stderr
        );
    }
}

#[test]
fn keep_and_drop_filter_the_output_and_count_what_they_left_out() {
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--keep", "Security Alert,User Action"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert!(rows.len() > 1 && rows.iter().skip(1).all(|r| r[2] == "Security Alert" || r[2] == "User Action"), "{rows:?}");
    assert!(o.stderr.contains(&format!("filtered out {} lines", 13 - (rows.len() - 1))), "{}", o.stderr);
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--strict", "--drop", "Unclassified"], None);
    let rows = csv_rows(&o.stdout);
    assert!(rows.iter().skip(1).all(|r| r[2] != "Unclassified"));
    let dropped = 13 - (rows.len() - 1);
    assert!(dropped >= 1 && o.stderr.contains(&format!("filtered out {dropped} lines (Unclassified: {dropped})")), "{}", o.stderr);
}

#[test]
fn keep_and_drop_name_labels_the_model_has_or_fail_listing_them() {
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--keep", "security alert"], None);
    assert_eq!(o.code, 0, "case does not matter: {}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert!(rows.len() > 1 && rows.iter().skip(1).all(|r| r[2] == "Security Alert"), "{rows:?}");
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--drop", "Security Alerts"], None);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("--drop") && o.stderr.contains("'Security Alerts'"), "{}", o.stderr);
    assert!(o.stderr.contains("Security Alert,") || o.stderr.contains("Security Alert, "), "lists the labels: {}", o.stderr);
    assert!(o.stderr.contains("Unclassified"), "{}", o.stderr);
    assert!(o.stdout.is_empty(), "nothing classified: {}", o.stdout);
}

/// Runs the binary with its stdout a pipe whose reading end is already
/// closed (what `… | head -0` leaves): the first write fails with EPIPE.
fn into_a_closed_pipe(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logsift"))
        .args(args)
        .current_dir(root())
        .env_remove("LOGSIFT_MODEL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (child.wait().unwrap(), err)
}

#[test]
fn csv_output_and_reports_into_a_closed_pipe_end_quietly() {
    for args in [
        &["classify", "examples/test.csv", "--model", "models/lexical"][..],
        &["classify", "examples/test.csv", "--model", "models/lexical", "--format", "csv", "-q"],
        &["eval", "corpus/train.csv", "--model", "models/lexical", "--json"],
        &["eval", "corpus/train.csv", "--model", "models/lexical"],
        &["rules", "mine", "corpus/train.csv"],
    ] {
        let (status, err) = into_a_closed_pipe(args);
        assert_eq!(status.code(), Some(0), "{args:?}: a closed pipe is a quiet stop: {err}");
        assert!(!err.contains("Broken pipe") && !err.contains("panicked") && !err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn a_quote_left_open_is_an_error_naming_its_line_and_skip_keeps_the_count() {
    // 13 lines: the header, 2 good rows, a row whose quote never closes, 9 more.
    let mut input = String::from("source,log_message\nA,User bob logged in.\nB,fine\nC,\"hello\n");
    for i in 0..9 {
        input.push_str(&format!("D{i},fine\n"));
    }
    let o = logsift(&["classify", "--format", "csv", "--model", "models/lexical"], Some(input.as_bytes()));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("row 3") && o.stderr.contains("quote opened on line 4 is never closed"), "{}", o.stderr);
    let o = logsift(&["classify", "--format", "csv", "--model", "models/lexical", "--on-error", "skip"], Some(input.as_bytes()));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 4, "header + A, B and the merged row");
    assert_eq!(rows[3][2], "Unclassified");
    assert!(rows[3][5].contains("lines 4–13 were read as one field"), "the detail says how many lines it swallowed: {:?}", rows[3][5]);
    assert!(o.stderr.contains("row 3: a quote opened on line 4"), "{}", o.stderr);
}

#[test]
fn stderr_has_no_colour_codes_unless_a_terminal_and_an_error_says_its_cause_once() {
    // A warning and an error through the log, stderr a pipe: plain text.
    let o = logsift_env(&["classify", "examples/test.csv", "--model", "models/lexical", "--log", "info"], None, &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("INFO") && o.stderr.contains("model 'lexical'"), "the log is on: {}", o.stderr);
    assert!(!o.stderr.contains('\u{1b}'), "no ANSI escape codes in a pipe: {:?}", o.stderr);
    let o = logsift_env(&["classify", "examples/test.csv", "--model", "models/lexical", "--log", "info"], None, &[("NO_COLOR", Some("1"))]);
    assert!(!o.stderr.contains('\u{1b}'), "{:?}", o.stderr);
    // A missing bundle: the OS's cause is said once.
    let o = logsift(&["classify", "examples/test.csv", "--model", "/nonexistent-bundle"], None);
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr.matches("No such file or directory").count(), 1, "{}", o.stderr);
}

#[test]
fn a_stack_trace_in_text_input_is_one_event_with_its_span() {
    let text = concat!(
        "2026-12-02 10:00:01 INFO billing started\n",
        "2026-12-02 10:00:02 SEVERE billing - Ledger database unreachable\n",
        "java.net.ConnectException: Connection refused\n",
        "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n",
        "\tat Billing.main(Billing.java:63)\n",
        "Caused by: java.io.IOException: closed\n",
        "\t... 3 more\n",
        "\n",
        "ERROR:shopd:order 17 failed\n",
        "Traceback (most recent call last):\n",
        "  File \"shopd.py\", line 40, in pay\n",
        "    charge(order)\n",
        "ValueError: card declined\n",
        "INFO:shopd:order 18 paid\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, text).unwrap();
    let o = logsift(&["classify", log.to_str().unwrap(), "-q", "--model", "models/lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let ev: Vec<serde_json::Value> = o.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let spans: Vec<(u64, u64)> = ev.iter().map(|e| (e["line"].as_u64().unwrap(), e["lines"].as_u64().unwrap())).collect();
    assert_eq!(spans, [(1, 1), (2, 6), (9, 5), (14, 1)], "{}", o.stdout);
    // No line lost: the lines in (blank lines are not records) equal the sum of spans out.
    let nonblank = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    assert_eq!(spans.iter().map(|s| s.1).sum::<u64>(), nonblank);
    assert!(ev[1]["log_message"].as_str().unwrap().ends_with("\t... 3 more"));

    // CSV output carries the span as columns; `off` gives a record a line.
    let out = dir.path().join("out.csv");
    let o = logsift(&["classify", log.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q", "--model", "models/lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(rows[0][rows[0].len() - 2..], ["line", "lines"]);
    assert_eq!(rows.len(), 5);
    let o = logsift(&["classify", log.to_str().unwrap(), "-q", "--model", "models/lexical", "--multiline", "off"], None);
    assert_eq!(o.stdout.lines().count() as u64, nonblank);
    assert!(!o.stdout.contains("\"lines\""), "no span fields when lines are not joined");
    // A pattern of one's own, and a bad one named.
    let o = logsift(&["classify", log.to_str().unwrap(), "-q", "--model", "models/lexical", "--multiline", r"^\s"], None);
    assert_eq!(o.stdout.lines().count(), 8, "{}", o.stdout);
    let o = logsift(&["classify", log.to_str().unwrap(), "--multiline", "(unclosed"], None);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("--multiline") && o.stderr.contains("regular expression"), "{}", o.stderr);
    // CSV rows are never joined, whatever they hold.
    let csv = "source,log_message\napp,\"ERROR failed\"\napp,\"\tat Billing.main(Billing.java:63)\"\n";
    let o = logsift(&["classify", "-", "-q", "--model", "models/lexical"], Some(csv.as_bytes()));
    assert_eq!(csv_rows(&o.stdout).len(), 3, "{}", o.stdout);
}

#[test]
fn follow_says_a_new_pattern_of_the_alert_labels_once() {
    // No warm-up here (the warm-up is the unit tests' and the Prometheus test's).
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "User User1 logged in.\n").unwrap();
    let mut child = spawn(&[
        "classify",
        "--follow",
        log.to_str().unwrap(),
        "--model",
        "models/lexical",
        "--patterns-warmup",
        "0s",
        "--alert-labels",
        "Critical Error",
    ]);
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::BufReader::new(child.stdout.take().unwrap())));
    assert!(read_line_within(out.clone(), 10).expect("the existing line").contains("User1"));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "Kernel panic - not syncing: Fatal exception in interrupt\nKernel panic - not syncing: Fatal exception in interrupt\nUser User7 logged in.").unwrap();
    drop(f);
    for _ in 0..3 {
        read_line_within(out.clone(), 10).expect("the appended lines");
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?} {err}");
    let said: Vec<&str> = err.lines().filter(|l| l.starts_with("logsift: new ")).collect();
    assert_eq!(said.len(), 1, "the Kernel panic pattern, once (two lines); not the User Action lines: {err}");
    assert!(said[0].starts_with("logsift: new Critical Error pattern: Kernel panic"), "{err}");
}
