//! The `--llm-*` flags, and the LLM tier they build.

use anyhow::Result;
use clap::Args;
use logsift_core::Bundle;
use logsift_llm::client::LlmStats;
use logsift_llm::settings::LlmSettings;

/// Flags of the LLM tier (off unless a preset or a URL is given). Each can
/// also come from `--llm-config FILE` or the bundle's `[llm]` table (same
/// names without the `llm-` prefix, `_` for `-`); flags win, then the file,
/// then the bundle.
#[derive(Args, Debug, Clone, Default)]
pub struct LlmArgs {
    /// TOML file of LLM settings (preset, url, model, key_env, batch, concurrency,
    /// max_requests, max_per_minute, timeout, retries, review).
    #[arg(long)]
    pub llm_config: Option<std::path::PathBuf>,
    /// Use an LLM for what rules and model leave: groq, openai, deepseek, ollama, vllm, llamacpp,
    /// or local (a GGUF chat model run in-process: --llm-model PATH).
    #[arg(long)]
    pub llm_preset: Option<String>,
    /// Base URL of an OpenAI-compatible API (…/v1); overrides the preset's.
    #[arg(long)]
    pub llm_url: Option<String>,
    /// Model name; overrides the preset's. With --llm-preset local: the GGUF file.
    #[arg(long)]
    pub llm_model: Option<String>,
    /// Environment variable holding the API key (the key itself is never a flag).
    #[arg(long)]
    pub llm_key_env: Option<String>,
    /// Lines per request [default: 20].
    #[arg(long)]
    pub llm_batch: Option<usize>,
    /// Requests in flight at once [default: 4].
    #[arg(long)]
    pub llm_concurrency: Option<usize>,
    /// Most requests in this run (retries count); past it, lines get reason "llm budget".
    #[arg(long)]
    pub llm_max_requests: Option<u64>,
    /// Most requests per minute.
    #[arg(long)]
    pub llm_max_per_minute: Option<u64>,
    /// Seconds a request may take [default: 60].
    #[arg(long)]
    pub llm_timeout: Option<f64>,
    /// Retries of a failed request [default: 3].
    #[arg(long)]
    pub llm_retries: Option<u32>,
    /// Append every LLM decision to this JSON Lines file, for review and
    /// for `logsift train --feedback`.
    #[arg(long)]
    pub llm_review: Option<std::path::PathBuf>,
    /// A line the model is unsure of and no LLM decides becomes `Unclassified`
    /// (the reason names the model's guess). Without it, such a line keeps the
    /// model's best guess, tier `model`, with a detail that starts
    /// `model: best guess`.
    #[arg(long)]
    pub strict: bool,
    /// Ask the LLM about every line the model is unsure of, even when the
    /// bundle records (`eval --record-llm`) that this LLM was less accurate on
    /// such lines than the model's own guess (then, by default, the guess is kept).
    #[arg(long)]
    pub llm_always: bool,
}

/// An LLM tier and, when it is a real one, its counters.
pub type LlmTierAndStats = logsift_llm::settings::TierAndStats;

impl LlmArgs {
    /// The flags as settings (those given; the rest from lower layers).
    fn flags(&self) -> LlmSettings {
        LlmSettings {
            preset: self.llm_preset.clone(),
            url: self.llm_url.clone(),
            model: self.llm_model.clone(),
            key_env: self.llm_key_env.clone(),
            batch: self.llm_batch,
            concurrency: self.llm_concurrency,
            max_requests: self.llm_max_requests,
            max_per_minute: self.llm_max_per_minute,
            timeout: self.llm_timeout,
            retries: self.llm_retries,
            review: self.llm_review.clone(),
        }
    }
}

/// The settings in force: flags, then `--llm-config`, then the bundle's `[llm]`.
fn settings(args: &LlmArgs, bundle: &Bundle) -> Result<LlmSettings> {
    let file = match &args.llm_config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            LlmSettings::from_toml(&text, &path.display().to_string())?
        }
        None => LlmSettings::default(),
    };
    Ok(args.flags().or(file).or(LlmSettings::from_bundle(bundle)?))
}

