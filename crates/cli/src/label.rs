//! `logsift label INPUT...`: from raw logs to labels, one decision a
//! template (core's [`logsift_core::offline::label`]), on a local page
//! (the server crate's `label` module) or, with `--oracle COLUMN`, by a
//! simulated labeller that measures the order; `--export BUNDLE` trains
//! the bundle the decisions give.
//!
//! The working directory (`-o`, default `logsift-labels`) holds
//! `decisions.csv` (rewritten whole after every decision), `rules.toml`
//! (templates made rules) and `session.toml` (the inputs, so `--export`
//! and a second run need no more than the directory).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::io::Format;
use logsift_core::offline::label::{decisions, oracle, Corpus, CorpusBuilder, LabelOptions, Prior, Session};
use logsift_core::record::Passthrough;
use logsift_core::{Encoder, Record};
use logsift_embed::assemble::{self, Weights};

/// The encoder that places templates near each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LabelEncoder {
    /// all-MiniLM-L6-v2 when its weights are on this machine, else lexical (said on stderr).
    Auto,
    /// all-MiniLM-L6-v2 (weights needed).
    Minilm,
    /// Hashed word and character n-grams.
    Lexical,
}

/// The order of the simulated labeller (`--oracle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    /// logsift's: the template whose decision should correct the most lines.
    Session,
    /// Templates in a random order.
    RandomTemplates,
    /// Random lines, one a decision (a line-by-line tool).
    RandomLines,
}

#[derive(Args, Debug)]
pub struct LabelArgs {
    /// Log files (CSV, JSON Lines or text); none: the inputs of the directory's session.toml.
    pub inputs: Vec<String>,
    /// Working directory: decisions.csv, rules.toml, session.toml.
    #[arg(short, long, default_value = "logsift-labels")]
    pub output: PathBuf,
    /// The bundle whose suggestions start the session [default: the built-in
    /// default bundle, unless --labels names none of its labels]. Its
    /// suggestions count for less as decisions contradict them.
    #[arg(long, conflicts_with = "no_model")]
    pub model: Option<PathBuf>,
    /// Start from nothing: every suggestion is learned from your decisions.
    #[arg(long)]
    pub no_model: bool,
    /// Labels offered from the start, comma-separated (keys 1–9 follow this order).
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Address of the page (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub addr: String,
    /// Encoder that places similar templates near each other.
    #[arg(long, value_enum, default_value_t = LabelEncoder::Auto)]
    pub encoder: LabelEncoder,
    /// Directory with the all-MiniLM-L6-v2 weights.
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
    /// Share of word positions that must agree for two lines to be one template.
    #[arg(long, default_value_t = 0.7)]
    pub similarity: f64,
    /// Simulate a labeller who answers with this column's label (the majority of the template's lines).
    #[arg(long, value_name = "COLUMN")]
    pub oracle: Option<String>,
    /// Decisions the simulated labeller makes.
    #[arg(long, value_name = "K", default_value_t = 100, requires = "oracle")]
    pub decisions: usize,
    /// The simulated labeller's order.
    #[arg(long, value_enum, default_value_t = OrderArg::Session, requires = "oracle")]
    pub order: OrderArg,
    /// Seed of the random orders.
    #[arg(long, default_value_t = 1, requires = "oracle")]
    pub seed: u64,
    /// Print one JSON object a decision count.
    #[arg(long)]
    pub json: bool,
    /// Train the bundle the decisions give and write it to this directory.
    #[arg(long, value_name = "BUNDLE")]
    pub export: Option<PathBuf>,
    /// Input format [default: from the extension, else a look at the first line].
    #[arg(long, value_enum)]
    pub format: Option<crate::classify::FormatArg>,
    #[command(flatten)]
    pub read: crate::classify::ReadArgs,
    /// An LLM that suggests a label for each template (asked once a template, in batches, ahead of you).
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
}

/// What the working directory remembers of a session.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SessionFile {
    inputs: Vec<String>,
}

