//! `logsift embed`: the vectors themselves, one JSON object a line.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use logsift_core::lexical::DEFAULT_DIM;
use logsift_core::Record;

use crate::classify::{FormatArg, ReadArgs};
use crate::model::EncoderArg;
use crate::OnError;

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Input (CSV, JSON Lines with a log_message field, or text); `-` or none reads stdin.
    pub input: Option<String>,
    /// Output file; stdout when absent or `-`.
    #[arg(short, long)]
    pub output: Option<String>,
    /// Encoder.
    #[arg(long, value_enum, default_value_t = EncoderArg::Minilm)]
    pub encoder: EncoderArg,
    /// Directory with the all-MiniLM-L6-v2 weights.
    #[arg(long)]
    pub encoder_dir: Option<PathBuf>,
    /// Width of the lexical encoder's vectors.
    #[arg(long, default_value_t = DEFAULT_DIM)]
    pub dim: usize,
    /// Input format [default: from the extension; on stdin, from the first line].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Texts handed to the encoder per call.
    #[arg(long, default_value_t = 1024)]
    pub chunk: usize,
    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let encoder = crate::model::new_encoder(args.encoder, args.dim, args.encoder_dir.as_deref())?;
    let path = args.input.clone().unwrap_or_else(|| "-".into());
    let input = crate::input::open(&path, args.format.map(Into::into), &args.read.options())?;
    let out_path = args.output.clone().filter(|o| o != "-");
    let mut out: Box<dyn Write> = match &out_path {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("cannot create output {p}"))?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let start = Instant::now();
    let mut records = input.records;
    let mut n = 0usize;
    loop {
        let mut chunk: Vec<Record> = Vec::with_capacity(args.chunk);
        for r in records.by_ref() {
            let r = r?;
            if let Some(bad) = &r.invalid {
                let bad = crate::input::bad_row(r.row, bad);
                match args.read.on_error {
                    OnError::Fail => bail!("{bad} (use --on-error skip to embed what was read of it)"),
                    OnError::Skip => eprintln!("logsift: {bad}; embedded as read"),
                }
            }
            chunk.push(r);
            if chunk.len() >= args.chunk.max(1) {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let texts: Vec<&str> = chunk.iter().map(|r| r.message.as_str()).collect();
        let vectors = encoder.encode(&texts)?;
        for (t, v) in texts.iter().zip(vectors) {
            serde_json::to_writer(&mut out, &serde_json::json!({ "text": t, "embedding": v }))?;
            out.write_all(b"\n")?;
        }
        n += texts.len();
    }
    out.flush().with_context(|| format!("cannot write output {}", out_path.as_deref().unwrap_or("<stdout>")))?;
    if !args.quiet {
        let secs = start.elapsed().as_secs_f64();
        eprintln!("logsift: {n} embeddings with {} in {secs:.2} s ({:.1} embeddings/s)", encoder.id(), n as f64 / secs.max(1e-9));
    }
    Ok(())
}
