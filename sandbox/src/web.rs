//! Web routes around the APIs (`GET /web/version`, `/web/webclient/version_info`, `GET /`,
//! `/web/database/list`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::Response;
use serde_json::{json, Value};

use crate::http::{http_call, json_response, not_found_page, respond, response, BodyKind, HTML};
use crate::rpc::json_answer;
use crate::state::Shared;

/// `GET /web/version` and `GET /json/version`: 19 and later only.
pub async fn version(State(shared): State<Arc<Shared>>, OriginalUri(uri): OriginalUri) -> Response {
    respond(&shared, http_call(uri.path()), BodyKind::Json, || {
        if !shared.profile.json2() {
            return not_found_page();
        }
        let serie = format!("{}.0", shared.profile.version);
        json_response(200, &json!({"version_info": [shared.profile.version, 0, 0, "final", 0, ""], "version": serie}))
    })
    .await
}

/// `/web/webclient/version_info`: a JSON-RPC route; a plain GET is refused with HTTP 400.
pub async fn version_info(
    State(shared): State<Arc<Shared>>,
    method: Method,
    body: Bytes,
) -> Response {
    respond(&shared, http_call("/web/webclient/version_info"), BodyKind::Json, || {
        if method != Method::POST {
            return response(400, HTML, "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;/web/webclient/version_info&#39; is type=&#39;json&#39;.</p>\n");
        }
        json_answer(&shared, request_id(&body), Ok(shared.profile.version_info()))
    })
    .await
}

/// `POST /web/database/list` (JSON-RPC).
pub async fn database_list(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    respond(
        &shared,
        http_call("/web/database/list"),
        BodyKind::Json,
        || {
            let listed = shared.database_list().map(|names| json!(names));
            json_answer(&shared, request_id(&body), listed)
        },
    )
    .await
}

fn request_id(body: &Bytes) -> Value {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null)
}

/// `GET /`: a redirect to the web client.
pub async fn root(State(shared): State<Arc<Shared>>) -> Response {
    respond(&shared, http_call("/"), BodyKind::Html, || {
        let mut answer = response(303, HTML, "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"/odoo\">/odoo</a>. If not, click the link.\n");
        answer.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/odoo"));
        answer
    })
    .await
}

/// Any other path: Werkzeug's 404 page.
pub async fn not_found(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    respond(
        &shared,
        http_call(uri.path()),
        BodyKind::Html,
        not_found_page,
    )
    .await
}