/// Every input's lines, in order (bad rows as `--on-error` says).
pub(crate) fn read_lines(inputs: &[String], format: Option<Format>, read: &crate::classify::ReadArgs) -> Result<Vec<Record>> {
    let mut records = vec![];
    for_each_chunk(inputs, format, read, None, |chunk, _, _| records.extend(chunk))?;
    Ok(records)
}

/// Reads every input a chunk of lines at a time into `f` (the chunk, the
/// file's CSV header, and with `column` each line's value of it); bad rows
/// as `--on-error` says, a bad row left out named.
fn for_each_chunk(
    inputs: &[String],
    format: Option<Format>,
    read: &crate::classify::ReadArgs,
    column: Option<&str>,
    mut f: impl FnMut(Vec<Record>, Option<&[String]>, Vec<String>),
) -> Result<()> {
    const CHUNK: usize = 1 << 15;
    let opts = read.options();
    for path in inputs {
        let opened = crate::input::open(path, format, &opts)?;
        let idx = match column {
            Some(c) => {
                let found = opened.headers.as_ref().and_then(|h| h.iter().position(|x| x.trim() == c));
                match (found, opened.format) {
                    (Some(i), _) => Some(i),
                    (None, Format::Jsonl) => None,
                    (None, _) => bail!("{path}: no '{c}' column (the header has {:?})", opened.headers.unwrap_or_default()),
                }
            }
            None => None,
        };
        let headers = opened.headers.clone();
        let (mut chunk, mut values) = (Vec::with_capacity(CHUNK), vec![]);
        for r in opened.records {
            let r = r?;
            if let Some(bad) = &r.invalid {
                let why = crate::input::bad_row(r.row, bad);
                match read.on_error {
                    crate::OnError::Fail => bail!("{why} (use --on-error skip to leave such rows out)"),
                    crate::OnError::Skip => {
                        eprintln!("logsift: {why}; left out");
                        continue;
                    }
                }
            }
            if let Some(c) = column {
                let v = match (&r.passthrough, idx) {
                    (Passthrough::Columns(cols), Some(i)) => cols.get(i).map(str::to_string),
                    (Passthrough::Json(map), _) => map.get(c).and_then(|v| v.as_str()).map(str::to_string),
                    _ => None,
                };
                let Some(v) = v.filter(|v| !v.trim().is_empty()) else { bail!("{path}: row {}: no '{c}' value for the oracle", r.row) };
                values.push(v.trim().to_string());
            }
            chunk.push(r);
            if chunk.len() == CHUNK {
                f(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)), headers.as_deref(), std::mem::take(&mut values));
            }
        }
        if !chunk.is_empty() {
            f(chunk, headers.as_deref(), values);
        }
    }
    Ok(())
}

/// The encoder `--encoder` asks for (auto: MiniLM when its weights are
/// here, else lexical, said on stderr unless `quiet`).
pub(crate) fn encoder(kind: LabelEncoder, dir: Option<&Path>) -> Result<Arc<dyn Encoder>> {
    encoder_said(kind, dir, false)
}

pub(crate) fn encoder_said(kind: LabelEncoder, dir: Option<&Path>, quiet: bool) -> Result<Arc<dyn Encoder>> {
    let lexical = || Arc::new(logsift_core::lexical::LexicalEncoder::new(logsift_core::lexical::DEFAULT_DIM)) as Arc<dyn Encoder>;
    Ok(match kind {
        LabelEncoder::Lexical => lexical(),
        LabelEncoder::Minilm => assemble::minilm(dir, Weights::Anywhere)?,
        LabelEncoder::Auto => match assemble::minilm(dir, Weights::LocalOnly) {
            Ok(e) => e,
            Err(why @ logsift_embed::EmbedError::NotFound { .. }) => {
                if !quiet {
                    eprintln!("logsift: templates are compared by wording only (lexical): no local MiniLM weights ({})", why.one_line());
                }
                lexical()
            }
            Err(e) => return Err(e.into()),
        },
    })
}

