//! The LLM tier from the CLI: dead and flaky endpoints, a real llama.cpp server, the in-process model, settings, review files.

mod common;
use common::*;

#[test]
fn a_dead_llm_endpoint_costs_no_row() {
    // Nothing listens on this port: every LLM request is refused.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{dead}/v1");
    let o = logsift(&["classify", "examples/test.csv", "--llm-url", &url, "--llm-retries", "1", "--model", "models/lexical"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 14, "every row, in order");
    // A dead LLM leaves a line where no LLM would: the model's guess, marked
    // as such, with the failure in the detail; --strict makes it Unclassified.
    let odd = rows.iter().find(|r| r[1].contains("flux capacitor")).unwrap();
    assert_eq!(odd[3], "model", "{odd:?}");
    assert!(odd[5].contains("best guess") && odd[5].contains("cannot connect"), "{odd:?}");
    assert!(o.stderr.contains("llm: 2 requests (2 failed)"), "{}", o.stderr);
    let o =
        logsift(&["classify", "examples/test.csv", "--llm-url", &url, "--llm-retries", "1", "--model", "models/lexical", "--strict"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 14, "every row, in order");
    let odd = rows.iter().find(|r| r[1].contains("flux capacitor")).unwrap();
    assert_eq!((odd[2].as_str(), odd[3].as_str()), ("Unclassified", "none"));
    assert!(odd[5].contains("cannot connect"), "{odd:?}");
    // Flags that cannot work are errors up front.
    let o = logsift(&["classify", "examples/test.csv", "--llm-preset", "nonesuch"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("unknown --llm-preset 'nonesuch'") && o.stderr.contains("groq"), "{}", o.stderr);
    let o = logsift_env(&["classify", "examples/test.csv", "--llm-preset", "groq"], None, &[("GROQ_API_KEY", None)]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("set the environment variable GROQ_API_KEY"), "{}", o.stderr);
    let o = logsift(&["classify", "examples/test.csv", "--llm-preset", "local"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("--llm-preset local needs --llm-model PATH"), "{}", o.stderr);
    let o = logsift(&["classify", "examples/test.csv", "--llm-preset", "local", "--llm-model", "README.md"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("README.md: not a GGUF model"), "{}", o.stderr);
}

#[test]
fn a_server_failing_half_its_requests_costs_no_row_and_no_order() {
    let url = flaky_llm_server(0x9E37_79B9_7F4A_7C15);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let o = logsift(&["train", "corpus/train.csv", "-o", model.to_str().unwrap(), "--cv", "0", "--route", "LegacyCRM=llm"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // 300 lines: LegacyCRM ones (to the LLM, 150 distinct templates) between others.
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike"];
    let mut input = String::from("source,log_message\n");
    let mut sent = vec![];
    for i in 0..300 {
        let line = if i % 2 == 0 {
            format!("LegacyCRM,Case escalation {} {} stalled at step {i}", words[i % 13], words[(i / 13) % 13])
        } else {
            format!("ModernHR,User user{i} logged in.")
        };
        input.push_str(&line);
        input.push('\n');
        sent.push(line);
    }
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, &input).unwrap();
    let args = [
        "classify",
        csv.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--llm-url",
        &url,
        "--llm-batch",
        "4",
        "--llm-retries",
        "1",
    ];
    let o = logsift(&args, None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 301, "every row");
    let labels = logsift_core::Bundle::load(&model).unwrap().known_labels();
    let (mut labeled, mut failed) = (0, 0);
    for (row, line) in rows.iter().skip(1).zip(&sent) {
        assert_eq!(format!("{},{}", row[0], row[1]), *line, "in order");
        if row[0] == "LegacyCRM" {
            match row[3].as_str() {
                "llm" => {
                    assert_eq!(row[2], "Workflow Error", "answers stay with their lines: {row:?}");
                    labeled += 1;
                }
                "none" => {
                    assert!(row[2] == "Unclassified" && row[5].contains("llm"), "Unclassified with the LLM's reason: {row:?}");
                    failed += 1;
                }
                t => panic!("LegacyCRM is routed to the LLM, got tier {t}: {row:?}"),
            }
        } else {
            assert!(labels.contains(&row[2]) || !row[5].is_empty(), "a label or a reason: {row:?}");
        }
    }
    assert!(labeled > 0 && failed > 0, "some requests failed, others not: {labeled} labeled, {failed} failed");
    assert!(o.stderr.contains("failed)"), "{}", o.stderr);
}

#[test]
fn reviewed_llm_decisions_train_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.csv");
    let mut csv = String::from("source,log_message,target_label\n");
    let words = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white"];
    for (i, w) in words.iter().cycle().take(40).enumerate() {
        csv.push_str(&format!("web,GET /{w}/{i} HTTP/1.1 status: 200,HTTP Status\n"));
        csv.push_str(&format!("auth,failed login for {w} from 10.0.0.{i},Security Alert\n"));
    }
    std::fs::write(&data, csv).unwrap();
    // What `classify --llm-review` writes, as a person left it after review.
    let review = dir.path().join("review.jsonl");
    let mut fb = String::new();
    for w in words {
        fb.push_str(&format!("{{\"source\":\"crm\",\"line\":\"invoice run for {w} halted: tax table missing\",\"template\":\"x\",\"label\":\"Workflow Error\",\"model\":\"m\",\"time\":1}}\n"));
    }
    fb.push_str("{\"line\":\"something odd\",\"label\":\"Unclassified\"}\n");
    std::fs::write(&review, fb).unwrap();
    let model = dir.path().join("m");
    let o = logsift(&["train", data.to_str().unwrap(), "-o", model.to_str().unwrap(), "--feedback", review.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("feedback: 8 reviewed lines"), "{}", o.stdout);
    let manifest = std::fs::read_to_string(model.join("model.toml")).unwrap();
    assert!(manifest.contains("name = \"Workflow Error\"\ndescription = \"\"\nrows = 8\nin_head = true"), "{manifest}");
    let o = logsift(
        &["classify", "--format", "text", "--model", model.to_str().unwrap()],
        Some(b"invoice run for orange halted: tax table missing\n"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(o.stdout.lines().next().unwrap()).unwrap();
    assert_eq!((v["target_label"].as_str(), v["tier"].as_str()), (Some("Workflow Error"), Some("model")), "{v}");
    std::fs::write(&review, "{\"label\": \"x\"}\n").unwrap();
    let o = logsift(&["train", data.to_str().unwrap(), "-o", model.to_str().unwrap(), "--feedback", review.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("line 1: needs a 'line' and a 'label'"), "{}", o.stderr);
}

#[test]
fn a_real_llm_server_answers_the_lines_the_model_leaves() {
    let Some((python, gguf)) = llama_server() else { return };
    let (_server, port) = start_llama(&python, &gguf);
    // A bundle that sends LegacyCRM straight to the LLM.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let o = logsift(&["train", "corpus/train.csv", "-o", model.to_str().unwrap(), "--cv", "0", "--route", "LegacyCRM=llm"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let url = format!("http://127.0.0.1:{port}/v1");
    let o = logsift(
        &[
            "classify",
            "examples/test.csv",
            "--model",
            model.to_str().unwrap(),
            "--llm-preset",
            "llamacpp",
            "--llm-url",
            &url,
            "--llm-model",
            "smollm2",
            "--llm-batch",
            "2",
            "--llm-timeout",
            "120",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), 14, "every row, in order");
    let labels: Vec<String> = logsift_core::Bundle::load(&model).unwrap().known_labels();
    for r in rows.iter().skip(1).filter(|r| r[0] == "LegacyCRM") {
        assert!(r[3] == "llm" || r[3] == "none", "LegacyCRM goes to the LLM: {r:?}");
        assert!(labels.contains(&r[2]) || (r[2] == "Unclassified" && !r[5].is_empty()), "a valid label or a reason: {r:?}");
    }
    let requests: u64 = o.stderr.split("llm: ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(requests >= 1, "the server was asked: {}", o.stderr);
}

#[test]
fn the_local_model_labels_the_codebasics_legacycrm_lines() {
    let Some(data) = shared("data/codebasics/synthetic_logs.csv") else { return };
    let Some(gguf) = smollm_gguf() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The LegacyCRM lines of the file, every column kept.
    let text = std::fs::read_to_string(data).unwrap();
    let mut lines = text.lines();
    let mut input = format!("{}\n", lines.next().unwrap());
    let crm: Vec<&str> = lines.filter(|l| l.contains(",LegacyCRM,")).collect();
    assert!(crm.len() >= 5, "{} LegacyCRM lines", crm.len());
    crm.iter().for_each(|l| input.push_str(&format!("{l}\n")));
    let csv = dir.path().join("crm.csv");
    std::fs::write(&csv, &input).unwrap();
    // A bundle that routes LegacyCRM to the LLM, with guidance examples.
    let model = dir.path().join("m");
    let o = logsift(&["train", "corpus/train.csv", "-o", model.to_str().unwrap(), "--cv", "0", "--route", "LegacyCRM=llm"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(model.join("examples.jsonl").is_file(), "training keeps guidance examples for the LLM");
    let review = dir.path().join("review.jsonl");
    let o = logsift(
        &[
            "classify",
            csv.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--llm-preset",
            "local",
            "--llm-model",
            &gguf,
            "--llm-review",
            review.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows.len(), crm.len() + 1, "every row");
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (msg, label, tier, detail) = (col("log_message"), col("target_label"), col("tier"), col("detail"));
    let labels = logsift_core::Bundle::load(&model).unwrap().known_labels();
    let mut decided = 0;
    for (row, line) in rows.iter().skip(1).zip(&crm) {
        assert!(line.contains(row[msg].as_str()), "in order: {row:?}");
        assert!(row[tier] == "llm" || row[tier] == "none", "LegacyCRM goes to the LLM: {row:?}");
        if row[tier] == "llm" {
            assert!(labels.contains(&row[label]), "a label of the set: {row:?}");
            assert!(row[detail].contains("SmolLM2-135M-Instruct"), "the model is named: {row:?}");
            decided += 1;
        } else {
            assert!(row[label] == "Unclassified" && row[detail].starts_with("llm"), "Unclassified with the LLM's reason: {row:?}");
        }
    }
    let reviewed = std::fs::read_to_string(&review).unwrap();
    assert_eq!(reviewed.lines().count(), decided, "each LLM decision is in the review file");
    assert!(o.stderr.contains("llm: ") && o.stderr.contains("0 failed"), "{}", o.stderr);
    eprintln!(
        "local model on {} LegacyCRM lines: {decided} labeled; {}",
        crm.len(),
        o.stderr.lines().find(|l| l.contains("llm: ")).unwrap_or("")
    );
}

#[test]
fn llm_settings_from_a_file_or_the_bundle_and_flags_win() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let requests =
        |o: &Out| -> u64 { o.stderr.split("llm: ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0) };
    // A config file.
    let cfg = dir.path().join("llm.toml");
    std::fs::write(&cfg, format!("url = \"http://{dead}/v1\"\nretries = 0\nbatch = 50\n")).unwrap();
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--llm-config", cfg.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(requests(&o), 1, "one batch, no retry: {}", o.stderr);
    // A flag beats the file.
    let o = logsift(
        &["classify", "examples/test.csv", "--model", "models/lexical", "--llm-config", cfg.to_str().unwrap(), "--llm-retries", "2"],
        None,
    );
    assert_eq!(requests(&o), 3, "{}", o.stderr);
    // The bundle's [llm] table.
    let bundle = dir.path().join("b");
    std::fs::create_dir(&bundle).unwrap();
    for f in ["model.toml", "head.safetensors", "rules.toml"] {
        std::fs::copy(root().join("models/lexical").join(f), bundle.join(f)).unwrap();
    }
    let mut manifest = std::fs::read_to_string(bundle.join("model.toml")).unwrap();
    manifest.push_str(&format!("\n[llm]\nurl = \"http://{dead}/v1\"\nretries = 1\nbatch = 50\n"));
    std::fs::write(bundle.join("model.toml"), manifest).unwrap();
    let o = logsift(&["classify", "examples/test.csv", "--model", bundle.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(requests(&o), 2, "{}", o.stderr);
    let o = logsift(&["classify", "examples/test.csv", "--model", bundle.to_str().unwrap(), "--llm-config", cfg.to_str().unwrap()], None);
    assert_eq!(requests(&o), 1, "the file beats the bundle: {}", o.stderr);
    // Unknown settings are errors naming the file.
    std::fs::write(&cfg, "colour = \"red\"\n").unwrap();
    let o = logsift(&["classify", "examples/test.csv", "--model", "models/lexical", "--llm-config", cfg.to_str().unwrap()], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("llm.toml") && o.stderr.contains("colour"), "{}", o.stderr);
}

#[test]
fn a_label_with_a_handful_of_rows_or_only_a_description_goes_to_the_llm_with_guidance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.csv");
    let mut csv = std::fs::read_to_string(root().join("corpus/train.csv")).unwrap();
    csv.push_str("2025-02-01 00:00:00,Billing,Invoice 881 stuck in approval queue for 3 days,Billing Delay,\n2025-02-01 00:00:01,Billing,Invoice 17 stuck in approval queue for 9 days,Billing Delay,\n");
    std::fs::write(&data, csv).unwrap();
    let desc = dir.path().join("labels.toml");
    let mut d = std::fs::read_to_string(root().join("corpus/labels.toml")).unwrap();
    d.push_str("\"Billing Delay\" = \"an invoice or payment is late in a business process\"\n\"Quota Warning\" = \"a tenant is close to a usage quota\"\n");
    std::fs::write(&desc, d).unwrap();
    let model = dir.path().join("m");
    let o = logsift(
        &[
            "train",
            data.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
            "--cv",
            "0",
            "--descriptions",
            desc.to_str().unwrap(),
            "--min-samples",
            "5",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("label 'Billing Delay' has 2 rows"), "{}", o.stdout);
    let b = logsift_core::Bundle::load(&model).unwrap();
    let label = |n: &str| b.manifest.labels.iter().find(|l| l.name == n).cloned().unwrap();
    assert!(!label("Billing Delay").in_head && !label("Quota Warning").in_head);
    assert_eq!(label("Quota Warning").rows, 0, "a label with only a description");
    assert!(b.known_labels().contains(&"Quota Warning".to_string()), "the LLM may give it");
    let guidance: Vec<_> = b.examples.iter().filter(|e| e.label == "Billing Delay").collect();
    assert!(!guidance.is_empty(), "its rows are kept as the LLM's guidance");
    assert_eq!(b.manifest.routes.get("Billing").copied(), Some(logsift_core::Route::Llm), "its source goes to the LLM");
}
