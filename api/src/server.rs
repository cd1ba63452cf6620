//! Routes: `POST /graphql`, GraphiQL on `GET /graphql`, subscriptions on `/graphql/ws`,
//! `/healthz` and `/readyz`. Requests without a valid token are answered `UNAUTHENTICATED`
//! before the schema sees them.

use std::future::Future;

use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{Data, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument;

use crate::auth::TokenVerifier;
use crate::graphql::{codes, unauthenticated_response, PrepSchema};

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The GraphQL schema with its use cases.
    pub schema: PrepSchema,
    /// Checks bearer tokens.
    pub verifier: TokenVerifier,
    /// For readiness checks.
    pub pool: PgPool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The service's routes.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(subscriptions))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(RequestBodyLimitLayer::new(max_body_bytes))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match state.verifier.verify_header(authorization) {
        Ok(caller) => caller,
        Err(error) => {
            tracing::info!(reason = %error, "request refused: unauthenticated");
            return (StatusCode::UNAUTHORIZED, Json(unauthenticated_response())).into_response();
        }
    };

    let request = request.into_inner();
    let span = tracing::info_span!(
        "graphql",
        account = %caller.account_id,
        actor = caller.actor.as_str(),
        correlation_id = %caller.correlation_id,
        operation = request.operation_name.as_deref().unwrap_or("")
    );
    let mut response = state
        .schema
        .execute(request.data(caller))
        .instrument(span)
        .await;
    response.errors.iter_mut().for_each(code_unlabelled_error);
    GraphQLResponse::from(response).into_response()
}

/// Errors raised by GraphQL itself (syntax, unknown fields, wrong argument types, limits)
/// carry no code; they are the client's input errors.
fn code_unlabelled_error(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", Value::from(codes::VALIDATION));
    }
}

async fn subscriptions(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let verifier = state.verifier.clone();
            GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
                .on_connection_init(
                    move |payload| async move { connection_init(&verifier, &payload) },
                )
                .serve()
        })
}

/// Subscriptions carry the token in the `connection_init` payload:
/// `{"authorization": "Bearer ..."}`.
fn connection_init(
    verifier: &TokenVerifier,
    payload: &serde_json::Value,
) -> async_graphql::Result<Data> {
    let header = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str());
    let caller = verifier
        .verify_header(header)
        .map_err(|_| async_graphql::Error::new("a valid bearer token is required"))?;
    let mut data = Data::default();
    data.insert(caller);
    Ok(data)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