/// The starting bundle (see `--model`) and its pipeline, or `None`.
fn starting_bundle(args: &LabelArgs) -> Result<Option<(logsift_core::Bundle, logsift_core::Pipeline)>> {
    if args.no_model {
        return Ok(None);
    }
    let choice = crate::model::ModelArgs { model: args.model.clone(), encoder_dir: args.encoder_dir.clone(), learn_variables: 0 };
    let loaded = crate::model::load(&choice, &crate::llm::LlmArgs::default(), 0)?;
    let known = loaded.bundle.known_labels();
    if args.model.is_none() && !args.labels.is_empty() && !args.labels.iter().any(|l| known.contains(&l.trim().to_string())) {
        eprintln!("logsift: starting from nothing: --labels names none of the default bundle's labels");
        return Ok(None);
    }
    Ok(Some((loaded.bundle, loaded.pipeline)))
}

/// The starting bundle's suggestion for each template (its first line, rules
/// included), only of `--labels` when they are given.
fn priors(args: &LabelArgs, corpus: &Corpus) -> Result<Vec<Prior>> {
    let Some((bundle, pipeline)) = starting_bundle(args)? else { return Ok(vec![]) };
    eprintln!(
        "logsift: suggestions start from the bundle '{}' ({}; --no-model starts from nothing)",
        bundle.manifest.name,
        bundle.dir.display()
    );
    let wanted: Vec<String> = args.labels.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
    let firsts: Vec<Record> = corpus.templates.iter().map(|t| Record::new("", t.examples.first().cloned().unwrap_or_default())).collect();
    Ok(pipeline
        .classify(&firsts)
        .into_iter()
        .map(|d| {
            (d.is_classified() && (wanted.is_empty() || wanted.iter().any(|w| *w == *d.label))).then(|| (d.label.to_string(), d.confidence))
        })
        .collect())
}

pub fn run(args: LabelArgs) -> Result<()> {
    std::fs::create_dir_all(&args.output).with_context(|| format!("cannot create {}", args.output.display()))?;
    let session_path = args.output.join("session.toml");
    let inputs = if args.inputs.is_empty() {
        let text = std::fs::read_to_string(&session_path)
            .with_context(|| format!("no INPUT given and no {} to take them from", session_path.display()))?;
        toml::from_str::<SessionFile>(&text).with_context(|| format!("{}", session_path.display()))?.inputs
    } else {
        args.inputs.clone()
    };
    let opts = LabelOptions { similarity: args.similarity, ..LabelOptions::default() };
    let format = args.format.map(Format::from);
    if let Some(bundle_dir) = &args.export {
        return export(&args, &inputs, bundle_dir);
    }
    let enc = encoder(args.encoder, args.encoder_dir.as_deref())?;
    let t0 = std::time::Instant::now();
    // A chunk of lines at a time: memory holds the templates and 4 bytes a line, not the log.
    let mut builder = CorpusBuilder::new(logsift_core::mask::Masker::default(), &opts);
    let mut truth = vec![];
    for_each_chunk(&inputs, format, &args.read, args.oracle.as_deref(), |chunk, headers, values| {
        builder.add(&chunk, headers);
        truth.extend(values);
    })?;
    let corpus = builder.finish(enc.as_ref())?;
    if corpus.of_line.is_empty() {
        bail!("{}: no lines to label", inputs.join(", "));
    }
    eprintln!(
        "logsift: {} lines, {} templates ({}) in {:.1} s",
        corpus.of_line.len(),
        corpus.templates.len(),
        corpus.encoder,
        t0.elapsed().as_secs_f64()
    );
    if args.oracle.is_some() {
        let order = match args.order {
            OrderArg::Session => oracle::Order::Session,
            OrderArg::RandomTemplates => oracle::Order::RandomTemplates,
            OrderArg::RandomLines => oracle::Order::RandomLines,
        };
        let ks: Vec<usize> = (1..=args.decisions).collect();
        let templates = corpus.templates.len();
        let prior = priors(&args, &corpus)?;
        let points = oracle::simulate(corpus, prior, &truth, order, &ks, args.seed, opts);
        if !args.json {
            outln!("decisions  templates%  accuracy  macro_f1  seconds");
        }
        for p in points {
            if args.json {
                outln!("{}", serde_json::to_string(&p)?);
            } else {
                outln!(
                    "{:>9}  {:>9.1}%  {:>8.4}  {:>8.4}  {:>7.3}",
                    p.decisions,
                    100.0 * p.decisions as f64 / templates.max(1) as f64,
                    p.accuracy,
                    p.macro_f1,
                    p.seconds
                );
            }
        }
        return Ok(());
    }
    // The interactive page.
    std::fs::write(&session_path, toml::to_string(&SessionFile { inputs: inputs.clone() })?)?;
    let prior = priors(&args, &corpus)?;
    let mut labels = args.labels.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect::<Vec<_>>();
    if labels.is_empty() {
        // The starting bundle's labels, in the order its suggestions use them most.
        let mut count: std::collections::BTreeMap<&str, usize> = Default::default();
        for (l, _) in prior.iter().flatten() {
            *count.entry(l).or_default() += 1;
        }
        let mut by: Vec<(&str, usize)> = count.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        labels = by.into_iter().map(|(l, _)| l.to_string()).collect();
    }
    let mut session = Session::new(corpus, labels, prior, opts);
    let decisions_path = args.output.join("decisions.csv");
    let saved = decisions::read(&decisions_path)?;
    let resumed = session.resume(&saved);
    if !saved.is_empty() {
        eprintln!("logsift: resumed {} decisions from {} ({resumed} templates)", saved.len(), decisions_path.display());
    }
    let asker = crate::llm::LabelAsker::from_flags(&args.llm)?;
    serve_page(session, &args.addr, &args.output, inputs.join(", "), enc, asker)
}

