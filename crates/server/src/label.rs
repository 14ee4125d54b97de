//! The labelling page and its API: `logsift label`'s local page, and
//! `serve`'s `/label` for an uploaded file.
//!
//! | endpoint | in | out |
//! |---|---|---|
//! | `GET /label` | | the page (static; no data) |
//! | `GET /label/api/state?template=ID` | | labels, progress, the card of the next template (or of `ID`), recent decisions |
//! | `POST /label/api/decide` | `{"template", "label", "who"}` | the state |
//! | `POST /label/api/group` | `{"template"}` | the template and its group decided with its suggestion; the state |
//! | `POST /label/api/skip`, `/undo` | `{"template"}`, `{}` | the state |
//! | `POST /label/api/rule` | `{"template", "label"}` | the rule written |
//! | `GET /label/api/search?q=` | | templates holding the text |
//! | `POST /label/api/upload` | a CSV or a log file (`serve` only) | the state of a new session |
//! | `GET /label/api/decisions.csv`, `/rules.toml` | | the files |
//!
//! Every `api` route is behind the service's token and, as every route, its
//! Host and Origin guard. One session at a time; its operations run on a
//! blocking thread under a lock, and each decision refreshes every
//! suggestion before it answers (the refresh time is in the state). With a
//! working directory (`logsift label`), every change rewrites
//! `decisions.csv` and a rule is appended to `rules.toml` at once.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use logsift_core::encoder::Encoder;
use logsift_core::io::{CsvInput, LineInput};
use logsift_core::offline::label::{decisions, now_rfc3339, Asker, Corpus, LabelOptions, Session, Who};
use logsift_core::Record;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access::{auth, guard};
use crate::{Problem, ServiceConfig};

/// What the labelling routes share.
pub struct LabelApp {
    board: Mutex<Option<Board>>,
    encoder: Arc<dyn Encoder>,
    opts: LabelOptions,
    /// Where `decisions.csv` and `rules.toml` are written (`logsift label`).
    dir: Option<PathBuf>,
    /// The LLM that suggests labels, when one is configured, and whether it is being asked now.
    asker: Option<Arc<dyn Asker>>,
    asking: std::sync::atomic::AtomicBool,
}

/// Templates asked about in one LLM request, ahead of the person.
const ASK_AHEAD: usize = 8;

struct Board {
    session: Session,
    name: String,
    refresh_ms: f64,
    rules: Vec<String>,
}

impl LabelApp {
    /// A page for uploaded files (`serve`): templates compared with
    /// `encoder`, an LLM's suggestions from `asker` when there is one.
    pub fn for_uploads(encoder: Arc<dyn Encoder>, opts: LabelOptions, asker: Option<Arc<dyn Asker>>) -> Arc<LabelApp> {
        Arc::new(LabelApp { board: Mutex::new(None), encoder, opts, dir: None, asker, asking: Default::default() })
    }

    /// A page over `session` (`logsift label`), saving into `dir`.
    pub fn for_session(
        mut session: Session,
        name: String,
        dir: PathBuf,
        encoder: Arc<dyn Encoder>,
        asker: Option<Arc<dyn Asker>>,
    ) -> Arc<LabelApp> {
        let t = Instant::now();
        session.refresh();
        let board = Board { session, name, refresh_ms: t.elapsed().as_secs_f64() * 1e3, rules: vec![] };
        let opts = LabelOptions::default();
        Arc::new(LabelApp { board: Mutex::new(Some(board)), encoder, opts, dir: Some(dir), asker, asking: Default::default() })
    }
}

