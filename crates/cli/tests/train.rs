//! `logsift train`, `eval` and `rules mine`: bundles, figures, cross-validation, reproducibility.

mod common;
use common::*;

#[test]
fn minilm_bundles_train_classify_and_embed() {
    let Some(weights) = minilm_dir() else { return };
    // The default bundle uses MiniLM when the weights are there.
    let o = logsift(&["classify", "examples/test.csv"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("model <built-in>/models/default") && !o.stderr.contains("warning"), "{}", o.stderr);
    // embed writes the reference vectors of sentence-transformers.
    let reference = std::fs::read_to_string(root().join("crates/embed/tests/fixtures/minilm_reference.jsonl")).unwrap();
    let refs: Vec<serde_json::Value> = reference.lines().take(12).map(|l| serde_json::from_str(l).unwrap()).collect();
    let input: String = refs.iter().map(|r| format!("{}\n", serde_json::json!({"log_message": r["text"]}))).collect();
    let o = logsift(&["embed", "--format", "jsonl", "--encoder-dir", &weights], Some(input.as_bytes()));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let got: Vec<serde_json::Value> = o.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), refs.len());
    for (g, r) in got.iter().zip(&refs) {
        assert_eq!(g["text"], r["text"]);
        let (a, b) = (g["embedding"].as_array().unwrap(), r["embedding"].as_array().unwrap());
        let dot: f64 = a.iter().zip(b).map(|(x, y)| x.as_f64().unwrap() * y.as_f64().unwrap()).sum();
        assert!(dot > 0.9999, "cosine {dot} for {}", r["text"]);
    }
    // train --encoder minilm records the encoder and the weights' sha256.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let o = logsift(&["train", "corpus/train.csv", "-o", model.to_str().unwrap(), "--encoder", "minilm", "--cv", "0"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let manifest = std::fs::read_to_string(model.join("model.toml")).unwrap();
    assert!(
        manifest.contains("id = \"minilm-l6-v2\"") && manifest.contains("dim = 384") && manifest.contains("weights_sha256"),
        "{manifest}"
    );
    let o = logsift(&["classify", "examples/test.csv", "--model", model.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&o.stdout);
    let oom = rows.iter().find(|r| r[1].contains("Out of memory")).unwrap();
    assert_eq!(oom[2], "Critical Error");
}

#[test]
fn train_then_eval_json_and_routes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("train.csv");
    let mut csv = String::from("source,log_message,target_label\n");
    let words = ["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "grey", "pink", "teal", "navy"];
    for (i, w) in words.iter().cycle().take(60).enumerate() {
        csv.push_str(&format!("web,GET /{w}/{i} HTTP/1.1 status: 200 len: {i},HTTP Status\n"));
        csv.push_str(&format!("auth,failed login for {w} from 10.0.0.{i},Security Alert\n"));
        csv.push_str(&format!("db,replication of {w} lagging by {i} s,Error\n"));
    }
    csv.push_str("crm,Escalation of case 1 stalled,Workflow Error\n");
    std::fs::write(&data, csv).unwrap();
    let model = dir.path().join("model");
    let o = logsift(
        &[
            "train",
            data.to_str().unwrap(),
            "-o",
            model.to_str().unwrap(),
            "--seed",
            "7",
            "--rules",
            "corpus/rules.toml",
            "--min-samples",
            "5",
        ],
        None,
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("cross-validation") && o.stdout.contains("threshold"), "{}", o.stdout);
    assert!(o.stdout.contains("'Workflow Error' has 1 rows") && o.stdout.contains("source 'crm'"), "{}", o.stdout);
    for f in ["model.toml", "head.safetensors", "rules.toml"] {
        assert!(model.join(f).exists(), "{f}");
    }
    let o = logsift(&["eval", data.to_str().unwrap(), "--model", model.to_str().unwrap(), "--json"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["rows"], 181);
    for k in ["accuracy", "macro_f1"] {
        assert!(v[k].as_f64().unwrap() > 0.9, "{k}: {}", v[k]);
    }
    for t in ["rules", "model", "llm", "unclassified"] {
        assert!(v["tiers"][t].is_u64(), "tiers.{t}");
    }
    assert_eq!(v["tiers"]["unclassified"], 1, "the routed Workflow Error line");
    for k in ["precision", "recall", "f1", "support"] {
        assert!(v["labels"]["HTTP Status"][k].is_number(), "labels.*.{k}");
    }
    let o = logsift(&["train", data.to_str().unwrap(), "-o", model.to_str().unwrap(), "--route", "bad"], None);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = logsift(&["eval", "examples/test.csv"], None);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("no 'target_label' column"), "{}", o.stderr);
}

