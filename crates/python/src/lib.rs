//! # logsift for Python
//!
//! The `logsift` wheel's native module (`logsift._logsift`): the same
//! library the CLI, the service and the worker use, with Python's types at
//! the edge. The pure-Python package around it (`python/logsift/`) adds what
//! is easier in Python: DataFrames in and out (pandas or polars, neither
//! required) and the exception type of bad input.
//!
//! ## Key decisions
//!
//! * **The bundled default is inside the wheel.** `Model.load()` with no path
//!   builds the default bundle from files compiled into the module
//!   ([`logsift_core::bundle::BundleFiles`]); MiniLM weights are found as the
//!   CLI finds them (given directory, `LOGSIFT_MINILM_DIR`, the Hugging Face
//!   cache) and never downloaded for it; without them the bundled lexical
//!   model is used, with a warning, as in the CLI.
//! * **The GIL is released while lines are classified**, so other Python
//!   threads run and several models (or calls) classify at once.
//! * **Columns, not objects, for DataFrames.** `classify_columns` returns one
//!   list per output column, with label, tier and detail strings shared
//!   between rows (one Python string per distinct value), so a million-row
//!   DataFrame does not cost a million `Decision` objects.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use logsift_core::bundle::Bundle;
use logsift_core::io::{CsvInput, InputOptions};
use logsift_core::learn::DEFAULT_MIN_VALUES;
use logsift_core::mask::{template_id, Templates};
use logsift_core::offline::train::{train as train_bundle, CvGroup, Example, TrainOptions};
use logsift_core::pipeline::{Fallback, DEFAULT_CACHE_CAPACITY};
use logsift_core::record::{Passthrough, Record};
use logsift_core::{Decision, Encoder, Pipeline};
use logsift_embed::assemble::{self, EncoderKind, Weights};
use logsift_embed::EmbedError;
use logsift_llm::client::LlmStats;
use logsift_llm::settings::LlmSettings;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

fn runtime(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// `logsift.BadInputError(message, row, cause)`: a bad row, by its 1-based
/// position and what is wrong with it.
fn bad_input(py: Python<'_>, row: u64, cause: String) -> PyErr {
    let message = format!("row {row}: {cause}");
    match py.import("logsift").and_then(|m| m.getattr("BadInputError")).and_then(|cls| cls.call1((message.clone(), row, cause))) {
        Ok(err) => PyErr::from_value(err),
        Err(_) => PyValueError::new_err(message),
    }
}

/// One decision: the label, the tier that decided it, its confidence, why,
/// and (with `with_template=True`) the line's masked template and its id.
#[pyclass(frozen, get_all, module = "logsift._logsift", name = "Decision")]
#[derive(Clone)]
pub struct PyDecision {
    label: String,
    tier: String,
    confidence: f32,
    detail: String,
    template: Option<String>,
    template_id: Option<String>,
}

/// A str as Python's `repr` writes it (single quotes unless the text has one).
fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[pymethods]
impl PyDecision {
    fn __repr__(&self) -> String {
        let t = match &self.template_id {
            Some(id) => format!(", template_id='{id}'"),
            None => String::new(),
        };
        format!(
            "Decision(label={}, tier='{}', confidence={:.4}, detail={}{t})",
            py_str(&self.label),
            self.tier,
            self.confidence,
            py_str(&self.detail)
        )
    }

    fn __eq__(&self, other: &Self) -> bool {
        (&self.label, &self.tier, self.confidence.to_bits(), &self.detail, &self.template, &self.template_id)
            == (&other.label, &other.tier, other.confidence.to_bits(), &other.detail, &other.template, &other.template_id)
    }
}

/// A loaded bundle and its cascade.
#[pyclass(frozen, module = "logsift._logsift", name = "Model")]
pub struct PyModel {
    pipeline: Pipeline,
    bundle: Bundle,
    templates: Templates,
    llm: Option<Arc<LlmStats>>,
    llm_id: Option<String>,
}

/// The text of each item of `seq` (a list, tuple or other iterable of str).
fn texts(seq: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<String>> {
    let mut out = vec![];
    for (i, item) in seq.try_iter().map_err(|_| PyTypeError::new_err(format!("{what} must be an iterable of str")))?.enumerate() {
        let item = item?;
        match item.extract::<String>() {
            Ok(s) => out.push(s),
            Err(_) => {
                let kind = item.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
                return Err(bad_input(seq.py(), i as u64 + 1, format!("{what}[{i}] is {kind}, not str")));
            }
        }
    }
    Ok(out)
}

/// Records of `messages` with `sources` (None, one str for all, or one per message).
fn records(messages: &Bound<'_, PyAny>, sources: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Record>> {
    if messages.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("messages must be a list of str, not one str"));
    }
    let msgs = texts(messages, "messages")?;
    let srcs: Vec<String> = match sources {
        Some(s) if s.is_instance_of::<PyString>() => vec![s.extract::<String>()?; msgs.len()],
        Some(s) if !s.is_none() => texts(s, "sources")?,
        _ => vec![String::new(); msgs.len()],
    };
    if srcs.len() != msgs.len() {
        return Err(PyValueError::new_err(format!("{} messages but {} sources", msgs.len(), srcs.len())));
    }
    let max = InputOptions::default().max_line_bytes;
    Ok(msgs
        .into_iter()
        .zip(srcs)
        .enumerate()
        .map(|(i, (m, s))| {
            let invalid = logsift_core::io::message_problems(&m, logsift_core::record::Place::Line, max);
            Record { row: i as u64 + 1, invalid, ..Record::new(s, m) }
        })
        .collect())
}

