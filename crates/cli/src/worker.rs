//! `logsift worker`: the NATS JetStream worker (see the `logsift-worker` crate).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use logsift_core::pipeline::DEFAULT_CACHE_CAPACITY;
use logsift_worker::{InputFormat, WorkerConfig, WorkerStats};

/// Payload formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PayloadArg {
    /// A JSON object with source and log_message fields.
    Json,
    /// The log line itself.
    Text,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// NATS server URL(s), comma-separated.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// Subject of the input messages.
    #[arg(long)]
    pub input: String,
    /// Subject the results are published to.
    #[arg(long)]
    pub output: String,
    /// Subject of messages that cannot be classified [default: <input>.dead].
    #[arg(long)]
    pub dead_letter: Option<String>,
    /// JetStream stream holding the input subject (created if missing).
    #[arg(long, default_value = "LOGSIFT_INPUT")]
    pub stream: String,
    /// Durable consumer shared by all workers (the scale-out).
    #[arg(long, default_value = "logsift")]
    pub durable: String,
    /// Messages per batch.
    #[arg(long, default_value_t = 512)]
    pub batch: usize,
    /// Deliveries after which a failing message is dead-lettered.
    #[arg(long, default_value_t = 5)]
    pub max_deliver: i64,
    /// Seconds a worker has to acknowledge a message before another gets it.
    #[arg(long, default_value_t = 30.0)]
    pub ack_wait: f64,
    /// Payload format.
    #[arg(long, value_enum, default_value_t = PayloadArg::Json)]
    pub format: PayloadArg,
    /// Fields of JSON messages, the source of text ones, and the length
    /// limit (longer messages are dead-lettered).
    #[command(flatten)]
    pub fields: crate::classify::FieldArgs,
    /// Add each line's masked template and stable template id to its result.
    #[arg(long)]
    pub with_template: bool,
    /// Serve GET /metrics (Prometheus) and /health on this address.
    #[arg(long)]
    pub metrics_addr: Option<String>,
    #[command(flatten)]
    pub bundle: crate::model::ModelArgs,
    /// Decisions kept in the template cache.
    #[arg(long, default_value_t = DEFAULT_CACHE_CAPACITY)]
    pub cache_size: usize,
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
    /// Subject the patterns' summary (new and spiking, as GET /patterns) is
    /// published to each window [default: <output>.patterns; "" for none].
    #[arg(long)]
    pub patterns_subject: Option<String>,
    /// Pattern counts over time and the new-pattern webhook.
    #[command(flatten)]
    pub live: crate::alert::LiveArgs,
}

pub fn run(args: WorkerArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("logsift-worker").build()?;
    // Signals first: SIGTERM while the model loads is a clean stop too.
    let shutdown = {
        let _in_runtime = runtime.enter();
        logsift_server::shutdown_signal()
    };
    let loaded = crate::model::load(&args.bundle, &args.llm, args.cache_size)?;
    let live = args.live.live(*loaded.pipeline.masker(), &loaded.bundle.known_labels())?;
    live.trends.declare_labels(loaded.bundle.known_labels().iter().map(String::as_str));
    let cfg = WorkerConfig {
        dead_letter: args.dead_letter.clone().unwrap_or_else(|| format!("{}.dead", args.input)),
        stream: args.stream.clone(),
        durable: args.durable.clone(),
        batch: args.batch.max(1),
        max_deliver: args.max_deliver.max(1),
        ack_wait: Duration::from_secs_f64(args.ack_wait.max(0.1)),
        format: if args.format == PayloadArg::Json { InputFormat::Json } else { InputFormat::Text },
        message_field: args.fields.message_field.clone(),
        source_field: args.fields.source_field.clone(),
        default_source: args.fields.source.clone(),
        max_line_bytes: args.fields.max_line_bytes,
        with_template: args.with_template,
        live: Some(live.clone()),
        patterns_subject: args.patterns_subject.clone().unwrap_or_else(|| format!("{}.patterns", args.output)),
        ..WorkerConfig::new(&args.nats, &args.input, &args.output)
    };
    let pipeline = Arc::new(loaded.pipeline);
    let stats = Arc::new(WorkerStats::default());
    let result = runtime.block_on(async {
        if let Some(addr) = &args.metrics_addr {
            let l = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            eprintln!("logsift: worker metrics on http://{}/metrics", l.local_addr()?);
            tokio::spawn(logsift_worker::serve_metrics(
                l,
                pipeline.clone(),
                stats.clone(),
                loaded.llm.clone().map(|l| l as Arc<dyn logsift_core::telemetry::TierReport>),
                Some(live.clone()),
            ));
        }
        eprintln!("logsift: worker pulling '{}' from {} (consumer {}), results to '{}'", cfg.input, cfg.nats_url, cfg.durable, cfg.output);
        logsift_worker::run(cfg, pipeline.clone(), stats.clone(), shutdown).await?;
        Ok::<(), anyhow::Error>(())
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    eprintln!(
        "logsift: worker stopped: {} messages received ({} redelivered), {} results published, {} dead letters, {} handed back",
        stats.received.load(Relaxed),
        stats.redelivered.load(Relaxed),
        stats.published.load(Relaxed),
        stats.dead_lettered.load(Relaxed),
        stats.retried.load(Relaxed)
    );
    result
}
