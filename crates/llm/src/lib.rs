//! # logsift-llm
//!
//! The last tier of the cascade asks a chat model about the lines that rules
//! and model could not decide. This crate holds what that conversation is
//! made of, independent of any transport:
//!
//! * [`prompt`]: the request — the label set with a one-line description of
//!   each, a few labeled examples as guidance, and up to N numbered lines per
//!   request (one request answers many lines) — plus the JSON schema that
//!   constrains the answer to the labels (for servers that support
//!   `response_format` with a schema, grammar-constrained decoding makes even a
//!   tiny model answer only valid labels).
//! * [`answer`]: strict parsing of the reply. Reasoning blocks
//!   (`<think>…</think>`) and code fences are stripped; only labels of the set
//!   (case- and whitespace-tolerant) or `Unclassified` are accepted, and every
//!   other answer is a failure *for that line*, never for the batch.
//!
//! * [`examples`]: the labeled examples shown with each request, the nearest
//!   ones to its lines.
//!
//! [`client::LlmTier`] sends them to an OpenAI-compatible endpoint with
//! batching, bounded concurrency, retries, a budget and a circuit breaker, or
//! (feature `local`, on by default) to a GGUF model run in-process by
//! [`local::LocalModel`], constrained to answer only labels of the set.

#![deny(missing_docs)]

pub mod answer;
pub mod client;
pub mod examples;
#[cfg(feature = "local")]
pub mod local;
pub mod prompt;
pub mod settings;

/// `url` without user info and query (`http://u:p@h/v1?key=x` → `http://h/v1`).
pub fn redact_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_string(),
    }
}

/// The chat-completions endpoint of a base URL: the path gets
/// `/chat/completions`, and a query string (`?key=…`, `?api-version=…`)
/// stays after it (`…/v1?key=abc` → `…/v1/chat/completions?key=abc`); a
/// fragment is dropped, as HTTP never sends one.
pub fn chat_url(base: &str) -> String {
    let cut = base.find(['?', '#']).unwrap_or(base.len());
    let (path, rest) = base.split_at(cut);
    let query = rest.split('#').next().unwrap_or("");
    format!("{}/chat/completions{query}", path.trim_end_matches('/'))
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn the_endpoint_keeps_the_query_after_the_path() {
        // Before: `…/v1?key=abc/chat/completions`.
        for (base, url) in [
            ("http://h:8080/v1?key=abc", "http://h:8080/v1/chat/completions?key=abc"),
            ("http://h/v1/?key=a&b=c#frag", "http://h/v1/chat/completions?key=a&b=c"),
            ("https://api.groq.com/openai/v1", "https://api.groq.com/openai/v1/chat/completions"),
            ("http://h/v1/", "http://h/v1/chat/completions"),
        ] {
            assert_eq!(chat_url(base), url);
        }
        assert_eq!(redact_url("http://u:p@h/v1?key=abc"), "http://h/v1", "the key is never shown");
    }
}
