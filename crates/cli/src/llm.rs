//! The `--llm-*` flags, and the LLM tier they build.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Args;
use logsift_core::tier::{DisabledLlm, Tier};
use logsift_core::Bundle;
use logsift_llm::client::{preset, LlmConfig, LlmStats, LlmTier, ResponseFormat, PRESETS};
use logsift_llm::prompt::{Example, LabelSpec};

/// Flags of the LLM tier (off unless a preset or a URL is given). Each can
/// also come from `--llm-config FILE` or the bundle's `[llm]` table (same
/// names without the `llm-` prefix, `_` for `-`); flags win, then the file,
/// then the bundle.
#[derive(Args, Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmArgs {
    /// TOML file of LLM settings (preset, url, model, key_env, batch, concurrency,
    /// max_requests, max_per_minute, timeout, retries, review).
    #[arg(long)]
    #[serde(skip)]
    pub llm_config: Option<std::path::PathBuf>,
    /// Use an LLM for what rules and model leave: groq, openai, deepseek, ollama, vllm, llamacpp,
    /// or local (a GGUF chat model run in-process: --llm-model PATH).
    #[arg(long)]
    #[serde(rename = "preset")]
    pub llm_preset: Option<String>,
    /// Base URL of an OpenAI-compatible API (…/v1); overrides the preset's.
    #[arg(long)]
    #[serde(rename = "url")]
    pub llm_url: Option<String>,
    /// Model name; overrides the preset's. With --llm-preset local: the GGUF file.
    #[arg(long)]
    #[serde(rename = "model")]
    pub llm_model: Option<String>,
    /// Environment variable holding the API key (the key itself is never a flag).
    #[arg(long)]
    #[serde(rename = "key_env")]
    pub llm_key_env: Option<String>,
    /// Lines per request [default: 20].
    #[arg(long)]
    #[serde(rename = "batch")]
    pub llm_batch: Option<usize>,
    /// Requests in flight at once [default: 4].
    #[arg(long)]
    #[serde(rename = "concurrency")]
    pub llm_concurrency: Option<usize>,
    /// Most requests in this run (retries count); past it, lines get reason "llm budget".
    #[arg(long)]
    #[serde(rename = "max_requests")]
    pub llm_max_requests: Option<u64>,
    /// Most requests per minute.
    #[arg(long)]
    #[serde(rename = "max_per_minute")]
    pub llm_max_per_minute: Option<u64>,
    /// Seconds a request may take [default: 60].
    #[arg(long)]
    #[serde(rename = "timeout")]
    pub llm_timeout: Option<f64>,
    /// Retries of a failed request [default: 3].
    #[arg(long)]
    #[serde(rename = "retries")]
    pub llm_retries: Option<u32>,
    /// Append every LLM decision to this JSON Lines file, for review and
    /// for `logsift train --feedback`.
    #[arg(long)]
    #[serde(rename = "review")]
    pub llm_review: Option<std::path::PathBuf>,
    /// A line the model is unsure of and no LLM decides becomes `Unclassified`
    /// (the reason names the model's guess). Without it, such a line keeps the
    /// model's best guess, tier `model`, with a detail that starts
    /// `model: best guess`.
    #[arg(long)]
    #[serde(skip)]
    pub strict: bool,
    /// Ask the LLM about every line the model is unsure of, even when the
    /// bundle records (`eval --record-llm`) that this LLM was less accurate on
    /// such lines than the model's own guess (then, by default, the guess is kept).
    #[arg(long)]
    #[serde(skip)]
    pub llm_always: bool,
}

/// An LLM tier and, when it is a real one, its counters.
pub type LlmTierAndStats = (Box<dyn Tier>, Option<Arc<LlmStats>>);

impl LlmArgs {
    /// Each setting from `self`, else from `lower`.
    fn or(self, lower: LlmArgs) -> LlmArgs {
        LlmArgs {
            llm_config: self.llm_config,
            llm_preset: self.llm_preset.or(lower.llm_preset),
            llm_url: self.llm_url.or(lower.llm_url),
            llm_model: self.llm_model.or(lower.llm_model),
            llm_key_env: self.llm_key_env.or(lower.llm_key_env),
            llm_batch: self.llm_batch.or(lower.llm_batch),
            llm_concurrency: self.llm_concurrency.or(lower.llm_concurrency),
            llm_max_requests: self.llm_max_requests.or(lower.llm_max_requests),
            llm_max_per_minute: self.llm_max_per_minute.or(lower.llm_max_per_minute),
            llm_timeout: self.llm_timeout.or(lower.llm_timeout),
            llm_retries: self.llm_retries.or(lower.llm_retries),
            llm_review: self.llm_review.or(lower.llm_review),
            strict: self.strict || lower.strict,
            llm_always: self.llm_always || lower.llm_always,
        }
    }
}

