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
//! * **a connection cap** ([`ConnLimits::max_connections`]): past it, new
//!   connections wait in the kernel's backlog until one closes;
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
    /// Longest wait for requests in flight after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits { header_timeout: Duration::from_secs(10), max_connections: 1024, shutdown_grace: Duration::from_secs(10) }
    }
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
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
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
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
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
