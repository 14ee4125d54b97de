//! The one interface between the pipeline and its tiers.

use std::sync::Arc;

use crate::record::{Decision, TierKind};

/// What a tier is asked about: one line, or one distinct template.
///
/// The rules tier gets every line that reaches it with its raw `message`; the
/// model and LLM tiers get one query per distinct (scope, template) and should
/// decide from `template`, so that their decision can be cached for it.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The record's source.
    pub source: &'a str,
    /// The raw line (for a template query: the first line seen with it).
    pub message: &'a str,
    /// The masked line.
    pub template: &'a str,
}

/// A tier's answer for one query.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The tier decided; the cascade stops here for this query.
    Decided(Decision),
    /// The tier passes the query on; the text says why (it becomes part of the
    /// reason if no later tier decides either). Passing is an answer: the
    /// outcome may be cached for the template.
    Pass(Arc<str>),
    /// The tier is not sure enough to decide and passes the query on, but
    /// offers its best guess (a [`Decision`] whose detail says why it was not
    /// trusted). The pipeline keeps the guess when no later tier decides,
    /// unless it was built strict ([`crate::pipeline::Fallback::Strict`]).
    /// Cached like a pass.
    Guess(Decision),
    /// The tier could not answer this query now (a timeout, a spent budget):
    /// the record becomes `Unclassified` with this reason and nothing is cached,
    /// so the template is asked about again later.
    Failed(Arc<str>),
}

/// A tier failed as a whole for a batch (e.g. its endpoint is down).
///
/// The pipeline turns the queries it held into `Unclassified` with this error as
/// the reason, does not cache them, and goes on with the batch.
#[derive(Debug, thiserror::Error)]
#[error("{tier} tier failed: {message}")]
pub struct TierError {
    /// Which tier.
    pub tier: TierKind,
    /// What went wrong, for a person.
    pub message: String,
}

/// One stage of the cascade.
///
/// Implementations must return exactly one [`Verdict`] per query, in query
/// order; a result of another length is treated by the pipeline as a failure
/// of the tier.
pub trait Tier: Send + Sync {
    /// Which tier this is (the value of the `tier` column for its decisions).
    fn kind(&self) -> TierKind;

    /// Decides what it can of `queries`.
    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError>;

    /// A one-line description for summaries and health checks.
    fn describe(&self) -> String {
        self.kind().to_string()
    }

    /// How many queries this tier answers best in one call. The pipeline
    /// gathers up to this many unsure templates of a batch before asking the
    /// LLM tier (a remote LLM: lines per request times concurrent requests),
    /// and asks a tier with the default, 1, as soon as it has any.
    fn batch_hint(&self) -> usize {
        1
    }
}

/// The LLM tier when no LLM is configured: passes everything, with reason
/// `llm disabled`.
#[derive(Clone, Copy, Debug, Default)]
pub struct DisabledLlm;

impl Tier for DisabledLlm {
    fn kind(&self) -> TierKind {
        TierKind::Llm
    }

    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let reason: Arc<str> = Arc::from("llm disabled");
        Ok(queries.iter().map(|_| Verdict::Pass(reason.clone())).collect())
    }

    fn describe(&self) -> String {
        "llm (disabled)".into()
    }
}