/// Asks the LLM, on a thread of its own, about the next templates not yet
/// asked about (one request at a time; the person never waits for it).
fn ask_ahead(app: &Arc<LabelApp>) {
    use std::sync::atomic::Ordering;
    let Some(asker) = app.asker.clone() else { return };
    if app.asking.swap(true, Ordering::SeqCst) {
        return;
    }
    let app = app.clone();
    std::thread::spawn(move || {
        let batch = {
            let mut guard = app.board.lock().unwrap_or_else(|p| p.into_inner());
            guard.as_mut().map(|b| (b.session.labels().to_vec(), b.session.llm_examples(), b.session.take_to_ask(ASK_AHEAD)))
        };
        if let Some((labels, examples, items)) = batch.filter(|(l, _, items)| !l.is_empty() && !items.is_empty()) {
            let answers = asker.ask(&labels, &examples, &items);
            let mut guard = app.board.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(b) = guard.as_mut() {
                for (item, answer) in items.iter().zip(answers) {
                    b.session.set_llm(item.template, answer.filter(|a| labels.contains(a)));
                }
            }
        }
        app.asking.store(false, Ordering::SeqCst);
    });
}

/// The labelling routes, the API behind the token (the service adds its Host and Origin guard).
pub fn router<S: Clone + Send + Sync + 'static>(app: Arc<LabelApp>, cfg: Arc<ServiceConfig>) -> Router<S> {
    let api = Router::new()
        .route("/label/api/state", get(state))
        .route("/label/api/decide", post(decide))
        .route("/label/api/group", post(group))
        .route("/label/api/skip", post(skip))
        .route("/label/api/undo", post(undo))
        .route("/label/api/rule", post(rule))
        .route("/label/api/search", get(search))
        // The upload reads with the service's limits (line length, columns).
        .route(
            "/label/api/upload",
            post({
                let cfg = cfg.clone();
                move |state, headers, body| upload(state, cfg, headers, body)
            }),
        )
        .route("/label/api/decisions.csv", get(decisions_csv))
        .route("/label/api/rules.toml", get(rules_toml))
        .route_layer(middleware::from_fn_with_state(cfg.clone(), auth))
        .with_state(app);
    Router::new().route("/label", get(|| async { Html(include_str!("../assets/label.html")) })).merge(api)
}

/// `logsift label`'s own server: the labelling routes alone, behind the
/// token, the Host allow-list and the Origin check of `cfg`; `/` leads to the page.
pub fn standalone_router(app: Arc<LabelApp>, cfg: ServiceConfig) -> Router {
    let cfg = Arc::new(cfg);
    router(app, cfg.clone())
        .route("/", get(|| async { axum::response::Redirect::to("/label") }))
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "not found", "the page is at /label") })
        .layer(middleware::from_fn_with_state(cfg, guard))
}

fn problem(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
    Problem::new(status, title, detail.into())
}

/// Runs `f` on the session under the lock, on a blocking thread.
async fn with_board<T: Send + 'static>(
    app: &Arc<LabelApp>,
    f: impl FnOnce(&LabelApp, &mut Board) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let app2 = app.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut guard = app2.board.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(b) => f(&app2, b),
            None => Err(problem(StatusCode::CONFLICT, "no session", "upload a log file first")),
        }
    })
    .await
    .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()))?;
    // After every look or change: the LLM about the next templates, in the background.
    ask_ahead(app);
    out
}

