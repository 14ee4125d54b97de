//! # logsift-core
//!
//! The cascade that classifies log lines, cheapest tier first, and everything
//! it needs that carries no model weights.
//!
//! ```text
//! Record ─▶ rules (RegexSet, raw line) ─▶ mask ─▶ decision cache
//!        ─▶ model (Encoder + softmax head, above a calibrated threshold)
//!        ─▶ llm ─▶ Decision {label, tier, confidence, rule id or reason}
//! ```
//!
//! The central trait is [`Tier`]: a batch of [`Query`]s in, one [`Verdict`]
//! each out (decided, passed on, or failed). The [`Pipeline`] knows its tiers
//! only through it, and guarantees what users rely on: every record gets
//! exactly one [`Decision`], in input order, and a tier that fails turns only
//! its own records into `Unclassified` with the reason.
//!
//! ## The key decision: rules before the cache, templates behind it
//!
//! The rules tier sees every raw line; masking ([`mask`]) and the
//! [`DecisionCache`] come after it. So masking can never merge two lines the
//! rules tell apart, and the tiers behind the cache (model and LLM) decide from
//! the *template* alone, which makes their decision a pure function of the
//! cache key: caching changes no output, and a template is embedded or asked
//! about once. Training ([`train`]) fits the head on templates too, so the
//! model sees at run time exactly what it was trained on.
//!
//! ## Modules
//!
//! Three layers; a module uses only its own layer and those below it.
//!
//! *Records and text*, below everything:
//! * [`record`]: [`Record`], [`Decision`], [`TierKind`], a bad row's
//!   [`Fault`](record::Fault)s, and [`Example`](record::Example) (a labeled line).
//! * [`io`]: CSV, JSON Lines and text readers and writers.
//! * [`timestamp`]: the time forms masking and `patterns` recognise;
//!   [`mask`]: a line's template.
//!
//! *The cascade*, what classifies:
//! * [`tier`]: the [`Tier`] trait and the disabled LLM tier.
//! * [`rules`]: `rules.toml` and the rules tier.
//! * [`cache`]: the bounded decision cache; [`learn`]: variables learned from
//!   the stream (user names and the like).
//! * [`encoder`], [`lexical`]: the [`Encoder`] trait and the weight-free
//!   lexical encoder (hashed word and character n-grams).
//! * [`head`], [`model`]: softmax regression and the model tier.
//! * [`pipeline`]: the cascade and its routes; [`telemetry`]: its counters
//!   as the service's and worker's metrics.
//! * [`bundle`]: the model directory (`model.toml`, `head.safetensors`,
//!   `rules.toml`, `examples.jsonl`), and the bundles compiled in.
//!
//! *Above the cascade*, never on the classification path:
//! * [`offline`]: [`train`](offline::train) (with template-grouped
//!   cross-validation and threshold calibration), rule [`mine`](offline::mine)-ing,
//!   [`eval`](offline::eval) and its [`scores`](offline::scores), and
//!   [`label`](offline::label): labelling raw logs a template at a time.
//! * [`patterns`]: lines grouped into patterns for people (`logsift
//!   patterns`), with the rule miner's template miner.
//! * [`trends`]: pattern counts over time, beside the cascade (fed each
//!   decided batch and the pipeline's template keys; it never decides):
//!   what is new and spiking for `serve`, `worker` and `classify --follow`.
//!
//! ```
//! use logsift_core::{Pipeline, Record, rules::{RulesFile, RulesTier}};
//! use std::path::Path;
//!
//! let rules = RulesFile::parse(r#"
//! [[rule]]
//! id = "backup-done"
//! label = "System Notification"
//! regex = '^Backup completed'
//! "#, Path::new("rules.toml")).unwrap();
//! let pipeline = Pipeline::builder().rules(RulesTier::compile(&rules, Path::new("rules.toml")).unwrap()).build();
//! let out = pipeline.classify(&[Record::new("db", "Backup completed in 42 s"), Record::new("db", "disk on fire")]);
//! assert_eq!(&*out[0].label, "System Notification");
//! assert_eq!(out[0].detail.as_str(), "backup-done");
//! assert_eq!(&*out[1].label, "Unclassified");
//! ```

#![deny(missing_docs)]

pub mod bundle;
pub mod cache;
pub mod encoder;
pub mod head;
pub mod io;
pub mod learn;
pub mod lexical;
pub mod mask;
pub mod model;
pub mod offline;
pub mod patterns;
pub mod pipeline;
pub mod record;
pub mod rules;
pub mod telemetry;
pub mod tier;
pub mod timestamp;
pub mod trends;

pub use bundle::Bundle;
pub use cache::DecisionCache;
pub use encoder::Encoder;
pub use pipeline::{Pipeline, Route};
pub use record::{Decision, Detail, Record, TierKind, UNCLASSIFIED};
pub use tier::{Query, Tier, TierError, Verdict};
