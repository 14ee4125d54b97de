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
use logsift_core::offline::label::{decisions, oracle, Corpus, LabelOptions, Prior, Session};
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
    /// A bundle whose suggestions start the session (default: none; the session learns from you).
    #[arg(long)]
    pub model: Option<PathBuf>,
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

/// The lines of every input, in order; with `column`, each line's value of it.
pub(crate) struct Lines {
    pub records: Vec<Record>,
    pub headers: Option<Vec<String>>,
    pub column: Vec<String>,
}

/// Reads every input whole (bad rows as `--on-error` says; a bad row left out is named).
pub(crate) fn read_lines(
    inputs: &[String],
    format: Option<Format>,
    read: &crate::classify::ReadArgs,
    column: Option<&str>,
) -> Result<Lines> {
    let opts = read.options();
    let mut out = Lines { records: vec![], headers: None, column: vec![] };
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
        if out.headers.is_none() {
            out.headers = opened.headers.clone();
        }
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
                out.column.push(v.trim().to_string());
            }
            out.records.push(r);
        }
    }
    Ok(out)
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

/// The starting bundle's suggestion for each template (its first example, rules included).
fn priors(model: &Path, corpus: &Corpus, encoder_dir: Option<&Path>) -> Result<Vec<Prior>> {
    let bundle = logsift_core::Bundle::load(model).with_context(|| format!("cannot load model bundle {}", model.display()))?;
    let enc = assemble::bundle_encoder(&bundle, encoder_dir, Weights::Anywhere)?;
    let pipeline = bundle.pipeline(enc, Box::new(logsift_core::tier::DisabledLlm), 0)?;
    let firsts: Vec<Record> = corpus.templates.iter().map(|t| Record::new("", t.examples.first().cloned().unwrap_or_default())).collect();
    Ok(pipeline.classify(&firsts).into_iter().map(|d| d.is_classified().then(|| (d.label.to_string(), d.confidence))).collect())
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
    let lines = read_lines(&inputs, format, &args.read, args.oracle.as_deref())?;
    if lines.records.is_empty() {
        bail!("{}: no lines to label", inputs.join(", "));
    }
    let enc = encoder(args.encoder, args.encoder_dir.as_deref())?;
    let t0 = std::time::Instant::now();
    let masker = logsift_core::mask::Masker::default();
    let corpus = Corpus::build(&lines.records, lines.headers.as_deref(), &masker, enc.as_ref(), &opts)?;
    eprintln!(
        "logsift: {} lines, {} templates ({}) in {:.1} s",
        lines.records.len(),
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
        let points = oracle::simulate(corpus, &lines.column, order, &ks, args.seed, opts);
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
    let prior = match &args.model {
        Some(m) => priors(m, &corpus, args.encoder_dir.as_deref())?,
        None => vec![],
    };
    let mut labels = args.labels.iter().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect::<Vec<_>>();
    if let (true, Some(m)) = (labels.is_empty(), &args.model) {
        labels = logsift_core::Bundle::load(m)?.known_labels();
    }
    let mut session = Session::new(corpus, labels, prior, opts);
    let decisions_path = args.output.join("decisions.csv");
    let saved = decisions::read(&decisions_path)?;
    let resumed = session.resume(&saved);
    if !saved.is_empty() {
        eprintln!("logsift: resumed {} decisions from {} ({resumed} templates)", saved.len(), decisions_path.display());
    }
    let asker = crate::llm::LabelAsker::new(&args.llm)?;
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
    let lines = read_lines(inputs, args.format.map(Format::from), &args.read, None)?;
    let rules_path = args.output.join("rules.toml");
    let rules = rules_path.exists().then_some(rules_path);
    let encoder = match args.encoder {
        LabelEncoder::Minilm => crate::model::EncoderArg::Minilm,
        LabelEncoder::Lexical => crate::model::EncoderArg::Lexical,
        LabelEncoder::Auto => crate::train::auto_encoder(args.encoder_dir.as_deref()),
    };
    crate::train::train_from_decisions(&rows, &lines.records, encoder, args.encoder_dir.clone(), rules, bundle_dir)
}
