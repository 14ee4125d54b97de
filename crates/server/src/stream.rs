//! `POST /v1/classify/stream`: NDJSON in, NDJSON out as lines are decided.

use super::*;

/// NDJSON in, NDJSON out: each complete line received is classified with
/// the others of its chunk and written back at once, so results flow while
/// the body is still arriving, in constant memory.
pub(crate) async fn classify_stream(State(svc): State<Shared>, req: Request) -> Result<Response, Problem> {
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
    let max_line = svc.cfg.max_line_bytes;
    let svc2 = svc.clone();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = vec![];
        let mut row: u64 = 0;
        // Bytes of an over-long line being skipped, until its newline.
        let mut skipping: Option<usize> = None;
        let mut done = false;
        while !done {
            let mut lines: Vec<Vec<u8>> = vec![];
            let mut too_long: Vec<(u64, usize)> = vec![];
            match body.next().await {
                Some(Ok(chunk)) => {
                    let mut rest: &[u8] = &chunk;
                    while !rest.is_empty() {
                        let nl = rest.iter().position(|&b| b == b'\n');
                        let (part, more) = match nl {
                            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                            None => (rest, None),
                        };
                        if let Some(n) = skipping.as_mut() {
                            *n += part.len();
                        } else {
                            buf.extend_from_slice(part);
                            if buf.len() > max_line {
                                skipping = Some(buf.len());
                                buf.clear();
                            }
                        }
                        match more {
                            Some(m) => {
                                row += 1;
                                match skipping.take() {
                                    Some(n) => too_long.push((row, n)),
                                    None => lines.push(std::mem::take(&mut buf)),
                                }
                                rest = m;
                            }
                            None => rest = &[],
                        }
                    }
                }
                Some(Err(e)) => {
                    let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": format!("reading the request failed: {e}")})))).await;
                    return;
                }
                None => {
                    done = true;
                    if let Some(n) = skipping.take() {
                        row += 1;
                        too_long.push((row, n));
                    } else if !buf.iter().all(u8::is_ascii_whitespace) {
                        row += 1;
                        lines.push(std::mem::take(&mut buf));
                    }
                }
            }
            let first_row = row + 1 - (lines.len() + too_long.len()) as u64;
            let records = stream_records(lines, too_long, first_row, max_line);
            if records.is_empty() {
                continue;
            }
            let Ok((records, decisions)) = svc2.batcher.classify(records).await else {
                let _ = tx.send(Bytes::from(format!("{}\n", json!({"error": "the pipeline has stopped"})))).await;
                return;
            };
            let mut out = Vec::with_capacity(records.len() * 128);
            for (r, d) in records.iter().zip(&decisions) {
                let _ = serde_json::to_writer(&mut out, &json_object(r, d));
                out.push(b'\n');
            }
            if tx.send(Bytes::from(out)).await.is_err() {
                return; // the client went away
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(stream)).into_response())
}

/// Records of complete NDJSON lines (`lines`, in order, interleaved with the
/// over-long ones by row number), numbered from `first_row`.
pub fn stream_records(lines: Vec<Vec<u8>>, too_long: Vec<(u64, usize)>, first_row: u64, max_line: usize) -> Vec<Record> {
    let mut out = Vec::with_capacity(lines.len() + too_long.len());
    let mut long = too_long.into_iter().peekable();
    let mut row = first_row;
    let opts = InputOptions { max_line_bytes: max_line, ..InputOptions::default() };
    for line in lines {
        while long.peek().is_some_and(|(r, _)| *r == row) {
            out.push(long_record(long.next().expect("peeked"), max_line));
            row += 1;
        }
        let mut parsed: Vec<Record> = LineInput::new(Cursor::new(line), "stream", true, opts.clone()).flatten().collect();
        // A blank line is not a record (as in `logsift classify`).
        if let Some(mut r) = parsed.pop() {
            r.row = row;
            out.push(r);
        }
        row += 1;
    }
    out.extend(long.map(|l| long_record(l, max_line)));
    out
}

pub(crate) fn long_record((row, bytes): (u64, usize), max: usize) -> Record {
    Record { row, invalid: Some(format!("line is {bytes} bytes, over the limit of {max}")), ..Record::default() }
}
