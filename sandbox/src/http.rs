//! The HTTP routes of the sandbox and the helpers every handler uses: content types, HTML
//! pages as Werkzeug prints them, and the injected faults.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;

use crate::faults::{CallRecord, Fault};
use crate::state::Shared;

/// The content type of JSON answers.
pub const JSON: &str = "application/json; charset=utf-8";
/// The content type of XML-RPC answers.
pub const XML: &str = "text/xml; charset=utf-8";
/// The content type of HTML pages.
pub const HTML: &str = "text/html; charset=utf-8";

/// Marks a response whose connection must be closed without answering.
#[derive(Debug, Clone, Copy)]
pub struct ResetConnection;

/// The body format a faulty answer imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// XML-RPC.
    Xml,
    /// JSON-RPC or JSON-2.
    Json,
    /// A web page.
    Html,
}

/// All routes of a sandbox.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/xmlrpc/2/{service}", post(crate::rpc::xmlrpc))
        .route("/jsonrpc", post(crate::rpc::jsonrpc))
        .route("/json/2/{*path}", any(crate::json2::handle))
        .route("/web/version", get(crate::web::version))
        .route("/json/version", get(crate::web::version))
        .route("/web/webclient/version_info", any(crate::web::version_info))
        .route("/web/database/list", post(crate::web::database_list))
        .route("/", get(crate::web::root))
        .nest("/__sandbox", crate::control_http::routes())
        .fallback(crate::web::not_found)
        .with_state(shared)
}

/// A response with a status, a content type and a body.
pub fn response(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A JSON answer.
pub fn json_response(status: u16, value: &serde_json::Value) -> Response {
    response(status, JSON, serde_json::to_vec(value).unwrap_or_default())
}

/// Werkzeug's plain "404 Not Found" page.
pub fn not_found_page() -> Response {
    response(
        404,
        HTML,
        "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n",
    )
}

/// Logs a call, applies the fault injected on it if any, else answers normally.
pub async fn respond(
    shared: &Shared,
    call: CallRecord,
    kind: BodyKind,
    normal: impl FnOnce() -> Response,
) -> Response {
    let Some(fault) = shared.observe(call) else {
        return normal();
    };
    match fault {
        Fault::Latency { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            normal()
        }
        Fault::Hang => std::future::pending().await,
        Fault::TooManyRequests { retry_after } => too_many_requests(retry_after),
        Fault::Status { status } => proxy_error(status),
        Fault::ConnectionReset => reset(),
        Fault::TruncatedBody => truncate(normal()).await,
        Fault::HtmlPage => login_page(),
        Fault::MalformedBody => malformed(kind),
    }
}

fn too_many_requests(retry_after: u64) -> Response {
    let mut response = response(
        429,
        HTML,
        "<html><body><h1>429 Too Many Requests</h1></body></html>\n",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn proxy_error(status: u16) -> Response {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = format!("<html>\n<head><title>{status} {reason}</title></head>\n<body>\n<center><h1>{status} {reason}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n");
    response(status, HTML, body)
}

fn reset() -> Response {
    let mut response = Response::new(Body::empty());
    response.extensions_mut().insert(ResetConnection);
    response
}

fn login_page() -> Response {
    response(
        200,
        HTML,
        "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>Login | Odoo</title></head>\n<body><form class=\"oe_login_form\" action=\"/web/login\" method=\"post\"></form></body>\n</html>\n",
    )
}

fn malformed(kind: BodyKind) -> Response {
    match kind {
        BodyKind::Xml => response(200, XML, "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>id"),
        BodyKind::Json => response(200, JSON, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": [{\"id\": 4, \"name\": "),
        BodyKind::Html => response(200, HTML, "<!DOCTYPE html><html><body"),
    }
}

/// The normal answer with only the first half of its body sent, then the connection dropped.
async fn truncate(normal: Response) -> Response {
    let (mut parts, body) = normal.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    let broken = std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "body truncated on purpose",
    );
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(half), Err(broken)];
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from_stream(futures::stream::iter(chunks)))
}

/// A call record for a request that is not an RPC call.
pub fn http_call(path: &str) -> CallRecord {
    CallRecord {
        protocol: "http".into(),
        path: path.into(),
        service: None,
        method: None,
        model: None,
        database: None,
    }
}
