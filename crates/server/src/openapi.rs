//! The OpenAPI 3.1 description served at `/openapi.json`, written by hand
//! beside the handlers it describes.

use serde_json::{json, Value};

fn problem(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// The spec.
pub fn spec() -> Value {
    let errors = |codes: &[(&str, &str)]| -> Value {
        let mut m = serde_json::Map::new();
        for (c, d) in codes {
            m.insert(c.to_string(), problem(d));
        }
        Value::Object(m)
    };
    let mut csv_responses = errors(&[
        ("400", "Malformed CSV (the row and column at fault are given), or a bad query parameter"),
        ("401", "Missing or wrong bearer token"),
        ("403", "Host not allowed, or a browser page of another origin"),
        ("405", "Not POST"),
        ("413", "Body or row count over the limit"),
        ("415", "Not multipart/form-data, text/csv or text/plain"),
        (
            "422",
            "Not a CSV with a log_message column (an image, say), too many columns, a header row over the line limit, or no 'file' field",
        ),
        ("503", "Time limit reached, or too many bytes in flight (Retry-After)"),
    ]);
    csv_responses["200"] = json!({"description": "The CSV with every input column, then target_label, tier, confidence, detail",
        "content": {"text/csv": {"schema": {"type": "string"}}}});
    let mut json_responses = errors(&[
        ("400", "Malformed JSON, or a bad query parameter (with_template not true or false)"),
        ("401", "Missing or wrong bearer token"),
        ("403", "Host not allowed, or a browser page of another origin"),
        ("405", "Not POST"),
        ("413", "Body or row count over the limit"),
        ("415", "Not application/json"),
        (
            "422",
            "No logs array, or an item that is not an object, has no string log_message, or has a source that is neither a string nor null (its row is given)",
        ),
        ("503", "Time limit reached, or too many bytes in flight (Retry-After)"),
    ]);
    json_responses["200"] = json!({"description": "One result per log, in order",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClassifyResponse"}}}});
    let mut stream_responses = errors(&[
        ("400", "A bad query parameter (with_template not true or false)"),
        ("401", "Missing or wrong bearer token"),
        ("403", "Host not allowed, or a browser page of another origin"),
        ("405", "Not POST"),
        ("415", "Not NDJSON"),
    ]);
    stream_responses["200"] = json!({"description": "NDJSON: each input object plus target_label, tier, confidence, detail, in order, as decided",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "logsift", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Hybrid log classifier: rules, then a sentence-embedding model, then an LLM, cheapest first."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {"type": "object", "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}, "row": {"type": "integer", "description": "1-based data row at fault"},
                    "column": {"type": "string", "description": "column or field at fault"}}},
                "Log": {"type": "object", "required": ["log_message"], "properties": {
                    "source": {"type": ["string", "null"], "description": "null or absent: no source"},
                    "log_message": {"type": "string"}}},
                "ClassifyRequest": {"type": "object", "required": ["logs"], "properties": {
                    "logs": {"type": "array", "items": {"$ref": "#/components/schemas/Log"}}},
                    "example": {"logs": [{"source": "ModernCRM", "log_message": "User User123 logged in."}]}},
                "Result": {"type": "object", "properties": {
                    "target_label": {"type": "string"},
                    "tier": {"type": "string", "enum": ["rules", "model", "llm", "none"]},
                    "confidence": {"type": "number"},
                    "rule": {"type": "string", "description": "id of the rule that matched (tier rules)"},
                    "reason": {"type": "string", "description": "why Unclassified, or a note of the deciding tier"},
                    "guess": {"type": "boolean", "description": "true when the label is the model's below-threshold best guess, kept because no later tier decided"},
                    "template": {"type": "string", "description": "the line's masked template (with_template=true)"},
                    "template_id": {"type": "string", "description": "stable id of the template: 16 hex digits of its SHA-256 (with_template=true)"}}},
                "ClassifyResponse": {"type": "object", "properties": {
                    "model": {"type": "string"},
                    "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}}
            }
        },
        "paths": {
            "/classify": {"post": {
                "summary": "Classify a CSV file (columns source, log_message)",
                "security": [{"bearer": []}, {}],
                "parameters": [
                    {"name": "only_label", "in": "query", "schema": {"type": "boolean"}, "description": "add target_label only"},
                    {"name": "on_error", "in": "query", "schema": {"type": "string", "enum": ["fail", "skip"]},
                     "description": "skip: keep bad rows as Unclassified with the reason"},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "text"]},
                     "description": "how to read the body; by default text/plain (or a .log/.txt upload) is one log line a line, anything else CSV"},
                    {"name": "with_template", "in": "query", "schema": {"type": "boolean"}, "description": "add the columns template and template_id"}],
                "requestBody": {"required": true, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {"type": "string",
                        "description": "a CSV file with a header row naming a log_message column, or a log file of one line a log line (named *.log or *.txt, or typed text/plain); anything else (an image, an archive) gets 422"}}},
                        "encoding": {"file": {"contentType": "text/csv, text/plain"}}},
                    "text/csv": {"schema": {"type": "string"}},
                    "text/plain": {"schema": {"type": "string"}, "description": "a log file, one line a log line (output columns source, log_message, …)"}}},
                "responses": csv_responses}},
            "/v1/classify": {"post": {
                "summary": "Classify log lines given as JSON",
                "security": [{"bearer": []}, {}],
                "parameters": [{"name": "with_template", "in": "query", "schema": {"type": "boolean"}, "description": "add template and template_id to each result"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ClassifyRequest"}}}},
                "responses": json_responses}},
            "/v1/classify/stream": {"post": {
                "summary": "Classify NDJSON, streamed: results are written as they are decided",
                "security": [{"bearer": []}, {}],
                "parameters": [{"name": "with_template", "in": "query", "schema": {"type": "boolean"}, "description": "add template and template_id to each result"}],
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string"},
                    "example": "{\"source\":\"ModernHR\",\"log_message\":\"User User1 logged in.\"}\n"}}},
                "responses": stream_responses}},
            "/health": {"get": {"summary": "Model, labels, tiers and their state", "responses": {"200": {"description": "OK"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [{"bearer": []}, {}],
                "responses": {"200": {"description": "Prometheus text format"}}}},
            "/patterns": {"get": {
                "summary": "What is new and what is spiking: patterns first seen in the window, and those whose rate grew most against the baseline",
                "security": [{"bearer": []}, {}],
                "parameters": [
                    {"name": "window", "in": "query", "schema": {"type": "string"}, "example": "5m", "description": "the recent window (90s, 5m, 1h; default one counting window)"},
                    {"name": "baseline", "in": "query", "schema": {"type": "string"}, "example": "1h", "description": "the baseline before it (default the rest of the history)"},
                    {"name": "min_growth", "in": "query", "schema": {"type": "number"}, "description": "smallest growth listed as spiking (default 5)"},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}, "description": "most patterns per list (default 50)"}],
                "responses": {"200": {"description": "new and spiking patterns, each with its label, template, examples and counts; per label, lines in the window and the baseline"},
                    "400": {"description": "a parameter that is not a duration or a number"}}}}
        }
    })
}
