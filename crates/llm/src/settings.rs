//! The LLM tier a set of settings asks for: one builder for the CLI's
//! `--llm-*` flags and `--llm-config` file, the bundle's `[llm]` table, and
//! Python's keyword arguments. Settings are layered (flags, then the file,
//! then the bundle); the API key is read from the environment variable the
//! settings name, never from the settings themselves.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use logsift_core::tier::{DisabledLlm, Tier};
use logsift_core::Bundle;

use crate::client::{preset, LlmConfig, LlmStats, LlmTier, ResponseFormat, SetupError, PRESETS};
use crate::prompt::{Example, LabelSpec};

/// LLM settings; each may be absent (then the next layer's, or the default).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// groq, openai, deepseek, ollama, vllm, llamacpp, or local (a GGUF file run in-process).
    pub preset: Option<String>,
    /// Base URL of an OpenAI-compatible API (…/v1); overrides the preset's.
    pub url: Option<String>,
    /// Model name; overrides the preset's. With preset local: the GGUF file.
    pub model: Option<String>,
    /// Environment variable holding the API key.
    pub key_env: Option<String>,
    /// Lines per request [20].
    pub batch: Option<usize>,
    /// Requests in flight at once [4].
    pub concurrency: Option<usize>,
    /// Most requests in this run.
    pub max_requests: Option<u64>,
    /// Most requests per minute.
    pub max_per_minute: Option<u64>,
    /// Seconds a request may take [60].
    pub timeout: Option<f64>,
    /// Retries of a failed request [3].
    pub retries: Option<u32>,
    /// Append every LLM decision to this JSON Lines file.
    pub review: Option<PathBuf>,
}