/// scripts/build-default-model.sh's flags of `train`, beside the encoder.
const RECIPE: [&str; 8] = ["--rules", "corpus/rules.toml", "--descriptions", "corpus/labels.toml", "--seed", "42", "--cv-group", "source"];

#[test]
fn the_default_bundle_is_reproduced_from_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("train.csv");
    let gen = Path::new(env!("CARGO_BIN_EXE_logsift")).with_file_name("logsift-corpus");
    // The generator is a workspace member whose binary `cargo test` does not
    // build (it has no integration test): build it, so a stale one left in
    // the target directory is never what is compared.
    let st = Command::new(env!("CARGO")).args(["build", "-q", "-p", "logsift-corpus"]).current_dir(root()).status().unwrap();
    assert!(st.success() && gen.exists());
    let st = Command::new(&gen).args(["--seed", "2025", "--rows", "6000", "-o", corpus.to_str().unwrap()]).status().unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read(&corpus).unwrap(),
        std::fs::read(root().join("corpus/train.csv")).unwrap(),
        "corpus regenerates byte for byte"
    );
    // The same commands as scripts/build-default-model.sh: the corpus and
    // every program of the real-log benchmark, folds by source.
    let real = root().join("bench/reallogs/reallogs.csv");
    let mut bundles = vec![("lexical", "lexical")];
    if minilm_dir().is_some() {
        bundles.push(("default", "both"));
    }
    for (name, encoder) in bundles {
        let model = dir.path().join(name);
        let mut all = vec!["train", corpus.to_str().unwrap(), real.to_str().unwrap(), "-o", model.to_str().unwrap()];
        all.extend(["--encoder", encoder, "--name", name]);
        all.extend(RECIPE);
        let o = logsift(&all, None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let shipped = root().join("models").join(name);
        if encoder == "lexical" {
            // Integer hashing and fixed-order f64 sums: the same bytes everywhere.
            for f in ["model.toml", "head.safetensors", "rules.toml", "examples.jsonl"] {
                let same = std::fs::read(model.join(f)).unwrap() == std::fs::read(shipped.join(f)).unwrap();
                assert!(same, "{} differs from a retrained copy (run scripts/build-default-model.sh)", shipped.join(f).display());
            }
        } else {
            // MiniLM vectors depend on the CPU's vector width in their last
            // bits (AVX-512 vs AVX2 kernels): the same bundle up to rounding.
            let (a, b) = (logsift_core::Bundle::load(&model).unwrap(), logsift_core::Bundle::load(&shipped).unwrap());
            assert_eq!(a.manifest.labels, b.manifest.labels);
            assert_eq!(a.manifest.encoder, b.manifest.encoder);
            assert!(
                (a.manifest.threshold - b.manifest.threshold).abs() <= 0.011,
                "threshold {} vs {}",
                a.manifest.threshold,
                b.manifest.threshold
            );
            assert_eq!(a.rules, b.rules);
            assert_eq!(a.examples, b.examples, "the LLM's guidance examples do not depend on the encoder");
            let probe: Vec<f32> = (0..a.head.dim()).map(|i| ((i * 7919) % 101) as f32 / 101.0 - 0.5).collect();
            let (pa, pb) = (a.head.predict_proba(&probe), b.head.predict_proba(&probe));
            for (x, y) in pa.iter().zip(&pb) {
                assert!((x - y).abs() < 1e-3, "head outputs differ: {pa:?} vs {pb:?}");
            }
        }
    }
}

