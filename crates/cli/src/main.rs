//! `logsift`: the command-line interface.
//!
//! Subcommands: `classify` (files and streams in, labeled records out),
//! `train` (labeled CSV in, model bundle out), `eval` (labeled CSV in,
//! figures out), `serve` (the HTTP service), `worker` (a NATS JetStream
//! consumer), `embed` (texts in, vectors out) and `label` (raw logs to
//! labels, a template at a time, on a local page). Exit codes: 0 success, 1 error, 2 bad usage.

/// `print!` for reports on stdout: a closed stdout (`logsift eval … | head -1`)
/// ends the process quietly with exit 0, as the README promises, where
/// `print!` would panic.
macro_rules! out {
    ($($t:tt)*) => { $crate::write_stdout(format_args!($($t)*)) };
}

/// `println!` with [`out!`]'s handling of a closed stdout.
macro_rules! outln {
    () => { $crate::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

mod alert;
mod classify;
mod cv;
mod embed;
mod eval;
mod input;
mod label;
mod llm;
mod model;
mod patterns;
mod report;
mod rules;
mod serve;
mod train;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Hybrid log classifier: rules, then an embedding model, then an LLM, cheapest first.
#[derive(Parser, Debug)]
#[command(name = "logsift", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log verbosity on stderr (error, warn, info, debug, trace); also LOGSIFT_LOG.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Classify log lines: CSV, JSON Lines or plain text in; the same records with
    /// target_label, tier, confidence and detail out.
    Classify(classify::ClassifyArgs),
    /// Train a model bundle from a labeled CSV (source, log_message, target_label).
    Train(train::TrainArgs),
    /// Evaluate a model bundle on a labeled CSV: accuracy, macro-F1, per-label and per-tier figures.
    Eval(eval::EvalArgs),
    /// Serve the classifier over HTTP: CSV upload, JSON, NDJSON streaming, health, metrics, docs, a web page.
    Serve(serve::ServeArgs),
    /// Classify messages from a NATS JetStream subject and publish the results; run as many as needed.
    Worker(worker::WorkerArgs),
    /// Group lines into patterns (templates merged by wording and meaning): counts, shares,
    /// first/last seen, sources, labels; --compare BASELINE shows what is new or grew.
    Patterns(patterns::PatternsArgs),
    /// Rules: `rules mine` proposes rules for the recurring templates of labeled lines.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Write sentence embeddings, one JSON object ({"text", "embedding"}) a line.
    Embed(embed::EmbedArgs),
    /// Label raw logs one template at a time on a local page, the most useful first, with
    /// suggestions; --oracle COLUMN simulates a labeller; --export BUNDLE trains the result.
    Label(label::LabelArgs),
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// Propose regex rules for recurring templates of a labeled CSV (support, purity and
    /// examples as comments), as a rules.toml to review.
    Mine(rules::RulesMineArgs),
}

/// What to do with a row that cannot be classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    /// Stop at the first bad row with an error naming it (exit code 1).
    Fail,
    /// Report the bad row, write it as Unclassified with the reason, and go on.
    Skip,
}

/// Writes a report's text to stdout (see [`out!`]).
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("logsift: error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// An error and its causes on one line, a cause that an outer message
/// already quotes (a library error that prints its own source) said once.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text
}

/// Colour on stderr only for a terminal, and never with `NO_COLOR` set
/// (<https://no-color.org>): a log file or CI output gets plain text.
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether an error is, at bottom, a write into a closed pipe (`| head`):
/// the reader has all it wanted, which is no error worth a message.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>()
                .is_some_and(|ce| matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = std::env::var("LOGSIFT_LOG").unwrap_or_else(|_| cli.log.clone());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(colour_on_stderr())
        .without_time()
        .init();
    let result = match cli.command {
        Command::Classify(a) => classify::run(a),
        Command::Train(a) => train::run_train(a),
        Command::Eval(a) => eval::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Worker(a) => worker::run(a),
        Command::Rules(RulesCommand::Mine(a)) => rules::run_mine(a),
        Command::Patterns(a) => patterns::run(a),
        Command::Label(a) => label::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (e.g. `| head`) is not an error worth a message.
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("logsift: error: {}", error_text(&e));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn train_help_names_every_mask_kind() {
        let mut cli = super::Cli::command();
        let help = cli.find_subcommand_mut("train").expect("train").render_long_help().to_string();
        for kind in logsift_core::mask::MaskConfig::NAMES {
            assert!(help.contains(&format!("{kind},")) || help.contains(&format!("{kind} (")), "`train --help` does not name {kind}");
        }
    }
}
