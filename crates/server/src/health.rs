//! `GET /health` and `GET /metrics`.

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
    let text = svc.metrics.render(&svc.batcher.stats(), svc.batcher.batches(), &tiers);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
