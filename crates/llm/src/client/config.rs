//! What the tier is told: the known servers ([`PRESETS`]) and an
//! [`LlmConfig`] (endpoint, model, key, batching, retries, budget, breaker).

use std::time::Duration;

/// How to ask for JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    /// Say it in the prompt only.
    Prompt,
    /// `response_format: {"type": "json_object"}`.
    JsonObject,
    /// `response_format` with a JSON schema whose items enumerate the labels
    /// (grammar-constrained decoding on servers that support it), in
    /// OpenAI's form: `{"type": "json_schema", "json_schema": {...}}`.
    JsonSchema,
    /// The same constraint in llama.cpp's form: `{"type": "json_object", "schema": ...}`.
    JsonObjectSchema,
}

/// A known server kind: where it listens and how it takes JSON requests.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name given to `--llm-preset`.
    pub name: &'static str,
    /// Base URL (ending in `/v1`).
    pub base_url: &'static str,
    /// A default model.
    pub model: &'static str,
    /// The environment variable holding the API key, if the service needs one.
    pub key_env: Option<&'static str>,
    /// How to ask for JSON.
    pub format: ResponseFormat,
}

/// The presets: hosted services and local servers.
pub const PRESETS: [Preset; 6] = [
    Preset {
        name: "groq",
        base_url: "https://api.groq.com/openai/v1",
        model: "llama-3.1-8b-instant",
        key_env: Some("GROQ_API_KEY"),
        format: ResponseFormat::JsonObject,
    },
    Preset {
        name: "openai",
        base_url: "https://api.openai.com/v1",
        model: "gpt-4o-mini",
        key_env: Some("OPENAI_API_KEY"),
        format: ResponseFormat::JsonSchema,
    },
    Preset {
        name: "deepseek",
        base_url: "https://api.deepseek.com/v1",
        model: "deepseek-chat",
        key_env: Some("DEEPSEEK_API_KEY"),
        format: ResponseFormat::JsonObject,
    },
    Preset { name: "ollama", base_url: "http://127.0.0.1:11434/v1", model: "llama3.1", key_env: None, format: ResponseFormat::JsonObject },
    Preset { name: "vllm", base_url: "http://127.0.0.1:8000/v1", model: "default", key_env: None, format: ResponseFormat::JsonSchema },
    Preset {
        name: "llamacpp",
        base_url: "http://127.0.0.1:8080/v1",
        model: "default",
        key_env: None,
        format: ResponseFormat::JsonObjectSchema,
    },
];

/// The preset of that name.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Everything the LLM tier needs to know.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL; requests go to `{base_url}/chat/completions`, with the
    /// base's query string, if any, kept after the path ([`crate::chat_url`]).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// API key (sent as a bearer token; never logged).
    pub api_key: Option<String>,
    /// How to ask for JSON.
    pub format: ResponseFormat,
    /// Lines per request.
    pub batch_lines: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Time limit of one request.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First retry delay; doubles each retry, with jitter.
    pub backoff: Duration,
    /// Longest wait between retries (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Requests per run (attempts count), if capped.
    pub max_requests: Option<u64>,
    /// Requests per minute, if capped.
    pub max_per_minute: Option<u64>,
    /// Failed requests in a row that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker stops calls.
    pub breaker_cooldown: Duration,
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &crate::redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("format", &self.format)
            .field("batch_lines", &self.batch_lines)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl LlmConfig {
    /// A config for `base_url` and `model` with the default limits.
    pub fn new(base_url: &str, model: &str) -> Self {
        LlmConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: None,
            format: ResponseFormat::JsonObject,
            batch_lines: 20,
            concurrency: 4,
            timeout: Duration::from_secs(60),
            max_retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_requests: None,
            max_per_minute: None,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}
