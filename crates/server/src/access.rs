//! Who may call: the Host allow-list and the Origin check (DNS rebinding,
//! CSRF, CORS), and the bearer token.

use super::*;

/// Equal strings, in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The host of a `Host` header or of an origin's authority, without the
/// port, lower case (`[::1]:8080` → `::1`).
pub(crate) fn host_name(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        a.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(a, |(h, _)| h)
    };
    host.to_ascii_lowercase()
}

/// Refuses requests for a host the service does not answer (DNS
/// rebinding) and requests from a browser page of another origin (CSRF: a
/// page may POST `text/plain` or multipart cross-origin without a
/// preflight), unless `--cors-origin` allows that origin; answers the
/// allowed origins' preflights and marks their responses.
pub(crate) async fn guard(State(cfg): State<Arc<ServiceConfig>>, req: Request, next: Next) -> Response {
    // Two Host headers are a malformed request (RFC 9112 §3.2), whichever
    // of them would be allowed: checking only one let the other through.
    if req.headers().get_all(header::HOST).iter().nth(1).is_some() {
        return Problem::new(StatusCode::BAD_REQUEST, "bad request", "the request has more than one Host header".into()).into_response();
    }
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if let Some(allowed) = &cfg.allowed_hosts {
        let name = host_name(&host);
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
            return Problem::new(
                StatusCode::FORBIDDEN,
                "host not allowed",
                format!(
                    "this service does not answer for Host '{host}' (allowed: {}); logsift serve --allow-host adds names",
                    allowed.join(", ")
                ),
            )
            .into_response();
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null").to_string()) else {
        return next.run(req).await; // not a browser page's cross-origin call
    };
    let same_origin = origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host));
    let listed = cfg.cors_origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(&origin));
    if same_origin {
        return next.run(req).await;
    }
    if !listed {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "cross-origin request refused",
            format!("pages of origin '{origin}' may not call this service; logsift serve --cors-origin {origin} allows them"),
        )
        .into_response();
    }
    let allow_origin = header::HeaderValue::from_str(&origin).unwrap_or(header::HeaderValue::from_static("null"));
    if req.method() == axum::http::Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header::HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, header::HeaderValue::from_static("authorization, content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, header::HeaderValue::from_static("600"));
        h.insert(header::VARY, header::HeaderValue::from_static("origin"));
        return r;
    }
    let mut r = next.run(req).await;
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    r.headers_mut().insert(header::VARY, header::HeaderValue::from_static("origin"));
    r
}

pub(crate) async fn auth(State(cfg): State<Arc<ServiceConfig>>, req: Request, next: Next) -> Response {
    if let Some(token) = &cfg.token {
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` is fine.
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t);
        let ok = given.is_some_and(|g| constant_time_eq(g.trim().as_bytes(), token.as_bytes()));
        if !ok {
            let why = if given.is_some() { "wrong bearer token" } else { "this endpoint needs 'Authorization: Bearer <token>'" };
            let mut r = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", why.into()).into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    next.run(req).await
}
