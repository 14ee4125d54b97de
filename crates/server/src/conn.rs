//! Connections: how long a client may hold one, how many there may be, and
//! how long a shutdown may wait for them.
//!
//! `axum::serve` reads request headers without a deadline and keeps idle
//! connections forever, so a few hundred half-sent requests hold sockets
//! indefinitely, twenty thousand exhaust the file descriptors, and one of
//! them blocks a graceful shutdown. This accept loop serves each connection
//! with hyper directly:
//!
//! * **a header deadline** ([`ConnLimits::header_timeout`]): a client has
//!   that long to send a request's headers, counted from when the server
//!   starts waiting for them — on a new connection and between requests on a
//!   kept-alive one, so it is the idle timeout too (hyper's timer);
//! * **a connection cap** ([`ConnLimits::max_connections`]), with a reserve
//!   beyond it so that a full cap never hides the service from its health
//!   probes: past the cap a connection is still accepted, into a reserve of
//!   [`ConnLimits::reserve`] slots with a short header deadline (at most
//!   [`RESERVE_HEADER_TIMEOUT`]), where `GET /health` is answered and any
//!   other request gets 503 with `Retry-After`. When the reserve is full too,
//!   its oldest connection is closed for the new one, so a flood of
//!   half-sent requests cannot keep a probe out: before, the probe waited in
//!   the kernel's backlog behind them (15 s and more);
//! * **a bounded shutdown** ([`ConnLimits::shutdown_grace`]): on the signal
//!   the listener closes, idle connections close at once, requests in flight
//!   get the grace period to finish, and then the server returns whatever
//!   the clients do.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

/// Limits on connections (see the module docs).
#[derive(Clone, Debug)]
pub struct ConnLimits {
    /// Time to send a request's headers, also the keep-alive idle timeout.
    pub header_timeout: Duration,
    /// Most open connections.
    pub max_connections: usize,
    /// Connections past the cap that are still accepted, for `/health` only.
    pub reserve: usize,
    /// Longest wait for requests in flight after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits { header_timeout: Duration::from_secs(10), max_connections: 1024, reserve: 64, shutdown_grace: Duration::from_secs(10) }
    }
}

/// The header deadline of a connection in the reserve (or the ordinary
/// one, when shorter): a probe sends its request at once.
pub const RESERVE_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// The reserve's connections, oldest first, to close the oldest when full.
#[derive(Default)]
struct Reserve {
    next_id: u64,
    open: std::collections::VecDeque<(u64, tokio::task::AbortHandle)>,
}

/// What a connection in the reserve is answered: `GET /health` as usual,
/// anything else 503 (the connection cap is full).
async fn health_only(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path() == "/health" {
        return next.run(req).await;
    }
    let mut r = crate::Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "the service holds its limit of open connections (--max-connections); retry shortly".into(),
    )
    .retry_after(1)
    .into_response();
    r.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    r
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes,
/// then lets requests in flight finish within the grace period.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    limits: ConnLimits,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserve = Arc::new(std::sync::Mutex::new(Reserve::default()));
    let reserve_router = router.clone().layer(axum::middleware::from_fn(health_only));
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin or stop.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).keep_alive(true);
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            http.header_read_timeout(limits.header_timeout);
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone())));
            tokio::spawn(async move {
                let _ = conn.await;
                drop(permit);
            });
            continue;
        }
        if limits.reserve == 0 {
            continue; // no reserve: the connection is closed
        }
        http.header_read_timeout(limits.header_timeout.min(RESERVE_HEADER_TIMEOUT)).keep_alive(false);
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(reserve_router.clone())));
        let mut r = reserve.lock().expect("reserve");
        while r.open.len() >= limits.reserve {
            if let Some((_, oldest)) = r.open.pop_front() {
                oldest.abort();
            }
        }
        let id = r.next_id;
        r.next_id += 1;
        let book = reserve.clone();
        let task = tokio::spawn(async move {
            let _ = conn.await;
            book.lock().expect("reserve").open.retain(|(i, _)| *i != id);
        });
        r.open.push_back((id, task.abort_handle()));
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("connections still open after the shutdown grace of {:?}: closing them", limits.shutdown_grace);
        }
    }
    Ok(())
}
