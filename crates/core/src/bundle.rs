//! The model bundle: a directory a person can read.
//!
//! ```text
//! model.toml        labels (with descriptions and training counts), encoder id
//!                   and width, threshold and the figures behind it, routes,
//!                   masking, training summary and cross-validated metrics
//! head.safetensors  the head's weights (K × dim) and biases (K), f32
//! rules.toml        the rules tier (may hold no rules)
//! ```
//!
//! Loading checks everything it can before a line is classified: the format
//! version, the head's shape against the labels and the encoder width, the
//! rules, and (in [`Bundle::pipeline`]) the encoder's id. Each error names the
//! file at fault.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::encoder::Encoder;
use crate::head::SoftmaxHead;
use crate::lexical::{LexicalEncoder, LEXICAL_ID};
use crate::mask::{MaskConfig, Masker};
use crate::model::ModelTier;
use crate::pipeline::{Pipeline, Route};
use crate::rules::{RulesFile, RulesTier};
use crate::tier::Tier;

/// The bundle format this build reads and writes.
pub const FORMAT: u32 = 1;

/// `model.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Bundle format version ([`FORMAT`]).
    pub format: u32,
    /// A name for people.
    #[serde(default)]
    pub name: String,
    /// The model tier keeps predictions with at least this probability.
    pub threshold: f64,
    /// The encoder the head was trained on.
    pub encoder: EncoderSpec,
    /// How templates are made.
    #[serde(default)]
    pub mask: MaskConfig,
    /// Per-source routes (absent = model).
    #[serde(default)]
    pub routes: BTreeMap<String, Route>,
    /// Every label the bundle knows, in head order first.
    pub labels: Vec<LabelInfo>,
    /// How the bundle was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingSummary>,
    /// Settings of the LLM tier to use with this bundle (the keys of
    /// `logsift classify --llm-config`); flags override them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<toml::Table>,
    /// What `eval --record-llm` measured of LLMs on the lines the model was
    /// unsure of; `classify` escalates to an LLM recorded here only when it
    /// beat the model's guess.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub llm_measured: Vec<LlmMeasure>,
}

/// One LLM measured against the model's below-threshold guesses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlmMeasure {
    /// Which LLM: `MODEL at URL` (credentials and query left out) or `local:FILE`.
    pub llm: String,
    /// Escalated lines measured.
    pub lines: u64,
    /// Share of them the LLM labeled right.
    pub llm_accuracy: f64,
    /// Share of them the model's guess had right.
    pub guess_accuracy: f64,
}

impl Manifest {
    /// Whether escalating to `llm` pays: not measured, or measured at least
    /// as accurate as the model's guess.
    pub fn escalation_pays(&self, llm: &str) -> bool {
        self.llm_measured.iter().find(|m| m.llm == llm).is_none_or(|m| m.llm_accuracy >= m.guess_accuracy)
    }

    /// Records a measurement of `m.llm`, replacing an earlier one.
    pub fn record_llm(&mut self, m: LlmMeasure) {
        self.llm_measured.retain(|x| x.llm != m.llm);
        self.llm_measured.push(m);
    }
}

/// Which encoder, and which weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSpec {
    /// The encoder's id (`lexical-v1`, `minilm-l6-v2`).
    pub id: String,
    /// Vector width.
    pub dim: usize,
    /// sha256 of the encoder's weights, for encoders that have weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
}

/// One label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelInfo {
    /// The label as written in the output.
    pub name: String,
    /// One line saying what the label means (used in LLM prompts).
    #[serde(default)]
    pub description: String,
    /// Training rows with this label.
    #[serde(default)]
    pub rows: u64,
    /// Whether the head predicts it (false: too few rows, left to the LLM).
    pub in_head: bool,
}

/// What training saw and measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSummary {
    /// Training lines.
    pub rows: u64,
    /// Distinct (template, label) pairs the head was fitted on.
    pub templates: u64,
    /// sha256 of the training file(s).
    pub data_sha256: String,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Labels with fewer rows than this were left out of the head.
    pub min_samples: u64,
    /// Inverse regularisation strength.
    pub c: f64,
    /// Cross-validation folds (0: none).
    pub cv_folds: u32,
    /// What each fold held out (`template` or `source`).
    #[serde(default)]
    pub cv_group: CvGroup,
    /// Precision the threshold was chosen to reach.
    pub target_precision: f64,
    /// Cross-validated figures, if folds were run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<CvFigures>,
}