/// Labeled records: a bad line or an empty label raises `BadInputError`.
fn labeled(
    py: Python<'_>,
    messages: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    sources: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Vec<Record>, Vec<String>)> {
    let recs = records(messages, sources)?;
    let truth = texts(labels, "labels")?;
    if truth.len() != recs.len() {
        return Err(PyValueError::new_err(format!("{} messages but {} labels", recs.len(), truth.len())));
    }
    first_bad(py, &recs)?;
    if let Some(i) = truth.iter().position(|l| l.trim().is_empty()) {
        return Err(bad_input(py, i as u64 + 1, "empty label".into()));
    }
    Ok((recs, truth))
}

/// The first bad record as `BadInputError`.
fn first_bad(py: Python<'_>, recs: &[Record]) -> PyResult<()> {
    match recs.iter().find_map(|r| r.invalid.as_ref().map(|b| (r.row, b.to_string()))) {
        Some((row, why)) => Err(bad_input(py, row, why)),
        None => Ok(()),
    }
}

fn on_error_skip(on_error: &str) -> PyResult<bool> {
    match on_error {
        "fail" => Ok(false),
        "skip" => Ok(true),
        other => Err(PyValueError::new_err(format!("on_error must be 'fail' or 'skip', not '{other}'"))),
    }
}

/// One Python string per distinct value.
struct Interned<'py> {
    py: Python<'py>,
    seen: HashMap<String, Bound<'py, PyString>>,
}

impl<'py> Interned<'py> {
    fn get(&mut self, s: &str) -> Bound<'py, PyString> {
        if let Some(v) = self.seen.get(s) {
            return v.clone();
        }
        let v = PyString::new(self.py, s);
        if self.seen.len() < 65_536 {
            self.seen.insert(s.to_string(), v.clone());
        }
        v
    }
}

impl PyModel {
    /// The records of `messages` and their decisions, the GIL released;
    /// `on_error`: "fail" (a bad line raises) or "skip" (it is Unclassified).
    fn decide(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        sources: Option<&Bound<'_, PyAny>>,
        on_error: &str,
    ) -> PyResult<(Vec<Record>, Vec<Decision>)> {
        let skip = on_error_skip(on_error)?;
        let recs = records(messages, sources)?;
        if !skip {
            first_bad(py, &recs)?;
        }
        let decisions = py.detach(|| self.pipeline.classify(&recs));
        Ok((recs, decisions))
    }
}

/// How a loaded model runs: the keyword arguments of `Model.load` past the LLM's.
struct RunOptions {
    strict: bool,
    cache: usize,
    learn_variables: usize,
}

fn model_from(bundle: Bundle, encoder: Arc<dyn Encoder>, settings: LlmSettings, run: RunOptions) -> PyResult<PyModel> {
    let RunOptions { strict, cache, learn_variables } = run;
    let (llm_tier, llm) = settings.tier(&bundle).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let llm_id = settings.identity();
    let fallback = if strict { Fallback::Strict } else { Fallback::Guess };
    let mut pipeline = bundle.pipeline(encoder, llm_tier, cache).map_err(runtime)?.with_fallback(fallback).with_learning(learn_variables);
    if let Some(id) = &llm_id {
        if !bundle.manifest.escalation_pays(id) {
            pipeline = pipeline.with_escalation(false);
        }
    }
    let templates = Templates::new(*pipeline.masker());
    Ok(PyModel { pipeline, bundle, templates, llm, llm_id })
}

