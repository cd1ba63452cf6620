//! The exceptions an Odoo server raises, and how each protocol shows them.
//!
//! One [`OdooError`] is raised by the model layer; the XML-RPC, JSON-RPC and JSON-2 front ends
//! turn it into a fault code, an `error.data` object or an HTTP status, as recorded.

use serde_json::{json, Value};

/// An exception as the Odoo server raises it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdooError {
    /// `odoo.exceptions.AccessDenied`: wrong password, key or uid.
    #[error("access denied")]
    AccessDenied,
    /// `odoo.exceptions.AccessError`: the user lacks a right, or the method is private.
    #[error("access error: {0}")]
    AccessError(String),
    /// `odoo.exceptions.UserError` (an unknown model over legacy RPC).
    #[error("user error: {0}")]
    UserError(String),
    /// `odoo.exceptions.MissingError` (a uid that does not exist in that database).
    #[error("missing record: {0}")]
    MissingError(String),
    /// `builtins.ValueError` (bad field, bad domain).
    #[error("value error: {0}")]
    ValueError(String),
    /// `builtins.TypeError` (bad arguments, `None` over XML-RPC).
    #[error("type error: {0}")]
    TypeError(String),
    /// `builtins.AttributeError` (an unknown method over legacy RPC).
    #[error("attribute error: {0}")]
    AttributeError(String),
    /// `psycopg2.OperationalError` (a database that does not exist, legacy RPC).
    #[error("operational error: {0}")]
    OperationalError(String),
    /// `werkzeug.exceptions.NotFound` (JSON-2: unknown model or method, GET).
    #[error("not found: {0}")]
    NotFound(String),
    /// `werkzeug.exceptions.UnprocessableEntity` (JSON-2: bad keyword arguments).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// `werkzeug.exceptions.BadRequest` (JSON-2: the body is not JSON).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// `werkzeug.exceptions.Unauthorized` (JSON-2: missing, wrong or expired key).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
}

impl OdooError {
    /// The exception's `module.ClassName`, as in JSON-RPC `error.data.name`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AccessDenied => "odoo.exceptions.AccessDenied",
            Self::AccessError(_) => "odoo.exceptions.AccessError",
            Self::UserError(_) => "odoo.exceptions.UserError",
            Self::MissingError(_) => "odoo.exceptions.MissingError",
            Self::ValueError(_) => "builtins.ValueError",
            Self::TypeError(_) => "builtins.TypeError",
            Self::AttributeError(_) => "builtins.AttributeError",
            Self::OperationalError(_) => "psycopg2.OperationalError",
            Self::NotFound(_) => "werkzeug.exceptions.NotFound",
            Self::Unprocessable(_) => "werkzeug.exceptions.UnprocessableEntity",
            Self::BadRequest(_) => "werkzeug.exceptions.BadRequest",
            Self::Unauthorized(_) => "werkzeug.exceptions.Unauthorized",
        }
    }

    /// The human message (`error.data.message`, JSON-2 `message`).
    pub fn message(&self) -> String {
        match self {
            Self::AccessDenied => "Access Denied".to_owned(),
            Self::AccessError(m)
            | Self::UserError(m)
            | Self::MissingError(m)
            | Self::ValueError(m)
            | Self::TypeError(m)
            | Self::AttributeError(m)
            | Self::OperationalError(m)
            | Self::NotFound(m)
            | Self::Unprocessable(m)
            | Self::BadRequest(m)
            | Self::Unauthorized(m) => m.clone(),
        }
    }

    /// The XML-RPC `faultCode` of `/xmlrpc/2/`: 1 for non-Odoo exceptions, 2 for user errors,
    /// 3 for access denied, 4 for access errors.
    pub fn fault_code(&self) -> i64 {
        match self {
            Self::AccessDenied => 3,
            Self::AccessError(_) => 4,
            Self::UserError(_) | Self::MissingError(_) => 2,
            _ => 1,
        }
    }

    /// The XML-RPC `faultString`: the message for Odoo exceptions, a traceback otherwise.
    pub fn fault_string(&self) -> String {
        match self.fault_code() {
            1 => self.traceback(),
            _ => self.message(),
        }
    }

    /// The HTTP status JSON-2 answers with.
    pub fn json2_status(&self) -> u16 {
        match self {
            Self::AccessDenied | Self::AccessError(_) => 403,
            Self::UserError(_) | Self::Unprocessable(_) => 422,
            Self::MissingError(_) | Self::NotFound(_) => 404,
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            _ => 500,
        }
    }

    /// The exception's arguments; Werkzeug exceptions carry their status too.
    pub fn arguments(&self) -> Value {
        match self {
            Self::NotFound(_) | Self::Unprocessable(_) | Self::BadRequest(_) => {
                json!([self.message(), self.json2_status()])
            }
            Self::Unauthorized(_) => json!([self.message(), 401]),
            _ => json!([self.message()]),
        }
    }

    /// A Python-style traceback whose last line is `ExceptionType: message`.
    pub fn traceback(&self) -> String {
        format!(
            "Traceback (most recent call last):\n  File \"odoo-sandbox\", line 1, in dispatch\n{}: {}\n",
            self.last_line_type(),
            self.last_line_message()
        )
    }

    fn last_line_type(&self) -> &'static str {
        let name = self.name();
        name.strip_prefix("builtins.").unwrap_or(name)
    }

    fn last_line_message(&self) -> String {
        match self {
            Self::NotFound(m) => format!("404 Not Found: {m}"),
            Self::Unprocessable(m) => format!("422 Unprocessable Entity: {m}"),
            Self::BadRequest(m) => format!("400 Bad Request: {m}"),
            Self::Unauthorized(m) => format!("401 Unauthorized: {m}"),
            other => other.message(),
        }
    }

    /// The serialized exception (`error.data` of JSON-RPC, the whole JSON-2 error body).
    pub fn serialize(&self) -> Value {
        json!({
            "name": self.name(),
            "message": self.message(),
            "arguments": self.arguments(),
            "context": {},
            "debug": self.traceback(),
        })
    }
}