/// Out-of-fold figures (folds split by template: they measure unseen templates),
/// over the held-out lines that would reach the model tier (not from a source
/// routed to the LLM, not decided by a rule that the fold's training part also
/// meets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvFigures {
    /// Accuracy of the head alone, every prediction kept.
    pub accuracy: f64,
    /// Macro-F1 of the head alone, every prediction kept.
    pub macro_f1: f64,
    /// Share of lines at or above the threshold.
    pub coverage_at_threshold: f64,
    /// Precision on the lines at or above the threshold.
    pub precision_at_threshold: f64,
    /// The whole trade-off: `[threshold, coverage, precision]` at every 0.05
    /// from 0 to 0.95 (held-out lines that reach the model, as above), so a
    /// user can pick another threshold knowing what it keeps and costs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<[f64; 3]>,
}

/// A bundle that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The directory has no `model.toml`.
    #[error("{dir}: not a logsift model bundle (no model.toml): {source}")]
    Missing {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file of the bundle is corrupt or inconsistent.
    #[error("{file}: {message}")]
    Corrupt {
        /// The file at fault.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The bundle needs another encoder.
    #[error("{dir}: bundle was trained with encoder '{want}' (dim {want_dim}) but '{got}' (dim {got_dim}) was given")]
    WrongEncoder {
        /// The bundle.
        dir: PathBuf,
        /// The encoder the bundle needs.
        want: String,
        /// Its width.
        want_dim: usize,
        /// The encoder given.
        got: String,
        /// Its width.
        got_dim: usize,
    },
    /// Writing the bundle failed.
    #[error("{file}: cannot write: {source}")]
    Write {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A loaded bundle.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// Where it was loaded from (or will be saved to).
    pub dir: PathBuf,
    /// `model.toml`.
    pub manifest: Manifest,
    /// `head.safetensors`.
    pub head: SoftmaxHead,
    /// `rules.toml`.
    pub rules: RulesFile,
    /// The text of `rules.toml` as written by a person (comments kept); when
    /// absent, `rules` is serialised.
    pub rules_text: Option<String>,
    /// `examples.jsonl`: labeled lines kept from the training data, shown to
    /// the LLM tier as guidance (the nearest ones for each line it is asked
    /// about). Optional: a bundle without it gives the LLM no examples.
    pub examples: Vec<GuideExample>,
}

/// A labeled line kept in the bundle for the LLM tier's prompts: one per
/// distinct template, the most frequent templates of each label first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuideExample {
    /// The label.
    pub label: String,
    /// The source of the line.
    #[serde(default)]
    pub source: String,
    /// A real line of the template (the first seen).
    pub line: String,
    /// Its masked template.
    pub template: String,
    /// Lines of that template and label in the training data.
    #[serde(default)]
    pub count: u64,
}

/// What a cross-validation fold holds out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CvGroup {
    /// Whole templates: the figures (and the threshold) are for templates the
    /// head has not seen, from sources it has (default).
    #[default]
    Template,
    /// Whole sources: for templates of programs the head has never seen. A
    /// bundle meant for other people's logs (the bundled default) calibrates
    /// this way: a threshold chosen on unseen templates of known programs
    /// keeps too many wrong labels on new programs (precision 0.93 where 0.98
    /// was asked, on the real-log benchmark's held-out programs).
    Source,
}

/// The contents of a bundle's files.
#[derive(Clone, Copy, Debug)]
pub struct BundleFiles<'a> {
    /// `model.toml`.
    pub model_toml: &'a str,
    /// `head.safetensors`.
    pub head: &'a [u8],
    /// `rules.toml`, if any.
    pub rules: Option<&'a str>,
    /// `examples.jsonl`, if any.
    pub examples: Option<&'a str>,
}