/// LLM settings from a dict of keyword arguments, with the names and
/// checks of `LlmSettings` (an unknown name is an error).
fn llm_settings(llm: Option<&Bound<'_, PyDict>>) -> PyResult<LlmSettings> {
    let Some(d) = llm else { return Ok(LlmSettings::default()) };
    let json = d.py().import("json")?.call_method1("dumps", (d,))?.extract::<String>()?;
    serde_json::from_str(&json).map_err(|e| PyValueError::new_err(format!("llm settings: {e}")))
}

#[pymethods]
impl PyModel {
    /// Loads a bundle directory, or with `path=None` the bundled default
    /// (MiniLM weights from `encoder_dir`, `LOGSIFT_MINILM_DIR` or the Hugging
    /// Face cache, never downloaded; without them the bundled lexical model,
    /// with a warning). `llm`: LLM settings (see `LlmSettings`), over the
    /// bundle's `[llm]` table; the API key comes from the environment only.
    /// `learn_variables`: distinct words under one label that make a word
    /// position a variable (0: off), as the CLI's `--learn-variables`.
    #[staticmethod]
    #[pyo3(signature = (path=None, *, encoder_dir=None, llm=None, strict=false, cache_size=DEFAULT_CACHE_CAPACITY, learn_variables=DEFAULT_MIN_VALUES))]
    fn load(
        py: Python<'_>,
        path: Option<PathBuf>,
        encoder_dir: Option<PathBuf>,
        llm: Option<&Bound<'_, PyDict>>,
        strict: bool,
        cache_size: usize,
        learn_variables: usize,
    ) -> PyResult<PyModel> {
        let settings = llm_settings(llm)?;
        let dir = encoder_dir.as_deref();
        let (bundle, encoder) = match path {
            Some(p) => {
                let bundle =
                    Bundle::load(&p).map_err(|e| PyValueError::new_err(format!("cannot load model bundle {}: {e}", p.display())))?;
                let encoder = py.detach(|| assemble::bundle_encoder(&bundle, dir, Weights::Anywhere)).map_err(runtime)?;
                (bundle, encoder)
            }
            None => {
                let bundle = Bundle::builtin_default().map_err(runtime)?;
                match py.detach(|| assemble::bundle_encoder(&bundle, dir, Weights::LocalOnly)) {
                    Ok(e) => (bundle, e),
                    Err(why @ EmbedError::NotFound { .. }) => {
                        let msg = format!(
                            "no all-MiniLM-L6-v2 weights ({}): using the bundled lexical model; set {} (or pass encoder_dir) for the default one",
                            why.one_line(),
                            logsift_embed::DIR_ENV
                        );
                        py.import("warnings")?.call_method1("warn", (msg,))?;
                        let bundle = Bundle::builtin_lexical().map_err(runtime)?;
                        let e = assemble::bundle_encoder(&bundle, None, Weights::LocalOnly).map_err(runtime)?;
                        (bundle, e)
                    }
                    Err(e) => return Err(runtime(e)),
                }
            }
        };
        let settings = settings.or(LlmSettings::from_bundle(&bundle).map_err(|e| PyValueError::new_err(e.to_string()))?);
        model_from(bundle, encoder, settings, RunOptions { strict, cache: cache_size, learn_variables })
    }

    /// The bundle's name.
    #[getter]
    fn name(&self) -> String {
        self.bundle.manifest.name.clone()
    }

    /// Where the bundle was loaded from (`<built-in>/models/…` for the wheel's own).
    #[getter]
    fn path(&self) -> String {
        self.bundle.dir.display().to_string()
    }

    /// The encoder's id.
    #[getter]
    fn encoder(&self) -> String {
        self.bundle.manifest.encoder.id.clone()
    }

    /// The confidence the model tier needs.
    #[getter]
    fn threshold(&self) -> f64 {
        self.bundle.manifest.threshold
    }

