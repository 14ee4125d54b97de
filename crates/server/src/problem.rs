//! Errors as `application/problem+json` (RFC 9457), with the row and column
//! at fault when there is one.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    row: Option<u64>,
    column: Option<String>,
    retry_after: Option<u32>,
}

impl Problem {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// The detail text.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// A problem with a status, a short title and the detail.
    pub fn new(status: StatusCode, title: &'static str, detail: String) -> Self {
        Problem { status, title, detail, row: None, column: None, retry_after: None }
    }

    /// The 1-based data row at fault.
    pub fn row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// Seconds after which a retry may succeed (`Retry-After`).
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The column or field at fault.
    pub fn column(mut self, column: &str) -> Self {
        self.column = Some(column.to_string());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({"type": "about:blank", "title": self.title, "status": self.status.as_u16(), "detail": self.detail});
        if let Some(r) = self.row {
            body["row"] = json!(r);
        }
        if let Some(c) = self.column {
            body["column"] = json!(c);
        }
        let mut r = (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(s));
        }
        r
    }
}
