//! Routes: `POST /graphql`, GraphiQL on `GET /graphql`, subscriptions on `/graphql/ws`,
//! `/healthz` and `/readyz`. Requests without a valid token are answered `UNAUTHENTICATED`
//! before the schema sees them; every error a client sees carries a code.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{Data, Executor, Request, Response as GqlResponse, ServerError, Value};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::stream::{BoxStream, StreamExt};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::auth::{TokenExpiry, TokenVerifier};
use crate::graphql::{codes, error_body, PrepSchema};

/// Largest WebSocket message or frame accepted, before and after authentication.
pub const MAX_WS_MESSAGE_BYTES: usize = 64 * 1024;
/// Time a WebSocket client has to send a valid `connection_init`.
pub const WS_INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time one HTTP request may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest time the readiness check waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

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
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(code_plain_errors))
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
    request: Result<GraphQLRequest, async_graphql_axum::rejection::GraphQLRejection>,
) -> Response {
    let mut authorizations = headers.get_all(header::AUTHORIZATION).iter();
    let authorization = match (authorizations.next(), authorizations.next()) {
        (Some(value), None) => value.to_str().ok(),
        _ => None,
    };
    let authenticated = match state.verifier.verify_header(authorization) {
        Ok(authenticated) => authenticated,
        Err(error) => {
            tracing::info!(reason = %error, "request refused: unauthenticated");
            return unauthenticated();
        }
    };
    let Ok(request) = request else {
        return coded(
            StatusCode::BAD_REQUEST,
            codes::VALIDATION,
            "the body is not a GraphQL request",
        );
    };

    let caller = authenticated.caller;
    let request = request.into_inner();
    let span = tracing::info_span!(
        "graphql",
        account = %caller.account_id,
        actor = caller.actor.as_str(),
        correlation_id = %caller.correlation_id,
        operation = request.operation_name.as_deref().unwrap_or("")
    );
    let request = request.data(caller).data(authenticated.expires_at);
    let response = CodedSchema(state.schema.clone())
        .execute(request)
        .instrument(span)
        .await;
    GraphQLResponse::from(response).into_response()
}

fn unauthenticated() -> Response {
    let hint = "send Authorization: Bearer <token> with a token that has not expired";
    let body = error_body(
        codes::UNAUTHENTICATED,
        "a valid bearer token is required",
        Some(hint),
    );
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn coded(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(error_body(code, message, None))).into_response()
}

/// Answers that never reached GraphQL (body too large, timed out, unreadable) as coded
/// GraphQL errors instead of plain text.
async fn code_plain_errors(request: axum::extract::Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_json => coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::VALIDATION,
            "the request body is too large",
        ),
        StatusCode::REQUEST_TIMEOUT if !is_json => coded(
            StatusCode::REQUEST_TIMEOUT,
            codes::VALIDATION,
            "the request took too long to arrive",
        ),
        _ => response,
    }
}

/// The schema, with every error GraphQL itself raises (syntax, unknown fields, wrong argument
/// types, limits) coded `VALIDATION`: they are the client's input errors. Used for HTTP and
/// WebSocket alike.
#[derive(Clone)]
struct CodedSchema(PrepSchema);

impl Executor for CodedSchema {
    async fn execute(&self, request: Request) -> GqlResponse {
        let mut response = self.0.execute(request).await;
        response.errors.iter_mut().for_each(code_unlabelled_error);
        response
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        Executor::execute_stream(&self.0, request, session_data)
            .map(|mut response| {
                response.errors.iter_mut().for_each(code_unlabelled_error);
                response
            })
            .boxed()
    }
}

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
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .max_frame_size(MAX_WS_MESSAGE_BYTES)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| websocket_session(state, stream, protocol))
}

/// One WebSocket session: it must authenticate within [`WS_INIT_TIMEOUT`] and ends when its
/// token expires; every operation also checks the expiry.
async fn websocket_session(
    state: AppState,
    stream: axum::extract::ws::WebSocket,
    protocol: GraphQLProtocol,
) {
    let verifier = state.verifier.clone();
    let authenticated = Arc::new(Notify::new());
    let expiry = Arc::new(std::sync::Mutex::new(None::<TokenExpiry>));
    let (notify, slot) = (authenticated.clone(), expiry.clone());

    let session = GraphQLWebSocket::new(stream, CodedSchema(state.schema.clone()), protocol)
        .on_connection_init(move |payload| async move {
            let (data, expires_at) = connection_init(&verifier, &payload)?;
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(expires_at);
            }
            notify.notify_one();
            Ok(data)
        })
        .serve();

    let deadline = async {
        if tokio::time::timeout(WS_INIT_TIMEOUT, authenticated.notified())
            .await
            .is_err()
        {
            tracing::info!("websocket closed: no valid connection_init in time");
            return;
        }
        let remaining = expiry
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .map(|e| e.remaining());
        tokio::time::sleep(remaining.unwrap_or_default()).await;
        tracing::info!("websocket closed: token expired");
    };
    tokio::select! {
        () = session => {},
        () = deadline => {},
    }
}

/// Subscriptions carry the token in the `connection_init` payload:
/// `{"authorization": "Bearer ..."}`.
fn connection_init(
    verifier: &TokenVerifier,
    payload: &serde_json::Value,
) -> async_graphql::Result<(Data, TokenExpiry)> {
    let header = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|v| v.as_str());
    let authenticated = verifier
        .verify_header(header)
        .map_err(|_| async_graphql::Error::new("a valid bearer token is required"))?;
    let mut data = Data::default();
    data.insert(authenticated.caller);
    data.insert(authenticated.expires_at);
    Ok((data, authenticated.expires_at))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    let check = sqlx::query("SELECT 1").execute(&state.pool);
    match tokio::time::timeout(READY_TIMEOUT, check).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
        Err(_) => {
            tracing::warn!("not ready: database too slow");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
