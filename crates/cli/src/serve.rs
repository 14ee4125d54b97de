//! `logsift serve`: the HTTP service (see the `logsift-server` crate).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use logsift_core::pipeline::DEFAULT_CACHE_CAPACITY;
use logsift_server::{ModelInfo, ServiceConfig};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub addr: String,
    #[command(flatten)]
    pub bundle: crate::model::ModelArgs,
    /// Environment variable holding a bearer token that the classify endpoints
    /// and /metrics then require (the token itself is never a flag).
    #[arg(long)]
    pub token_env: Option<String>,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 64)]
    pub max_body_mib: usize,
    /// Most rows in one request (the stream endpoint has no such limit).
    #[arg(long, default_value_t = 1_000_000)]
    pub max_rows: usize,
    /// Seconds a request may take (not the stream endpoint).
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,
    /// Lines longer than this many bytes are bad input.
    #[arg(long, default_value_t = 64 * 1024)]
    pub max_line_bytes: usize,
    /// Most records in one pipeline batch (concurrent requests are joined up to it).
    #[arg(long, default_value_t = 4096)]
    pub batch_size: usize,
    /// Most request-body MiB held at once by the CSV and JSON endpoints together;
    /// past it a request gets 503 with Retry-After.
    #[arg(long, default_value_t = 256)]
    pub max_inflight_mib: usize,
    /// Most columns in an uploaded CSV (more: 422).
    #[arg(long, default_value_t = 1024)]
    pub max_columns: usize,
    /// Seconds a client has to send a request's headers, on a new connection
    /// and between requests on a kept-alive one (so also the idle timeout).
    #[arg(long, default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Most open connections. Past it, up to 64 more are accepted for a
    /// short while to answer GET /health (anything else: 503, Retry-After).
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a /v1/classify/stream body may send nothing before the stream
    /// is answered with an error line and closed.
    #[arg(long, default_value_t = 60.0)]
    pub idle_timeout: f64,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, default_value_t = 10.0)]
    pub shutdown_grace: f64,
    /// Host header values the service answers (repeatable). Default: on a
    /// loopback address, localhost and the loopback addresses; on a specific
    /// address, that address and localhost; on 0.0.0.0 or [::], any host.
    /// Guards a local service against DNS rebinding.
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Origin whose web pages may call the service (repeatable; `*` for any).
    /// Without it, a browser request from another origin gets 403.
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// Decisions kept in the template cache.
    #[arg(long, default_value_t = DEFAULT_CACHE_CAPACITY)]
    pub cache_size: usize,
    #[command(flatten)]
    pub llm: crate::llm::LlmArgs,
    /// Pattern counts over time (GET /patterns, the pattern metrics) and the new-pattern webhook.
    #[command(flatten)]
    pub live: crate::alert::LiveArgs,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let token = match &args.token_env {
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => bail!("--token-env {var}: the environment variable {var} is not set or empty"),
        },
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("logsift-http").build()?;
    // Signals first: SIGTERM while the model loads is a clean stop too.
    let shutdown = {
        let _in_runtime = runtime.enter();
        logsift_server::shutdown_signal()
    };
    let loaded = crate::model::load(&args.bundle, &args.llm, args.cache_size)?;
    let live = args.live.live(*loaded.pipeline.masker(), &loaded.bundle.known_labels())?;
    let m = &loaded.bundle.manifest;
    let info = ModelInfo {
        name: m.name.clone(),
        dir: loaded.bundle.dir.display().to_string(),
        encoder: m.encoder.id.clone(),
        threshold: m.threshold,
        labels: loaded.bundle.known_labels(),
        tiers: loaded.pipeline.describe(),
    };
    let cfg = ServiceConfig {
        token,
        max_body_bytes: args.max_body_mib.saturating_mul(1024 * 1024),
        max_rows: args.max_rows.max(1),
        request_timeout: Duration::from_secs_f64(args.timeout.max(0.001)),
        max_batch_lines: args.batch_size.max(1),
        max_line_bytes: args.max_line_bytes,
        allowed_hosts: allowed_hosts(&args.addr, &args.allow_host),
        cors_origins: args.cors_origin.iter().map(|o| o.trim_end_matches('/').to_string()).collect(),
        max_inflight_bytes: args.max_inflight_mib.max(1).saturating_mul(1024 * 1024),
        max_columns: args.max_columns.max(1),
        stream_idle_timeout: Duration::from_secs_f64(args.idle_timeout.max(0.001)),
        conn: logsift_server::conn::ConnLimits {
            header_timeout: Duration::from_secs_f64(args.header_timeout.max(0.001)),
            max_connections: args.max_connections.max(1),
            reserve: logsift_server::conn::ConnLimits::default().reserve,
            shutdown_grace: Duration::from_secs_f64(args.shutdown_grace.max(0.0)),
        },
        live: Some(live),
    };
    let limits = cfg.conn.clone();
    let authed = cfg.token.is_some();
    // /label compares templates by meaning when the MiniLM weights are here.
    let label_encoder = crate::label::encoder_said(crate::label::LabelEncoder::Auto, args.bundle.encoder_dir.as_deref(), true)?;
    let router = logsift_server::router_with_label(
        loaded.pipeline,
        info,
        loaded.llm.map(|l| l as std::sync::Arc<dyn logsift_core::telemetry::TierReport>),
        cfg,
        logsift_server::label::LabelApp::for_uploads(label_encoder, Default::default(), crate::llm::LabelAsker::from_flags(&args.llm)?),
    );
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr()?;
        eprintln!(
            "logsift: serving on http://{addr} (model {}; {}); Ctrl-C or SIGTERM stops it after the requests in flight",
            loaded.bundle.dir.display(),
            if authed { "bearer token required" } else { "no token" }
        );
        logsift_server::conn::serve_with(listener, router, shutdown, limits).await.context("the server failed")?;
        eprintln!("logsift: stopped");
        Ok::<(), anyhow::Error>(())
    })?;
    // The pipeline thread ends when the router (and its queue) is dropped.
    runtime.shutdown_timeout(Duration::from_secs(5));
    Ok(())
}

/// The Host values the service answers (see `--allow-host`): `None` for any.
pub(crate) fn allowed_hosts(addr: &str, given: &[String]) -> Option<Vec<String>> {
    if !given.is_empty() {
        return Some(given.iter().map(|h| h.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()).collect());
    }
    let ip = addr.parse::<std::net::SocketAddr>().map(|a| a.ip()).ok();
    let loopback = || vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    match ip {
        Some(ip) if ip.is_unspecified() => None,
        Some(ip) if ip.is_loopback() => Some(loopback()),
        Some(ip) => {
            let mut v = loopback();
            v.push(ip.to_string());
            Some(v)
        }
        // A name (`localhost:8000`): that name and the loopback names.
        None => {
            let name = addr.rsplit_once(':').map_or(addr, |(h, _)| h).to_ascii_lowercase();
            let mut v = loopback();
            if !v.contains(&name) {
                v.push(name);
            }
            Some(v)
        }
    }
}