/// Refreshes the suggestions (timed) and saves the decisions.
fn changed(app: &LabelApp, b: &mut Board) -> Result<(), Problem> {
    let t = Instant::now();
    b.session.refresh();
    b.refresh_ms = t.elapsed().as_secs_f64() * 1e3;
    if let Some(dir) = &app.dir {
        let path = dir.join("decisions.csv");
        decisions::write(&path, &b.session.rows())
            .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot save", format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

fn card(s: &Session, i: usize) -> Value {
    let t = &s.corpus.templates[i];
    let total = s.corpus.lines().max(1) as f64;
    let nearest: Vec<Value> = s
        .nearest_decided(i, 3)
        .into_iter()
        .map(|(n, label, c)| json!({"id": n, "template": s.corpus.templates[n].template, "label": label, "similarity": (c as f64 * 1000.0).round() / 1000.0}))
        .collect();
    let group: Vec<Value> = s
        .group(i, 20)
        .into_iter()
        .map(|g| json!({"id": g, "template": s.corpus.templates[g].template, "lines": s.corpus.templates[g].lines}))
        .collect();
    json!({
        "id": i,
        "template": t.template,
        "lines": t.lines,
        "share": t.lines as f64 / total,
        "first_seen": t.first_seen,
        "last_seen": t.last_seen,
        "examples": t.examples,
        "sources": t.sources,
        "suggestion": s.suggestion(i),
        "llm": s.llm(i),
        "decided": s.decided(i).map(|d| s.labels()[d.label].clone()),
        "nearest": nearest,
        "group": group,
    })
}

fn state_of(app: &LabelApp, b: &Board, at: Option<usize>) -> Value {
    let s = &b.session;
    let current = at.filter(|&i| i < s.corpus.templates.len()).or_else(|| s.next());
    let rows = s.rows();
    let history: Vec<Value> =
        rows.iter().rev().take(8).map(|r| json!({"template": r.template, "label": r.label, "who": r.who, "lines": r.lines})).collect();
    json!({
        "name": b.name,
        "encoder": s.corpus.encoder,
        "labels": s.labels(),
        "progress": s.progress(),
        "refresh_ms": (b.refresh_ms * 10.0).round() / 10.0,
        "card": current.map(|i| card(s, i)),
        "history": history,
        "rules": b.rules.len(),
        "llm": app.asker.as_ref().map(|a| a.cost()),
    })
}

#[derive(Deserialize, Default)]
struct At {
    template: Option<usize>,
}

async fn state(State(app): State<Arc<LabelApp>>, Query(q): Query<At>) -> Result<Json<Value>, Problem> {
    ask_ahead(&app);
    with_board(&app, move |app, b| Ok(Json(state_of(app, b, q.template)))).await
}

#[derive(Deserialize)]
struct DecideBody {
    template: usize,
    label: String,
    #[serde(default = "person")]
    who: Who,
}

fn person() -> Who {
    Who::Person
}

fn bad(e: impl std::fmt::Display) -> Problem {
    problem(StatusCode::UNPROCESSABLE_ENTITY, "cannot do that", e.to_string())
}

async fn decide(State(app): State<Arc<LabelApp>>, Json(body): Json<DecideBody>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |app, b| {
        b.session.decide(body.template, &body.label, body.who, now_rfc3339()).map_err(bad)?;
        changed(app, b)?;
        Ok(Json(state_of(app, b, None)))
    })
    .await
}

async fn group(State(app): State<Arc<LabelApp>>, Json(at): Json<At>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |app, b| {
        let i = at.template.ok_or_else(|| bad("which template?"))?;
        let label = b.session.suggestion(i).map(|s| s.label).ok_or_else(|| bad("no suggestion to accept"))?;
        let members = b.session.group(i, 20);
        let now = now_rfc3339();
        b.session.decide(i, &label, Who::Model, now.clone()).map_err(bad)?;
        for g in members {
            b.session.decide(g, &label, Who::Model, now.clone()).map_err(bad)?;
        }
        changed(app, b)?;
        Ok(Json(state_of(app, b, None)))
    })
    .await
}

async fn skip(State(app): State<Arc<LabelApp>>, Json(at): Json<At>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |app, b| {
        b.session.skip(at.template.ok_or_else(|| bad("which template?"))?);
        Ok(Json(state_of(app, b, None)))
    })
    .await
}

async fn undo(State(app): State<Arc<LabelApp>>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |app, b| {
        let back = b.session.undo();
        changed(app, b)?;
        Ok(Json(state_of(app, b, back)))
    })
    .await
}

#[derive(Deserialize)]
struct RuleBody {
    template: usize,
    label: String,
}

async fn rule(State(app): State<Arc<LabelApp>>, Json(body): Json<RuleBody>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |app, b| {
        let rule = b.session.rule(body.template, &body.label).map_err(bad)?;
        let text = logsift_core::rules::RulesFile { rule: vec![rule.clone()] }.to_toml();
        if let Some(dir) = &app.dir {
            use std::io::Write;
            let path = dir.join("rules.toml");
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut f| {
                f.write_all(format!("\n{text}").as_bytes())?;
                f.sync_all()?;
                Ok(f)
            });
            if let Err(e) = f.as_mut() {
                return Err(problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot save", format!("{}: {e}", path.display())));
            }
        }
        b.rules.push(text);
        Ok(Json(json!({"id": rule.id, "label": rule.label, "regex": rule.regex, "rules": b.rules.len()})))
    })
    .await
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
}

