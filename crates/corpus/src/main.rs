//! Writes logsift's own labeled training corpus.
//!
//! `logsift-corpus [--seed N] [--rows N] [-o corpus/train.csv]` prints a CSV
//! with the columns `timestamp,source,log_message,target_label,imitates`: realistic log
//! lines of nine labels from six sources, in the formats operators meet
//! (access logs of several servers, OpenStack-style API and resource-claim
//! lines, kernel and sshd lines, JVM and Python exceptions, application
//! events, business-workflow failures, deprecation notices), each label with
//! many phrasings. The same seed gives the same file, byte for byte.
//!
//! `--family-rows N` (default 3000) adds lines of the log families of real
//! machines ([`families`]): syslog-framed daemons, web servers, databases,
//! containers, JVM/Python services, big-data and cloud services.
//!
//! `imitates` names, space-separated, the programs whose formats a line is
//! written in (`sshd`, `nginx apache2`, …; empty for the business sources'
//! own phrasings), with the names the real-log benchmark gives its programs
//! (`bench/reallogs`). Its leave-one-program-out evaluation leaves a program's
//! imitations out of training with the program, mechanically.
//!
//! Every line is written by this program; no third-party data set is copied.

use std::io::Write;

use logsift_core::offline::train::SplitMix64;

mod families;
mod labels;

use labels::*;

/// Random choices for the generator, over logsift's own fixed SplitMix64 (so
/// the corpus never changes with a dependency's version), and the programs
/// whose formats the line being written imitates (a generator's arm names
/// them; `main` writes them in the `imitates` column).
struct Rng {
    mix: SplitMix64,
    imitates: &'static [&'static str],
}

/// The programs of the real-log benchmark that write the combined log format
/// (Apache's, nginx's default, gunicorn's access log): a line written in it
/// imitates all of them.
const COMBINED_LOG: &[&str] = &["nginx", "apache2", "gunicorn"];

impl Rng {
    fn next(&mut self) -> u64 {
        self.mix.next_u64()
    }
    /// Marks the line being written as written in these programs' formats.
    fn imitates(&mut self, programs: &'static [&'static str]) {
        self.imitates = programs;
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0')).collect()
    }
    fn uuid(&mut self) -> String {
        format!("{}-{}-{}-{}-{}", self.hex(8), self.hex(4), self.hex(4), self.hex(4), self.hex(12))
    }
    fn ip(&mut self) -> String {
        match self.below(3) {
            0 => format!("10.{}.{}.{}", self.below(256), self.below(256), self.range(1, 254)),
            1 => format!("192.168.{}.{}", self.below(256), self.range(1, 254)),
            _ => format!("{}.{}.{}.{}", self.range(11, 223), self.below(256), self.below(256), self.range(1, 254)),
        }
    }
    fn user(&mut self) -> String {
        match self.below(4) {
            0 => format!("User{}", self.range(1, 9999)),
            1 => format!("{}", self.range(1000, 99999)),
            2 => self
                .pick(&[
                    "alice",
                    "bob",
                    "carol",
                    "dmitri",
                    "eve.k",
                    "f.martin",
                    "svc-backup",
                    "jenkins",
                    "ops-admin",
                    "priya",
                    "wei.zhang",
                    "admin",
                ])
                .to_string(),
            _ => format!("u-{}", self.hex(6)),
        }
    }
    fn float(&mut self, lo: f64, hi: f64, digits: usize) -> String {
        let v = lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64);
        format!("{v:.digits$}")
    }
}

type Gen = fn(&mut Rng) -> String;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mut seed = 2025u64;
    let mut rows = 6000usize;
    let mut family_rows = 3000usize;
    let mut out: Option<String> = None;
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--seed" => seed = value.parse().unwrap_or(seed),
            "--rows" => rows = value.parse().unwrap_or(rows),
            "--family-rows" => family_rows = value.parse().unwrap_or(family_rows),
            "-o" | "--output" => out = Some(value),
            "-h" | "--help" => {
                println!("usage: logsift-corpus [--seed N] [--rows N] [--family-rows N] [-o FILE]");
                return Ok(());
            }
            other => {
                eprintln!("logsift-corpus: unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    // (label, generator, share of rows, sources)
    let general: &[&str] = &SOURCES;
    let legacy: &[&str] = &["LegacyCRM"];
    let mixed: &[&str] = &["LegacyCRM", "LegacyCRM", "LegacyCRM", "ModernCRM", "BillingSystem", "ThirdPartyAPI"];
    let plan: [(&str, Gen, f64, &[&str]); 9] = [
        ("HTTP Status", http_status, 0.22, general),
        ("Security Alert", security_alert, 0.12, general),
        ("System Notification", system_notification, 0.12, general),
        ("Error", error, 0.11, general),
        ("Critical Error", critical_error, 0.09, general),
        ("Resource Usage", resource_usage, 0.09, general),
        ("User Action", user_action, 0.09, general),
        ("Workflow Error", workflow_error, 0.08, legacy),
        ("Deprecation Warning", deprecation_warning, 0.08, mixed),
    ];
    let mut rng = Rng { mix: SplitMix64::new(seed), imitates: &[] };
    let mut lines: Vec<[String; 5]> = vec![];
    for (label, gen, share, sources) in plan {
        let n = (rows as f64 * share).round() as usize;
        for _ in 0..n {
            let source = rng.pick(sources).to_string();
            rng.imitates = &[];
            let message = gen(&mut rng);
            lines.push([String::new(), source, message, label.to_string(), rng.imitates.join(" ")]);
        }
    }
    // Lines of real programs' families (syslog daemons, web servers,
    // databases, containers, JVM/Python, big data), each template equally often.
    let fam = families::templates();
    for i in 0..family_rows {
        let (source, label, gen) = fam[i % fam.len()];
        rng.imitates = families::imitates(source);
        let message = gen(&mut rng);
        lines.push([String::new(), source.to_string(), message, label.to_string(), rng.imitates.join(" ")]);
    }
    // Shuffle, then give timestamps in order.
    for i in (1..lines.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        lines.swap(i, j);
    }
    let mut t = 1_735_689_600u64; // 2025-01-01T00:00:00Z
    for l in &mut lines {
        t += rng.range(60, 5200);
        l[0] = timestamp(t);
    }
    let sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(sink);
    w.write_record(["timestamp", "source", "log_message", "target_label", "imitates"])?;
    for l in &lines {
        w.write_record(l)?;
    }
    w.flush()
}

/// `YYYY-MM-DD HH:MM:SS` for a Unix time (UTC), without a date library.
fn timestamp(t: u64) -> String {
    let (days, secs) = (t / 86_400, t % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}