/// The settings in force: flags, then `--llm-config`, then the bundle's `[llm]`.
fn settings(args: &LlmArgs, bundle: &Bundle) -> Result<LlmArgs> {
    let file = match &args.llm_config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            toml::from_str::<LlmArgs>(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => LlmArgs::default(),
    };
    let in_bundle = match &bundle.manifest.llm {
        Some(table) => {
            table.clone().try_into::<LlmArgs>().map_err(|e| anyhow::anyhow!("{}: [llm]: {e}", bundle.dir.join("model.toml").display()))?
        }
        None => LlmArgs::default(),
    };
    Ok(args.clone().or(file).or(in_bundle))
}

/// Which LLM the settings name (`MODEL at URL` without credentials or query,
/// or `local:FILE`), or `None` when the LLM tier is off: the key of the
/// bundle's `llm_measured` records.
pub fn identity(args: &LlmArgs, bundle: &Bundle) -> Result<Option<String>> {
    let a = settings(args, bundle)?;
    if a.llm_preset.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("local")) {
        let file =
            a.llm_model.as_deref().map(|m| std::path::Path::new(m).file_name().map_or(m.to_string(), |f| f.to_string_lossy().into()));
        return Ok(Some(format!("local:{}", file.unwrap_or_default())));
    }
    let p = a.llm_preset.as_deref().and_then(preset);
    let Some(url) = a.llm_url.clone().or_else(|| p.map(|p| p.base_url.to_string())) else {
        return Ok(None);
    };
    let model = a.llm_model.clone().or_else(|| p.map(|p| p.model.to_string())).unwrap_or_else(|| "default".into());
    Ok(Some(format!("{model} at {}", redact_url(&url))))
}

pub use logsift_llm::redact_url;

/// The LLM tier the flags ask for (disabled when none), and its counters.
pub fn tier(args: &LlmArgs, bundle: &Bundle) -> Result<LlmTierAndStats> {
    let args = &settings(args, bundle)?;
    let labels: Vec<LabelSpec> = bundle
        .known_labels()
        .into_iter()
        .map(|name| {
            let description = bundle.manifest.labels.iter().find(|l| l.name == name).map(|l| l.description.clone()).unwrap_or_default();
            LabelSpec { name, description }
        })
        .collect();
    let examples: Vec<(Example, String)> =
        bundle.examples.iter().map(|e| (Example { line: e.line.clone(), label: e.label.clone() }, e.template.clone())).collect();
    let cfg = |url: &str, model: &str, api_key: Option<String>, format: ResponseFormat| LlmConfig {
        api_key,
        format,
        batch_lines: args.llm_batch.unwrap_or(20).max(1),
        concurrency: args.llm_concurrency.unwrap_or(4).max(1),
        timeout: Duration::from_secs_f64(args.llm_timeout.unwrap_or(60.0).max(0.1)),
        max_retries: args.llm_retries.unwrap_or(3),
        max_requests: args.llm_max_requests,
        max_per_minute: args.llm_max_per_minute,
        ..LlmConfig::new(url, model)
    };
    let tier = if args.llm_preset.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("local")) {
        let Some(path) = &args.llm_model else {
            bail!("--llm-preset local needs --llm-model PATH (a GGUF chat model, e.g. from scripts/fetch-smollm.sh)");
        };
        LlmTier::local(cfg("", "", None, ResponseFormat::Prompt), std::path::Path::new(path), labels, examples)
            .map_err(anyhow::Error::msg)?
    } else {
        match http_tier(args, labels, examples, cfg)? {
            Some(t) => t,
            None => return Ok((Box::new(DisabledLlm), None)),
        }
    };
    with_review(tier, args)
}

/// The tier over an OpenAI-compatible server, when a preset or URL is given.
fn http_tier(
    args: &LlmArgs,
    labels: Vec<LabelSpec>,
    examples: Vec<(Example, String)>,
    cfg: impl Fn(&str, &str, Option<String>, ResponseFormat) -> LlmConfig,
) -> Result<Option<LlmTier>> {
    let p = match &args.llm_preset {
        Some(name) => match preset(name) {
            Some(p) => Some(p),
            None => {
                bail!(
                    "unknown --llm-preset '{name}': expected one of {}, local",
                    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
                )
            }
        },
        None => None,
    };
    let Some(url) = args.llm_url.clone().or_else(|| p.map(|p| p.base_url.to_string())) else {
        return Ok(None);
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
    let cfg = cfg(&url, &model, api_key, p.map_or(ResponseFormat::JsonObject, |p| p.format));
    Ok(Some(LlmTier::new(cfg, labels, examples).map_err(anyhow::Error::msg)?))
}

/// Adds the review file, when asked for.
fn with_review(mut tier: LlmTier, args: &LlmArgs) -> Result<LlmTierAndStats> {
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