    /// Every label the cascade can give.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.bundle.known_labels()
    }

    /// The LLM the model asks (`MODEL at URL`), or None.
    #[getter]
    fn llm(&self) -> Option<String> {
        self.llm_id.clone()
    }

    /// One `Decision` per message, in order.
    #[pyo3(signature = (messages, sources=None, *, with_template=false, on_error="fail"))]
    fn classify(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        sources: Option<&Bound<'_, PyAny>>,
        with_template: bool,
        on_error: &str,
    ) -> PyResult<Vec<PyDecision>> {
        let (recs, decisions) = self.decide(py, messages, sources, on_error)?;
        Ok(recs
            .iter()
            .zip(decisions)
            .map(|(r, d)| {
                let (template, template_id) = match with_template.then(|| self.templates.of(&r.message)) {
                    Some((t, id)) => (Some(t), Some(id)),
                    None => (None, None),
                };
                PyDecision {
                    label: d.label.to_string(),
                    tier: d.tier.as_str().to_string(),
                    confidence: d.confidence,
                    detail: d.detail.as_str().to_string(),
                    template,
                    template_id,
                }
            })
            .collect())
    }

    /// The output columns for `messages`: a dict of equal-length lists
    /// `target_label`, `tier`, `confidence`, `detail` (and `template`,
    /// `template_id`), in order; what `classify_df` adds to a DataFrame.
    #[pyo3(signature = (messages, sources=None, *, with_template=false, on_error="fail"))]
    fn classify_columns<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        sources: Option<&Bound<'py, PyAny>>,
        with_template: bool,
        on_error: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (recs, decisions) = self.decide(py, messages, sources, on_error)?;
        let mut interned = Interned { py, seen: HashMap::new() };
        let out = PyDict::new(py);
        out.set_item("target_label", PyList::new(py, decisions.iter().map(|d| interned.get(&d.label)))?)?;
        out.set_item("tier", PyList::new(py, decisions.iter().map(|d| interned.get(d.tier.as_str())))?)?;
        out.set_item("confidence", PyList::new(py, decisions.iter().map(|d| (d.confidence as f64 * 10_000.0).round() / 10_000.0))?)?;
        out.set_item("detail", PyList::new(py, decisions.iter().map(|d| interned.get(d.detail.as_str())))?)?;
        if with_template {
            let pairs: Vec<(String, String)> = py.detach(|| recs.iter().map(|r| self.templates.of(&r.message)).collect());
            out.set_item("template", PyList::new(py, pairs.iter().map(|(t, _)| interned.get(t)))?)?;
            out.set_item("template_id", PyList::new(py, pairs.iter().map(|(_, id)| interned.get(id)))?)?;
        }
        Ok(out)
    }

    /// What happened, grouped: one dict per pattern (template, count, share,
    /// sources, labels, two examples, …), most frequent first, as
    /// `logsift patterns --json` gives them. `merge`: `"none"`, `"lexical"`
    /// or `"minilm"` merges patterns whose templates mean the same.
    #[pyo3(signature = (messages, sources=None, *, similarity=0.7, max_patterns=10_000, merge="none", merge_threshold=0.9))]
    #[allow(clippy::too_many_arguments)]
    fn patterns<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        sources: Option<&Bound<'py, PyAny>>,
        similarity: f64,
        max_patterns: usize,
        merge: &str,
        merge_threshold: f32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let recs = records(messages, sources)?;
        let encoder: Option<Arc<dyn Encoder>> = match merge {
            "none" => None,
            "lexical" => Some(Arc::new(logsift_core::lexical::LexicalEncoder::new(logsift_core::lexical::DEFAULT_DIM))),
            "minilm" => Some(assemble::minilm(None, Weights::Anywhere).map_err(runtime)?),
            other => return Err(PyValueError::new_err(format!("merge must be 'none', 'lexical' or 'minilm', not '{other}'"))),
        };
        let report = py
            .detach(|| {
                let mut p = logsift_core::patterns::Patterns::new(similarity, max_patterns);
                p.add(&recs, None);
                p.finish(encoder.as_deref(), merge_threshold)
            })
            .map_err(runtime)?;
        let json = serde_json::to_string(&report.patterns).map_err(runtime)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// `eval --json` of this model on labeled messages, as a dict.
    #[pyo3(signature = (messages, labels, sources=None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        messages: &Bound<'py, PyAny>,
        labels: &Bound<'py, PyAny>,
        sources: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (recs, truth) = labeled(py, messages, labels, sources)?;
        let run = py.detach(|| logsift_core::offline::eval::run(&self.pipeline, &self.bundle, &recs, &truth));
        let llm = self.llm.as_deref().map(LlmStats::counters_json);
        let v = run.json(&self.pipeline, self.llm_id.as_deref(), llm);
        py.import("json")?.call_method1("loads", (v.to_string(),))
    }

    fn __repr__(&self) -> String {
        format!("Model(name={:?}, path={:?}, encoder={:?})", self.bundle.manifest.name, self.path(), self.bundle.manifest.encoder.id)
    }
}