/// Settings that cannot make a tier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A settings file or the bundle's `[llm]` table does not parse.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (and table).
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// No such preset.
    #[error("unknown --llm-preset '{0}': expected one of {known}, local", known = PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "))]
    UnknownPreset(String),
    /// The in-process preset without a model file.
    #[error("--llm-preset local needs --llm-model PATH (a GGUF chat model, e.g. from scripts/fetch-smollm.sh)")]
    LocalNeedsModel,
    /// The key's variable is not set.
    #[error("the LLM needs an API key: set the environment variable {0}")]
    NoKey(String),
    /// The tier could not be built.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The review file cannot be opened.
    #[error("cannot open the review file {}: {source}", .path.display())]
    Review {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// An LLM tier and, when it is a real one, its counters.
pub type TierAndStats = (Box<dyn Tier>, Option<Arc<LlmStats>>);

impl LlmSettings {
    /// Each setting from `self`, else from `lower`.
    pub fn or(self, lower: LlmSettings) -> LlmSettings {
        LlmSettings {
            preset: self.preset.or(lower.preset),
            url: self.url.or(lower.url),
            model: self.model.or(lower.model),
            key_env: self.key_env.or(lower.key_env),
            batch: self.batch.or(lower.batch),
            concurrency: self.concurrency.or(lower.concurrency),
            max_requests: self.max_requests.or(lower.max_requests),
            max_per_minute: self.max_per_minute.or(lower.max_per_minute),
            timeout: self.timeout.or(lower.timeout),
            retries: self.retries.or(lower.retries),
            review: self.review.or(lower.review),
        }
    }

    /// Settings from TOML text (`origin` names it in errors).
    pub fn from_toml(text: &str, origin: &str) -> Result<LlmSettings, SettingsError> {
        toml::from_str(text).map_err(|e| SettingsError::Parse { origin: origin.into(), message: e.to_string() })
    }

    /// The bundle's `[llm]` table.
    pub fn from_bundle(bundle: &Bundle) -> Result<LlmSettings, SettingsError> {
        match &bundle.manifest.llm {
            Some(table) => table.clone().try_into::<LlmSettings>().map_err(|e| SettingsError::Parse {
                origin: format!("{}: [llm]", bundle.dir.join("model.toml").display()),
                message: e.to_string(),
            }),
            None => Ok(LlmSettings::default()),
        }
    }

    fn is_local(&self) -> bool {
        self.preset.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("local"))
    }

    /// Which LLM the settings name (`MODEL at URL` without credentials or
    /// query, or `local:FILE`), or `None` when the LLM tier is off: the key
    /// of the bundle's `llm_measured` records.
    pub fn identity(&self) -> Option<String> {
        if self.is_local() {
            let file =
                self.model.as_deref().map(|m| std::path::Path::new(m).file_name().map_or(m.to_string(), |f| f.to_string_lossy().into()));
            return Some(format!("local:{}", file.unwrap_or_default()));
        }
        let p = self.preset.as_deref().and_then(preset);
        let url = self.url.clone().or_else(|| p.map(|p| p.base_url.to_string()))?;
        let model = self.model.clone().or_else(|| p.map(|p| p.model.to_string())).unwrap_or_else(|| "default".into());
        Some(format!("{model} at {}", crate::redact_url(&url)))
    }

    /// The tier these settings ask for over `bundle`'s labels and examples
    /// (disabled when they name no LLM), and its counters.
    pub fn tier(&self, bundle: &Bundle) -> Result<TierAndStats, SettingsError> {
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
        self.tier_for(labels, examples)
    }

    /// The tier these settings ask for over `labels`, shown `examples`
    /// (each beside the text it is matched on), and its counters.
    pub fn tier_for(&self, labels: Vec<LabelSpec>, examples: Vec<(Example, String)>) -> Result<TierAndStats, SettingsError> {
        let cfg = |url: &str, model: &str, api_key: Option<String>, format: ResponseFormat| LlmConfig {
            api_key,
            format,
            batch_lines: self.batch.unwrap_or(20).max(1),
            concurrency: self.concurrency.unwrap_or(4).max(1),
            timeout: Duration::from_secs_f64(self.timeout.unwrap_or(60.0).max(0.1)),
            max_retries: self.retries.unwrap_or(3),
            max_requests: self.max_requests,
            max_per_minute: self.max_per_minute,
            ..LlmConfig::new(url, model)
        };
        let mut tier = if self.is_local() {
            let path = self.model.as_ref().ok_or(SettingsError::LocalNeedsModel)?;
            local_tier(cfg("", "", None, ResponseFormat::Prompt), std::path::Path::new(path), labels, examples)?
        } else {
            let p = match &self.preset {
                Some(name) => Some(preset(name).ok_or_else(|| SettingsError::UnknownPreset(name.clone()))?),
                None => None,
            };
            let Some(url) = self.url.clone().or_else(|| p.map(|p| p.base_url.to_string())) else {
                return Ok((Box::new(DisabledLlm), None));
            };
            let model = self.model.clone().or_else(|| p.map(|p| p.model.to_string())).unwrap_or_else(|| "default".into());
            let key_env = self.key_env.clone().or_else(|| p.and_then(|p| p.key_env.map(String::from)));
            let api_key = match &key_env {
                Some(var) => match std::env::var(var) {
                    Ok(k) if !k.trim().is_empty() => Some(k),
                    _ => return Err(SettingsError::NoKey(var.clone())),
                },
                None => None,
            };
            let cfg = cfg(&url, &model, api_key, p.map_or(ResponseFormat::JsonObject, |p| p.format));
            LlmTier::new(cfg, labels, examples)?
        };
        if let Some(path) = &self.review {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| SettingsError::Review { path: path.clone(), source })?;
            tier = tier.with_review(Box::new(file));
        }
        let stats = tier.stats();
        Ok((Box::new(tier), Some(stats)))
    }
}

#[cfg(feature = "local")]
fn local_tier(
    cfg: LlmConfig,
    path: &std::path::Path,
    labels: Vec<LabelSpec>,
    examples: Vec<(Example, String)>,
) -> Result<LlmTier, SettingsError> {
    Ok(LlmTier::local(cfg, path, labels, examples)?)
}

#[cfg(not(feature = "local"))]
fn local_tier(_: LlmConfig, _: &std::path::Path, _: Vec<LabelSpec>, _: Vec<(Example, String)>) -> Result<LlmTier, SettingsError> {
    Err(SettingsError::Parse { origin: "--llm-preset local".into(), message: "this build has no in-process LLM (feature `local`)".into() })
}
