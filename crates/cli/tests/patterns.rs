//! `logsift patterns`: grouping, comparison, timestamps, outputs.

mod common;
use common::*;

#[test]
fn patterns_group_the_codebasics_file_purely_and_compare_finds_only_the_new_error() {
    let Some(data) = shared("data/codebasics/synthetic_logs.csv") else { return };
    let o = logsift(&["patterns", data.to_str().unwrap(), "--json", "--encoder", "none"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["lines"], 2410);
    let pats = v["patterns"].as_array().unwrap();
    let find = |needle: &str| {
        pats.iter().find(|p| p["template"].as_str().unwrap().contains(needle)).unwrap_or_else(|| panic!("no pattern with {needle}"))
    };
    for needle in ["uploaded successfully by user", "logged", "System reboot initiated by user", "Backup completed successfully"] {
        let p = find(needle);
        assert_eq!(p["purity"], 1.0, "{p}");
        assert!(p["count"].as_u64().unwrap() >= 10, "{p}");
        assert!(p["first_seen"].is_string() && !p["examples"].as_array().unwrap().is_empty(), "{p}");
    }
    assert_ne!(find("uploaded successfully")["template"], find("System reboot")["template"], "separate patterns");
    // Timestamps like 1/26/2025 8:48 are ordered as dates, not as text.
    let up = find("uploaded successfully");
    assert!(up["first_seen"].as_str().unwrap().ends_with("2025") || up["first_seen"].as_str().unwrap().contains("2025 "), "{up}");
    assert_ne!(up["first_seen"], up["last_seen"]);
    eprintln!("codebasics: {} patterns, label purity {}", pats.len(), v["purity"]);
    assert!(v["purity"].as_f64().unwrap() >= 0.995, "patterns almost never mix labels: {}", v["purity"]);

    // Two halves of one resampled stream: nothing new. A new error in the second: at the top, new.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&a, resample(&data, 20_000, 7)).unwrap();
    std::fs::write(&b, resample(&data, 20_000, 11)).unwrap();
    let o = logsift(&["patterns", b.to_str().unwrap(), "--compare", a.to_str().unwrap(), "--json", "--encoder", "none"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let new: Vec<&serde_json::Value> = v["patterns"].as_array().unwrap().iter().filter(|p| p["status"] == "new").collect();
    assert!(new.is_empty(), "nothing new between two halves: {new:?}");
    let mut with_new = std::fs::read_to_string(&b).unwrap();
    for i in 0..50 {
        with_new
            .push_str(&format!("2025-12-01 10:{:02}:00,ModernCRM,Quantum flux capacitor misaligned on deck {i},Critical Error\n", i % 60));
    }
    std::fs::write(&b, with_new).unwrap();
    let o = logsift(&["patterns", b.to_str().unwrap(), "--compare", a.to_str().unwrap(), "--json", "--encoder", "none"], None);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let top = &v["patterns"][0];
    assert_eq!((top["status"].as_str(), top["count"].as_u64()), (Some("new"), Some(50)), "{top}");
    assert!(top["template"].as_str().unwrap().contains("Quantum flux capacitor"), "{top}");
}

#[test]
fn patterns_merge_by_meaning_above_the_threshold_cap_memory_and_write_csv_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("Disk full on volume /var/data{i}\nThe disk is full on volume /srv/x{i}\nUser u{i} logged in\n"));
    }
    for i in 0..10 {
        let word = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"][i];
        text.push_str(&format!("{word} happened once at stage {i}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["patterns", input.to_str().unwrap(), "--json", "--format", "text"];
        args.extend(extra);
        let o = logsift(&args, None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        serde_json::from_str(&o.stdout).unwrap()
    };
    let disk = |v: &serde_json::Value| {
        v["patterns"].as_array().unwrap().iter().filter(|p| p["template"].as_str().unwrap().contains("full")).count()
    };
    assert_eq!(disk(&run(&["--encoder", "none"])), 2, "different wording, two patterns without an encoder");
    assert_eq!(disk(&run(&["--encoder", "lexical", "--merge-threshold", "0.99"])), 2, "a high threshold keeps them apart");
    let merged = run(&["--encoder", "lexical", "--merge-threshold", "0.5"]);
    assert_eq!(disk(&merged), 1, "a low threshold merges them");
    let p = merged["patterns"].as_array().unwrap().iter().find(|p| p["template"].as_str().unwrap().contains("full")).unwrap();
    assert_eq!((p["count"].as_u64(), p["merged"].as_array().map(Vec::len)), (Some(60), Some(1)), "{p}");
    // The memory cap: 3 patterns, the rest counted as other.
    let capped = run(&["--encoder", "none", "--max-patterns", "3"]);
    assert_eq!(capped["patterns"].as_array().unwrap().len(), 3);
    assert_eq!(capped["other"], 10);
    // CSV and a self-contained HTML page.
    let html = dir.path().join("p.html");
    let o = logsift(&["patterns", input.to_str().unwrap(), "--csv", "--encoder", "none", "--html", html.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    assert_eq!(rows[0][..3], ["rank", "count", "share"]);
    assert_eq!(rows.len(), 1 + 13);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"chart\"") && page.contains("id=\"patterns\"") && !page.contains("<script"), "self-contained");
}

/// Two days of the same real logs (the benchmark's captured syslog, Apache
/// and vsftpd lines, dated again a day later, weekday and all) give the same
/// patterns, and every pattern has its first and last time.
#[test]
fn two_days_of_one_log_have_the_same_patterns_and_their_times() {
    let data = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/reallogs/reallogs.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(data.as_bytes());
    let lines: Vec<String> = rdr
        .records()
        .map(|r| r.unwrap())
        .filter(|r| ["sshd", "cron", "apache2", "vsftpd", "postgresql"].contains(&&r[0]) && !r[2].contains('\n'))
        // Lines with a time of their own (apache prints a few without one).
        .filter(|r| logsift_core::timestamp::find(&r[2], 4).is_some())
        .map(|r| r[2].to_string())
        .collect();
    assert!(lines.len() > 1000, "{}", lines.len());
    let next_day = |l: &String| {
        l.replace("Dec  2 ", "Dec  3 ")
            .replace("02/Dec/2026:", "03/Dec/2026:")
            .replace("Wed Dec 02 ", "Thu Dec 03 ")
            .replace("Wed Dec  2 ", "Thu Dec  3 ")
            .replace("2026-12-02 ", "2026-12-03 ")
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("day1.log"), dir.path().join("day2.log"));
    std::fs::write(&a, lines.join("\n")).unwrap();
    std::fs::write(&b, lines.iter().map(next_day).collect::<Vec<_>>().join("\n")).unwrap();
    let o = logsift(&["patterns", b.to_str().unwrap(), "--compare", a.to_str().unwrap(), "--json", "--encoder", "none"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let pats = v["patterns"].as_array().unwrap();
    let new: Vec<&serde_json::Value> = pats.iter().filter(|p| p["status"] == "new").collect();
    assert!(new.is_empty(), "the same events a day later are no new pattern: {new:#?}");
    for p in pats {
        let (first, last) = (p["first_seen"].as_str().unwrap_or(""), p["last_seen"].as_str().unwrap_or(""));
        assert!(!first.is_empty() && !last.is_empty(), "times for every pattern: {p}");
        assert!(first.contains('3'), "times from the compared day: {p}");
    }
    // The text output says the same as the JSON (before: count, share and template only).
    let o = logsift(&["patterns", "-", "--format", "csv", "--encoder", "none", "--top", "3"], Some(data.as_bytes()));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let top: Vec<&str> = o.stdout.lines().skip(1).take(6).collect();
    for (head, detail) in top.chunks(2).map(|c| (c[0], c[1])) {
        assert!(head.contains('%'), "{}", o.stdout);
        assert!(detail.trim_start().starts_with("seen ") && detail.contains(" .. "), "first and last seen: {}", o.stdout);
        assert!(detail.contains("sources: ") && detail.contains("labels: "), "{}", o.stdout);
    }
}
