//! `POST /v1/classify/stream`: NDJSON in, NDJSON out as lines are decided.

use super::*;

/// NDJSON in, NDJSON out: each complete line received is classified with
/// the others of its chunk and written back at once, so results flow while
/// the body is still arriving, in constant memory.
pub(crate) async fn classify_stream(
    State(svc): State<Shared>,
    q: Result<Query<TemplateQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let with_template = template_query(q)?;
    let mt = media_type(req.headers());
    const TYPES: [&str; 5] = ["application/x-ndjson", "application/ndjson", "application/jsonl", "application/json", "text/plain"];
    if !TYPES.contains(&mt.as_str()) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            format!("POST /v1/classify/stream takes application/x-ndjson (one JSON object a line), not '{mt}'"),
        ));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let mut body = req.into_body().into_data_stream();
    let opts = InputOptions { max_line_bytes: svc.cfg.max_line_bytes, ..InputOptions::default() };
    let svc2 = svc.clone();
    tokio::spawn(async move {
        // Core's framer: at most a line's limit held, however long the line.
        let mut lines = LineDecoder::new("stream", true, opts);
        let mut done = false;
        while !done {
            let mut records = vec![];
            let Ok(next) = tokio::time::timeout(svc2.cfg.stream_idle_timeout, body.next()).await else {
                // Silent too long: the lines so far are answered; then the stream ends.
                let idle = svc2.cfg.stream_idle_timeout.as_secs_f64();
                let why = format!("no data for {idle} s (--idle-timeout): the stream is closed; lines sent after this are not read");
                let _ = tx.send(Bytes::from(format!("{}\n", json!({ "error": why })))).await;
                return;
            };
            match next {
                Some(Ok(chunk)) => lines.feed(&chunk, &mut records),
                Some(Err(e)) => {
                    let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": format!("reading the request failed: {e}")})))).await;
                    return;
                }
                None => {
                    done = true;
                    records.extend(lines.finish());
                }
            }
            if records.is_empty() {
                continue;
            }
            let Ok((records, decisions)) = svc2.batcher.classify(records).await else {
                let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": "the pipeline has stopped"})))).await;
                return;
            };
            let mut out = Vec::with_capacity(records.len() * 128);
            for (r, d) in records.iter().zip(&decisions) {
                let _ = write_json_line(&mut out, r, d, with_template.then_some(&svc2.templates));
            }
            if tx.send(Bytes::from(out)).await.is_err() {
                return; // the client went away
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(stream)).into_response())
}