/// Labeled rows of a CSV file: (messages, sources, labels); a bad row raises
/// `BadInputError` with its row and cause.
#[pyfunction]
#[pyo3(signature = (path, label_column="target_label", message_column="log_message", source_column="source"))]
fn read_labeled_csv(
    py: Python<'_>,
    path: PathBuf,
    label_column: &str,
    message_column: &str,
    source_column: &str,
) -> PyResult<(Vec<String>, Vec<String>, Vec<String>)> {
    let name = path.display().to_string();
    let file = std::fs::File::open(&path).map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{name}: {e}")))?;
    let opts = InputOptions { message_field: message_column.into(), source_field: source_column.into(), ..InputOptions::default() };
    let input = CsvInput::new(std::io::BufReader::new(file), &name, opts).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let Some(li) = input.headers().iter().position(|h| h.trim() == label_column) else {
        return Err(PyValueError::new_err(format!("{name}: no '{label_column}' column; the header has {:?}", input.headers())));
    };
    let (mut m, mut s, mut l) = (vec![], vec![], vec![]);
    for r in input {
        let r = r.map_err(|e| PyValueError::new_err(e.to_string()))?;
        if let Some(bad) = &r.invalid {
            return Err(bad_input(py, r.row, format!("{name}: {bad}")));
        }
        let label = match &r.passthrough {
            Passthrough::Columns(c) => c[li].trim().to_string(),
            _ => String::new(),
        };
        if label.is_empty() {
            return Err(bad_input(py, r.row, format!("{name}: empty label")));
        }
        m.push(r.message);
        s.push(r.source);
        l.push(label);
    }
    Ok((m, s, l))
}

/// Trains a bundle into `out_dir`; returns a summary dict (rows, templates,
/// threshold, labels, encoder).
#[pyfunction]
#[pyo3(signature = (messages, labels, sources, out_dir, *, encoder="both", rules=None, encoder_dir=None, min_samples=1, cv=5, cv_group="template", target_precision=0.98, seed=42, name=None))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    messages: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    sources: Option<&Bound<'py, PyAny>>,
    out_dir: PathBuf,
    encoder: &str,
    rules: Option<PathBuf>,
    encoder_dir: Option<PathBuf>,
    min_samples: usize,
    cv: usize,
    cv_group: &str,
    target_precision: f64,
    seed: u64,
    name: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let (recs, truth) = labeled(py, messages, labels, sources)?;
    let kind = match encoder {
        "lexical" => EncoderKind::Lexical,
        "minilm" => EncoderKind::Minilm,
        "both" => EncoderKind::Both,
        other => return Err(PyValueError::new_err(format!("encoder must be 'lexical', 'minilm' or 'both', not '{other}'"))),
    };
    let cv_group = match cv_group {
        "template" => CvGroup::Template,
        "source" => CvGroup::Source,
        other => return Err(PyValueError::new_err(format!("cv_group must be 'template' or 'source', not '{other}'"))),
    };
    let (rules, rules_text) = match &rules {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{}: {e}", p.display())))?;
            let f = logsift_core::rules::RulesFile::parse(&text, p).map_err(|e| PyValueError::new_err(e.to_string()))?;
            (f, Some(text))
        }
        None => (Default::default(), None),
    };
    let examples: Vec<Example> = recs
        .into_iter()
        .zip(truth)
        .map(|(r, label)| Example { source: r.source, message: r.message, label: label.trim().into() })
        .collect();
    let dir = encoder_dir.as_deref();
    let (bundle, report) = py
        .detach(|| -> Result<_, String> {
            let enc = assemble::new_encoder(kind, logsift_core::lexical::DEFAULT_DIM, dir, Weights::Anywhere).map_err(|e| e.to_string())?;
            let opts = TrainOptions {
                seed,
                min_samples,
                cv_folds: cv,
                target_precision,
                cv_group,
                name: name.unwrap_or_else(|| TrainOptions::default().name),
                ..TrainOptions::default()
            };
            let out = train_bundle(&examples, enc, rules, rules_text, &opts).map_err(|e| e.to_string())?;
            out.0.save(&out_dir).map_err(|e| e.to_string())?;
            Ok(out)
        })
        .map_err(PyValueError::new_err)?;
    let d = PyDict::new(py);
    d.set_item("path", bundle.dir.display().to_string())?;
    d.set_item("rows", bundle.manifest.labels.iter().map(|l| l.rows).sum::<u64>())?;
    d.set_item("templates", report.templates)?;
    d.set_item("threshold", report.threshold)?;
    d.set_item("encoder", bundle.manifest.encoder.id.clone())?;
    d.set_item("labels", bundle.manifest.labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>())?;
    Ok(d)
}

/// The stable id of a masked template (16 hex digits; see the README's
/// "Template ids").
#[pyfunction(name = "template_id")]
fn py_template_id(template: &str) -> String {
    template_id(template)
}

/// The native module.
#[pymodule]
fn _logsift(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_class::<PyDecision>()?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(read_labeled_csv, m)?)?;
    m.add_function(wrap_pyfunction!(py_template_id, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