/// Serves the page until Ctrl-C, behind a fresh token printed in its URL (as Jupyter does).
fn serve_page(
    session: Session,
    addr: &str,
    dir: &Path,
    name: String,
    enc: Arc<dyn Encoder>,
    asker: Option<Arc<dyn logsift_core::offline::label::Asker>>,
) -> Result<()> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the page's token: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let cfg = logsift_server::ServiceConfig {
        token: Some(token.clone()),
        allowed_hosts: crate::serve::allowed_hosts(addr, &[]),
        ..Default::default()
    };
    let limits = cfg.conn.clone();
    let app = logsift_server::label::LabelApp::for_session(session, name, dir.to_path_buf(), enc, asker);
    let router = logsift_server::label::standalone_router(app, cfg);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("logsift-label").build()?;
    let shutdown = {
        let _in_runtime = runtime.enter();
        logsift_server::shutdown_signal()
    };
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let at = listener.local_addr()?;
        let host = if at.ip().is_loopback() { format!("127.0.0.1:{}", at.port()) } else { at.to_string() };
        eprintln!(
            "logsift: decisions are saved to {} as you make them; Ctrl-C stops, running again resumes",
            dir.join("decisions.csv").display()
        );
        eprintln!("logsift: label at http://{host}/label?token={token}");
        logsift_server::conn::serve_with(listener, router, shutdown, limits).await.context("the server failed")?;
        Ok::<(), anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(())
}

/// `--export BUNDLE`: the decisions' labelled lines, trained into a bundle.
fn export(args: &LabelArgs, inputs: &[String], bundle_dir: &Path) -> Result<()> {
    let rows = decisions::read(&args.output.join("decisions.csv"))?;
    if rows.is_empty() {
        bail!("{}: no decisions yet; label some templates first", args.output.join("decisions.csv").display());
    }
    let records = read_lines(inputs, args.format.map(Format::from), &args.read)?;
    let rules_path = args.output.join("rules.toml");
    let rules = rules_path.exists().then_some(rules_path);
    let encoder = match args.encoder {
        LabelEncoder::Minilm => crate::model::EncoderArg::Minilm,
        LabelEncoder::Lexical => crate::model::EncoderArg::Lexical,
        LabelEncoder::Auto => crate::model::EncoderArg::Auto,
    };
    crate::train::train_from_decisions(&rows, &records, encoder, args.encoder_dir.clone(), rules, bundle_dir)
}
