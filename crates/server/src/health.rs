//! `GET /health`, `GET /metrics` and `GET /patterns`.

use super::*;

pub(crate) async fn health(State(svc): State<Shared>) -> Json<Value> {
    let llm = match &svc.llm {
        None => json!({"state": "disabled"}),
        Some(l) => json!(l.health()),
    };
    let stats = svc.batcher.stats();
    Json(json!({
        "status": "ok",
        "model": {
            "name": svc.info.name,
            "dir": svc.info.dir,
            "encoder": svc.info.encoder,
            "threshold": svc.info.threshold,
            "labels": svc.info.labels,
        },
        "tiers": svc.info.tiers,
        "llm": llm,
        "lines": stats.records,
        "uptime_s": svc.started.elapsed().as_secs(),
    }))
}

pub(crate) async fn metrics(State(svc): State<Shared>) -> Response {
    let tiers = svc.llm.as_deref().map(TierReport::metrics).unwrap_or_default();
    let mut text = svc.metrics.render(&svc.batcher.stats(), svc.batcher.batches(), &tiers);
    text.push_str(&svc.live.render_metrics());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `GET /patterns`'s parameters.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatternsQuery {
    /// The recent window (`90s`, `5m`, `1h`; default: one counting window).
    window: Option<String>,
    /// The baseline before it (default: the rest of the history).
    baseline: Option<String>,
    /// Smallest growth listed as spiking (default 5).
    min_growth: Option<f64>,
    /// Most patterns per list (default 50).
    limit: Option<usize>,
}

/// Patterns new in the window and spiking against the baseline.
pub(crate) async fn patterns(
    State(svc): State<Shared>,
    q: Result<Query<PatternsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<logsift_core::trends::TrendReport>, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "bad parameter", e.body_text()))?;
    let bad = |e: String| Problem::new(StatusCode::BAD_REQUEST, "bad parameter", e);
    let cfg = svc.live.trends.config();
    let window = match &q.window {
        Some(w) => logsift_core::trends::parse_duration(w).map_err(bad)?,
        None => cfg.window,
    };
    let baseline = match &q.baseline {
        Some(b) => logsift_core::trends::parse_duration(b).map_err(bad)?,
        None => cfg.window * cfg.history as u32,
    };
    let min_growth = q.min_growth.unwrap_or(5.0);
    if !(min_growth.is_finite() && min_growth >= 0.0) {
        return Err(bad(format!("min_growth {min_growth}: a number of at least 0")));
    }
    let live = svc.live.clone();
    let limit = q.limit.unwrap_or(50);
    let report =
        tokio::task::spawn_blocking(move || live.trends.report(logsift_core::trends::now_secs(), window, baseline, min_growth, limit))
            .await
            .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error", e.to_string()))?;
    Ok(Json(report))
}
