//! Turns every way a call can fail into an [`OdooError`] of one [`ErrorKind`].
//!
//! Classification uses the HTTP status, the XML-RPC fault code and the exception type, never
//! free message text, with one recorded exception: a missing database on Odoo 18 and older
//! is a `psycopg2.OperationalError` whose message ends in `database "…" does not exist`.

use std::time::Duration;

use crate::codec::{Fault, RpcError};
use crate::error::{ErrorKind, OdooError};

/// An HTTP answer that is not a success of the protocol.
#[derive(Debug, Clone, Copy)]
pub struct HttpFailure<'a> {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// The `Location` header, if any.
    pub location: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// Whether this was a JSON-2 call on a server known to serve JSON-2.
    pub json2: bool,
}

/// Classifies an XML-RPC fault by its code; code 1 by the exception type of its traceback.
pub fn fault(fault: &Fault) -> OdooError {
    let kind = match fault.code {
        1 => {
            let (exception, message) = traceback_exception(&fault.message);
            let kind = exception_kind(exception, message);
            return OdooError::new(kind, message).with_exception(exception);
        }
        3 => ErrorKind::AuthenticationFailed,
        4 => ErrorKind::PermissionDenied,
        _ => ErrorKind::ServerError,
    };
    OdooError::new(
        kind,
        format!("fault {}: {}", fault.code, first_line(&fault.message)),
    )
}

/// Classifies a JSON-RPC error object or a JSON-2 error body by its exception name.
pub fn rpc_error(error: &RpcError) -> OdooError {
    let name = error.name.as_deref().unwrap_or("");
    let kind = match (name, error.code) {
        ("", Some(100)) => ErrorKind::AuthenticationFailed,
        _ => exception_kind(name, &error.message),
    };
    let detail = format!("{name}: {}", first_line(&error.message));
    OdooError::new(kind, detail).with_exception(name)
}

/// Classifies an HTTP answer whose status or content is not the protocol's success.
pub fn http(failure: &HttpFailure) -> OdooError {
    let retry_after = failure.retry_after.and_then(parse_retry_after);
    let error = match failure.status {
        429 => OdooError::new(ErrorKind::RateLimited, "429 too many requests"),
        502..=504 => OdooError::new(ErrorKind::ServerError, "gateway error").transient(),
        300..=399 => OdooError::new(ErrorKind::UnexpectedResponse, redirect_detail(failure)),
        _ => by_content(failure),
    };
    error
        .with_status(failure.status)
        .with_retry_after(retry_after)
}

fn by_content(failure: &HttpFailure) -> OdooError {
    let json_error = is_json(failure.content_type)
        .then(|| crate::codec::json2::decode_error(failure.body))
        .flatten();
    match json_error {
        Some(error) => json2_error(failure.status, &error),
        None => non_api_answer(failure),
    }
}

fn json2_error(status: u16, error: &RpcError) -> OdooError {
    let classified = rpc_error(error);
    let kind = match (classified.kind(), status) {
        (ErrorKind::ServerError, 401) => ErrorKind::AuthenticationFailed,
        (ErrorKind::ServerError, 403) => ErrorKind::PermissionDenied,
        (kind, _) => kind,
    };
    OdooError::new(kind, classified.detail()).with_exception(error.name.clone().unwrap_or_default())
}

/// An HTML page or other non-API body. On a server known to serve JSON-2, a 404 page on a
/// `/json/2` route means the `X-Odoo-Database` was not found or is filtered out.
fn non_api_answer(failure: &HttpFailure) -> OdooError {
    let html = is_html(failure.content_type, failure.body);
    match (failure.status, html, failure.json2) {
        (404, true, true) => OdooError::new(
            ErrorKind::DatabaseNotFound,
            "no database selected: the X-Odoo-Database was not accepted",
        ),
        (status @ 500..=599, _, _) => {
            OdooError::new(ErrorKind::ServerError, format!("server error {status}"))
        }
        (status, true, _) => OdooError::new(
            ErrorKind::UnexpectedResponse,
            format!("HTML page with status {status}"),
        ),
        (status, false, _) => OdooError::new(
            ErrorKind::UnexpectedResponse,
            format!("unexpected status {status}"),
        ),
    }
}

fn redirect_detail(failure: &HttpFailure) -> String {
    let target = failure.location.unwrap_or("");
    if target.contains("/web/login") {
        "redirect to the login page: not an API answer".to_owned()
    } else {
        format!("redirect ({}) not followed", failure.status)
    }
}

/// The kind of an Odoo exception, from its type name (`module.ClassName` or a bare name).
pub fn exception_kind(name: &str, message: &str) -> ErrorKind {
    let class = name.rsplit('.').next().unwrap_or(name);
    match class {
        "AccessDenied" | "Unauthorized" | "SessionExpiredException" => {
            ErrorKind::AuthenticationFailed
        }
        "AccessError" | "Forbidden" => ErrorKind::PermissionDenied,
        "OperationalError" if is_missing_database(message) => ErrorKind::DatabaseNotFound,
        _ => ErrorKind::ServerError,
    }
}

/// Whether a psycopg2 message ends in `database "…" does not exist`.
pub fn is_missing_database(message: &str) -> bool {
    let Some(head) = message.trim_end().strip_suffix("\" does not exist") else {
        return false;
    };
    head.rfind("database \"")
        .is_some_and(|start| !head[start + 10..].contains('"'))
}

/// The exception type and message of a Python traceback: the unindented text after the
/// last `File` frame (or the last line when there is no frame), split at the first `": "`.
pub fn traceback_exception(traceback: &str) -> (&str, &str) {
    let tail = exception_text(traceback).trim_end();
    match tail.split_once(": ") {
        Some((name, message)) if is_type_name(name) => (name, message),
        _ if is_type_name(tail) => (tail, ""),
        _ => ("", tail),
    }
}

fn exception_text(traceback: &str) -> &str {
    let Some(frame) = traceback.rfind("\n  File ") else {
        let last = traceback.trim_end().rsplit('\n').next();
        return last.unwrap_or("");
    };
    let mut offset = frame + 1;
    for line in traceback[offset..].split_inclusive('\n') {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            break;
        }
        offset += line.len();
    }
    &traceback[offset..]
}

fn is_type_name(text: &str) -> bool {
    let starts_well = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    starts_well
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.to_ascii_lowercase().contains("json"))
}

fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    let declared = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let head = String::from_utf8_lossy(&body[..body.len().min(64)]).to_ascii_lowercase();
    declared || head.trim_start().starts_with("<!doctype html") || head.contains("<html")
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("")
}

/// Classifies a transport failure of the HTTP client. The detail leaves out the URL.
pub fn transport(error: &reqwest::Error) -> OdooError {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    OdooError::new(kind, transport_detail(error))
}

fn transport_detail(error: &reqwest::Error) -> String {
    let mut detail = String::from(if error.is_connect() {
        "connect"
    } else {
        "request"
    });
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

/// A body that does not decode as the protocol's answer.
pub fn malformed(detail: impl std::fmt::Display) -> OdooError {
    OdooError::new(
        ErrorKind::UnexpectedResponse,
        format!("malformed answer: {detail}"),
    )
}
