//! The offline side: what builds a bundle and judges one, never on the
//! classification path.
//!
//! Everything here sits above the cascade: it uses the cascade's modules
//! (masking, the head, rules, the pipeline, the bundle) and nothing of the
//! cascade uses it. The types both sides need live below, with the cascade:
//! [`Example`](crate::record::Example) (a labeled line) beside
//! [`Record`](crate::record::Record), and [`CvGroup`](crate::bundle::CvGroup)
//! in the bundle, whose manifest records it.
//!
//! * [`train`]: labeled lines in, a bundle out; its [`train::folds`] and
//!   [`train::cv`] (cross-validation, threshold calibration).
//! * [`mine`]: recurring templates of labeled lines become proposed rules;
//!   its template miner also groups lines for [`crate::patterns`].
//! * [`eval`]: an evaluation run of a bundle's pipeline on labeled lines.
//! * [`label`]: raw lines grouped into templates and labelled one decision a
//!   template, the most useful first, with a model updated at each decision;
//!   its decisions file feeds [`train`].
//! * [`scores`]: the figures of an evaluation (accuracy, per-label
//!   precision, recall and F1, per tier, the confusion matrix). Named apart
//!   from the service's Prometheus `metrics`, which counts a running service.

pub mod eval;
pub mod label;
pub mod mine;
pub mod scores;
pub mod train;
