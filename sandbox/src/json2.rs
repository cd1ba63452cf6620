//! JSON-2 (`POST /json/2/<model>/<method>`) as Odoo 19 serves it, and the answers older
//! versions give to a probe of that path (a 404 page when several databases are served, a
//! redirect to the login page when one is).
//!
//! Order of checks, as recorded: database (HTML 404), method (JSON 404 for GET), content
//! type (HTML 415), bearer key (401), body (400), model and method (404/403), arguments (422).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::config::SandboxUser;
use crate::error::OdooError;
use crate::faults::CallRecord;
use crate::http::{json_response, not_found_page, respond, response, BodyKind, HTML, JSON};
use crate::orm::{self, Answer, Arguments, Env, Protocol};
use crate::state::Shared;
use crate::store::Database;

/// Any method on `/json/2/...`.
pub async fn handle(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (model, model_method) = split_path(&path);
    let record = CallRecord {
        protocol: "json2".into(),
        path: path.clone(),
        service: None,
        method: model_method.clone(),
        model: model.clone(),
        database: header_text(&headers, "x-odoo-database"),
    };

    respond(&shared, record, BodyKind::Json, || {
        if !shared.profile.json2() {
            return legacy_probe(&shared, &path, uri.query());
        }
        let request = Request {
            method: &method,
            headers: &headers,
            body: &body,
            model: model.as_deref(),
            model_method: model_method.as_deref(),
        };
        serve(&shared, request)
    })
    .await
}

fn split_path(path: &str) -> (Option<String>, Option<String>) {
    let rest = path.trim_start_matches("/json/2/");
    let mut parts = rest.splitn(2, '/');
    let model = parts.next().filter(|p| !p.is_empty()).map(str::to_owned);
    let method = parts
        .next()
        .filter(|p| !p.is_empty() && !p.contains('/'))
        .map(str::to_owned);
    (model, method)
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// 18 and older: no JSON-2. Several databases: Werkzeug's 404; one: the web client's own
/// `/json/<path>` route redirects to the login page.
fn legacy_probe(shared: &Shared, path: &str, query: Option<&str>) -> Response {
    if shared.database_names().len() != 1 {
        return not_found_page();
    }
    let target = format!("{path}?{}", query.unwrap_or_default());
    let location = format!("/web/login?redirect={}", url_encode(&target));
    let body = format!(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href=\"{location}\">{location}</a>. If not, click the link.\n"
    );
    let mut answer = response(303, HTML, body);
    if let Ok(value) = HeaderValue::from_str(&location) {
        answer.headers_mut().insert(header::LOCATION, value);
    }
    answer
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

struct Request<'a> {
    method: &'a Method,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    model: Option<&'a str>,
    model_method: Option<&'a str>,
}

fn serve(shared: &Shared, request: Request) -> Response {
    let databases = shared.read();
    let Some(db) = select_database(&databases, request.headers) else {
        return no_database_page();
    };
    match run(shared, db, &request) {
        Ok(answer) => response(200, JSON, serde_json::to_vec(&answer).unwrap_or_default()),
        Err(Failure::UnsupportedMediaType) => unsupported_media_type_page(),
        Err(Failure::Odoo(error)) => error_response(&error),
    }
}

fn select_database<'a>(databases: &'a [Database], headers: &HeaderMap) -> Option<&'a Database> {
    match header_text(headers, "x-odoo-database") {
        Some(name) => databases.iter().find(|d| d.name == name),
        None if databases.len() == 1 => databases.first(),
        None => None,
    }
}

fn run<'a>(shared: &'a Shared, db: &'a Database, request: &Request) -> Result<Answer<'a>, Failure> {
    let did_you_mean = || OdooError::NotFound("Did you mean POST /json/2/<model>/<method>?".into());
    let (Some(model), Some(method)) = (request.model, request.model_method) else {
        return Err(did_you_mean().into());
    };
    if request.method != Method::POST {
        return Err(did_you_mean().into());
    }
    check_content_type(request.headers)?;
    let user = authenticate(db, request.headers)?;
    let body = parse_body(request.body)?;
    let env = Env {
        db,
        user,
        schema: &shared.schema,
        profile: shared.profile,
        protocol: Protocol::Json2,
    };

    Ok(orm::answer(env, model, method, Arguments::Named(body))?)
}

/// Why a JSON-2 request fails.
#[derive(Debug)]
enum Failure {
    /// The body is not sent as JSON: Werkzeug answers with an HTML 415 page.
    UnsupportedMediaType,
    /// An exception, answered as a JSON error body.
    Odoo(OdooError),
}

impl From<OdooError> for Failure {
    fn from(error: OdooError) -> Failure {
        Failure::Odoo(error)
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Failure> {
    let content_type = header_text(headers, "content-type").unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    if essence == "application/json" {
        return Ok(());
    }
    Err(Failure::UnsupportedMediaType)
}

fn authenticate<'a>(db: &'a Database, headers: &HeaderMap) -> Result<&'a SandboxUser, OdooError> {
    let Some(value) = header_text(headers, "authorization") else {
        return Err(OdooError::Unauthorized(
            "User not authenticated, use an API Key with a Bearer Authorization header.".into(),
        ));
    };
    let key = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    key.and_then(|key| db.user_by_key(key))
        .ok_or_else(|| OdooError::Unauthorized("Invalid apikey".into()))
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, OdooError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| OdooError::BadRequest(format!("could not parse the body as json: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(OdooError::BadRequest(
            "could not parse the body as json: expected an object".into(),
        )),
    }
}

fn error_response(error: &OdooError) -> Response {
    let mut answer = json_response(error.json2_status(), &error.serialize());
    if matches!(error, OdooError::Unauthorized(_)) {
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer "),
        );
    }
    answer
}

fn unsupported_media_type_page() -> Response {
    let mut answer = response(
        415,
        HTML,
        "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;/json/2/&lt;__model__&gt;/&lt;__method__&gt;&#39; is type=&#39;json2&#39;.<br><br>Please verify the Content-Type request header and try again.</p>\n",
    );
    answer
        .headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    answer
}

fn no_database_page() -> Response {
    response(
        404,
        HTML,
        "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_splits_into_model_and_method() {
        assert_eq!(
            split_path("/json/2/sale.order/search_read"),
            (Some("sale.order".into()), Some("search_read".into()))
        );
        assert_eq!(
            split_path("/json/2/sale.order"),
            (Some("sale.order".into()), None)
        );
    }

    #[test]
    fn the_login_redirect_encodes_the_path_like_werkzeug() {
        assert_eq!(
            url_encode("/json/2/sale.order/search_read?"),
            "%2Fjson%2F2%2Fsale.order%2Fsearch_read%3F"
        );
    }
}