/// The files of one of the repository's bundles (`models/NAME`), compiled in.
macro_rules! builtin_files {
    ($dir:literal) => {
        BundleFiles {
            model_toml: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/", $dir, "/model.toml")),
            head: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/", $dir, "/head.safetensors")),
            rules: Some(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/", $dir, "/rules.toml"))),
            examples: Some(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/", $dir, "/examples.jsonl"))),
        }
    };
}

/// The name a built-in bundle's directory is given in messages.
pub const BUILTIN_DEFAULT: &str = "<built-in>/models/default";
/// The name of the built-in weight-free fallback.
pub const BUILTIN_LEXICAL: &str = "<built-in>/models/lexical";

impl Bundle {
    /// The bundled default (`models/default`: lexical and MiniLM features),
    /// compiled into the program: an installed binary or wheel needs no
    /// checkout beside it.
    pub fn builtin_default() -> Result<Bundle, BundleError> {
        Bundle::from_files(Path::new(BUILTIN_DEFAULT), builtin_files!("default"))
    }

    /// The bundled weight-free fallback (`models/lexical`), compiled in.
    pub fn builtin_lexical() -> Result<Bundle, BundleError> {
        Bundle::from_files(Path::new(BUILTIN_LEXICAL), builtin_files!("lexical"))
    }

    /// Reads and checks a bundle directory.
    pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
        let mpath = dir.join("model.toml");
        let model_toml = std::fs::read_to_string(&mpath).map_err(|source| BundleError::Missing { dir: dir.to_path_buf(), source })?;
        let read = |name: &str| -> Result<Option<String>, BundleError> {
            let p = dir.join(name);
            if !p.exists() {
                return Ok(None);
            }
            std::fs::read_to_string(&p).map(Some).map_err(|e| BundleError::Corrupt { file: p, message: format!("cannot read: {e}") })
        };
        let hpath = dir.join("head.safetensors");
        let head = std::fs::read(&hpath).map_err(|e| BundleError::Corrupt { file: hpath, message: format!("cannot read: {e}") })?;
        let (rules, examples) = (read("rules.toml")?, read("examples.jsonl")?);
        Bundle::from_files(
            dir,
            BundleFiles { model_toml: &model_toml, head: &head, rules: rules.as_deref(), examples: examples.as_deref() },
        )
    }

    /// Checks and builds a bundle from its files' contents (a bundle built
    /// into a program, e.g. the Python wheel's default); `dir` names it.
    pub fn from_files(dir: &Path, files: BundleFiles<'_>) -> Result<Bundle, BundleError> {
        let mpath = dir.join("model.toml");
        let corrupt = |file: &Path, message: String| BundleError::Corrupt { file: file.to_path_buf(), message };
        let manifest: Manifest = toml::from_str(files.model_toml).map_err(|e| corrupt(&mpath, e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(corrupt(&mpath, format!("bundle format {} is not supported by this logsift (format {FORMAT})", manifest.format)));
        }
        if !(0.0..=1.0).contains(&manifest.threshold) {
            return Err(corrupt(&mpath, format!("threshold {} is outside [0, 1]", manifest.threshold)));
        }
        let head_labels: Vec<Arc<str>> = manifest.labels.iter().filter(|l| l.in_head).map(|l| Arc::from(l.name.as_str())).collect();
        let hpath = dir.join("head.safetensors");
        let head =
            SoftmaxHead::from_bytes(files.head, &hpath, head_labels, manifest.encoder.dim).map_err(|e| corrupt(&hpath, e.message))?;
        let rpath = dir.join("rules.toml");
        let (rules, rules_text) = match files.rules {
            Some(text) => {
                let rules = RulesFile::parse(text, &rpath).map_err(|e| corrupt(&rpath, e.to_string()))?;
                RulesTier::compile(&rules, &rpath).map_err(|e| corrupt(&rpath, e.to_string()))?;
                (rules, Some(text.to_string()))
            }
            None => (RulesFile::default(), None),
        };
        let epath = dir.join("examples.jsonl");
        let mut examples = vec![];
        if let Some(text) = files.examples {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                examples.push(serde_json::from_str(line).map_err(|e| corrupt(&epath, format!("line {}: {e}", i + 1)))?);
            }
        }
        Ok(Bundle { dir: dir.to_path_buf(), manifest, head, rules, rules_text, examples })
    }

    /// Writes the bundle into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<(), BundleError> {
        let write_err = |file: PathBuf| move |source| BundleError::Write { file, source };
        std::fs::create_dir_all(dir).map_err(write_err(dir.to_path_buf()))?;
        let m = toml::to_string_pretty(&self.manifest).expect("manifest serialises");
        let mpath = dir.join("model.toml");
        std::fs::write(&mpath, format!("# logsift model bundle: see README.md, section 'Model bundles'\n{m}"))
            .map_err(write_err(mpath.clone()))?;
        let hpath = dir.join("head.safetensors");
        self.head.save(&hpath).map_err(write_err(hpath.clone()))?;
        let rpath = dir.join("rules.toml");
        let text = self.rules_text.clone().unwrap_or_else(|| self.rules.to_toml());
        std::fs::write(&rpath, text).map_err(write_err(rpath.clone()))?;
        let epath = dir.join("examples.jsonl");
        if self.examples.is_empty() {
            if epath.exists() {
                std::fs::remove_file(&epath).map_err(write_err(epath.clone()))?;
            }
        } else {
            let mut text = String::new();
            for e in &self.examples {
                text.push_str(&serde_json::to_string(e).expect("example serialises"));
                text.push('\n');
            }
            std::fs::write(&epath, text).map_err(write_err(epath.clone()))?;
        }
        Ok(())
    }

    /// The encoder this bundle needs, when it needs no weights (the lexical
    /// encoder); `None` for neural encoders, which the caller must provide.
    pub fn builtin_encoder(&self) -> Option<Arc<dyn Encoder>> {
        (self.manifest.encoder.id == LEXICAL_ID).then(|| Arc::new(LexicalEncoder::new(self.manifest.encoder.dim)) as Arc<dyn Encoder>)
    }

    /// The masker the bundle was trained with.
    pub fn masker(&self) -> Masker {
        Masker::new(self.manifest.mask)
    }

    /// The model tier over `encoder`.
    pub fn model_tier(&self, encoder: Arc<dyn Encoder>) -> Result<ModelTier, BundleError> {
        let spec = &self.manifest.encoder;
        if encoder.id() != spec.id || encoder.dim() != spec.dim {
            return Err(BundleError::WrongEncoder {
                dir: self.dir.clone(),
                want: spec.id.clone(),
                want_dim: spec.dim,
                got: encoder.id().to_string(),
                got_dim: encoder.dim(),
            });
        }
        if let Some(warning) = self.weights_mismatch(encoder.as_ref()) {
            tracing::warn!("{warning}");
        }
        ModelTier::new(encoder, self.head.clone(), self.manifest.threshold as f32)
            .map_err(|e| BundleError::Corrupt { file: self.dir.join("model.toml"), message: e.to_string() })
    }

    /// A warning when `encoder`'s weights differ from those the bundle was
    /// trained with (both fingerprints known and different).
    pub fn weights_mismatch(&self, encoder: &dyn Encoder) -> Option<String> {
        let want = self.manifest.encoder.weights_sha256.as_ref()?;
        let got = encoder.weights_sha256()?;
        (*want != got).then(|| {
            format!(
                "{}: the bundle was trained on encoder weights with sha256 {want}, but these have {got}; predictions may differ",
                self.dir.display()
            )
        })
    }

    /// A pipeline: the bundle's rules, its model tier over `encoder`, the
    /// given LLM tier, its routes and masking.
    pub fn pipeline(&self, encoder: Arc<dyn Encoder>, llm: Box<dyn Tier>, cache_capacity: usize) -> Result<Pipeline, BundleError> {
        let rpath = self.dir.join("rules.toml");
        let rules = RulesTier::compile(&self.rules, &rpath).map_err(|e| BundleError::Corrupt { file: rpath, message: e.to_string() })?;
        let mut b = Pipeline::builder()
            .masker(self.masker())
            .model(self.model_tier(encoder)?)
            .llm(llm)
            .routes(self.manifest.routes.iter().map(|(k, v)| (k.clone(), *v)))
            .cache_capacity(cache_capacity);
        if !rules.is_empty() {
            b = b.rules(rules);
        }
        Ok(b.build())
    }

    /// Every label the bundle can output (head labels, LLM-only labels and
    /// rule labels), without duplicates, in manifest order then rule order.
    pub fn known_labels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.manifest.labels.iter().map(|l| l.name.clone()).collect();
        for r in &self.rules.rule {
            if !v.contains(&r.label) {
                v.push(r.label.clone());
            }
        }
        v
    }
}
