//! The accept loop: HTTP/1.1 connections served by the router, closed without an answer when
//! a handler asks for a connection reset, all stopped at shutdown.

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::http::ResetConnection;

/// The error that makes the connection close without an answer.
#[derive(Debug, thiserror::Error)]
#[error("connection reset on purpose")]
struct ResetOnPurpose;

/// Serves connections until `shutdown` fires (or its sender is dropped).
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => tracing::debug!(%error, "accept failed"),
            },
            _ = &mut shutdown => break,
        }
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

async fn serve_connection(stream: tokio::net::TcpStream, router: Router) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let router = router.clone();
        async move {
            let answer = router.oneshot(request.map(Body::new)).await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(never) => match never {},
            };
            if answer.extensions().get::<ResetConnection>().is_some() {
                return Err(ResetOnPurpose);
            }
            Ok::<_, ResetOnPurpose>(answer)
        }
    });
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        tracing::debug!(%error, "connection ended");
    }
}
