//! What flows through the cascade: a [`Record`] in, a [`Decision`] out.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The label given to a record that no tier could decide.
pub const UNCLASSIFIED: &str = "Unclassified";

/// One log line to classify.
///
/// `source` and `message` are what the tiers look at; `passthrough` is what a
/// sink writes back verbatim next to the decision (the other CSV columns, the
/// original JSON object), so no input field is ever lost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// 1-based position of the record in its input (data row for CSV, line for
    /// JSON Lines and text). Used in messages about bad input.
    pub row: u64,
    /// The system that emitted the line (`source` column); may be empty.
    pub source: String,
    /// The log line itself (`log_message` column).
    pub message: String,
    /// Input fields kept verbatim for the output.
    pub passthrough: Passthrough,
    /// Why this record cannot be classified (bad input), if it cannot.
    ///
    /// An invalid record still flows through the pipeline and comes out, in its
    /// place, as `Unclassified` with this reason: output rows = input rows.
    pub invalid: Option<String>,
}

impl Record {
    /// A record with only a source and a message.
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        Record { source: source.into(), message: message.into(), ..Record::default() }
    }
}

/// Input fields a sink writes back next to the decision.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Passthrough {
    /// Nothing beyond source and message (plain-text input).
    #[default]
    None,
    /// Every column of a CSV row, in input order (source and message included).
    Columns(Vec<String>),
    /// The whole JSON object of a JSON Lines record.
    Json(serde_json::Map<String, serde_json::Value>),
    /// A JSON Lines line that was not a JSON object, kept as text.
    Raw(String),
}

/// Which tier of the cascade produced a decision.
///
/// `None` is the tier of an `Unclassified` decision, and only of those.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierKind {
    /// A regular expression of `rules.toml` matched.
    Rules,
    /// The embedding + logistic-regression head was confident enough.
    Model,
    /// The LLM answered.
    Llm,
    /// Nobody decided: the label is `Unclassified` and the detail says why.
    None,
}

impl TierKind {
    /// Every kind, in cascade order.
    pub const ALL: [TierKind; 4] = [TierKind::Rules, TierKind::Model, TierKind::Llm, TierKind::None];

    /// The name written in the `tier` output column.
    pub fn as_str(self) -> &'static str {
        match self {
            TierKind::Rules => "rules",
            TierKind::Model => "model",
            TierKind::Llm => "llm",
            TierKind::None => "none",
        }
    }
}

impl fmt::Display for TierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a decision rests on, beyond its label.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// The id of the rule that matched (tier `rules`).
    Rule(Arc<str>),
    /// Why the record is `Unclassified`, or a note from the deciding tier.
    Reason(Arc<str>),
    /// The model's best guess, below its threshold, kept because no later
    /// tier decided (no LLM configured, or the LLM declined): the text says
    /// why it was not trusted (tier `model`, its probability as confidence).
    Guess(Arc<str>),
    /// Nothing to add (e.g. a confident model prediction).
    None,
}

impl Detail {
    /// The detail as text (rule id, reason, or empty).
    pub fn as_str(&self) -> &str {
        match self {
            Detail::Rule(s) | Detail::Reason(s) | Detail::Guess(s) => s,
            Detail::None => "",
        }
    }
}

/// The outcome for one record: exactly one per record, in input order.
///
/// Invariant: `tier == TierKind::None` if and only if `label` is
/// [`UNCLASSIFIED`]; such a decision carries a [`Detail::Reason`].
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The label, one of the bundle's labels or [`UNCLASSIFIED`].
    pub label: Arc<str>,
    /// The tier that decided.
    pub tier: TierKind,
    /// In `[0, 1]`: 1 for a rule, the head's probability for the model, the
    /// LLM's stated confidence (or 1) for the LLM, 0 when unclassified.
    pub confidence: f32,
    /// Rule id or reason.
    pub detail: Detail,
}

impl Decision {
    /// An `Unclassified` decision with its reason.
    pub fn unclassified(reason: impl Into<Arc<str>>) -> Self {
        Decision { label: Arc::from(UNCLASSIFIED), tier: TierKind::None, confidence: 0.0, detail: Detail::Reason(reason.into()) }
    }

    /// Whether a tier gave this record a real label.
    pub fn is_classified(&self) -> bool {
        self.tier != TierKind::None
    }

    /// Whether this is a below-threshold guess of the model ([`Detail::Guess`]).
    pub fn is_guess(&self) -> bool {
        matches!(self.detail, Detail::Guess(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclassified_keeps_the_invariant() {
        let d = Decision::unclassified("llm disabled");
        assert_eq!(&*d.label, UNCLASSIFIED);
        assert_eq!(d.tier, TierKind::None);
        assert_eq!(d.detail.as_str(), "llm disabled");
        assert!(!d.is_classified());
    }

    #[test]
    fn tier_names_are_the_output_column_values() {
        let names: Vec<_> = TierKind::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["rules", "model", "llm", "none"]);
    }
}
