//! The `--llm-*` flags, and the LLM tier they build.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use logsift_core::tier::{DisabledLlm, Tier};
use logsift_core::Bundle;
use logsift_llm::client::{preset, LlmConfig, LlmStats, LlmTier, ResponseFormat, PRESETS};
use logsift_llm::prompt::LabelSpec;

/// Flags of the LLM tier (off unless a preset or a URL is given).
#[derive(Args, Debug, Clone, Default)]
pub struct LlmArgs {
    /// Use an LLM for what rules and model leave: groq, openai, deepseek, ollama, vllm or llamacpp.
    #[arg(long)]
    pub llm_preset: Option<String>,
    /// Base URL of an OpenAI-compatible API (…/v1); overrides the preset's.
    #[arg(long)]
    pub llm_url: Option<String>,
    /// Model name; overrides the preset's.
    #[arg(long)]
    pub llm_model: Option<String>,
    /// Environment variable holding the API key (the key itself is never a flag).
    #[arg(long)]
    pub llm_key_env: Option<String>,
    /// Lines per request.
    #[arg(long, default_value_t = 20)]
    pub llm_batch: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub llm_concurrency: usize,
    /// Most requests in this run (retries count); past it, lines get reason "llm budget".
    #[arg(long)]
    pub llm_max_requests: Option<u64>,
    /// Most requests per minute.
    #[arg(long)]
    pub llm_max_per_minute: Option<u64>,
    /// Seconds a request may take.
    #[arg(long, default_value_t = 60.0)]
    pub llm_timeout: f64,
    /// Retries of a failed request.
    #[arg(long, default_value_t = 3)]
    pub llm_retries: u32,
    /// Append every LLM decision to this JSON Lines file, for review and
    /// for `logsift train --feedback`.
    #[arg(long)]
    pub llm_review: Option<std::path::PathBuf>,
}

/// An LLM tier and, when it is a real one, its counters.
pub type LlmTierAndStats = (Box<dyn Tier>, Option<Arc<LlmStats>>);

/// The LLM tier the flags ask for (disabled when none), and its counters.
pub fn tier(args: &LlmArgs, bundle: &Bundle) -> Result<LlmTierAndStats> {
    let p = match &args.llm_preset {
        Some(name) => match preset(name) {
            Some(p) => Some(p),
            None => {
                bail!("unknown --llm-preset '{name}': expected one of {}", PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "))
            }
        },
        None => None,
    };
    let Some(url) = args.llm_url.clone().or_else(|| p.map(|p| p.base_url.to_string())) else {
        return Ok((Box::new(DisabledLlm), None));
    };
    let model = args.llm_model.clone().or_else(|| p.map(|p| p.model.to_string())).unwrap_or_else(|| "default".into());
    let key_env = args.llm_key_env.clone().or_else(|| p.and_then(|p| p.key_env.map(String::from)));
    let api_key = match &key_env {
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.trim().is_empty() => Some(k),
            _ => bail!("the LLM needs an API key: set the environment variable {var}"),
        },
        None => None,
    };
    let labels: Vec<LabelSpec> = bundle
        .known_labels()
        .into_iter()
        .map(|name| {
            let description = bundle.manifest.labels.iter().find(|l| l.name == name).map(|l| l.description.clone()).unwrap_or_default();
            LabelSpec { name, description }
        })
        .collect();
    let cfg = LlmConfig {
        api_key,
        format: p.map_or(ResponseFormat::JsonObject, |p| p.format),
        batch_lines: args.llm_batch.max(1),
        concurrency: args.llm_concurrency.max(1),
        timeout: Duration::from_secs_f64(args.llm_timeout.max(0.1)),
        max_retries: args.llm_retries,
        max_requests: args.llm_max_requests,
        max_per_minute: args.llm_max_per_minute,
        ..LlmConfig::new(&url, &model)
    };
    let mut tier = LlmTier::new(cfg, labels, vec![]).map_err(anyhow::Error::msg)?;
    if let Some(path) = &args.llm_review {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot open the review file {}: {e}", path.display()))?;
        tier = tier.with_review(Box::new(file));
    }
    let stats = tier.stats();
    Ok((Box::new(tier), Some(stats)))
}

/// One summary line of the LLM's work.
pub fn summary(stats: &LlmStats) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    format!(
        "llm: {} requests ({} failed), {} prompt + {} completion tokens, {} lines labeled, {} refused by budget or breaker",
        stats.requests.load(Relaxed),
        stats.failures.load(Relaxed),
        stats.prompt_tokens.load(Relaxed),
        stats.completion_tokens.load(Relaxed),
        stats.labeled.load(Relaxed),
        stats.refused.load(Relaxed)
    )
}