async fn search(State(app): State<Arc<LabelApp>>, Query(q): Query<SearchQuery>) -> Result<Json<Value>, Problem> {
    with_board(&app, move |_, b| {
        let s = &b.session;
        let hits: Vec<Value> = s
            .search(&q.q, 50)
            .into_iter()
            .map(|i| json!({"id": i, "template": s.corpus.templates[i].template, "lines": s.corpus.templates[i].lines, "label": s.label_of(i), "decided": s.decided(i).is_some()}))
            .collect();
        Ok(Json(json!({"templates": hits})))
    })
    .await
}

async fn decisions_csv(State(app): State<Arc<LabelApp>>) -> Result<Response, Problem> {
    with_board(&app, move |_, b| {
        let text = decisions::to_csv(&b.session.rows());
        Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"decisions.csv\"")],
            text,
        )
            .into_response())
    })
    .await
}

async fn rules_toml(State(app): State<Arc<LabelApp>>) -> Result<Response, Problem> {
    with_board(&app, move |_, b| {
        Ok((
            [(header::CONTENT_TYPE, "application/toml"), (header::CONTENT_DISPOSITION, "attachment; filename=\"rules.toml\"")],
            b.rules.join("\n"),
        )
            .into_response())
    })
    .await
}

/// `serve`: a new session over an uploaded CSV (`log_message`, optional
/// `source`) or log file (a line each), replacing the one before.
async fn upload(
    State(app): State<Arc<LabelApp>>,
    cfg: Arc<ServiceConfig>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    if app.dir.is_some() {
        return Err(problem(StatusCode::CONFLICT, "not here", "this page labels the files `logsift label` was given"));
    }
    let name = headers.get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("upload").chars().take(200).collect::<String>();
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || {
        let opts = crate::input_options(&cfg);
        let first = body.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let is_csv = String::from_utf8_lossy(first).split(',').any(|c| c.trim().trim_matches('"') == "log_message");
        let (records, hdr): (Vec<Record>, Option<Vec<String>>) = if is_csv {
            let input = CsvInput::new(std::io::Cursor::new(body.to_vec()), &name, opts).map_err(|e| bad(e.to_string()))?;
            let h = input.headers().to_vec();
            if h.len() > cfg.max_columns {
                let why = format!("{name}: the CSV header has {} columns; this service takes at most {}", h.len(), cfg.max_columns);
                return Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "too many columns", why));
            }
            let recs: Result<Vec<Record>, _> = input.collect();
            (recs.map_err(|e| bad(e.to_string()))?, Some(h))
        } else {
            let recs: Result<Vec<Record>, _> = LineInput::new(std::io::Cursor::new(body.to_vec()), &name, false, opts).collect();
            (recs.map_err(|e| bad(e.to_string()))?, None)
        };
        if let Some(r) = records.iter().find(|r| r.invalid.is_some()) {
            let why = r.invalid.as_ref().map(|b| b.located(r.row)).unwrap_or_default();
            return Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "bad input", why));
        }
        if records.is_empty() {
            return Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "bad input", format!("{name}: no lines")));
        }
        let masker = logsift_core::mask::Masker::default();
        let corpus = Corpus::build(&records, hdr.as_deref(), &masker, app2.encoder.as_ref(), &app2.opts).map_err(|e| bad(e.to_string()))?;
        let mut session = Session::new(corpus, vec![], vec![], app2.opts);
        let t = Instant::now();
        session.refresh();
        let board = Board { session, name, refresh_ms: t.elapsed().as_secs_f64() * 1e3, rules: vec![] };
        let v = state_of(&app2, &board, None);
        *app2.board.lock().unwrap_or_else(|p| p.into_inner()) = Some(board);
        ask_ahead(&app2);
        Ok(Json(v))
    })
    .await
    .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()))?
}
