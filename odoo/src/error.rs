//! The one error type of the client and the fixed set of kinds it is classified into.

use std::time::Duration;

/// What went wrong, in the vocabulary of the External Sync troubleshooting guide.
///
/// Each kind has a stable GraphQL code ([`ErrorKind::code`]) and a hint for the user
/// ([`ErrorKind::hint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The connection URL cannot be parsed or has no host.
    InvalidUrl,
    /// The URL uses plain http, or resolves to an address the deployment forbids.
    UrlNotAllowed,
    /// DNS failure, connection refused or reset, TLS failure.
    Network,
    /// The server did not answer in time.
    Timeout,
    /// The named database does not exist on the server.
    DatabaseNotFound,
    /// The login or API key was refused.
    AuthenticationFailed,
    /// The user may not read what the sync needs.
    PermissionDenied,
    /// The server answered 429 Too Many Requests.
    RateLimited,
    /// The server failed while handling a valid request.
    ServerError,
    /// An answer that is not an Odoo API answer: an HTML page, a redirect, a malformed body.
    UnexpectedResponse,
    /// The user's filter cannot be parsed or names fields Odoo cannot search.
    InvalidFilter,
    /// The server is older than Odoo 14.
    UnsupportedVersion,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InvalidUrl,
        ErrorKind::UrlNotAllowed,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::DatabaseNotFound,
        ErrorKind::AuthenticationFailed,
        ErrorKind::PermissionDenied,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
        ErrorKind::UnexpectedResponse,
        ErrorKind::InvalidFilter,
        ErrorKind::UnsupportedVersion,
    ];

    /// The machine-readable GraphQL error code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "ODOO_INVALID_URL",
            ErrorKind::UrlNotAllowed => "ODOO_URL_NOT_ALLOWED",
            ErrorKind::Network => "ODOO_NETWORK",
            ErrorKind::Timeout => "ODOO_TIMEOUT",
            ErrorKind::DatabaseNotFound => "ODOO_DATABASE_NOT_FOUND",
            ErrorKind::AuthenticationFailed => "ODOO_AUTHENTICATION_FAILED",
            ErrorKind::PermissionDenied => "ODOO_PERMISSION_DENIED",
            ErrorKind::RateLimited => "ODOO_RATE_LIMITED",
            ErrorKind::ServerError => "ODOO_SERVER_ERROR",
            ErrorKind::UnexpectedResponse => "ODOO_UNEXPECTED_RESPONSE",
            ErrorKind::InvalidFilter => "ODOO_INVALID_FILTER",
            ErrorKind::UnsupportedVersion => "ODOO_UNSUPPORTED_VERSION",
        }
    }

    /// A short hint telling the user what to do about it.
    pub fn hint(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "check the Odoo URL, e.g. https://mycompany.odoo.com",
            ErrorKind::UrlNotAllowed => "use an https URL that points to a public Odoo server",
            ErrorKind::Network => "check the URL, the server's availability and its certificate",
            ErrorKind::Timeout => "reduce batch size, or try again when the server is less busy",
            ErrorKind::DatabaseNotFound => "check the database name (shown on the Odoo login page)",
            ErrorKind::AuthenticationFailed => {
                "check the username and API key, or create a new key"
            }
            ErrorKind::PermissionDenied => {
                "check Odoo permissions: the user needs read access to sales"
            }
            ErrorKind::RateLimited => "increase sync interval",
            ErrorKind::ServerError => "try again later; if it persists, check the Odoo server logs",
            ErrorKind::UnexpectedResponse => "check that the URL points to an Odoo server",
            ErrorKind::InvalidFilter => "correct the filter: see the position and field named",
            ErrorKind::UnsupportedVersion => "Odoo 14 or later is required",
        }
    }

    /// Whether a call that failed this way may be repeated with a chance of success.
    ///
    /// Authentication failures are never transient: Odoo locks a login out after repeated
    /// failures.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::RateLimited
        )
    }
}

/// An error of the Odoo client: a kind plus a detail for the logs.
///
/// The detail never contains the API key; it may contain Odoo's own message, so show users
/// the kind's hint, not the detail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {detail}", kind.code())]
pub struct OdooError {
    kind: ErrorKind,
    detail: String,
    transient: bool,
    retry_after: Option<Duration>,
    http_status: Option<u16>,
    exception: Option<String>,
}

impl OdooError {
    /// An error of `kind` with a detail for the logs.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        OdooError {
            kind,
            detail: detail.into(),
            transient: kind.is_transient(),
            retry_after: None,
            http_status: None,
            exception: None,
        }
    }

    /// The classified kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The GraphQL code of the kind.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The user hint of the kind.
    pub fn hint(&self) -> &'static str {
        self.kind.hint()
    }

    /// What happened, for the logs (Odoo's message or the transport's).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status of the answer, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The Odoo exception type (`odoo.exceptions.AccessError`, `builtins.ValueError`…), if known.
    pub fn exception(&self) -> Option<&str> {
        self.exception.as_deref()
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn with_exception(mut self, exception: impl Into<String>) -> Self {
        self.exception = Some(exception.into());
        self
    }

    pub(crate) fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        self.retry_after = delay;
        self
    }

    /// Marks a server error as worth retrying (502, 503, 504).
    pub(crate) fn transient(mut self) -> Self {
        self.transient = true;
        self
    }
}

/// Shorthand for results of the client.
pub type Result<T, E = OdooError> = std::result::Result<T, E>;