#[test]
fn codebasics_random_split_reaches_the_macro_f1_target() {
    let Some(data) = shared("data/codebasics/synthetic_logs.csv") else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&data).unwrap();
    let mut rows = csv_rows(&text);
    let header = rows.remove(0);
    // Deterministic 80/20 split.
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    logsift_core::offline::train::SplitMix64::new(42).shuffle(&mut idx);
    let n_test = rows.len() / 5;
    let write = |path: &Path, sel: &[usize]| {
        let mut w = csv::Writer::from_path(path).unwrap();
        w.write_record(&header).unwrap();
        for &i in sel {
            w.write_record(&rows[i]).unwrap();
        }
        w.flush().unwrap();
    };
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    write(&test, &idx[..n_test]);
    write(&train, &idx[n_test..]);
    let model = dir.path().join("m");
    // The 7 labels with at least 5 rows (the 2 LegacyCRM labels have 3 training
    // rows each and 1 or 2 test rows: one wrong line moves their F1 by half).
    let o = logsift(&["train", train.to_str().unwrap(), "-o", model.to_str().unwrap(), "--min-samples", "5"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = logsift(&["eval", test.to_str().unwrap(), "--model", model.to_str().unwrap(), "--json"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let f1 = v["macro_f1"].as_f64().unwrap();
    eprintln!("codebasics 80/20 random split: macro-F1 {f1:.4} over {}", v["scored_labels"]);
    assert!(f1 >= 0.99, "macro-F1 {f1}");
    // At defaults every label is in the head and every line answered.
    let o = logsift(&["train", train.to_str().unwrap(), "-o", model.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = logsift(&["eval", test.to_str().unwrap(), "--model", model.to_str().unwrap(), "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let acc = v["accuracy"].as_f64().unwrap();
    eprintln!("defaults: accuracy {acc:.4}, macro-F1 {} over {}", v["macro_f1"], v["scored_labels"]);
    assert!(acc >= 0.99 && v["tiers"]["unclassified"] == 0, "accuracy {acc}, tiers {}", v["tiers"]);
}

#[test]
fn mined_rules_cover_the_recurring_notification_and_user_lines_without_a_wrong_label() {
    let Some(data) = shared("data/codebasics/synthetic_logs.csv") else { return };
    let dir = tempfile::tempdir().unwrap();
    let mined = dir.path().join("mined.toml");
    let o = logsift(&["rules", "mine", data.to_str().unwrap(), "-o", mined.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rules = logsift_core::rules::RulesFile::parse(&std::fs::read_to_string(&mined).unwrap(), &mined).unwrap();
    let tier = logsift_core::rules::RulesTier::compile(&rules, &mined).unwrap();
    // Every System Notification and User Action line of the file is matched, by a rule of its label.
    let text = std::fs::read_to_string(&data).unwrap();
    let mut covered = 0;
    for r in csv::Reader::from_reader(text.as_bytes()).records() {
        let r = r.unwrap();
        let (source, message, label) = (&r[1], &r[2], &r[3]);
        if label == "System Notification" || label == "User Action" {
            let d = tier.decide_one(source, message).unwrap_or_else(|| panic!("no rule for {message:?}"));
            assert_eq!(&*d.label, label, "{message}");
            covered += 1;
        }
    }
    assert!(covered >= 480, "about a fifth of the file: {covered}");
    // On held-out folds the mined rules make no mistake, and take lines off the model.
    let o = logsift(&["eval", data.to_str().unwrap(), "--cv", "5", "--split", "random", "--mine-rules", "--json"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["tier_accuracy"]["rules"]["accuracy"], 1.0, "{}", v["tier_accuracy"]);
    assert!(v["tier_share"]["rules"].as_f64().unwrap() > 0.5, "{}", v["tier_share"]);
    assert_eq!(v["cv"]["folds"], 5);
    assert!(v["accuracy"].as_f64().unwrap() > 0.98 && v["macro_f1"].is_number() && v["confusion"].is_object());
    eprintln!("random 5-fold with mined rules: accuracy {}, tier share {}", v["accuracy"], v["tier_share"]);
}

/// The comparison with the Python original on unseen templates: its regex
/// tier (8 hand-written rules) + MiniLM and logistic regression at threshold
/// 0.5 is reported at 99.2% accuracy with 8 `Unclassified` lines on a
/// template-grouped 5-fold split of the codebasics file. logsift with the
/// rules a user writes for that file (the fixture), the same folds' kind and
/// the same threshold, then with its own calibrated one.
#[test]
fn codebasics_template_split_with_the_users_rules_beats_the_python_original() {
    let Some(data) = shared("data/codebasics/synthetic_logs.csv") else { return };
    let Some(minilm) = minilm_dir() else { return };
    let rules = root().join("crates/cli/tests/fixtures/codebasics-rules.toml");
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", data.to_str().unwrap(), "--cv", "5", "--split", "template", "--encoder", "both"];
        args.extend(["--rules", rules.to_str().unwrap(), "--encoder-dir", &minilm, "--json"]);
        args.extend(extra);
        let o = logsift(&args, None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let (acc, uncl) = (v["accuracy"].as_f64().unwrap(), v["tiers"]["unclassified"].as_u64().unwrap());
        eprintln!(
            "template 5-fold, both encoders, user rules {extra:?}: accuracy {acc:.4}, {uncl} unclassified, tiers {}",
            v["tier_share"]
        );
        assert_eq!(v["cv"]["split"], "template");
        assert_eq!(v["tier_accuracy"]["rules"]["accuracy"], 1.0, "{}", v["tier_accuracy"]);
        assert_eq!(v["tiers"]["rules"], 500, "the rules take every notification and user-action line");
        (acc, uncl, v["tier_accuracy"]["model"]["accuracy"].as_f64().unwrap())
    };
    let (acc, uncl, _) = eval(&["--threshold", "0.5"]);
    assert!(acc > 0.992 && uncl <= 8, "the original: 0.992 and 8 unclassified; logsift: {acc} and {uncl}");
    // At default settings (threshold calibrated for 0.98 precision, every
    // label in the head, the model's guess kept below the threshold): at least
    // 0.995 with at most 8 Unclassified.
    let (acc, uncl, _) = eval(&[]);
    assert!(acc >= 0.995 && uncl <= 8, "defaults: accuracy {acc}, {uncl} unclassified");
    // --strict gives the unsure lines back as Unclassified; what is kept
    // is still more accurate than the original, at 0.98 precision.
    let (acc, uncl, model_precision) = eval(&["--strict"]);
    assert!(acc > 0.985 && model_precision >= 0.98, "strict: accuracy {acc}, model tier {model_precision}, {uncl} unclassified");
}

/// The default recipe on real programs it never saw (leave-one-program-out,
/// as `bench/reallogs/lopo.py` does for every program): a program of the
/// real-log benchmark is held out together with the corpus lines written in
/// its formats (the corpus's `imitates` column), a bundle is trained on the
/// rest by scripts/build-default-model.sh's recipe, and it classifies the
/// program's lines, LLM off: what a new user meets on their own programs.
#[test]
fn the_default_recipe_on_real_programs_it_never_saw() {
    let Some(_) = minilm_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let read = |path: &Path| -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let mut r = csv::Reader::from_path(path).unwrap();
        (r.headers().unwrap().clone(), r.records().map(|r| r.unwrap()).collect())
    };
    let (corpus_h, corpus) = read(&root().join("corpus/train.csv"));
    let (real_h, real) = read(&root().join("bench/reallogs/reallogs.csv"));
    let col = |h: &csv::StringRecord, name: &str| h.iter().position(|c| c == name).unwrap_or_else(|| panic!("no {name} column"));
    let (imitates, program) = (col(&corpus_h, "imitates"), col(&real_h, "program"));
    let write = |name: &str, h: &csv::StringRecord, rows: &mut dyn Iterator<Item = &csv::StringRecord>| {
        let path = dir.path().join(name);
        let mut w = csv::Writer::from_path(&path).unwrap();
        let names = ["source", "log_message", "target_label"];
        w.write_record(names).unwrap();
        let c = names.map(|n| col(h, n));
        let mut n = 0;
        for r in rows {
            w.write_record(c.map(|i| &r[i])).unwrap();
            n += 1;
        }
        w.flush().unwrap();
        (path, n)
    };
    // (program, least accuracy): su, beside sudo's and runuser's formats, and
    // shopd, our Python service, beside the corpus's other runtimes. Not every
    // program is read this well (bench/reallogs/lopo.py has all 33: where the
    // hand labels' convention between a person's action and the system's
    // routine differs from the training's, accuracy falls to a few percent).
    for (held_out, min_accuracy) in [("su", 0.95), ("shopd", 0.8)] {
        let (kept, _) = write("corpus.csv", &corpus_h, &mut corpus.iter().filter(|r| !r[imitates].split(' ').any(|p| p == held_out)));
        let (others, _) = write("others.csv", &real_h, &mut real.iter().filter(|r| &r[program] != held_out));
        let (test, n) = write("test.csv", &real_h, &mut real.iter().filter(|r| &r[program] == held_out));
        assert!(n >= 200, "{held_out}: {n} lines");
        let bundle = dir.path().join(format!("bundle-{held_out}"));
        let mut args = vec!["train", kept.to_str().unwrap(), others.to_str().unwrap(), "-o", bundle.to_str().unwrap()];
        args.extend(RECIPE);
        let o = logsift(&args, None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let o = logsift(&["eval", test.to_str().unwrap(), "--model", bundle.to_str().unwrap(), "--json"], None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let (accuracy, confident) = (v["accuracy"].as_f64().unwrap(), &v["confident"]);
        eprintln!("{held_out}, never seen: accuracy {accuracy:.4}, confident {} lines at {:.4}", confident["lines"], confident["accuracy"]);
        assert_eq!(v["tiers"]["unclassified"], 0, "{held_out}: with the LLM off every line is answered");
        let lines = confident["lines"].as_u64().unwrap();
        assert!(lines * 5 >= n as u64, "{held_out}: a fifth of the lines or more are confident: {confident}");
        assert!(confident["accuracy"].as_f64().unwrap() >= 0.98, "{held_out}: confident labels at least 98% right: {confident}");
        assert!(accuracy >= min_accuracy, "{held_out}: accuracy {accuracy}");
    }
}

/// The ordinary lines every host writes (disks, inodes, quotas, memory, swap,
/// CPU, certificates, backups, restarts: `fixtures/ordinary.csv`, 30 lines
/// written for this test, none from the corpus), read by the bundled models
/// with the LLM off, the lexical fallback a newcomer without the MiniLM
/// weights meets included. Before the corpus had the `host` families the
/// fallback read `Disk /dev/sda1 is 97% full` as HTTP Status (by its path and
/// its number) and got 24 of 30.
#[test]
fn the_bundled_models_read_the_ordinary_lines_of_a_host() {
    let fixture = root().join("crates/cli/tests/fixtures/ordinary.csv");
    let mut bundles = vec!["models/lexical"];
    if minilm_dir().is_some() {
        bundles.push("models/default");
    }
    for model in bundles {
        let o = logsift(&["eval", fixture.to_str().unwrap(), "--model", model, "--json"], None);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let (accuracy, confident) = (v["accuracy"].as_f64().unwrap(), &v["confident"]);
        eprintln!("{model} on ordinary host lines: accuracy {accuracy:.4}, confident {confident}");
        assert!(accuracy >= 0.9, "{model}: {accuracy} of 30 ordinary lines right");
        assert!(confident["accuracy"].as_f64().unwrap() >= 0.98, "{model}: confident labels right: {confident}");
        let o = logsift(&["classify", "--format", "text", "--model", model], Some(b"Disk /dev/sda1 is 97% full\n"));
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(o.stdout.contains("Resource Usage"), "{model}: the README's example line: {}", o.stdout);
    }
}

#[test]
fn cross_validation_reports_both_splits_and_the_html_report_renders() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let o = logsift(&["eval", "corpus/train.csv", "--cv", "3", "--split", "both", "--json", "--report", report.to_str().unwrap()], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    for split in ["template", "random"] {
        assert_eq!(v[split]["cv"]["split"], split);
        assert_eq!(v[split]["rows"], 9000, "the corpus: 6000 rows and 3000 of real machines' families");
        assert_eq!(v[split]["cv"]["thresholds"].as_array().unwrap().len(), 3);
    }
    assert!(
        v["random"]["accuracy"].as_f64() >= v["template"]["accuracy"].as_f64(),
        "unseen templates are harder than near-copies: {} vs {}",
        v["template"]["accuracy"],
        v["random"]["accuracy"]
    );
    let html = std::fs::read_to_string(&report).unwrap();
    for id in ["headline", "labels", "confusion", "tiers", "confidence", "threshold", "curve", "worst"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "the report has #{id}");
    }
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"), "self-contained");
    // Rendered by a real browser; the screenshot is kept as a test artifact.
    let Some(chrome) =
        logsift_testkit::program(&["chromium", "chromium-browser"], "apt-get install chromium; the rendering is not checked")
    else {
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("eval-report.png");
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let st = Command::new(chrome)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2200", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000, "{} bytes", bytes.len());
    eprintln!("report screenshot: {}", png.display());
}

#[test]
fn training_reads_several_files_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out) = (dir.path().join("a.csv"), dir.path().join("b.csv"), dir.path().join("m"));
    let mut ta = String::from("source,log_message,target_label\n");
    let mut tb = String::from("source,log_message,target_label\n");
    for i in 0..30 {
        ta.push_str(&format!("web,GET /page/{i} HTTP/1.1 status: 200,HTTP Status\n"));
        tb.push_str(&format!("auth,login for user{i} failed: bad password,Security Alert\n"));
    }
    std::fs::write(&a, ta).unwrap();
    std::fs::write(&b, tb).unwrap();
    let o = logsift(&["train", a.to_str().unwrap(), b.to_str().unwrap(), "-o", out.to_str().unwrap(), "--cv", "0"], None);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("on 60 rows"), "{}", o.stdout);
    let manifest = std::fs::read_to_string(out.join("model.toml")).unwrap();
    assert!(manifest.contains("name = \"HTTP Status\"") && manifest.contains("name = \"Security Alert\""), "{manifest}");
}

#[test]
fn the_default_encoder_is_both_with_the_weights_and_lexical_without() {
    let Some(weights) = minilm_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(
        &data,
        "source,log_message,target_label\nweb,user alice logged in,User Action\nweb,disk /dev/sda1 is 97% full,Resource Usage\n",
    )
    .unwrap();
    let (cache, hf) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let train = |out: &str, minilm: Option<&str>| {
        let env = weights_env(cache.path(), hf.path(), minilm);
        let model = dir.path().join(out);
        let o = logsift_env(&["train", data.to_str().unwrap(), "-o", model.to_str().unwrap(), "--cv", "0"], None, &env);
        assert_eq!(o.code, 0, "{}", o.stderr);
        (logsift_core::Bundle::load(&model).unwrap().manifest.encoder.id, o.stderr)
    };
    let (with, said) = train("with", Some(&weights));
    assert_eq!(with, "lexical-v1+minilm-l6-v2", "{said}");
    assert!(!said.contains("encoder auto"), "{said}");
    let (without, said) = train("without", None);
    assert_eq!(without, "lexical-v1");
    assert_eq!(said.lines().filter(|l| l.contains("encoder auto: lexical")).count(), 1, "one line says so: {said}");
}
