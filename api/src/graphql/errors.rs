//! The fixed vocabulary of error codes and how use-case errors become GraphQL errors.
//! Internal causes are logged here, once, and never sent to the client.

use application::AppError;
use async_graphql::{ErrorExtensions, Value};
use serde_json::json;

/// The codes that appear in `extensions.code`.
pub mod codes {
    /// Input broke a rule.
    pub const VALIDATION: &str = "VALIDATION";
    /// No valid bearer token.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller's role does not include the operation.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Nothing with that id in the caller's account.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// Clashes with something that exists.
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many requests.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// A failure inside the service.
    pub const INTERNAL: &str = "INTERNAL";
}

/// An error code with its message and hint, as GraphQL errors carry them.
#[derive(Debug, Clone)]
pub struct ErrorCode {
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    hint: Option<String>,
    fields: Vec<(String, String)>,
}

impl ErrorCode {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            hint: None,
            fields: Vec::new(),
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The GraphQL error with its extensions.
    pub fn into_error(self) -> async_graphql::Error {
        let Self {
            code,
            message,
            field,
            hint,
            fields,
        } = self;
        async_graphql::Error::new(message).extend_with(move |_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(hint) = &hint {
                ext.set("hint", hint.as_str());
            }
            if !fields.is_empty() {
                let list = fields
                    .iter()
                    .map(|(field, message)| json!({"field": field, "message": message}));
                if let Ok(value) = Value::from_json(serde_json::Value::Array(list.collect())) {
                    ext.set("fields", value);
                }
            }
        })
    }
}

impl From<AppError> for ErrorCode {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(errors) => {
                let first = errors.errors().first().map(|e| e.field);
                Self {
                    field: first,
                    fields: errors
                        .errors()
                        .iter()
                        .map(|e| (e.field.to_owned(), e.message.clone()))
                        .collect(),
                    ..Self::new(codes::VALIDATION, errors.to_string())
                }
                .hint("correct the named fields and try again")
            }
            AppError::Forbidden => {
                Self::new(codes::FORBIDDEN, "your role does not allow this operation")
                    .hint("ask an admin of your account")
            }
            AppError::NotFound => Self::new(codes::NOT_FOUND, "not found"),
            AppError::Conflict { field, message } => Self {
                field,
                ..Self::new(codes::CONFLICT, message)
            },
            AppError::RateLimited {
                retry_after_seconds,
            } => Self::new(codes::RATE_LIMITED, "too many requests")
                .hint(format!("wait {retry_after_seconds} seconds and try again")),
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                Self::new(codes::INTERNAL, "internal error")
                    .hint("try again; if it keeps failing, contact support")
            }
        }
    }
}

/// Turns use-case results into GraphQL results with their error codes. Always use this
/// rather than `?` on an [`AppError`]: async-graphql's blanket conversion would keep only the
/// message and drop the code.
pub trait GqlResult<T> {
    /// The result with its error coded.
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|error| ErrorCode::from(error).into_error())
    }
}

/// A validation error for one field.
pub fn invalid(field: &'static str, message: impl Into<String>) -> async_graphql::Error {
    let message = message.into();
    ErrorCode {
        field: Some(field),
        fields: vec![(field.to_owned(), message.clone())],
        ..ErrorCode::new(codes::VALIDATION, format!("{field}: {message}"))
    }
    .into_error()
}

/// A NOT_FOUND error for an id given in one field, with what to use instead.
pub fn not_found(field: &'static str, hint: &str) -> async_graphql::Error {
    ErrorCode {
        field: Some(field),
        ..ErrorCode::new(codes::NOT_FOUND, format!("{field}: not found"))
    }
    .hint(hint)
    .into_error()
}

/// A GraphQL-shaped body for an error answered before the schema runs.
pub fn error_body(code: &str, message: &str, hint: Option<&str>) -> serde_json::Value {
    let mut extensions = json!({ "code": code });
    if let Some(hint) = hint {
        extensions["hint"] = json!(hint);
    }
    json!({ "data": null, "errors": [{ "message": message, "extensions": extensions }] })
}

/// The error for an operation whose token expired while its connection stayed open.
pub fn token_expired() -> async_graphql::Error {
    ErrorCode::new(codes::UNAUTHENTICATED, "the bearer token has expired")
        .hint("reconnect with a new token")
        .into_error()
}