/// Which LLM the settings name, or `None` when the LLM tier is off (see
/// [`LlmSettings::identity`]).
pub fn identity(args: &LlmArgs, bundle: &Bundle) -> Result<Option<String>> {
    Ok(settings(args, bundle)?.identity())
}

/// The LLM tier the flags ask for (disabled when none), and its counters.
pub fn tier(args: &LlmArgs, bundle: &Bundle) -> Result<LlmTierAndStats> {
    Ok(settings(args, bundle)?.tier(bundle)?)
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

/// The LLM settings of `label` (flags, then `--llm-config`; no bundle).
pub fn settings_without_bundle(args: &LlmArgs) -> Result<LlmSettings> {
    let file = match &args.llm_config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            LlmSettings::from_toml(&text, &path.display().to_string())?
        }
        None => LlmSettings::default(),
    };
    Ok(args.flags().or(file))
}

/// The LLM tier asked for labelling suggestions: a tier built for the
/// session's labels of the moment, shown its decisions as examples. Its
/// counters add up over the tiers built, for the cost on the page.
pub struct LabelAsker {
    settings: LlmSettings,
    stats: std::sync::Mutex<Vec<std::sync::Arc<LlmStats>>>,
}

impl LabelAsker {
    /// An asker, or `None` when the flags name no LLM.
    pub fn from_flags(args: &LlmArgs) -> Result<Option<std::sync::Arc<dyn logsift_core::offline::label::Asker>>> {
        let settings = settings_without_bundle(args)?;
        if settings.identity().is_none() {
            return Ok(None);
        }
        // Built once now, so that a wrong URL, preset or key is said at start.
        let probe = vec![logsift_llm::prompt::LabelSpec { name: "x".into(), description: String::new() }];
        settings.tier_for(probe, vec![])?;
        Ok(Some(std::sync::Arc::new(LabelAsker { settings, stats: Default::default() })))
    }
}

impl logsift_core::offline::label::Asker for LabelAsker {
    fn ask(
        &self,
        labels: &[String],
        examples: &[(String, String, String)],
        items: &[logsift_core::offline::label::AskItem],
    ) -> Vec<Option<String>> {
        use logsift_core::tier::{Query, Verdict};
        let specs = labels.iter().map(|l| logsift_llm::prompt::LabelSpec { name: l.clone(), description: String::new() }).collect();
        let shown = examples
            .iter()
            .map(|(line, label, template)| (logsift_llm::prompt::Example { line: line.clone(), label: label.clone() }, template.clone()))
            .collect();
        let (tier, stats) = match self.settings.tier_for(specs, shown) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("cannot ask the LLM for suggestions: {e}");
                return vec![None; items.len()];
            }
        };
        if let (Some(s), Ok(mut all)) = (stats, self.stats.lock()) {
            all.push(s);
        }
        let queries: Vec<Query> = items.iter().map(|i| Query { source: &i.source, message: &i.line, template: &i.masked }).collect();
        match tier.decide(&queries) {
            Ok(verdicts) => {
                verdicts.into_iter().map(|v| if let Verdict::Decided(d) = v { Some(d.label.to_string()) } else { None }).collect()
            }
            Err(e) => {
                tracing::warn!("the LLM gave no suggestions: {e}");
                vec![None; items.len()]
            }
        }
    }

    fn cost(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let all = self.stats.lock().map(|v| v.clone()).unwrap_or_default();
        let sum = |f: fn(&LlmStats) -> u64| all.iter().map(|s| f(s)).sum::<u64>();
        format!(
            "{} requests ({} failed), {} prompt + {} completion tokens, {} templates answered",
            sum(|s| s.requests.load(Relaxed)),
            sum(|s| s.failures.load(Relaxed)),
            sum(|s| s.prompt_tokens.load(Relaxed)),
            sum(|s| s.completion_tokens.load(Relaxed)),
            sum(|s| s.labeled.load(Relaxed))
        )
    }
}
